/**
 * Frame limits and validation: too large closes with 1009; too many frames get rate-limit errors
 * and then 4029; broken frames get an error frame naming the field and the connection stays
 * usable; an expiring token closes the connection with 4001.
 */
import { CloseCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, restHistory, signingSecret, signToken, type World, world } from './helpers.js';
import { connect, type ErrorFrame, type WsClient } from './ws-client.js';

let h: TestServer;
let w: World;
let channelId: string;
beforeAll(async () => {
  h = await startTestServer({ NATTER_WS_MAX_FRAME_BYTES: '1024' });
  w = await world(h, ['ann']);
  channelId = (await backendChannel(w.t, { type: 'group', members: ['ann'] })).id;
});
afterAll(() => h.close());

/** Sends raw data and resolves with the next error frame (skipping earlier ones). */
async function rawError(c: WsClient, data: string | Buffer): Promise<ErrorFrame> {
  const before = c.frames.length;
  c.sendRaw(data);
  return c.waitFor(
    () => c.frames.slice(before).find((f): f is ErrorFrame => f.type === 'error'),
    5000,
    'an error frame',
  );
}

/** The connection still answers requests. */
async function expectUsable(c: WsClient): Promise<void> {
  expect(await c.request({ type: 'ping' })).toMatchObject({ time: expect.any(String) });
}

