/**
 * Connection logic with a fake WebSocket (close codes, timings and half-open sockets on demand);
 * the same paths run against the real server in test/resilience.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, fakeSockets } from '../test/fake-socket.js';
import { TokenSource } from './auth.js';
import { Connection, type StateChange } from './connection.js';
import { UnauthorizedError } from './errors.js';

let tokens: string[];
let refused: boolean;
let changes: StateChange[];

function setup(getToken?: () => Promise<string>) {
  let n = 0;
  const conn = new Connection({
    url: 'ws://server/v1/realtime',
    WebSocket: FakeSocket,
    tokens: new TokenSource(
      getToken ??
        (async () => {
          const token = `token-${++n}`;
          tokens.push(token);
          return token;
        }),
    ),
    backoff: { minDelay: 500, maxDelay: 20_000 },
    timeout: 1000,
    refuses: async () => refused,
    logger: {},
  });
  conn.on('state', (c) => changes.push(c));
  return conn;
}

const socket = () => fakeSockets.at(-1) as FakeSocket;

beforeEach(() => {
  vi.useFakeTimers();
  fakeSockets.length = 0;
  tokens = [];
  refused = false;
  changes = [];
});
afterEach(() => vi.useRealTimers());

describe('connection (fake WebSocket)', () => {
  it('sends the token as a subprotocol and is connected after the welcome', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(socket().url).toBe('ws://server/v1/realtime');
    expect(socket().protocols).toEqual(['natter.v1', 'bearer.token-1']);
    expect(conn.state).toBe('connecting');
    socket().welcome();
    expect(conn.state).toBe('connected');
    expect(conn.welcome?.user.id).toBe('alice');
    expect(changes).toEqual([
      { oldState: 'disconnected', newState: 'connecting', code: null, reason: 'connect called' },
      { oldState: 'connecting', newState: 'connected', code: null, reason: 'connected' },
    ]);
    conn.disconnect();
    expect(socket().closed).toBe(1000);
    expect(changes.at(-1)).toEqual({
      oldState: 'connected',
      newState: 'disconnected',
      code: null,
      reason: 'disconnect called',
    });
  });

  it('matches replies and errors to requests by id, and times requests out', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome();
    const a = conn.request('ping', {});
    const b = conn.request('typing.start', { channelId: 'x' });
    const c = conn.request('ping', {});
    const [fa, fb] = socket().sent as { id: number }[];
    socket().receive({
      type: 'error',
      id: fb?.id,
      error: { code: 'NATTER_CHANNEL_NOT_FOUND', message: 'no', retryable: false },
    });
    socket().receive({ type: 'reply', id: fa?.id, result: { time: 'now' } });
    await expect(a).resolves.toEqual({ time: 'now' });
    await expect(b).rejects.toMatchObject({ code: 'NATTER_CHANNEL_NOT_FOUND', retryable: false });
    const timedOut = expect(c).rejects.toMatchObject({ code: 'NATTER_UNAVAILABLE', details: { reason: 'timeout' } });
    await vi.advanceTimersByTimeAsync(1000);
    await timedOut;
  });

  it('refuses a frame over the server limit instead of getting closed with 1009', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome();
    const big = 'é'.repeat(40_000); // 80 000 bytes of UTF-8 > 65 536
    await expect(conn.request('message.send', { channelId: 'c', text: big })).rejects.toMatchObject({
      code: 'NATTER_REQUEST_TOO_LARGE',
      retryable: false,
      details: { maxFrameBytes: 65536 },
    });
    expect(socket().sent).toEqual([]);
    conn.disconnect();
  });

  it('rejects requests when offline or when the socket drops under them', async () => {
    const conn = setup();
    await expect(conn.request('ping', {})).rejects.toMatchObject({ details: { reason: 'offline' } });
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome();
    const pending = conn.request('ping', {});
    socket().serverClose(1006);
    await expect(pending).rejects.toMatchObject({
      code: 'NATTER_UNAVAILABLE',
      retryable: true,
      details: { reason: 'disconnected' },
    });
  });

  it('reconnects after a drop with full-jitter backoff, with the same token', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome();
    socket().serverClose(1006);
    expect(changes.at(-1)).toEqual({
      oldState: 'connected',
      newState: 'connecting',
      code: 1006,
      reason: 'connection closed',
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fakeSockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(750); // 500 + 0.5 · 500
    expect(fakeSockets).toHaveLength(2);
    expect(socket().protocols[1]).toBe('bearer.token-1');
    // Failing again before the welcome: attempt 1 waits 500 + 0.5 · 1000.
    socket().serverClose(1006);
    await vi.advanceTimersByTimeAsync(999);
    expect(fakeSockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fakeSockets).toHaveLength(3);
    socket().welcome();
    expect(conn.state).toBe('connected');
    conn.disconnect();
  });

  it('close 4001: asks getToken again and reconnects at once', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome();
    socket().serverClose(4001, 'token expired');
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(tokens).toEqual(['token-1', 'token-2']);
    expect(socket().protocols[1]).toBe('bearer.token-2');
    conn.disconnect();
  });

  it('an upgrade refused before the welcome gets a new token only if /v1/me refuses the old one', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().serverClose(1006); // server down: /v1/me does not refuse
    await vi.advanceTimersByTimeAsync(20_000);
    expect(socket().protocols[1]).toBe('bearer.token-1');
    refused = true;
    socket().serverClose(1006);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(socket().protocols[1]).toBe('bearer.token-2');
    conn.disconnect();
  });

  it('UnauthorizedError from getToken stops: disconnected with reason unauthorized', async () => {
    const conn = setup(async () => {
      throw new UnauthorizedError('nope');
    });
    const errors: unknown[] = [];
    conn.on('error', (e) => errors.push(e));
    conn.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fakeSockets).toHaveLength(0);
    expect(conn.state).toBe('disconnected');
    expect(changes.at(-1)?.reason).toBe('unauthorized');
    expect(errors).toEqual([expect.objectContaining({ code: 'NATTER_AUTH_INVALID' })]);
  });

  it('other getToken errors are retried with backoff', async () => {
    let calls = 0;
    const conn = setup(async () => {
      if (++calls < 3) throw new Error('token service down');
      return 'ok';
    });
    conn.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(3);
    expect(socket().protocols[1]).toBe('bearer.ok');
    conn.disconnect();
  });

  it('a ping without answer within half the idle timeout drops a half-open socket', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().welcome('alice', 10);
    const first = socket();
    await vi.advanceTimersByTimeAsync(5000);
    expect(first.sent.at(-1)).toMatchObject({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(conn.state).toBe('connecting');
    expect(changes.at(-1)).toMatchObject({ code: 4000, reason: 'ping timeout' });
    expect(first.closed).toBe(1000);
    conn.disconnect();
  });

  it('disconnect() while waiting to reconnect cancels the reconnect', async () => {
    const conn = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    socket().serverClose(1006);
    conn.disconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fakeSockets).toHaveLength(1);
    expect(conn.state).toBe('disconnected');
  });
});
