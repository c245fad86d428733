/**
 * The realtime connection: one WebSocket at `/v1/realtime` that keeps itself up.
 *
 * - States `disconnected` → `connecting` → `connected` change in ONE place ({@link Connection.setState}),
 *   which emits `{ newState, oldState, code, reason }`.
 * - After a drop it reconnects with full-jitter backoff. Close 4001/4003, or an upgrade refused
 *   before the welcome whose token `/v1/me` also refuses (browsers hide the HTTP status of a failed
 *   upgrade), make it ask `getToken()` again; an {@link UnauthorizedError} from `getToken()` stops it.
 * - Requests carry ids and have timeouts; the socket closing rejects them with a retryable
 *   `NATTER_UNAVAILABLE` (`details.reason: 'disconnected'`).
 * - A `ping` every half idle timeout detects half-open connections.
 *
 * @see docs/protocol.md
 */
import {
  type ClientFrame,
  type ClientFrameType,
  CloseCode,
  type EventFrame,
  type ReplyResults,
  type ServerFrame,
  SUBPROTOCOL,
} from '@natter/protocol';
import type { TokenSource } from './auth.js';
import { type BackoffOptions, backoff } from './backoff.js';
import { Emitter } from './emitter.js';
import { fromBody, isUnauthorized, NatterClientError, toClientError, transportError } from './errors.js';
import type { Logger } from './logger.js';

/** States of the connection. */
export const ConnectionState = {
  Disconnected: 'disconnected',
  Connecting: 'connecting',
  Connected: 'connected',
} as const;
/** `'disconnected' | 'connecting' | 'connected'`. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/**
 * A state change. `code` is the WebSocket close code when a close caused it, else null. `reason`
 * is `connect called`, `connected`, `disconnect called`, `unauthorized`, or the close reason.
 */
export interface StateChange {
  newState: ConnectionState;
  oldState: ConnectionState;
  code: number | null;
  reason: string;
}

/**
 * The part of a WebSocket the SDK uses: the browser's `WebSocket` and the `ws` package both fit.
 * Handlers take `never` so that either implementation's own event types are accepted.
 */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

/** A WebSocket class: `globalThis.WebSocket`, or `ws` in Node 20. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** The `welcome` frame: who the connection is and the server's limits. */
export type Welcome = Extract<ServerFrame, { type: 'welcome' }>;

/** @internal */
export interface ConnectionEvents {
  state: StateChange;
  welcome: Welcome;
  event: EventFrame;
  error: NatterClientError;
}

/** The fields of a request frame of type `T`, without `id` and `type`. */
export type RequestPayload<T extends ClientFrameType> = Omit<Extract<ClientFrame, { type: T }>, 'id' | 'type'>;

/** @internal */
export interface ConnectionOptions {
  /** `ws(s)://host/v1/realtime`. */
  url: string;
  WebSocket: WebSocketConstructor;
  tokens: TokenSource;
  backoff: BackoffOptions;
  /** Default request timeout, ms. */
  timeout: number;
  /** Whether the server refuses `token` (asked after an upgrade failed before the welcome). */
  refuses(token: string): Promise<boolean>;
  logger: Logger;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: NatterClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

const noop = () => {};

/** @internal The realtime connection. */
export class Connection extends Emitter<ConnectionEvents> {
  state: ConnectionState = ConnectionState.Disconnected;
  /** The last welcome (user, limits). */
  welcome: Welcome | null = null;
  /** Increments on every welcome: work begun on an older socket can tell it is stale. */
  session = 0;
  private ws: WebSocketLike | null = null;
  /** Increments on connect/disconnect: async steps of an abandoned run stop. */
  private gen = 0;
  private attempt = 0;
  private welcomed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly o: ConnectionOptions) {
    super((err) => o.logger.error?.('natter: a listener threw', err));
  }

  /** Starts connecting (no-op unless disconnected). */
  connect(): void {
    if (this.state !== ConnectionState.Disconnected) return;
    this.gen++;
    this.attempt = 0;
    this.setState(ConnectionState.Connecting, null, 'connect called');
    void this.open();
  }

  /** Closes the socket and stops reconnecting. */
  disconnect(reason = 'disconnect called'): void {
    if (this.state === ConnectionState.Disconnected) return;
    this.gen++;
    clearTimeout(this.reconnectTimer);
    this.detach();
    this.setState(ConnectionState.Disconnected, null, reason);
  }