describe('frame size', () => {
  it('a frame over NATTER_WS_MAX_FRAME_BYTES closes the connection with 1009', async () => {
    const c = await w.connect('ann');
    expect(c.welcome.limits.maxFrameBytes).toBe(1024);
    // Just under the limit is fine.
    const fits = JSON.stringify({ id: 1, type: 'message.send', channelId, text: '' });
    await expect(
      c.request({ type: 'message.send', channelId, text: 'y'.repeat(1000 - fits.length) }),
    ).resolves.toMatchObject({ created: true });
    c.sendRaw(JSON.stringify({ id: 99, type: 'message.send', channelId, text: 'x'.repeat(2000) }));
    expect((await c.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
    expect(await restHistory(w.users.ann!.api, channelId)).toHaveLength(1);
  });

  it('a huge frame (past the read ceiling) also ends the connection; the server stays up', async () => {
    const c = await w.connect('ann');
    c.sendRaw('x'.repeat(3 * 1024 * 1024));
    expect([CloseCode.FRAME_TOO_LARGE, 1006]).toContain((await c.closed).code);
    await expectUsable(await w.connect('ann'));
  });
});

describe('invalid UTF-8', () => {
  // docs/protocol.md promises 1007; uWS validates UTF-8 itself and drops the socket without a close
  // frame, which the client sees as 1006. Either way the connection ends and the server stays up.
  it('a text frame that is not UTF-8 closes the connection', async () => {
    const c = await w.connect('ann');
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect([1006, 1007]).toContain((await c.closed).code);
    await expectUsable(await w.connect('ann'));
  });
});

describe('invalid frames get an error frame and the connection stays usable', () => {
  let c: WsClient;
  beforeAll(async () => {
    c = await w.connect('ann');
  });
  afterAll(() => c.close());

  it('malformed JSON', async () => {
    const err = await rawError(c, '{"id": 1, "type": "ping"');
    expect(err).toMatchObject({
      type: 'error',
      id: null,
      error: { code: 'NATTER_FRAME_INVALID', retryable: false, details: { field: 'frame' } },
    });
    await expectUsable(c);
  });

  it('JSON that is not an object', async () => {
    for (const text of ['[1,2]', '"ping"', '42', 'null']) {
      const err = await rawError(c, text);
      expect(err, text).toMatchObject({
        id: null,
        error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame' } },
      });
    }
    await expectUsable(c);
  });

  it('unknown or missing frame type names the field and echoes the id', async () => {
    const unknown = await rawError(c, JSON.stringify({ id: 5, type: 'message.shout', channelId }));
    expect(unknown).toMatchObject({ id: 5, error: { code: 'NATTER_FRAME_UNKNOWN_TYPE', details: { field: 'type' } } });
    const missing = await rawError(c, JSON.stringify({ id: 6, channelId }));
    expect(missing).toMatchObject({ id: 6, error: { code: 'NATTER_FRAME_UNKNOWN_TYPE', details: { field: 'type' } } });
    await expectUsable(c);
  });

  it('wrong field types, with no coercion', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ id: 7, type: 'subscribe', channelId: 123 }, 'frame.channelId'],
      [{ id: 8, type: 'subscribe', channelId, since: '5' }, 'frame.since'],
      [{ id: 9, type: 'subscribe', channelId, since: -1 }, 'frame.since'],
      [{ id: 10, type: 'message.send', channelId, text: { $ne: null } }, 'frame.text'],
      [{ id: 11, type: 'presence.subscribe', userIds: 'ann' }, 'frame.userIds'],
      [{ id: 12, type: 'subscribe' }, 'frame.channelId'],
      [{ id: 13, type: 'reaction.add', channelId, messageId: 'm', reaction: 'two words' }, 'frame.reaction'],
    ];
    for (const [frame, field] of cases) {
      const err = await rawError(c, JSON.stringify(frame));
      expect(err, JSON.stringify(frame)).toMatchObject({
        id: frame.id,
        error: { code: 'NATTER_FRAME_INVALID', details: { field } },
      });
    }
    await expectUsable(c);
  });

  it('a request id that is not a positive integer: error with id null, naming the field', async () => {
    for (const id of ['1', 0, -3, 1.5, null]) {
      const err = await rawError(c, JSON.stringify({ id, type: 'ping' }));
      expect(err, JSON.stringify(id)).toMatchObject({
        id: null,
        error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame.id' } },
      });
    }
    await expectUsable(c);
  });

  it('unknown fields are refused, not ignored', async () => {
    const err = await rawError(
      c,
      JSON.stringify({ id: 14, type: 'message.send', channelId, text: 'hi', userId: 'someone-else' }),
    );
    expect(err).toMatchObject({ id: 14, error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame.userId' } } });
    const ping = await rawError(c, JSON.stringify({ id: 15, type: 'ping', extra: true }));
    expect(ping).toMatchObject({ id: 15, error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame.extra' } } });
    // The refused send stored nothing.
    expect((await restHistory(w.users.ann!.api, channelId)).some((m) => m.text === 'hi')).toBe(false);
    await expectUsable(c);
  });

  it('a binary frame', async () => {
    const err = await rawError(c, Buffer.from(JSON.stringify({ id: 16, type: 'ping' })));
    expect(err).toMatchObject({ error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame' } } });
    await expectUsable(c);
  });

  it('errors carry no stack trace', async () => {
    const texts = c.frames.filter((f) => f.type === 'error').map((f) => JSON.stringify(f));
    expect(texts.length).toBeGreaterThan(10);
    for (const t of texts) expect(t).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/src\//);
  });
});

describe('rate limit', () => {
  let rl: TestServer;
  let rw: World;
  beforeAll(async () => {
    rl = await startTestServer({ NATTER_WS_FRAMES_PER_SECOND: '5' });
    rw = await world(rl, ['ann']);
  });
  afterAll(() => rl.close());

  it('frames past the burst get NATTER_RATE_LIMITED naming the request, and are not executed', async () => {
    const { id: ch } = await backendChannel(rw.t, { type: 'group', members: ['ann'] });
    const c = await rw.connect('ann');
    expect(c.welcome.limits.framesPerSecond).toBe(5);
    // Burst of 2 x 5 accepted, the rest refused.
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, (_, i) => c.request({ type: 'message.send', channelId: ch, text: `m${i}` })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThan(14);
    for (const r of refused) {
      expect(r.reason).toMatchObject({ code: 'NATTER_RATE_LIMITED' });
      expect(r.reason.body).toMatchObject({ retryable: true, details: { retryAfter: expect.any(Number) } });
    }
    expect(await restHistory(rw.users.ann!.api, ch)).toHaveLength(ok.length);
    expect(c.isClosed).toBe(false);
    await c.close();
  });

  it('a client that keeps going after the errors is closed with 4029', async () => {
    const c = await rw.connect('ann');
    for (let i = 0; i < 40; i++) c.sendRaw(JSON.stringify({ id: 1000 + i, type: 'ping' }));
    expect(await c.closed).toMatchObject({ code: CloseCode.RATE_LIMITED });
    const limited = c.frames.filter((f) => f.type === 'error');
    expect(limited.length).toBeGreaterThanOrEqual(19);
    expect(limited.every((f) => f.type === 'error' && f.error.code === 'NATTER_RATE_LIMITED')).toBe(true);
  });
});

describe('token expiry while connected', () => {
  it('closes the connection with 4001 when the token expires', async () => {
    const secret = await signingSecret(h, w.t.tenantId);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await signToken(secret, { tid: w.t.tenantId, sub: 'ann', exp });
    const c = await connect(h.url, token);
    await expectUsable(c);
    const closed = await c.closed;
    expect(closed.code).toBe(CloseCode.TOKEN_EXPIRED);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
  }, 10_000);
});
