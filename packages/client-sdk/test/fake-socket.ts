/**
 * A fake WebSocket for unit tests of the connection logic (close codes, backoff, timeouts) that a
 * real server cannot produce on demand. Integration tests under test/ use real sockets.
 */
import type { WebSocketLike } from '../src/connection.js';

type Handler = ((event: never) => void) | null;

/** Instances created, newest last. */
export const fakeSockets: FakeSocket[] = [];

/** Records what the SDK sends; the test plays the server with `receive` and `serverClose`. */
export class FakeSocket implements WebSocketLike {
  readonly sent: Record<string, unknown>[] = [];
  closed: number | null = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    fakeSockets.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.closed = code;
  }

  /** The server sends a frame. */
  receive(frame: unknown): void {
    (this.onmessage as ((e: { data: string }) => void) | null)?.({ data: JSON.stringify(frame) });
  }

  /** The server sends the welcome frame. */
  welcome(userId = 'alice', idleTimeout = 60): void {
    this.receive({
      type: 'welcome',
      v: 1,
      connectionId: 'c1',
      user: { id: userId, name: userId, avatarUrl: null, role: 'member', custom: {}, createdAt: '', updatedAt: '' },
      idleTimeout,
      limits: { maxFrameBytes: 65536, framesPerSecond: 50, replayMax: 1000 },
    });
  }

  /** The connection closes (server close code, or 1006 for a dropped network). */
  serverClose(code: number, reason = ''): void {
    (this.onclose as ((e: { code: number; reason: string }) => void) | null)?.({ code, reason });
  }
}
