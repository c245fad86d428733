/**
 * One handler per client frame type. Handlers go through the same services as REST, so a frame is
 * validated, authorized and stored exactly like the equivalent request.
 */
import type { ClientFrame, ClientFrameType, ReplyResults, SubscribeResult } from '@natter/protocol';
import { NatterError } from '../errors.js';
import { markRead } from '../services/channels.js';
import { channelFor, type TenantCtx } from '../services/context.js';
import { deleteMessage, editMessage, react, sendMessage } from '../services/messages.js';
import { enforceRestrictions } from '../services/moderation.js';
import { checkRate } from '../services/rate-limits.js';
import { type Connection, topics } from './connection.js';
import { type GatewayContext, sendReply } from './context.js';
import { channelOrder } from './fanout.js';
import type { TypingTracker } from './typing.js';

type Frame<T extends ClientFrameType> = Extract<ClientFrame, { type: T }>;
type Handler<T extends ClientFrameType> = (
  h: HandlerContext,
  frame: Frame<T>,
) => Promise<ReplyResults[T] | typeof REPLIED>;

export interface HandlerContext {
  gw: GatewayContext;
  conn: Connection;
  ctx: TenantCtx;
  typing: TypingTracker;
}

/** Returned by handlers that sent their reply themselves (to order it before buffered events). */
export const REPLIED = Symbol('replied');

const empty = {} as Record<string, never>;

/**
 * How long a subscribe with `since` waits at most for this node to have delivered the channel's
 * events up to its replay (normally at once, or one reorder wait plus a store read). Past it the
 * subscription starts anyway, and a late event may repeat a replayed message.
 */
const CATCH_UP_MS = 5000;

/** Frames that change state draw from the user's and the tenant's rate buckets, like REST calls. */
const WRITES = new Set<ClientFrameType>([
  'message.send',
  'message.edit',
  'message.delete',
  'reaction.add',
  'reaction.remove',
  'typing.start',
  'read',
]);

async function subscribe(h: HandlerContext, frame: Frame<'subscribe'>): Promise<typeof REPLIED> {
  const { gw, conn, ctx } = h;
  const { channelId, since } = frame;
  const topic = topics.channel(conn.tenantId, channelId);
  // Buffer this channel's events while history is read, so none falls between history and live.
  const alreadyPending = conn.pending.has(channelId);
  if (!alreadyPending) {
    conn.pending.set(channelId, []);
    gw.registry.pendingAdd(topic, conn);
  }
  // From now on the channel's events pass through its reorder buffer on this node.
  const order = channelOrder(gw, conn.tenantId, channelId);
  try {
    const { channel } = await channelFor(ctx, channelId, 'read');
    let result: SubscribeResult = { channel, recovery: 'not_requested', messages: [] };
    if (since !== undefined) {
      result =
        channel.lastSeq - since > gw.config.replayMax
          ? { channel, recovery: 'too_far', messages: [] }
          : {
              channel,
              recovery: 'recovered',
              messages: await ctx.db.listMessages(channelId, {
                after: since,
                limit: gw.config.replayMax,
                includeReplies: true,
              }),
            };
      // A message can be stored (so in the history just read) before the relay publishes its
      // event. Publish every stored event now, while this channel is still buffered, so such an
      // event lands in the buffer (and is dropped as replayed) instead of arriving live twice.
      await ctx.deps.relay.drain();
    }
    // Where this subscription starts: after its replay, else after the channel's last seq. The
    // channel's buffer must have delivered up to there before the connection joins the topic, so
    // a replayed message's event, even one still on its way from another node, goes to the
    // held-aside frames (and is dropped there) and never arrives live. The buffer reads what the
    // bus has not brought within its reorder wait from the store.
    const recovered = result.recovery === 'recovered';
    const start = recovered ? (result.messages.at(-1)?.seq ?? channel.lastSeq) : channel.lastSeq;
    order.join(start);
    if (recovered) await order.caughtUp(start, CATCH_UP_MS);
    // A banned user may not subscribe. Checked after the last await before subscribing, so a ban
    // stored meanwhile is seen here, or its event (which ends live subscriptions) comes after.
    await enforceRestrictions(ctx, channel, 'read');
    const ws = conn.ws;
    if (!ws) return REPLIED;
    const buffered = conn.pending.get(channelId) ?? [];
    const lastReplayed = result.messages.at(-1)?.seq ?? since ?? 0;
    ws.cork(() => {
      if (!conn.channels.has(channelId)) {
        ws.subscribe(topic);
        conn.channels.add(channelId);
        gw.registry.subscribed(topic, conn);
      }
      ws.send(JSON.stringify({ type: 'reply', id: frame.id, result }));
      for (const { frame: f, seq } of buffered) {
        // A message.new already in the replay must not arrive twice.
        if (seq !== undefined && seq <= lastReplayed) continue;
        ws.send(f);
      }
    });
    return REPLIED;
  } finally {
    if (!alreadyPending) {
      conn.pending.delete(channelId);
      gw.registry.pendingRemove(topic, conn);
    }
  }
}

