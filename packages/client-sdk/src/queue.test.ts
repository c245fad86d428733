/**
 * Send queue ordering and retries with a fake WebSocket (so the test decides exactly when answers
 * are lost); test/resilience.test.ts covers the same against the real server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, fakeSockets } from '../test/fake-socket.js';
import { TokenSource } from './auth.js';
import { Connection } from './connection.js';
import { SendQueue } from './queue.js';

type Sent = { id: number; type: string; text?: string; clientMsgId?: string };

function setup() {
  const conn = new Connection({
    url: 'ws://server/v1/realtime',
    WebSocket: FakeSocket,
    tokens: new TokenSource(() => 'token'),
    backoff: { minDelay: 100, maxDelay: 1000 },
    timeout: 1000,
    refuses: async () => false,
    logger: {},
  });
  const queue = new SendQueue(conn, { minDelay: 100, maxDelay: 1000 });
  const send = (text: string, clientMsgId = text) => queue.push({ channelId: 'c', clientMsgId, text });
  return { conn, queue, send };
}

const socket = () => fakeSockets.at(-1) as FakeSocket;
const sends = (s = socket()) => (s.sent as Sent[]).filter((f) => f.type === 'message.send');
/** Answers the last send frame on the current socket as stored with `seq`. */
function store(seq: number) {
  const frame = sends().at(-1) as Sent;
  socket().receive({ type: 'reply', id: frame.id, result: { message: { seq, text: frame.text }, created: true } });
}

beforeEach(() => {
  vi.useFakeTimers();
  fakeSockets.length = 0;
});
afterEach(() => vi.useRealTimers());

async function open(conn: Connection) {
  conn.connect();
  await vi.advanceTimersByTimeAsync(0);
  socket().welcome();
}

describe('send queue (fake WebSocket)', () => {
  it('holds sends while disconnected and sends them one at a time, in order, once connected', async () => {
    const { conn, queue, send } = setup();
    const results = [send('a'), send('b'), send('c')];
    expect(queue.size).toBe(3);
    await open(conn);
    queue.flush();
    expect(sends().map((f) => f.text)).toEqual(['a']);
    store(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(sends().map((f) => f.text)).toEqual(['a', 'b']);
    store(2);
    await vi.advanceTimersByTimeAsync(0);
    store(3);
    expect((await Promise.all(results)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
    conn.disconnect();
  });

  it('resends with the same clientMsgId when the answer is lost, before later sends', async () => {
    const { conn, queue, send } = setup();
    await open(conn);
    const a = send('a', 'id-a');
    send('b', 'id-b');
    const lost = socket();
    expect(sends(lost).map((f) => f.clientMsgId)).toEqual(['id-a']);
    lost.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    socket().welcome();
    queue.flush();
    expect(socket()).not.toBe(lost);
    expect(sends().map((f) => f.clientMsgId)).toEqual(['id-a']);
    store(1);
    await expect(a).resolves.toMatchObject({ seq: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(sends().map((f) => f.clientMsgId)).toEqual(['id-a', 'id-b']);
    conn.disconnect();
  });

  it('a non-retryable error rejects that send only', async () => {
    const { conn, send } = setup();
    await open(conn);
    const bad = send('bad');
    const good = send('good');
    const frame = sends()[0] as Sent;
    socket().receive({
      type: 'error',
      id: frame.id,
      error: { code: 'NATTER_CHANNEL_FROZEN', message: 'frozen', retryable: false },
    });
    await expect(bad).rejects.toMatchObject({ code: 'NATTER_CHANNEL_FROZEN' });
    await vi.advanceTimersByTimeAsync(0);
    store(7);
    await expect(good).resolves.toMatchObject({ seq: 7, text: 'good' });
    conn.disconnect();
  });

  it('rate limited: waits retryAfter, then resends the same send', async () => {
    const { conn, send } = setup();
    await open(conn);
    const a = send('a');
    const frame = sends()[0] as Sent;
    socket().receive({
      type: 'error',
      id: frame.id,
      error: { code: 'NATTER_RATE_LIMITED', message: 'slow', retryable: true, details: { retryAfter: 2 } },
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(sends()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sends()).toHaveLength(2);
    expect(sends()[1]?.clientMsgId).toBe('a');
    store(1);
    await expect(a).resolves.toMatchObject({ seq: 1 });
    conn.disconnect();
  });
});
