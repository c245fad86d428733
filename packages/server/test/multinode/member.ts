/**
 * Chat participants that behave like a careful client of a multi-node deployment, and record
 * what they saw so a test can check it against the store.
 *
 * - {@link Member}: one user on a WebSocket, subscribed to one channel. It keeps the channel's
 *   messages as the protocol says a client should: appends `message.new` when its seq is the next
 *   one, drops a seq it already has (counted as a duplicate), and on a jump in seq (counted as a
 *   gap) resubscribes with `since` = the last seq it has. When its socket drops it reconnects to
 *   the next node in its list, resubscribes with `since`, and resends every message not yet
 *   acknowledged with the same `clientMsgId`.
 * - {@link RestSender}: sends over REST, moving to the next node when one stops answering, with
 *   the same `clientMsgId` on every retry.
 *
 * Frames are handled synchronously in arrival order (a listener on the socket), never in promise
 * callbacks, so a subscribe reply and the events right behind it are taken in the order sent.
 */
import type { Message } from '@natter/protocol';
import { type Client, createClient } from '../harness.js';
import { connect, FrameError, type WsClient } from '../realtime/ws-client.js';
import { sleep } from './cluster.js';

/** What a member counted while receiving. */
export interface MemberStats {
  /** `message.new` events with a seq the member already had. */
  duplicates: number;
  /** Jumps in seq that made it resubscribe (each with where it happened). */
  gaps: { after: number; got: number }[];
  /** Sockets opened after the first one. */
  reconnects: number;
  /** Resubscriptions after a gap. */
  resyncs: number;
  /** Messages sent more than once (same clientMsgId) because a socket dropped or a reply was late. */
  resent: number;
}

export interface MemberOptions {
  userId: string;
  token: string;
  channelId: string;
  /** Nodes' base URLs, preferred first; on a drop it moves to the next one. */
  urls: string[];
  /** Resubscribe with `since` on a gap (a client does). When false, gaps are only counted. @default true */
  resyncOnGap?: boolean;
  /**
   * It already has the messages up to this seq: `start()` subscribes with `since` = this (0 too:
   * it wants the whole history). Unset: `start()` subscribes from now on.
   */
  since?: number;
}

const SEND_TIMEOUT_MS = 8000;
const RECONNECT_DEADLINE_MS = 30_000;

export class Member {
  readonly userId: string;
  readonly channelId: string;
  /** The channel's messages as this member has them, in order. */
  readonly messages: Message[] = [];
  /** Every `message.new` seq that arrived live, per socket, in arrival order (raw, unfiltered). */
  readonly live: number[][] = [];
  readonly stats: MemberStats = { duplicates: 0, gaps: [], reconnects: 0, resyncs: 0, resent: 0 };
  /** Acknowledged sends: clientMsgId → the stored message in the reply. */
  readonly acked = new Map<string, Message>();
  socket: WsClient | null = null;
  /** Which of `urls` the socket is on. */
  urlIndex = 0;
  private readonly token: string;
  private readonly urls: string[];
  private readonly resyncOnGap: boolean;
  private readonly since: number;
  private readonly startWithSince: boolean;
  private subscribeId: number | null = null;
  private stopping = false;
  private reconnecting: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(options: MemberOptions) {
    this.userId = options.userId;
    this.token = options.token;
    this.channelId = options.channelId;
    this.urls = options.urls;
    this.resyncOnGap = options.resyncOnGap ?? true;
    this.since = options.since ?? 0;
    this.startWithSince = options.since !== undefined;
  }

  /** The last seq it has (`since` before any). */
  get lastSeq(): number {
    return this.messages.at(-1)?.seq ?? this.since;
  }

  get url(): string {
    return this.urls[this.urlIndex]!;
  }

  /** Connects to the first URL and subscribes: from now on, or with `since` when given. */
  async start(): Promise<void> {
    try {
      await this.open(this.urlIndex, this.startWithSince);
    } catch (err) {
      throw new Error(`${this.userId}: could not connect and subscribe on ${this.url}: ${String(err)}`, { cause: err });
    }
  }

