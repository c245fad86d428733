/**
 * The local state of one channel and the pure functions that evolve it. No I/O here: the channel
 * handle and the client feed it REST pages, subscribe replays, replies and events.
 *
 * `messages` holds the channel's top-level messages sorted by seq, deduped by id; thread replies
 * live in `replies` by parent id. `lastSeq` is the recovery cursor: the highest seq received
 * through the subscription stream (events, replays, the latest REST page). Messages that come
 * from elsewhere (own send replies, older history pages) are shown but do not move the cursor, so
 * a resubscribe `since: lastSeq` never skips a message from someone else.
 */
import type { Member } from '@natter/protocol';
import type { Channel, Message, MessageInput, ServerEvents } from './types.js';

/** States of a channel subscription. */
export const SubscriptionState = {
  Unsubscribed: 'unsubscribed',
  Subscribing: 'subscribing',
  Subscribed: 'subscribed',
} as const;
/** `'unsubscribed' | 'subscribing' | 'subscribed'`. */
export type SubscriptionState = (typeof SubscriptionState)[keyof typeof SubscriptionState];

/** A send not yet stored (queued while offline, or in flight): for optimistic UIs. */
export interface PendingMessage extends MessageInput {
  clientMsgId: string;
  parentId: string | null;
}

/** Everything the SDK knows about one channel. Immutable: a change makes a new object. */
export interface ChannelState {
  readonly id: string;
  /** The channel, once fetched (subscribe reply, channel list). */
  readonly channel: Channel | null;
  /** My membership (my `lastReadSeq`), when known from the channel list or a read. */
  readonly membership: Member | null;
  readonly status: SubscriptionState;
  /** Top-level messages, ascending by seq, deduped by id. */
  readonly messages: readonly Message[];
  /** Thread replies seen, by parent message id, ascending by seq. */
  readonly replies: Readonly<Record<string, readonly Message[]>>;
  /** Sends not yet stored, in send order. */
  readonly pending: readonly PendingMessage[];
  /** Recovery cursor: highest seq received through the subscription stream. */
  readonly lastSeq: number;
  /** Whether the latest page was loaded (then `messages` has no hole up to `lastSeq`). */
  readonly loaded: boolean;
  /** Top-level messages of others after my `lastReadSeq`, not deleted. */
  readonly unreadCount: number;
  /** Users typing now (never me). */
  readonly typing: readonly string[];
  /** Read receipts: user id → highest seq read, for members seen in `members()` or read events. */
  readonly reads: Readonly<Record<string, number>>;
}

/** @internal */
export function emptyChannel(id: string): ChannelState {
  return {
    id,
    channel: null,
    membership: null,
    status: SubscriptionState.Unsubscribed,
    messages: [],
    replies: {},
    pending: [],
    lastSeq: 0,
    loaded: false,
    unreadCount: 0,
    typing: [],
    reads: {},
  };
}

/** Seq-sorted union of `list` and `incoming`, deduped by id; a newer copy replaces an older one. */
export function mergeMessages(list: readonly Message[], incoming: readonly Message[]): readonly Message[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  let changed = false;
  for (const m of incoming) {
    const old = byId.get(m.id);
    if (old && (old === m || old.updatedAt > m.updatedAt)) continue;
    byId.set(m.id, m);
    changed = true;
  }
  return changed ? [...byId.values()].sort((a, b) => a.seq - b.seq) : list;
}

const counts = (m: Message, me: string | null, lastRead: number) =>
  m.parentId === null && m.seq > lastRead && m.deletedAt === null && (m.authorId === null || m.authorId !== me);

/** @internal Where messages came from: only the subscription stream moves the cursor and unread. */
export interface Source {
  me: string | null;
  stream: boolean;
}

/** @internal Adds or refreshes messages (top-level and replies). */
export function addMessages(state: ChannelState, incoming: readonly Message[], { me, stream }: Source): ChannelState {
  if (incoming.length === 0) return state;
  const known = new Set(state.messages.map((m) => m.id));
  const lastRead = state.membership?.lastReadSeq ?? 0;
  let { unreadCount, lastSeq, replies } = state;
  const top: Message[] = [];
  const bumps = new Map<string, number>();
  for (const m of incoming) {
    if (stream) lastSeq = Math.max(lastSeq, m.seq);
    if (m.parentId === null) {
      if (stream && !known.has(m.id) && counts(m, me, lastRead)) unreadCount++;
      top.push(m);
      continue;
    }
    const thread = replies[m.parentId] ?? [];
    const isNew = !thread.some((r) => r.id === m.id);
    replies = { ...replies, [m.parentId]: mergeMessages(thread, [m]) };
    if (isNew) bumps.set(m.parentId, (bumps.get(m.parentId) ?? 0) + 1);
  }
  // A parent in this same batch comes with the server's count, which includes these replies.
  for (const m of top) bumps.delete(m.id);
  let messages = mergeMessages(state.messages, top);
  if (bumps.size > 0) {
    // The server counts replies without an event for the parent: count them here too.
    messages = messages.map((m) => (bumps.has(m.id) ? { ...m, replyCount: m.replyCount + (bumps.get(m.id) ?? 0) } : m));
  }
  return { ...state, messages, replies, lastSeq, unreadCount };
}

