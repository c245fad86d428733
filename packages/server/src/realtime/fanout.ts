/**
 * From bus to sockets. Each event is serialized once and handed to uWS, which copies it to every
 * subscriber natively; only membership, account and policy changes walk connections in JavaScript.
 *
 * Each connection also holds the ability its user had when its rules were last sent (`welcome`,
 * then `rules.updated` whenever the user's role or attributes or the tenant's policy change it).
 */
import type { Channel, CompactMessage, EventData, EventName, Message } from '@natter/protocol';
import { CloseCode, compactMessage } from '@natter/protocol';
import { type AbilityInput, abilityFor, judge, type PackedRule, packedRulesFor } from '../domain/abilities.js';
import { channelView } from '../domain/abilities-views.js';
import type { OutboxEvent } from '../domain/events.js';
import type { EphemeralSignal } from '../ports/bus.js';
import type { Sanction, TenantRecord } from '../ports/store.js';
import { canRead, type TenantCtx } from '../services/context.js';
import { type BufferedFrame, type Connection, topics } from './connection.js';
import { type GatewayContext, sendFrame } from './context.js';
import { type Ordered, ReorderBuffer } from './reorder.js';

/**
 * Outbox event type → realtime event name and data, for events that go to a channel's topic.
 * Messages go out in their compact form (docs/protocol.md, "Compact messages").
 */
function channelFrame(event: OutboxEvent): { name: EventName; data: unknown; seq?: number } | null {
  switch (event.type) {
    case 'message.new':
      return { name: 'message.new', data: withCompactMessage(event.payload), seq: event.payload.message.seq };
    case 'message.updated':
    case 'message.deleted':
    case 'reaction.added':
    case 'reaction.removed':
      return { name: event.type, data: withCompactMessage(event.payload) };
    case 'read.updated':
    case 'channel.updated':
    case 'channel.ended':
    case 'channel.deleted':
      return { name: event.type, data: event.payload };
    case 'member.added':
      return { name: 'member.added', data: { members: event.payload.members } };
    case 'member.removed':
      return { name: 'member.removed', data: { userIds: event.payload.userIds } };
    default:
      return null;
  }
}

/** A message event's payload with its message in compact form (built once per event, not per recipient). */
function withCompactMessage<P extends { message: Message }>(
  payload: P,
): Omit<P, 'message'> & { message: CompactMessage } {
  return { ...payload, message: compactMessage(payload.message) };
}

/** Publishes to a topic and to connections still reading that topic's history. */
export function publish(
  gw: GatewayContext,
  channel: { tenantId: string; channelId: string },
  frame: string,
  seq?: number,
): void {
  const topic = topics.channel(channel.tenantId, channel.channelId);
  gw.app.publish(topic, frame);
  gw.slowConsumers.published(topic);
  const pending = gw.registry.pendingOn(topic);
  if (!pending) return;
  const entry: BufferedFrame = seq === undefined ? { frame } : { frame, seq };
  for (const conn of pending) conn.pending.get(channel.channelId)?.push(entry);
}

type EndReason = EventData['subscription.ended']['reason'];

function endSubscription(gw: GatewayContext, conn: Connection, channelId: string, reason: EndReason): void {
  const topic = topics.channel(conn.tenantId, channelId);
  conn.channels.delete(channelId);
  gw.registry.unsubscribed(topic, conn);
  // Send before unsubscribing: uWS drops publishes still queued for a socket when it leaves its
  // last topic, and a direct send flushes them first (so the event that ended the subscription,
  // e.g. channel.deleted or member.removed, arrives, and before subscription.ended).
  sendFrame(conn, { type: 'event', event: 'subscription.ended', channelId, data: { reason } });
  conn.ws?.unsubscribe(topic);
}

// ---------------------------------------------------------------------------------------------
// Rules of live connections

/**
 * What the rules each connection was last sent were built from, and their cache key. Not the
 * ability itself: an ability is some 20 KB, and an idle connection should cost about 2 KB. The
 * ability comes from the bounded cache of `abilityFor` when needed (rarely: see
 * {@link readsWithoutMembership}), and is rebuilt if it fell out.
 */
const abilities = new WeakMap<Connection, { key: string; input: AbilityInput }>();

function abilityInput(gw: GatewayContext, conn: Connection, tenant: TenantRecord): AbilityInput {
  return {
    actor: { kind: 'user', tenantId: conn.tenantId, user: conn.user },
    policy: tenant.settings.policy,
    editWindow: gw.services.editWindow,
  };
}

/** The rules a new connection starts with (for its `welcome`), from the tenant read at upgrade. */
export function welcomeRules(gw: GatewayContext, conn: Connection): PackedRule[] {
  const input = abilityInput(gw, conn, conn.tenant);
  const { key, packed } = packedRulesFor(input);
  abilities.set(conn, { key, input });
  return packed;
}

/**
 * Brings a connection's rules up to date with `tenant` (as just read) and its user. When they
 * changed, sends `rules.updated` at once and, in the background, ends the subscriptions to
 * channels the user may no longer read. Returns whether they changed.
 */
