/**
 * A handle on one channel: watch it (live events into local state, kept across reconnects), read
 * its history, send and act on messages, typing, read receipts, members and their presence.
 *
 * @see docs/sdk/README.md#channelhandle
 */
import type { ClientFrameType, Member, PresenceState, ReplyResults } from '@natter/protocol';
import {
  addMessages,
  applyRead,
  type ChannelState,
  emptyChannel,
  replaceWithPage,
  SubscriptionState,
  updateMessage,
} from './channel-state.js';
import type { Connection, RequestPayload } from './connection.js';
import type { Emitter } from './emitter.js';
import { toClientError } from './errors.js';
import { randomId } from './ids.js';
import type { SendQueue } from './queue.js';
import type { Rest } from './rest.js';
import type { WritableStore } from './store.js';
import type { ClientEvents, ClientSnapshot, Message, MessageInput, Page, ServerEvents } from './types.js';
import { TypingNotifier } from './typing.js';

/** Query of {@link ChannelHandle.history}: by sequence number, ascending results. */
export interface HistoryQuery {
  /** Messages with seq < before (the newest of them). */
  before?: number;
  /** Messages with seq > after (the oldest of them). Not with `before`. */
  after?: number;
  /** Page size, 1–200. @default 50 */
  limit?: number;
}

/** Names of the events that belong to a channel (all server events but `presence.changed`). */
export type ChannelEventName = Exclude<keyof ServerEvents, 'presence.changed'>;

/** @internal What a channel handle needs from its client. */
export interface ClientContext {
  conn: Connection;
  rest: Rest;
  queue: SendQueue;
  store: WritableStore<ClientSnapshot>;
  events: Emitter<ClientEvents>;
  /** Latest-page size for (re)loads. */
  pageSize: number;
  /** A request that waits for the connection and survives drops until its timeout. */
  call<T extends ClientFrameType>(type: T, payload: RequestPayload<T>): Promise<ReplyResults[T]>;
  subscribePresence(userIds: string[]): Promise<PresenceState[]>;
}

/**
 * One channel. Get it with `client.channel(id)` (the same object for the same id).
 *
 * @example
 * const general = client.channel('general');
 * await general.watch();
 * general.on('message.new', ({ message }) => console.log(message.text));
 * await general.send('hello');
 */
export class ChannelHandle {
  private watching = false;
  /** Connection session of the last (re)subscribe begun: one per welcome. */
  private syncedSession = -1;
  private ready: Promise<void> | null = null;
  private settle: { resolve(): void; reject(err: unknown): void } | null = null;
  private readonly typingNotifier: TypingNotifier;

  /** @internal Use `client.channel(id)`. */
  constructor(
    /** The channel id. */
    readonly id: string,
    private readonly c: ClientContext,
  ) {
    this.typingNotifier = new TypingNotifier((type) => {
      if (c.conn.state === 'connected') c.conn.request(type, { channelId: id }).catch(() => {});
    });
  }

  /** The channel's local state (same object as `client.store.getSnapshot().channels[id]`). */
  get state(): ChannelState {
    return this.c.store.getSnapshot().channels[this.id] ?? emptyChannel(this.id);
  }

  /** Whether {@link watch} is in effect. */
  get watched(): boolean {
    return this.watching;
  }

  /**
   * Receives the channel's events into local state, and keeps doing so across reconnects
   * (resubscribing with `since` = the last seq seen, so missed messages are recovered; when too
   * many were missed the latest page is refetched over REST and replaces local state).
   * The first call loads the latest page over REST. Resolves once subscribed; works before
   * `connect()` too (then resolves after the connection is up).
   *
   * @throws NatterClientError `NATTER_CHANNEL_NOT_FOUND` / `NATTER_AUTH_FORBIDDEN` …
   */
  watch(): Promise<ChannelState> {
    if (!this.watching || !this.ready) {
      this.watching = true;
      this.ready = new Promise<void>((resolve, reject) => {
        this.settle = { resolve, reject };
      });
      this.update((s) => ({ ...s, status: SubscriptionState.Subscribing }));
    }
    void this.sync();
    return this.ready.then(() => this.state);
  }