/** @internal Replaces the messages with the latest page, keeping newer ones that arrived live. */
export function replaceWithPage(state: ChannelState, page: readonly Message[], me: string | null): ChannelState {
  const top = page.at(-1)?.seq ?? 0;
  const messages = mergeMessages(
    page,
    state.messages.filter((m) => m.seq > top),
  );
  const next = { ...state, messages, loaded: true, lastSeq: Math.max(state.lastSeq, top) };
  return { ...next, unreadCount: unreadAfter(next, next.membership?.lastReadSeq ?? 0, me) };
}

/** Unread count after reading up to `lastRead`: exact when local messages cover the range. */
function unreadAfter(state: ChannelState, lastRead: number, me: string | null): number {
  if (lastRead >= state.lastSeq && state.loaded) return 0;
  const first = state.messages[0];
  const local = state.messages.filter((m) => counts(m, me, lastRead)).length;
  const covered = state.loaded && (!first || first.seq <= lastRead + 1);
  return covered ? local : Math.max(local, state.unreadCount);
}

/** @internal Applies a read receipt (mine or another member's). */
export function applyRead(state: ChannelState, member: Member, me: string | null): ChannelState {
  const reads = { ...state.reads, [member.userId]: Math.max(state.reads[member.userId] ?? 0, member.lastReadSeq) };
  if (member.userId !== me) return { ...state, reads };
  const next = { ...state, reads, membership: member };
  return { ...next, unreadCount: unreadAfter(next, member.lastReadSeq, me) };
}

/** @internal Replaces a known message by a newer copy (edit, delete, reaction); unknown ones are ignored. */
export function updateMessage(state: ChannelState, m: Message, me: string | null): ChannelState {
  if (m.parentId !== null) {
    const thread = state.replies[m.parentId];
    if (!thread?.some((r) => r.id === m.id)) return state;
    return { ...state, replies: { ...state.replies, [m.parentId]: mergeMessages(thread, [m]) } };
  }
  const old = state.messages.find((x) => x.id === m.id);
  if (!old) return state;
  const messages = mergeMessages(state.messages, [m]);
  const lastRead = state.membership?.lastReadSeq ?? 0;
  const unread = counts(old, me, lastRead) && !counts(m, me, lastRead) ? 1 : 0;
  return { ...state, messages, unreadCount: Math.max(0, state.unreadCount - unread) };
}

/** A server event of a channel, as routed to its state. */
export type ChannelEvent = { [K in keyof ServerEvents]: { event: K; data: ServerEvents[K] } }[keyof ServerEvents];

/** @internal Applies one server event to the channel's state. */
export function reduceEvent(state: ChannelState, e: ChannelEvent, me: string | null): ChannelState {
  switch (e.event) {
    case 'message.new':
      return addMessages(state, [e.data.message], { me, stream: true });
    case 'message.updated':
    case 'message.deleted':
    case 'reaction.added':
    case 'reaction.removed':
      return updateMessage(state, e.data.message, me);
    case 'read.updated':
      return applyRead(state, e.data.member, me);
    case 'typing.start':
      return e.data.userId === me || state.typing.includes(e.data.userId)
        ? state
        : { ...state, typing: [...state.typing, e.data.userId] };
    case 'typing.stop':
      return state.typing.includes(e.data.userId)
        ? { ...state, typing: state.typing.filter((u) => u !== e.data.userId) }
        : state;
    case 'member.added': {
      let next = state;
      for (const member of e.data.members) next = applyRead(next, member, me);
      return next;
    }
    case 'member.removed': {
      const reads = { ...state.reads };
      for (const id of e.data.userIds) delete reads[id];
      return { ...state, reads };
    }
    case 'channel.updated':
    case 'channel.ended':
    case 'channel.deleted':
      return { ...state, channel: e.data.channel };
    case 'subscription.ended':
      return { ...state, status: SubscriptionState.Unsubscribed, typing: [] };
    default:
      return state;
  }
}