export function updateRules(gw: GatewayContext, conn: Connection, tenant: TenantRecord): boolean {
  const input = abilityInput(gw, conn, tenant);
  const next = packedRulesFor(input);
  if (abilities.get(conn)?.key === next.key) return false;
  abilities.set(conn, { key: next.key, input });
  sendFrame(conn, { type: 'event', event: 'rules.updated', data: { rules: next.packed } });
  recheckSubscriptions(gw, conn, tenant).catch((err: unknown) =>
    gw.log.warn({ err, connectionId: conn.id }, 'subscription recheck failed'),
  );
  return true;
}

/** {@link updateRules} after reading the tenant again (the user changed, or the policy did). */
export async function refreshRules(gw: GatewayContext, conn: Connection): Promise<void> {
  const tenant = await gw.store.platform.getTenant(conn.tenantId);
  if (tenant && conn.ws) updateRules(gw, conn, tenant);
}

/** Every connection of a tenant gets its rules again (its policy changed on this node). */
export async function refreshTenantRules(gw: GatewayContext, tenantId: string): Promise<void> {
  const conns = [...gw.registry.all()].filter((c) => c.tenantId === tenantId);
  if (conns.length === 0) return;
  const tenant = await gw.store.platform.getTenant(tenantId);
  if (tenant) for (const conn of conns) if (conn.ws) updateRules(gw, conn, tenant);
}

async function recheckSubscriptions(gw: GatewayContext, conn: Connection, tenant: TenantRecord): Promise<void> {
  const ctx: TenantCtx = {
    actor: { kind: 'user', tenantId: conn.tenantId, user: conn.user },
    tenant,
    db: gw.store.tenant(conn.tenantId),
    deps: gw.services,
  };
  for (const channelId of [...conn.channels]) {
    const channel = await ctx.db.getChannel(channelId);
    // A deleted channel ends its subscriptions through channel.deleted.
    if (!channel) continue;
    const member = await ctx.db.getMember(channelId, conn.user.id);
    if (!canRead(ctx, channel, member) && conn.channels.has(channelId))
      endSubscription(gw, conn, channelId, 'NATTER_CHANNEL_NOT_FOUND');
  }
}

/** Whether the connection's user reads `channel` without being a member (public channels, staff). */
function readsWithoutMembership(conn: Connection, channel: Channel): boolean {
  const entry = abilities.get(conn);
  return (
    entry !== undefined && judge(abilityFor(entry.input).ability, 'read', 'Channel', channelView(channel, null)).base
  );
}

// ---------------------------------------------------------------------------------------------

/** Events that go to a channel's subscribers, in the channel's order (those of {@link channelFrame}). */
const ORDERED = new Set<OutboxEvent['type']>([
  'message.new',
  'message.updated',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'read.updated',
  'channel.updated',
  'channel.ended',
  'channel.deleted',
  'member.added',
  'member.removed',
]);

/** Where an event goes in its channel's order (see reorder.ts). */
function ordered(event: OutboxEvent): Ordered<OutboxEvent> {
  switch (event.type) {
    case 'message.new':
      return { seq: event.payload.message.seq, value: event };
    case 'message.updated':
    case 'message.deleted':
    case 'reaction.added':
    case 'reaction.removed':
      return { after: event.payload.message.seq, value: event };
    case 'read.updated':
      return { after: event.payload.member.lastReadSeq, value: event };
    default:
      return { value: event };
  }
}

/**
 * The reorder buffer of a channel, created when a connection starts subscribing to it (and
 * dropped when the channel has no subscribed or subscribing connection left on this node).
 */
export function channelOrder(gw: GatewayContext, tenantId: string, channelId: string): ReorderBuffer<OutboxEvent> {
  return gw.reorder.open(
    topics.channel(tenantId, channelId),
    () =>
      new ReorderBuffer<OutboxEvent>({
        gapMs: gw.config.reorderGapMs ?? 150,
        maxHeld: gw.config.reorderMaxHeld ?? 1000,
        deliver: (event) => deliverEvent(gw, event),
        fetch: async (after, upTo) => {
          const messages = await gw.store
            .tenant(tenantId)
            .listMessages(channelId, { after, limit: upTo - after, includeReplies: true });
          // Built as the outbox would have: the stored message as it is now.
          return messages.map((message) => ({
            seq: message.seq,
            value: {
              id: 0,
              type: 'message.new',
              tenantId,
              channelId,
              createdAt: message.createdAt,
              payload: { message },
            },
          }));
        },
        onError: (err, what) => gw.log.warn({ err, tenantId, channelId }, `channel reorder: ${what} failed`),
      }),
  );
}

export function handleEvent(gw: GatewayContext, event: OutboxEvent): void {
  const { tenantId, channelId } = event;
  if (!gw.dedupe.fresh(`${tenantId}/${channelId ?? ''}`, event.id)) return;
  // Channel events go through the channel's reorder buffer when this node has subscribers to it.
  const buffer =
    channelId !== null && ORDERED.has(event.type) ? gw.reorder.get(topics.channel(tenantId, channelId)) : undefined;
  if (buffer) buffer.push(ordered(event));
  else deliverEvent(gw, event);
}