  /** Stops receiving the channel's events. Local state stays; a later `watch()` recovers from it. */
  async unwatch(): Promise<void> {
    if (!this.watching) return;
    this.ended();
    if (this.c.conn.state === 'connected') {
      await this.c.conn.request('unsubscribe', { channelId: this.id }).catch(() => {});
    }
  }

  /** Fetches a page of history over REST and merges it into local state. */
  async history(query: HistoryQuery = {}): Promise<Message[]> {
    const page = await this.fetchPage(query);
    this.update((s) => addMessages(s, page, { me: this.me(), stream: false }));
    return page;
  }

  /**
   * Sends a message. Works offline: it is queued and goes out, in order, once connected. A send
   * whose answer was lost is retried with the same `clientMsgId`, so it is stored exactly once.
   * Resolves with the stored message.
   */
  send(input: string | MessageInput): Promise<Message> {
    return this.post(input, null);
  }

  /** Sends a thread reply to message `parentId` (queued and retried like {@link send}). */
  reply(parentId: string, input: string | MessageInput): Promise<Message> {
    return this.post(input, parentId);
  }

  /** Replaces the given fields of your message. */
  async edit(messageId: string, input: string | MessageInput): Promise<Message> {
    const body = typeof input === 'string' ? { text: input } : input;
    return this.changed((await this.c.call('message.edit', { channelId: this.id, messageId, ...body })).message);
  }

  /** Deletes a message (it stays as a tombstone with its seq). */
  async delete(messageId: string): Promise<Message> {
    return this.changed((await this.c.call('message.delete', { channelId: this.id, messageId })).message);
  }

  /** Adds your reaction (e.g. `👍`, `+1`) to a message. Idempotent. */
  async react(messageId: string, reaction: string): Promise<Message> {
    return this.changed((await this.c.call('reaction.add', { channelId: this.id, messageId, reaction })).message);
  }

  /** Removes your reaction from a message. */
  async unreact(messageId: string, reaction: string): Promise<Message> {
    return this.changed((await this.c.call('reaction.remove', { channelId: this.id, messageId, reaction })).message);
  }

  /**
   * Call on every keystroke: sends `typing.start` at most every 2 s and `typing.stop` after 3 s
   * without a call. Dropped while disconnected (typing is ephemeral).
   */
  typing(): void {
    this.typingNotifier.typing();
  }

  /** Stops typing now (sending does this too). */
  stopTyping(): void {
    this.typingNotifier.stop();
  }

  /** Marks the channel read up to `seq` (default: its newest message). Resolves with my membership. */
  async markRead(seq?: number): Promise<Member> {
    const { member } = await this.c.call('read', { channelId: this.id, ...(seq !== undefined ? { seq } : {}) });
    this.update((s) => applyRead(s, member, this.me()));
    return member;
  }

  /** All members (REST, every page), with their read positions merged into `state.reads`. */
  async members(): Promise<Member[]> {
    const all: Member[] = [];
    let after: string | null | undefined;
    do {
      const page: Page<Member> = await this.c.rest.request('GET', `/v1/channels/${enc(this.id)}/members`, {
        query: { limit: 200, after: after ?? undefined },
      });
      all.push(...page.items);
      after = page.next;
    } while (after);
    this.update((s) => all.reduce((next, m) => applyRead(next, m, this.me()), s));
    return all;
  }

  /** Follows the online state of the channel's members (into `snapshot.presence`). */
  async watchPresence(): Promise<PresenceState[]> {
    const ids = (await this.members()).map((m) => m.userId);
    const result: PresenceState[] = [];
    // The server takes at most 200 user ids per frame.
    for (let i = 0; i < ids.length; i += 200) result.push(...(await this.c.subscribePresence(ids.slice(i, i + 200))));
    return result;
  }