  /** Sends a request; resolves with its reply or rejects with its error (or a transport error). */
  request<T extends ClientFrameType>(
    type: T,
    payload: RequestPayload<T>,
    timeout = this.o.timeout,
  ): Promise<ReplyResults[T]> {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (this.state !== ConnectionState.Connected || !ws) return reject(transportError('offline'));
      const id = this.nextId++;
      const data = JSON.stringify({ id, type, ...payload });
      const max = this.welcome?.limits.maxFrameBytes ?? Number.POSITIVE_INFINITY;
      // The server closes the socket (1009) on a frame over its limit: refuse it here instead, or a
      // queued send would be retried into that close forever.
      if (data.length * 3 > max && new TextEncoder().encode(data).length > max) {
        return reject(
          new NatterClientError('NATTER_REQUEST_TOO_LARGE', `The frame exceeds the server's ${max} bytes.`, {
            details: { field: 'frame', maxFrameBytes: max },
          }),
        );
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(transportError('timeout'));
      }, timeout);
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
      ws.send(data);
    });
  }

  /** The one place the state changes. */
  private setState(newState: ConnectionState, code: number | null, reason: string): void {
    const oldState = this.state;
    if (oldState === newState) return;
    this.state = newState;
    this.o.logger.debug?.(`natter: ${oldState} → ${newState} (${code ?? '-'} ${reason})`);
    this.emit('state', { newState, oldState, code, reason });
  }

  private async open(): Promise<void> {
    const gen = this.gen;
    let token: string;
    try {
      token = await this.o.tokens.get();
    } catch (err) {
      if (gen !== this.gen) return;
      this.emit('error', toClientError(err));
      if (isUnauthorized(err)) this.disconnect('unauthorized');
      else this.scheduleReconnect();
      return;
    }
    if (gen !== this.gen) return;
    let ws: WebSocketLike;
    try {
      // The token travels as a subprotocol entry, never in the URL (logs, referrers).
      ws = new this.o.WebSocket(this.o.url, [SUBPROTOCOL, `bearer.${token}`]);
    } catch (err) {
      this.emit('error', toClientError(err));
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onmessage = (event: { data: unknown }) => this.ws === ws && this.onFrame(event.data);
    ws.onclose = (event: { code: number; reason: string }) => void this.closed(ws, event.code, event.reason, token);
    // The close event that follows says what can be known; this handler only keeps `ws` from throwing.
    ws.onerror = noop;
  }

  private onFrame(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      this.o.logger.warn?.('natter: unreadable frame', data);
      return;
    }
    switch (frame.type) {
      case 'welcome': {
        this.welcomed = true;
        this.attempt = 0;
        this.session++;
        this.welcome = frame;
        this.startPing(frame.idleTimeout);
        this.emit('welcome', frame);
        this.setState(ConnectionState.Connected, null, 'connected');
        break;
      }
      case 'reply':
      case 'error': {
        const pending = frame.id === null ? undefined : this.pending.get(frame.id);
        if (!pending) {
          if (frame.type === 'error') this.emit('error', fromBody(frame.error));
          break;
        }
        this.pending.delete(frame.id as number);
        clearTimeout(pending.timer);
        if (frame.type === 'reply') pending.resolve(frame.result);
        else pending.reject(fromBody(frame.error));
        break;
      }
      case 'event':
        this.emit('event', frame);
        break;
    }
  }

  private async closed(ws: WebSocketLike, code: number, reason: string, token: string): Promise<void> {
    if (this.ws !== ws) return;
    const welcomed = this.welcomed;
    const gen = this.gen;
    this.detach();
    this.setState(ConnectionState.Connecting, code, reason || 'connection closed');
    if (code === CloseCode.TOKEN_EXPIRED || code === CloseCode.TOKEN_INVALID) {
      this.o.tokens.invalidate(token);
    } else if (!welcomed && (await this.o.refuses(token))) {
      // Refused at the upgrade (HTTP 401): the token is stale even though the socket cannot say so.
      this.o.tokens.invalidate(token);
    }
    if (gen !== this.gen) return;
    // An expired token is routine: reconnect at once with a new one.
    this.scheduleReconnect(code === CloseCode.TOKEN_EXPIRED ? 0 : undefined);
  }

  private scheduleReconnect(delay?: number): void {
    const gen = this.gen;
    const wait = delay ?? backoff(this.attempt, this.o.backoff);
    this.attempt++;
    this.o.logger.debug?.(`natter: reconnecting in ${wait} ms`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => gen === this.gen && void this.open(), wait);
  }

  /** Forgets the socket (closing it), its ping timer and its pending requests. */
  private detach(): void {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.pingTimer);
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close(1000);
      } catch {}
    }
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(transportError('disconnected'));
    }
  }

  private startPing(idleTimeoutSeconds: number): void {
    const every = Math.max(1000, (idleTimeoutSeconds * 1000) / 2);
    const ws = this.ws;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.request('ping', {}, every).catch((err: NatterClientError) => {
        // No answer within half the idle timeout: the connection is dead even if no close came.
        if (err.details?.reason === 'timeout' && ws && this.ws === ws) void this.closed(ws, 4000, 'ping timeout', '');
      });
    }, every);
  }
}
