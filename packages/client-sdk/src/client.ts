/**
 * `createClient()`: the connection, the REST client, the send queue, the store and the channel
 * handles, wired together. Server events update the store first, then reach listeners, so a
 * listener reading `client.store.getSnapshot()` sees the event applied.
 *
 * @see docs/sdk/README.md
 */
import type { ClientFrameType, EventFrame, PresenceState, ReplyResults } from '@natter/protocol';
import { expandMessage, REALTIME_PATH } from '@natter/protocol';
import { type GetToken, TokenSource } from './auth.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { ChannelHandle } from './channel.js';
import { type ChannelEvent, emptyChannel, reduceEvent, SubscriptionState } from './channel-state.js';
import { Connection, type ConnectionState, type RequestPayload, type WebSocketConstructor } from './connection.js';
import { Emitter } from './emitter.js';
import { isTransportError, NatterClientError, transportError } from './errors.js';
import type { Logger } from './logger.js';
import { SendQueue } from './queue.js';
import { Rest } from './rest.js';
import { createStore, type ReadableStore } from './store.js';
import type { ChannelSummary, ClientEvents, ClientSnapshot, Page, User } from './types.js';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Base URL of the Natter server, e.g. `https://chat.example.com` (http(s) or ws(s)). */
  url: string;
  /**
   * Returns a user token (minted by your backend with `POST /v1/users/:id/tokens`). Called at
   * the first connect and again whenever the server says the token expired or was refused.
   * Throw {@link UnauthorizedError} to stop the client; other errors are retried with backoff.
   */
  getToken: GetToken;
  /** WebSocket class. @default globalThis.WebSocket (pass the `ws` package in Node 20) */
  WebSocket?: WebSocketConstructor;
  /** fetch function for REST calls. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where to log. @default silent */
  logger?: Logger;
  /** Smallest reconnect delay, ms. @default 500 */
  minReconnectDelay?: number;
  /** Largest reconnect delay, ms. @default 20000 */
  maxReconnectDelay?: number;
  /** Timeout of each request (realtime and REST), ms. @default 10000 */
  timeout?: number;
  /** Messages loaded when a channel is first watched, or refetched after `too_far`. @default 50 */
  pageSize?: number;
}

/** A Natter client. Create it with {@link createClient}. */
export interface NatterClient {
  /** Connection state. */
  readonly state: ConnectionState;
  /** The connected user, or null before the first welcome. */
  readonly user: User | null;
  /** Local state as a store: `getSnapshot()` / `subscribe(listener)`. */
  readonly store: ReadableStore<ClientSnapshot>;
  /** Connects (and keeps reconnecting until {@link disconnect}). No-op when not disconnected. */
  connect(): void;
  /** Closes the connection and stops reconnecting. Queued sends stay queued for the next `connect()`. */
  disconnect(): void;
  /**
   * Listens to connection `state` changes, `error`s, and every server event; returns a function
   * removing the listener.
   *
   * @example client.on('message.new', ({ channelId, message }) => console.log(channelId, message.text));
   */
  on<K extends keyof ClientEvents>(event: K, listener: (data: ClientEvents[K]) => void): () => void;
  /** My channels with unread counts and last message (REST, one page; pass `next` as `after`). */
  channels(options?: { limit?: number; after?: string }): Promise<Page<ChannelSummary>>;
  /** The handle of channel `id` (the same object for the same id). */
  channel(id: string): ChannelHandle;
  /** Follows users' online state (kept across reconnects); resolves with their current state. */
  subscribePresence(userIds: string[]): Promise<PresenceState[]>;
  /** Stops following users' online state. */
  unsubscribePresence(userIds: string[]): Promise<void>;
}

/**
 * Creates a client. Nothing happens on the network until {@link NatterClient.connect}.
 *
 * @example
 * import { createClient } from '@natter/client';
 * const client = createClient({ url: 'http://localhost:8080', getToken: () => fetchMyToken() });
 * client.connect();
 * const general = client.channel('general');
 * await general.watch();
 * await general.send('Hello!');
 */