/** Fans one event out (in its channel's order): to the channel's topic, and its side effects. */
function deliverEvent(gw: GatewayContext, event: OutboxEvent): void {
  const { tenantId, channelId } = event;
  const mapped = channelId !== null ? channelFrame(event) : null;
  // No frame to build for a channel nobody on this node follows (live or catching up).
  if (mapped && channelId !== null && gw.registry.isFollowed(topics.channel(tenantId, channelId))) {
    const frame: Record<string, unknown> = { type: 'event', event: mapped.name, channelId };
    if (mapped.seq !== undefined) frame.seq = mapped.seq;
    frame.data = mapped.data;
    publish(gw, { tenantId, channelId }, JSON.stringify(frame), mapped.seq);
  }
  switch (event.type) {
    case 'member.removed': {
      // Authorization follows membership at once: removed members stop receiving the channel,
      // unless their rules let them read it anyway (a public channel, tenant staff). Decided
      // synchronously, before the next event of the channel is published.
      const removed = new Set(event.payload.userIds);
      const channel = event.payload.channel;
      const topic = topics.channel(tenantId, channel.id);
      for (const conn of [...gw.registry.topicConnections(topic)]) {
        if (removed.has(conn.user.id) && !readsWithoutMembership(conn, channel)) {
          endSubscription(gw, conn, channel.id, 'NATTER_MEMBER_NOT_FOUND');
        }
      }
      break;
    }
    case 'channel.deleted': {
      const topic = topics.channel(tenantId, event.payload.channel.id);
      for (const conn of [...gw.registry.topicConnections(topic)]) {
        endSubscription(gw, conn, event.payload.channel.id, 'NATTER_CHANNEL_NOT_FOUND');
      }
      // A channel made again under the same id starts again at seq 1.
      gw.reorder.forget(topic);
      break;
    }
    case 'moderation.banned':
    case 'moderation.unbanned':
    case 'moderation.muted':
    case 'moderation.unmuted':
      moderationNotice(gw, tenantId, event.type, event.payload.sanction);
      break;
    case 'user.updated':
      for (const user of event.payload.users) {
        for (const conn of gw.registry.userConnections(tenantId, user.id)) {
          conn.user = user;
          // A new role or new attributes may change the rules.
          refreshRules(gw, conn).catch((err: unknown) =>
            gw.log.warn({ err, connectionId: conn.id }, 'rules refresh failed'),
          );
        }
      }
      break;
    case 'user.deleted':
      for (const conn of [...gw.registry.userConnections(tenantId, event.payload.user.id)]) {
        conn.ws?.end(CloseCode.TOKEN_INVALID, 'user deleted');
      }
      break;
    default:
      break;
  }
}

/**
 * Tells the user concerned (only them) about a ban or mute. A ban in force also ends, at once,
 * their subscriptions to the channel, or to every channel when tenant-wide.
 */
function moderationNotice(
  gw: GatewayContext,
  tenantId: string,
  name: 'moderation.banned' | 'moderation.unbanned' | 'moderation.muted' | 'moderation.unmuted',
  sanction: Sanction,
): void {
  const { channelId } = sanction;
  const data: EventData[typeof name] = { channelId, reason: sanction.reason, expiresAt: sanction.expiresAt };
  const frame = JSON.stringify({ type: 'event', event: name, ...(channelId !== null ? { channelId } : {}), data });
  // An event relayed late may describe a ban that has already expired: then nothing ends.
  const inForce =
    name === 'moderation.banned' && (sanction.expiresAt === null || Date.parse(sanction.expiresAt) > Date.now());
  for (const conn of [...gw.registry.userConnections(tenantId, sanction.userId)]) {
    conn.ws?.send(frame);
    gw.slowConsumers.touched(conn);
    if (!inForce) continue;
    const ended = channelId === null ? [...conn.channels] : conn.channels.has(channelId) ? [channelId] : [];
    for (const id of ended) endSubscription(gw, conn, id, 'NATTER_USER_BANNED');
  }
}

export function handleSignal(gw: GatewayContext, signal: EphemeralSignal): void {
  switch (signal.event) {
    case 'presence.changed': {
      const frame = {
        type: 'event',
        event: 'presence.changed',
        data: { userId: signal.userId, online: signal.online },
      };
      gw.app.publish(topics.presence(signal.tenantId, signal.userId), JSON.stringify(frame));
      return;
    }
    case 'typing.start':
    case 'typing.stop': {
      const frame = {
        type: 'event',
        event: signal.event,
        channelId: signal.channelId,
        data: { userId: signal.userId },
      };
      publish(gw, { tenantId: signal.tenantId, channelId: signal.channelId }, JSON.stringify(frame));
      return;
    }
    case 'tenant.deleted':
      for (const conn of [...gw.registry.all()]) {
        if (conn.tenantId === signal.tenantId) conn.ws?.end(CloseCode.TOKEN_INVALID, 'tenant deleted');
      }
      return;
  }
}
