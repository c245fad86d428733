/**
 * A small typed realtime client over the `ws` package, for tests: real sockets, real frames.
 *
 * @example
 * const c = await connect(h.url, alice.token);
 * const sub = await c.request({ type: 'subscribe', channelId });
 * const ev = await c.nextEvent((e) => e.event === 'message.new');
 * await c.close();
 */
import type { Socket } from 'node:net';
import {
  type ClientFrame,
  type ClientFrameType,
  type ErrorBody,
  type EventFrame,
  type EventName,
  REALTIME_PATH,
  type ReplyResults,
  type ServerFrame,
  SUBPROTOCOL,
} from '@natter/protocol';
import WebSocket from 'ws';

export type Welcome = Extract<ServerFrame, { type: 'welcome' }>;
export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;
/** An event frame of one event name. */
export type EventOf<K extends EventName> = Extract<EventFrame, { event: K }>;
/** A request frame without its id (the client numbers requests itself). */
export type Request<T extends ClientFrameType> = Omit<Extract<ClientFrame, { type: T }>, 'id'>;

/** The server answered a request with an error frame. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(readonly frame: ErrorFrame) {
    super(`${frame.error.code}: ${frame.error.message}`);
  }
  get code(): string {
    return this.frame.error.code;
  }
  get body(): ErrorBody {
    return this.frame.error;
  }
}

/** The server refused the upgrade with an HTTP answer instead of 101. */
export class UpgradeRefused extends Error {
  override readonly name = 'UpgradeRefused';
  constructor(
    readonly status: number,
    readonly body: { error?: ErrorBody } | string,
  ) {
    super(`upgrade refused: HTTP ${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
  get code(): string | undefined {
    return typeof this.body === 'string' ? undefined : this.body.error?.code;
  }
}

export interface Closed {
  code: number;
  reason: string;
}

export interface ConnectOptions {
  /** How the token travels. @default 'query' */
  via?: 'query' | 'protocol';
  /** `Origin` header. */
  origin?: string;
  /** Subprotocols offered (the bearer entry is appended when `via` is 'protocol'). @default ['natter.v1'] */
  protocols?: string[];
  /** @default 5000 */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT = 5000;

export class WsClient {
  /** Every frame received, in order. */
  readonly frames: ServerFrame[] = [];
  /** Every event frame received, in order. */
  readonly events: EventFrame[] = [];
  /** Error frames that named no request (id null). */
  readonly orphanErrors: ErrorFrame[] = [];
  readonly closed: Promise<Closed>;
  welcome!: Welcome;
  /** Headers of the server's 101 answer. */
  upgradeHeaders: Record<string, string | string[] | undefined> = {};
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly taken = new Set<EventFrame>();
  private readonly waiters = new Set<() => void>();
  private closedWith: Closed | null = null;

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        for (const p of this.pending.values()) p.reject(new Error(`socket closed (${code}) before the reply`));
        this.pending.clear();
        this.notify();
        resolve(this.closedWith);
      });
    });
    ws.on('upgrade', (res) => {
      this.upgradeHeaders = res.headers;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      this.onFrame(JSON.parse(data.toString()) as ServerFrame);
    });
    // Errors surface through `closed` and the connect promise; never crash the test process.
    ws.on('error', () => {});
  }

  /** The subprotocol the server selected. */
  get protocol(): string {
    return this.ws.protocol;
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  private onFrame(frame: ServerFrame): void {
    this.frames.push(frame);
    switch (frame.type) {
      case 'reply':
      case 'error': {
        const p = frame.id === null ? undefined : this.pending.get(frame.id);
        if (p && frame.id !== null) {
          this.pending.delete(frame.id);
          if (frame.type === 'reply') p.resolve(frame.result);
          else p.reject(new FrameError(frame));
        } else if (frame.type === 'error' && frame.id === null) {
          this.orphanErrors.push(frame);
        }
        break;
      }
      case 'event':
        this.events.push(frame);
        break;
      default:
        break;
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Sends a request and resolves with its reply's result; rejects with {@link FrameError}. */
  request<T extends ClientFrameType>(
    frame: Request<T> & { type: T },
    timeoutMs = DEFAULT_TIMEOUT,
  ): Promise<ReplyResults[T]> {
    const id = this.nextId++;
    return this.requestWithId<T>(id, frame, timeoutMs);
  }

  /** Like {@link request} with a chosen id (ids must be unique among pending requests). */
  requestWithId<T extends ClientFrameType>(
    id: number,
    frame: Request<T> & { type: T },
    timeoutMs = DEFAULT_TIMEOUT,
  ): Promise<ReplyResults[T]> {
    return new Promise<ReplyResults[T]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${frame.type} #${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as ReplyResults[T]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, ...frame }));
    });
  }

  /** Claims an id for a hand-written frame whose answer the caller awaits with {@link answerTo}. */
  reserveId(): number {
    return this.nextId++;
  }

  /** Resolves with the reply or error frame answering request `id`, sent by other means. */
  answerTo(id: number, timeoutMs = DEFAULT_TIMEOUT): Promise<Extract<ServerFrame, { type: 'reply' | 'error' }>> {
    return this.waitFor(
      () => this.frames.find((f) => (f.type === 'reply' || f.type === 'error') && f.id === id) as never,
      timeoutMs,
      `answer to #${id}`,
    );
  }