  /** Opens a socket on `urls[index]` and subscribes; with `since` after a reconnect. */
  private async open(index: number, withSince: boolean): Promise<void> {
    const socket = await connect(this.urls[index]!, this.token, { timeoutMs: 5000 });
    this.socket = socket;
    this.urlIndex = index;
    const live: number[] = [];
    this.live.push(live);
    socket.ws.on('message', (data) => {
      if (this.socket !== socket) return;
      this.onFrame(JSON.parse(data.toString()), live);
    });
    void socket.closed.then(() => {
      if (this.socket === socket && !this.stopping) this.failover();
    });
    try {
      await this.subscribe(withSince);
    } catch (err) {
      this.socket = null;
      await socket.terminate();
      throw err;
    }
  }

  /** Sends `subscribe` (with `since` = lastSeq when asked); the reply is taken by onFrame. */
  private async subscribe(withSince: boolean): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const id = socket.reserveId();
    this.subscribeId = id;
    // Long enough for a subscribe with `since` while the bus is down (the server tries to publish
    // the outbox first, up to the bus's publish timeout).
    try {
      await socket.requestWithId(
        id,
        { type: 'subscribe', channelId: this.channelId, ...(withSince ? { since: this.lastSeq } : {}) },
        20_000,
      );
    } catch (err) {
      // Refused or unanswered: take live events again (the next jump retries).
      if (this.subscribeId === id) this.subscribeId = null;
      throw err;
    }
  }

  private onFrame(
    frame: { type: string; id?: number; event?: string; channelId?: string; result?: unknown; data?: unknown },
    live: number[],
  ): void {
    if (frame.type === 'reply' && frame.id === this.subscribeId) {
      this.subscribeId = null;
      const result = frame.result as { recovery: string; messages: Message[] };
      if (result.recovery === 'too_far') this.fail(new Error(`${this.userId}: recovery too_far after ${this.lastSeq}`));
      for (const m of result.messages) if (m.parentId === null) this.take(m);
      return;
    }
    if (frame.type !== 'event' || frame.event !== 'message.new' || frame.channelId !== this.channelId) return;
    const message = (frame.data as { message: Message }).message;
    live.push(message.seq);
    // While a resubscription is answered, live events are either in its replay or re-sent after it.
    if (this.subscribeId !== null) return;
    this.take(message);
  }

  private take(message: Message): void {
    const last = this.lastSeq;
    if (message.seq <= last) {
      this.stats.duplicates += 1;
      return;
    }
    if (message.seq > last + 1) {
      this.stats.gaps.push({ after: last, got: message.seq });
      if (this.resyncOnGap) {
        this.stats.resyncs += 1;
        this.subscribe(true).catch(() => undefined); // a drop is handled by failover
      }
      return;
    }
    this.messages.push(message);
  }

  private fail(err: Error): void {
    this.failure ??= err;
  }

  /** Reconnects to the next node (then the others, round robin) until one accepts. */
  private failover(): void {
    if (this.reconnecting) return;
    this.reconnecting = (async () => {
      const deadline = Date.now() + RECONNECT_DEADLINE_MS;
      let index = this.urlIndex;
      for (let attempt = 0; !this.stopping; attempt++) {
        index = (index + 1) % this.urls.length;
        try {
          await this.open(index, true);
          this.stats.reconnects += 1;
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            this.fail(
              new Error(`${this.userId}: could not reconnect within ${RECONNECT_DEADLINE_MS} ms: ${String(err)}`),
            );
            return;
          }
          await sleep(Math.min(1000, 100 * 2 ** attempt));
        }
      }
    })().finally(() => {
      this.reconnecting = null;
    });
  }

  /** Waits until it has a usable socket (reconnecting if it must). */
  private async usable(): Promise<WsClient> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.reconnecting) await this.reconnecting;
      const socket = this.socket;
      if (socket && !socket.isClosed) return socket;
      if (!this.reconnecting) this.failover();
      await sleep(50);
    }
  }

  /**
   * Sends one message and resolves with the stored message once acknowledged, resending with the
   * same clientMsgId after a drop, a timeout or a rate-limit refusal.
   */
  async send(text: string, clientMsgId = text): Promise<Message> {
    for (let attempt = 0; ; attempt++) {
      const socket = await this.usable();
      if (attempt > 0) this.stats.resent += 1;
      try {
        const { message } = await socket.request(
          { type: 'message.send', channelId: this.channelId, text, clientMsgId },
          SEND_TIMEOUT_MS,
        );
        this.acked.set(clientMsgId, message);
        return message;
      } catch (err) {
        if (err instanceof FrameError) {
          if (err.code !== 'NATTER_RATE_LIMITED' && !err.body.retryable) throw err;
          const retryAfter = Number((err.body.details as { retryAfter?: number } | undefined)?.retryAfter ?? 1);
          await sleep(retryAfter * 1000);
        } else {
          // Dropped or unanswered: resend (same clientMsgId) once a socket is usable.
          await sleep(Math.min(500, 50 * 2 ** attempt));
        }
        if (attempt > 50)
          throw new Error(`${this.userId}: ${clientMsgId} not acknowledged after ${attempt} attempts: ${String(err)}`);
      }
    }
  }

  /** Sends `count` messages `<prefix>-<i>`, at most `inFlight` at a time, `gapMs` apart. */
  async sendMany(prefix: string, count: number, inFlight = 4, gapMs = 0): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        await this.send(`${prefix}-${i}`);
        if (gapMs > 0) await sleep(gapMs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  }

  /** Waits until it has every message up to `seq` (recovering as it goes). */
  async waitForSeq(seq: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq < seq) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.userId} on ${this.url}: has up to seq ${this.lastSeq}, expected ${seq} within ${timeoutMs} ms ` +
            `(stats ${JSON.stringify(this.stats)}, last live ${JSON.stringify(this.live.at(-1)?.slice(-10))})`,
        );
      }
      await sleep(50);
    }
  }

  /** Resubscribes with `since` = its last seq, as a client does when it suspects it missed something. */
  async resync(): Promise<void> {
    await this.usable();
    this.stats.resyncs += 1;
    await this.subscribe(true);
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.socket?.close().catch(() => undefined);
  }

  /**
   * Where the raw live `message.new` stream of a socket did not go up by one: each as the seqs
   * around it, e.g. `[21, 23, 22, 24]`. Empty when every socket got 1, 2, 3… (from where it joined).
   */
  liveAnomalies(): number[][] {
    const out: number[][] = [];
    for (const seqs of this.live) {
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i] !== seqs[i - 1]! + 1) out.push(seqs.slice(Math.max(0, i - 2), i + 3));
      }
    }
    return out;
  }

  /** Throws the first failure it met (reconnect deadline, recovery too far). */
  check(): void {
    if (this.failure) throw this.failure;
  }
}

export class RestSender {
  readonly acked = new Map<string, Message>();
  /** Requests that failed on a node and were retried on another one. */
  moves = 0;
  private index: number;

  constructor(
    readonly userId: string,
    private readonly token: string,
    private readonly channelId: string,
    private readonly urls: string[],
    first = 0,
  ) {
    this.index = first;
  }

  private client(): Client {
    return createClient(this.urls[this.index]!, { bearer: this.token });
  }

  /** Posts one message until it is stored (201, or 200 for a retry that already was). */
  async send(text: string, clientMsgId = text): Promise<Message> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.client().post<{ message: Message }>(
          `/v1/channels/${encodeURIComponent(this.channelId)}/messages`,
          {
            text,
            clientMsgId,
          },
        );
        if (res.status === 201 || res.status === 200) {
          this.acked.set(clientMsgId, res.body.message);
          return res.body.message;
        }
        if (res.status === 429) {
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
        } else if (res.status >= 500) {
          await sleep(100);
        } else {
          throw new Error(`${this.userId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        }
      } catch (err) {
        if (err instanceof Error && err.message.startsWith(`${this.userId}: HTTP`)) throw err;
        // The node is gone (connection refused or reset): the same message to the next node.
        this.index = (this.index + 1) % this.urls.length;
        this.moves += 1;
        await sleep(Math.min(500, 50 * 2 ** attempt));
      }
      if (attempt > 50) throw new Error(`${this.userId}: ${clientMsgId} not stored after ${attempt} attempts`);
    }
  }

  async sendMany(prefix: string, count: number, inFlight = 2, gapMs = 0): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        await this.send(`${prefix}-${i}`);
        if (gapMs > 0) await sleep(gapMs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  }
}