export function createClient(options: ClientOptions): NatterClient {
  const WebSocketImpl = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!WebSocketImpl) {
    throw new NatterClientError(
      'NATTER_REQUEST_INVALID',
      'No WebSocket implementation: pass createClient({ WebSocket }), e.g. the ws package in Node 20.',
      { details: { field: 'WebSocket' } },
    );
  }
  const logger = options.logger ?? {};
  const timeout = options.timeout ?? 10_000;
  const delays = {
    minDelay: options.minReconnectDelay ?? DEFAULT_BACKOFF.minDelay,
    maxDelay: options.maxReconnectDelay ?? DEFAULT_BACKOFF.maxDelay,
  };
  const base = new URL(options.url);
  // A path prefix (a reverse proxy's /chat) is kept for REST and realtime alike.
  const root = `${base.host}${base.pathname.replace(/\/$/, '')}`;
  const secure = base.protocol === 'https:' || base.protocol === 'wss:';
  const listenerError = (err: unknown) => logger.error?.('natter: a listener threw', err);

  const tokens = new TokenSource(options.getToken);
  const rest = new Rest({
    baseUrl: `${secure ? 'https' : 'http'}://${root}`,
    tokens,
    fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
    timeout,
  });
  const conn = new Connection({
    url: `${secure ? 'wss' : 'ws'}://${root}${REALTIME_PATH}`,
    WebSocket: WebSocketImpl,
    tokens,
    backoff: delays,
    timeout,
    refuses: (token) => rest.refuses(token),
    logger,
  });
  const events = new Emitter<ClientEvents>(listenerError);
  const store = createStore<ClientSnapshot>(
    { state: 'disconnected', user: null, channels: {}, presence: {} },
    listenerError,
  );
  const queue = new SendQueue(conn, delays);
  const handles = new Map<string, ChannelHandle>();
  const followed = new Set<string>();

  /** Resolves when connected; rejects at `deadline` or if the client is (or goes) disconnected. */
  const connected = (deadline: number) =>
    new Promise<void>((resolve, reject) => {
      if (conn.state === 'connected') return resolve();
      if (conn.state === 'disconnected') return reject(transportError('offline'));
      const done = (err?: NatterClientError) => {
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(transportError('timeout')), deadline - Date.now());
      const off = conn.on('state', ({ newState }) => {
        if (newState !== 'connecting') done(newState === 'connected' ? undefined : transportError('offline'));
      });
    });

  async function call<T extends ClientFrameType>(type: T, payload: RequestPayload<T>): Promise<ReplyResults[T]> {
    const deadline = Date.now() + timeout;
    for (;;) {
      await connected(deadline);
      try {
        return await conn.request(type, payload, Math.max(1, deadline - Date.now()));
      } catch (err) {
        // The socket dropped under the request: these requests are idempotent, so send again.
        if (!isTransportError(err) || Date.now() >= deadline) throw err;
      }
    }
  }

  const setPresence = (states: PresenceState[]) =>
    store.update((s) => ({
      ...s,
      presence: { ...s.presence, ...Object.fromEntries(states.map((p) => [p.userId, p.online])) },
    }));

  async function subscribePresence(userIds: string[]): Promise<PresenceState[]> {
    for (const id of userIds) followed.add(id);
    const { presence } = await call('presence.subscribe', { userIds });
    setPresence(presence);
    return presence;
  }

  function resubscribePresence(): void {
    const ids = [...followed];
    for (let i = 0; i < ids.length; i += 200) {
      conn
        .request('presence.subscribe', { userIds: ids.slice(i, i + 200) })
        .then(({ presence }) => setPresence(presence))
        .catch(() => {});
    }
  }

  function channel(id: string): ChannelHandle {
    let handle = handles.get(id);
    if (!handle) {
      handle = new ChannelHandle(id, {
        conn,
        rest,
        queue,
        store,
        events,
        pageSize: options.pageSize ?? 50,
        call,
        subscribePresence,
      });
      handles.set(id, handle);
    }
    return handle;
  }

  function route(frame: EventFrame): void {
    if (frame.event === 'presence.changed') {
      setPresence([frame.data]);
      events.emit('presence.changed', frame.data);
      return;
    }
    const channelId = frame.channelId;
    if (channelId === undefined) return;
    const handle = channel(channelId);
    const e = wholeMessages(frame) as unknown as ChannelEvent;
    const me = store.getSnapshot().user?.id ?? null;
    handle.update((s) => reduceEvent(s, e, me));
    if (e.event === 'subscription.ended') handle.ended();
    events.emit(e.event, { ...e.data, channelId } as never);
  }

  conn.on('welcome', (welcome) => store.update((s) => ({ ...s, user: welcome.user as User })));
  conn.on('error', (error) => events.emit('error', error));
  conn.on('event', route);
  conn.on('state', (change) => {
    const { newState } = change;
    store.update((s) => {
      if (newState === 'connected') return { ...s, state: newState };
      // Off the socket: subscriptions are gone until the next welcome, and typing is stale.
      const channels = { ...s.channels };
      for (const [id, handle] of handles) {
        const current = channels[id] ?? emptyChannel(id);
        channels[id] = {
          ...current,
          typing: [],
          status: handle.watched ? SubscriptionState.Subscribing : SubscriptionState.Unsubscribed,
        };
      }
      return { ...s, state: newState, channels };
    });
    events.emit('state', change);
    if (newState === 'connected') {
      // Resubscribe before flushing sends, so their events are not missed.
      for (const handle of handles.values()) void handle.sync();
      resubscribePresence();
      queue.flush();
    }
  });

  return {
    get state() {
      return conn.state;
    },
    get user() {
      return store.getSnapshot().user;
    },
    store,
    connect: () => conn.connect(),
    disconnect: () => conn.disconnect(),
    on: (event, listener) => events.on(event, listener),
    async channels(query = {}) {
      const page: Page<ChannelSummary> = await rest.request('GET', '/v1/channels', { query });
      for (const item of page.items) {
        channel(item.channel.id).update((s) => ({
          ...s,
          channel: item.channel,
          membership: item.membership,
          unreadCount: item.unreadCount,
          reads: { ...s.reads, [item.membership.userId]: item.membership.lastReadSeq },
        }));
      }
      return page;
    },
    channel,
    subscribePresence,
    async unsubscribePresence(userIds) {
      for (const id of userIds) followed.delete(id);
      if (conn.state === 'connected') await conn.request('presence.unsubscribe', { userIds });
      store.update((s) => {
        const presence = { ...s.presence };
        for (const id of userIds) delete presence[id];
        return { ...s, presence };
      });
    },
  };
}

/** The event with its message (message and reaction events carry one, in compact form) made whole. */
function wholeMessages(frame: EventFrame): EventFrame {
  if (!('message' in frame.data)) return frame;
  return { ...frame, data: { ...frame.data, message: expandMessage(frame.data.message) } } as EventFrame;
}