  /**
   * Listens to this channel's events only; returns a function removing the listener.
   *
   * @example channel.on('typing.start', ({ userId }) => showTyping(userId));
   */
  on<K extends ChannelEventName>(event: K, listener: (data: ClientEvents[K]) => void): () => void {
    return this.c.events.on(event, (data) => {
      if (data.channelId === this.id) listener(data);
    });
  }

  /** @internal (Re)subscribes if watched and not yet done for this connection session. */
  async sync(): Promise<void> {
    const { conn } = this.c;
    if (!this.watching || conn.state !== 'connected' || this.syncedSession === conn.session) return;
    const session = conn.session;
    this.syncedSession = session;
    const stale = () => session !== conn.session || !this.watching;
    try {
      if (!this.state.loaded) await this.reload();
      if (stale()) return;
      const result = await conn.request('subscribe', { channelId: this.id, since: this.state.lastSeq });
      if (stale()) return;
      const me = this.me();
      this.update((s) => ({
        ...addMessages({ ...s, channel: result.channel as ChannelState['channel'] }, result.messages as Message[], {
          me,
          stream: true,
        }),
        status: SubscriptionState.Subscribed,
      }));
      if (result.recovery === 'too_far') await this.reload();
      this.settle?.resolve();
    } catch (err) {
      const error = toClientError(err);
      if (error.retryable) {
        // The connection dropped: the next welcome resubscribes.
        if (session !== conn.session || conn.state !== 'connected') return;
        // Still connected (rate limited while resubscribing many channels, REST hiccup): retry soon.
        this.syncedSession = -1;
        const wait = Number(error.details?.retryAfter) > 0 ? Number(error.details?.retryAfter) * 1000 : 1000;
        setTimeout(() => void this.sync(), wait);
        return;
      }
      const settle = this.settle;
      this.ended();
      settle?.reject(error);
      this.c.events.emit('error', error);
    }
  }

  /** @internal The subscription ended (unwatch, or the server ended it). */
  ended(): void {
    this.watching = false;
    this.ready = null;
    this.settle = null;
    this.syncedSession = -1;
    this.update((s) => ({ ...s, status: SubscriptionState.Unsubscribed, typing: [] }));
  }

  /** @internal Applies `fn` to this channel's state in the store. */
  update(fn: (state: ChannelState) => ChannelState): void {
    this.c.store.update((snap) => {
      const current = snap.channels[this.id] ?? emptyChannel(this.id);
      const next = fn(current);
      return next === current && snap.channels[this.id]
        ? snap
        : { ...snap, channels: { ...snap.channels, [this.id]: next } };
    });
  }

  private me(): string | null {
    return this.c.store.getSnapshot().user?.id ?? null;
  }

  private async reload(): Promise<void> {
    const page = await this.fetchPage({ limit: this.c.pageSize });
    this.update((s) => replaceWithPage(s, page, this.me()));
  }

  private async fetchPage(query: HistoryQuery): Promise<Message[]> {
    const res: { messages: Message[] } = await this.c.rest.request('GET', `/v1/channels/${enc(this.id)}/messages`, {
      query: { ...query },
    });
    return res.messages;
  }

  private changed(message: unknown): Message {
    const m = message as Message;
    this.update((s) => updateMessage(s, m, this.me()));
    return m;
  }

  private async post(input: string | MessageInput, parentId: string | null): Promise<Message> {
    const body = typeof input === 'string' ? { text: input } : input;
    const clientMsgId = randomId();
    this.update((s) => ({ ...s, pending: [...s.pending, { ...body, clientMsgId, parentId }] }));
    this.typingNotifier.stop();
    const settled = (s: ChannelState) => ({ ...s, pending: s.pending.filter((p) => p.clientMsgId !== clientMsgId) });
    try {
      const message = (await this.c.queue.push({
        channelId: this.id,
        clientMsgId,
        ...body,
        ...(parentId !== null ? { parentId } : {}),
      })) as Message;
      this.update((s) => addMessages(settled(s), [message], { me: this.me(), stream: false }));
      return message;
    } catch (err) {
      this.update(settled);
      throw toClientError(err);
    }
  }
}

const enc = encodeURIComponent;