  /** Sends raw data (text or binary) as is. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /**
   * Resolves with the first event matching `predicate` not returned by an earlier call (events
   * already received count), so calls in any order never miss or repeat an event.
   */
  nextEvent<K extends EventName>(
    name: K,
    predicate?: (e: EventOf<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventOf<K>>;
  nextEvent(predicate: (e: EventFrame) => boolean, timeoutMs?: number): Promise<EventFrame>;
  nextEvent(a: EventName | ((e: EventFrame) => boolean), b?: unknown, c?: unknown): Promise<EventFrame> {
    const predicate =
      typeof a === 'string'
        ? (e: EventFrame) => e.event === a && (typeof b !== 'function' || (b as (e: EventFrame) => boolean)(e))
        : a;
    const timeoutMs = (typeof a === 'string' ? c : b) as number | undefined;
    return this.waitFor(
      () => {
        const found = this.events.find((e) => !this.taken.has(e) && predicate(e));
        if (found) this.taken.add(found);
        return found;
      },
      timeoutMs ?? DEFAULT_TIMEOUT,
      `event ${typeof a === 'string' ? a : 'matching predicate'}`,
    );
  }

  /** Resolves when `check` returns a value other than undefined/false, re-checked on each frame and on close. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs = DEFAULT_TIMEOUT, what = 'condition'): Promise<T> {
    const first = check();
    if (first !== undefined && first !== false) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const waiter = () => {
        const value = check();
        if (value !== undefined && value !== false) {
          done();
          resolve(value);
        } else if (this.closedWith) {
          done();
          reject(
            new Error(`socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting for ${what}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-3).map((e) => e.event))}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      if (this.closedWith) waiter();
    });
  }

  /** Events of `name` (optionally on one channel), in arrival order. */
  eventsOf<K extends EventName>(name: K, channelId?: string): EventOf<K>[] {
    return this.events.filter(
      (e): e is EventOf<K> => e.event === name && (channelId === undefined || e.channelId === channelId),
    );
  }

  /** Sequence numbers of the message.new events received on `channelId`. */
  seqs(channelId: string): number[] {
    return this.eventsOf('message.new', channelId).map((e) => e.data.message.seq);
  }

  /** Stops reading from the socket (the server's writes back up). */
  pause(): void {
    this.socket().pause();
  }

  resume(): void {
    this.socket().resume();
  }

  private socket(): Socket {
    // `_socket` is not in the public typings of `ws`; tests need it to simulate a slow reader.
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  /** Closes normally and resolves once closed. */
  async close(code = 1000): Promise<Closed> {
    if (!this.closedWith && this.ws.readyState !== WebSocket.CLOSING) this.ws.close(code);
    return this.closed;
  }

  /** Drops the TCP connection without a close handshake. */
  terminate(): Promise<Closed> {
    this.ws.terminate();
    return this.closed;
  }
}

/** The realtime URL of a server base URL. */
export function realtimeUrl(baseUrl: string, token?: string): string {
  const url = new URL(REALTIME_PATH, baseUrl.replace(/^http/, 'ws'));
  if (token !== undefined) url.searchParams.set('token', token);
  return url.toString();
}

/**
 * Opens a socket; resolves with the client once `welcome` arrived, rejects with {@link UpgradeRefused}.
 *
 * A socket closed with 1006 before its `welcome` is opened again (twice at most, said on stderr):
 * that is the uWebSockets.js v20.30 upgrade bug documented in docs/protocol.md (close code 1006),
 * which clients handle by reconnecting, as the SDK does. Every other failure fails at once.
 */
export async function connect(baseUrl: string, token: string | null, options: ConnectOptions = {}): Promise<WsClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(baseUrl, token, options);
    } catch (err) {
      const early = err instanceof Error && /^socket closed \(1006\b.*while waiting for welcome/.test(err.message);
      if (!early || attempt === 3) throw err;
      process.stderr.write(`ws-client: closed with 1006 before welcome (uWS upgrade bug), connecting again\n`);
    }
  }
}

function connectOnce(baseUrl: string, token: string | null, options: ConnectOptions): Promise<WsClient> {
  const via = options.via ?? 'query';
  const protocols = [...(options.protocols ?? [SUBPROTOCOL])];
  if (token !== null && via === 'protocol') protocols.push(`bearer.${token}`);
  const url = realtimeUrl(baseUrl, token !== null && via === 'query' ? token : undefined);
  const ws = new WebSocket(url, protocols, {
    ...(options.origin !== undefined ? { origin: options.origin } : {}),
    handshakeTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT,
  });
  const client = new WsClient(ws);
  return new Promise<WsClient>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no welcome in time'));
    }, options.timeoutMs ?? DEFAULT_TIMEOUT);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        let body: { error?: ErrorBody } | string = text;
        try {
          body = JSON.parse(text) as { error?: ErrorBody };
        } catch {}
        reject(new UpgradeRefused(res.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client
      .waitFor(
        () => client.frames.find((f): f is Welcome => f.type === 'welcome'),
        options.timeoutMs ?? DEFAULT_TIMEOUT,
        'welcome',
      )
      .then((welcome) => {
        clearTimeout(timer);
        client.welcome = welcome;
        resolve(client);
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(err);
      });
  });
}

/** Expects the upgrade to be refused; resolves with the refusal. */
export async function refusedUpgrade(
  baseUrl: string,
  token: string | null,
  options: ConnectOptions = {},
): Promise<UpgradeRefused> {
  try {
    const client = await connect(baseUrl, token, options);
    await client.terminate();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}