async function unsubscribe(h: HandlerContext, frame: Frame<'unsubscribe'>) {
  const { gw, conn } = h;
  const topic = topics.channel(conn.tenantId, frame.channelId);
  if (!conn.channels.delete(frame.channelId))
    throw new NatterError('NATTER_NOT_SUBSCRIBED', undefined, { field: 'channelId' });
  conn.ws?.unsubscribe(topic);
  gw.registry.unsubscribed(topic, conn);
  return empty;
}

function body(frame: { text?: string; attachments?: unknown; custom?: unknown; encrypted?: unknown }) {
  const { text, attachments, custom, encrypted } = frame as Frame<'message.edit'>;
  return {
    ...(text !== undefined ? { text } : {}),
    ...(attachments !== undefined ? { attachments } : {}),
    ...(custom !== undefined ? { custom } : {}),
    ...(encrypted !== undefined ? { encrypted } : {}),
  };
}

export const HANDLERS: { [T in ClientFrameType]: Handler<T> } = {
  subscribe,
  unsubscribe,
  'message.send': async ({ ctx }, f) =>
    sendMessage(ctx, f.channelId, {
      ...body(f),
      ...(f.clientMsgId !== undefined ? { clientMsgId: f.clientMsgId } : {}),
      ...(f.parentId !== undefined ? { parentId: f.parentId } : {}),
    }),
  'message.edit': async ({ ctx }, f) => ({ message: await editMessage(ctx, f.channelId, f.messageId, body(f)) }),
  'message.delete': async ({ ctx }, f) => ({ message: await deleteMessage(ctx, f.channelId, f.messageId) }),
  'reaction.add': async ({ ctx }, f) => ({ message: await react(ctx, f.channelId, f.messageId, f.reaction, true) }),
  'reaction.remove': async ({ ctx }, f) => ({ message: await react(ctx, f.channelId, f.messageId, f.reaction, false) }),
  'typing.start': async ({ ctx, conn, typing }, f) => {
    await channelFor(ctx, f.channelId, 'typing');
    typing.start(conn.tenantId, f.channelId, conn.user.id);
    return empty;
  },
  'typing.stop': async ({ conn, typing }, f) => {
    typing.stop(conn.tenantId, f.channelId, conn.user.id);
    return empty;
  },
  read: async ({ ctx }, f) => ({ member: await markRead(ctx, f.channelId, f.seq) }),
  'presence.subscribe': async ({ gw, conn }, f) => {
    const userIds = [...new Set(f.userIds)];
    if (conn.presence.size + userIds.length > 1000) {
      throw new NatterError('NATTER_REQUEST_INVALID', 'A connection follows at most 1000 users.', { field: 'userIds' });
    }
    // Only users of the same tenant exist to this connection: unknown ids are simply offline.
    for (const id of userIds) {
      if (conn.presence.has(id)) continue;
      conn.presence.add(id);
      conn.ws?.subscribe(topics.presence(conn.tenantId, id));
    }
    const online = await gw.presence.online(conn.tenantId, userIds);
    return { presence: userIds.map((userId) => ({ userId, online: online.has(userId) })) };
  },
  'presence.unsubscribe': async ({ conn }, f) => {
    for (const id of f.userIds) {
      if (conn.presence.delete(id)) conn.ws?.unsubscribe(topics.presence(conn.tenantId, id));
    }
    return empty;
  },
  ping: async () => ({ time: new Date().toISOString() }),
};

/** Runs a frame's handler and answers it: a reply, or an error frame naming the request. */
export async function dispatch(h: HandlerContext, frame: ClientFrame): Promise<void> {
  if (WRITES.has(frame.type)) {
    const { limiter, rateLimits } = h.gw.services;
    await checkRate(limiter, rateLimits, h.conn.tenant, h.ctx.actor);
  }
  const handler = HANDLERS[frame.type] as Handler<ClientFrameType>;
  const result = await handler(h, frame as never);
  if (result !== REPLIED) sendReply(h.conn, { type: 'reply', id: frame.id, result });
}
