/**
 * Size and shape. Bodies and frames nested 100,000 levels deep, bodies and frames that are not
 * UTF-8, wrong types and unknown fields in every field of every REST body and every frame type,
 * and bodies and frames over the size limits: each is refused with its documented code naming the
 * field (or closed with the documented close code), writes nothing, and leaves the server serving.
 * Thrown at the server by the hundreds, none of them is kept: its memory stays flat.
 *
 * Extends, does not repeat: `test/http/errors.test.ts` has a small 413 and custom data 300 levels
 * deep, `test/realtime/limits.test.ts` a few wrong frames, 1009 and a non-UTF-8 frame. Here the
 * fields come from the OpenAPI document and the frame types, so a new field or frame is covered.
 */
import { request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CLIENT_FRAME_TYPES, type ClientFrameType, CloseCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, authHeader, type Json, startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { ROUTES } from '../http/routes.js';
import { connect, type ErrorFrame, type WsClient } from '../realtime/ws-client.js';
import { concrete, type Seeded, seedTenant } from './fixture.js';
import { expectConsistentStore, rowCounts } from './store.js';

/** Body and frame limit of the server under test: large enough that 100k levels are parsed. */
const LIMIT = 1024 * 1024;
const DEPTH = 100_000;
const DEEP = {
  array: `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`,
  object: `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`,
};
/** Bytes that are not UTF-8, each inside a JSON string. */
const NOT_UTF8: Record<string, number[]> = {
  'a lone 0xFF': [0xff],
  'an overlong slash': [0xc0, 0xaf],
  'a truncated sequence': [0xe2, 0x82],
  'an encoded surrogate': [0xed, 0xa0, 0x80],
  'a code point past U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
};

let h: TestServer;
let a: Seeded;
let doc: Json;
beforeAll(async () => {
  h = await startTestServer({ NATTER_BODY_LIMIT: String(LIMIT), NATTER_WS_MAX_FRAME_BYTES: String(LIMIT) });
  a = await seedTenant(h, 'a');
  doc = (await h.api(null).get('/openapi.json')).body;
});
afterAll(async () => {
  if (h) expectConsistentStore(h);
  await h?.close();
});

/**
 * Streams a JSON string as a chunked body (no content-length) until `past` bytes beyond the limit
 * are sent, then waits without ending it: the server must answer while the upload is unfinished,
 * from what it has read, rather than buffer the body to its end.
 */
function streamPastLimit(path: string, past: number): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, h.url), {
      method: 'POST',
      headers: { authorization: authHeader({ bearer: a.member.token }) as string, 'content-type': 'application/json' },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers(res.headers as Record<string, string>);
        resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(16 * 1024, 0x78);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < LIMIT + past) {
        sent += chunk.byteLength;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
    };
    req.write('{"text":"');
    pump();
  });
}

/** Sends `bytes` as a JSON body with the member's token (fetch: the harness client sends text). */
async function sendBytes(path: string, bytes: Buffer): Promise<ApiResponse> {
  const res = await fetch(new URL(path, h.url), {
    method: 'POST',
    headers: { authorization: authHeader({ bearer: a.member.token }) as string, 'content-type': 'application/json' },
    body: new Uint8Array(bytes),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : text };
}

const sendPath = () => `/v1/channels/${a.channelId}/messages`;
/** JSON of `body` with the string `"<hole>"` replaced by raw JSON text. */
const withHole = (body: unknown, raw: string) => JSON.stringify(body).replace('"<hole>"', raw);

/** Routes with a body, each with the properties its schema declares and its valid sample. */
const bodyRoutes = () =>
  ROUTES.filter((r) => r.sample.body !== undefined).map((r) => {
    const schema = doc.paths[r.path][r.method.toLowerCase()].requestBody.content['application/json'].schema;
    const props = Object.keys(schema.properties ?? {});
    return { route: r, props, schema, client: r.access === 'platform' ? h.admin : a.t.api };
  });

/** The server still answers: a message can be sent and read back. */
async function expectServing(): Promise<void> {
  const sent = await a.member.api.post(sendPath(), { text: 'still here' });
  expect(sent.status).toBe(201);
  await a.member.api.delete(`${sendPath()}/${sent.body.message.id}`);
}

describe('REST: deep nesting', () => {
  it('100,000 levels of arrays or objects in every field of every body: 400 naming the field', async () => {
    const before = rowCounts(h);
    let cases = 0;
    for (const { route, props, client } of bodyRoutes()) {
      const { path, body } = concrete(a, route.sample) as { path: string; body: Record<string, unknown> };
      for (const prop of props) {
        for (const [kind, deep] of Object.entries(DEEP)) {
          const res = await client.request(route.method, path, { raw: withHole({ ...body, [prop]: '<hole>' }, deep) });
          const what = `${route.method} ${route.path} ${prop} (${kind})`;
          expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
          expectError(res, 'NATTER_REQUEST_INVALID');
          // Named as the field, or below it (`custom` data names the custom field itself).
          expect(res.body.error.details.field, what).toMatch(new RegExp(`^(body\\.)?${prop}\\b`));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(60);
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });

  it('a whole body nested 100,000 levels, or cut off inside them: 400 naming the body', async () => {
    for (const raw of [DEEP.array, '['.repeat(DEPTH), `{"text":${'['.repeat(DEPTH)}`]) {
      expectError(await a.member.api.request('POST', sendPath(), { raw }), 'NATTER_REQUEST_INVALID', 'body');
    }
    // Objects all the way down: the outermost key is the unknown field.
    const res = await a.member.api.request('POST', sendPath(), { raw: DEEP.object });
    expectError(res, 'NATTER_REQUEST_INVALID', 'body.a');
    await expectServing();
  });

  it('policy conditions nested 100,000 levels deep: 400 naming the rule, the policy unchanged', async () => {
    const rule = { action: 'read', subject: 'Channel', conditions: { type: { $in: '<hole>' } } };
    for (const deep of Object.values(DEEP)) {
      const res = await a.t.api.request('PUT', '/v1/policy', {
        raw: withHole({ mode: 'extend', rules: [rule] }, deep),
      });
      expectError(res, 'NATTER_REQUEST_INVALID');
      expect(res.body.error.details.field).toMatch(/^body\.rules\.0\b/);
    }
    expect((await a.t.api.get('/v1/policy')).body.policy.mode).toBe('default');
  });
});

describe('REST: wrong types and unknown fields', () => {
  /** A value of another JSON type than `sample` (no type is coerced in a body). */
  const otherType = (sample: unknown): unknown => {
    if (typeof sample === 'string') return 12345;
    if (typeof sample === 'number' || typeof sample === 'boolean') return String(sample);
    if (Array.isArray(sample)) return { 0: sample[0] ?? 'x' };
    return ['x'];
  };

  it('every field of every body given a value of the wrong type: 400 naming the field', async () => {
    const before = rowCounts(h);
    let cases = 0;
    for (const { route, schema, client } of bodyRoutes()) {
      const { path, body } = concrete(a, route.sample) as { path: string; body: Record<string, unknown> };
      for (const [prop, sub] of Object.entries(schema.properties ?? {}) as [string, Json][]) {
        // A valid value of the field: the sample's, or the schema's first type.
        const types: string[] = sub.anyOf ? sub.anyOf.map((b: Json) => b.type) : [sub.type];
        const valid = prop in body ? body[prop] : types.includes('string') ? 'x' : types.includes('array') ? [] : {};
        const wrong = otherType(valid);
        const res = await client.request(route.method, path, { body: { ...body, [prop]: wrong } });
        const what = `${route.method} ${route.path} ${prop}=${JSON.stringify(wrong)}`;
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
        expectError(res, 'NATTER_REQUEST_INVALID');
        expect(res.body.error.details.field, what).toMatch(new RegExp(`^(body\\.)?${prop}\\b`));
        expect(res.body.error.message, what).toContain(res.body.error.details.field);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(30);
    expect(rowCounts(h)).toEqual(before);
  });

  it('an unknown field in every body: 400 naming it, never ignored', async () => {
    const before = rowCounts(h);
    for (const { route, client } of bodyRoutes()) {
      const { path, body } = concrete(a, route.sample) as { path: string; body: Record<string, unknown> };
      const res = await client.request(route.method, path, { body: { ...body, hostileExtra: true } });
      expectError(res, 'NATTER_REQUEST_INVALID', 'body.hostileExtra');
      expect(res.body.error.message).toBe('body.hostileExtra is not a known field');
    }
    expect(rowCounts(h)).toEqual(before);
  });
});

describe('REST: invalid UTF-8', () => {
  it.each(Object.entries(NOT_UTF8))('%s in a body: 400 naming the body, nothing stored', async (_kind, bad) => {
    const before = rowCounts(h);
    const bytes = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from(bad), Buffer.from('b"}')]);
    const res = await sendBytes(sendPath(), bytes);
    expectError(res, 'NATTER_REQUEST_INVALID', 'body');
    expect(res.body.error.message).toBe('body is not valid UTF-8');
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });
});

describe('REST: oversize bodies', () => {
  const big = (bytes: number) => Buffer.from(JSON.stringify({ text: 'x'.repeat(bytes) }));

  it('with a content-length: 413 NATTER_REQUEST_TOO_LARGE, and the next request works', async () => {
    const before = rowCounts(h);
    expectError(await sendBytes(sendPath(), big(3 * LIMIT)), 'NATTER_REQUEST_TOO_LARGE');
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });

  it('streamed in chunks without a content-length: 413 before the body ends', async () => {
    const before = rowCounts(h);
    expectError(await streamPastLimit(sendPath(), 256 * 1024), 'NATTER_REQUEST_TOO_LARGE');
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });
});

/** A valid frame of each type on the seeded tenant's real ids (fields: everything but `id`). */
const sampleFrames = (): Record<ClientFrameType, Record<string, unknown>> => {
  const m = { channelId: a.channelId, messageId: a.messageId };
  return {
    subscribe: { type: 'subscribe', channelId: a.channelId, since: 0 },
    unsubscribe: { type: 'unsubscribe', channelId: a.channelId },
    'message.send': {
      type: 'message.send',
      channelId: a.channelId,
      text: 'x',
      attachments: [],
      custom: {},
      clientMsgId: 'c1',
      parentId: a.messageId,
    },
    'message.edit': { type: 'message.edit', ...m, text: 'x', attachments: [], custom: {} },
    'message.delete': { type: 'message.delete', ...m },
    'reaction.add': { type: 'reaction.add', ...m, reaction: 'like' },
    'reaction.remove': { type: 'reaction.remove', ...m, reaction: 'like' },
    'typing.start': { type: 'typing.start', channelId: a.channelId },
    'typing.stop': { type: 'typing.stop', channelId: a.channelId },
    read: { type: 'read', channelId: a.channelId, seq: 1 },
    'presence.subscribe': { type: 'presence.subscribe', userIds: [a.owner.userId] },
    'presence.unsubscribe': { type: 'presence.unsubscribe', userIds: [a.owner.userId] },
    ping: { type: 'ping' },
  };
};

/** Sends `raw` as request `id` on `c` and resolves with the error frame answering it. */
async function frameError(c: WsClient, raw: string, id: number | null): Promise<ErrorFrame> {
  const before = c.frames.length;
  c.sendRaw(raw);
  const answer = await c.waitFor(
    () =>
      c.frames
        .slice(before)
        .find((f): f is ErrorFrame => (f.type === 'error' || f.type === 'reply') && (f as ErrorFrame).id === id),
    5000,
    `the answer to ${raw.slice(0, 60)}`,
  );
  expect(answer.type, raw.slice(0, 200)).toBe('error');
  return answer;
}

describe('realtime: deep nesting, wrong types, unknown fields in every frame type', () => {
  let c: WsClient;
  beforeAll(async () => {
    c = await connect(h.url, a.member.token);
  });
  afterAll(() => c.close());

  it('covers every frame type', () => {
    expect(Object.keys(sampleFrames()).sort()).toEqual([...CLIENT_FRAME_TYPES].sort());
  });

  it('100,000 levels in every field of every frame: an error frame naming the field; the connection stays', async () => {
    const before = rowCounts(h);
    for (const [type, frame] of Object.entries(sampleFrames())) {
      for (const field of Object.keys(frame).filter((k) => k !== 'type')) {
        for (const [kind, deep] of Object.entries(DEEP)) {
          const id = c.reserveId();
          const err = await frameError(c, withHole({ id, ...frame, [field]: '<hole>' }, deep), id);
          const what = `${type} ${field} (${kind})`;
          // Schema failures are frame errors; custom data goes through the same limit check as
          // REST (services/messages.ts), which names the field as REST does.
          const [code, named] =
            field === 'custom' && kind === 'object'
              ? ['NATTER_REQUEST_INVALID', /^custom$/]
              : ['NATTER_FRAME_INVALID', new RegExp(`^frame\\.${field}\\b`)];
          expect(err.error.code, what).toBe(code);
          expect(err.error.details?.field, what).toMatch(named);
          expect(err.error.message, what).toContain(err.error.details?.field);
        }
      }
    }
    // The whole frame, and a frame cut off inside the nesting.
    for (const raw of [DEEP.array, '['.repeat(DEPTH), `{"id":1,"type":"ping","x":${'['.repeat(DEPTH)}`]) {
      const err = await frameError(c, raw, null);
      expect(err.error).toMatchObject({ code: 'NATTER_FRAME_INVALID', details: { field: 'frame' } });
    }
    // Objects all the way down: an object without a type.
    const err = await frameError(c, DEEP.object, null);
    expect(err.error).toMatchObject({ code: 'NATTER_FRAME_UNKNOWN_TYPE', details: { field: 'type' } });
    expect(rowCounts(h)).toEqual(before);
    expect(await c.request({ type: 'ping' })).toMatchObject({ time: expect.any(String) });
  });

  it('a value of the wrong type in every field of every frame: an error frame naming the field', async () => {
    const before = rowCounts(h);
    for (const [type, frame] of Object.entries(sampleFrames())) {
      for (const [field, value] of Object.entries(frame).filter(([k]) => k !== 'type')) {
        const wrong = typeof value === 'string' ? 7 : typeof value === 'number' ? String(value) : 'x';
        const id = c.reserveId();
        const err = await frameError(c, JSON.stringify({ id, ...frame, [field]: wrong }), id);
        expect(err.error, `${type} ${field}=${JSON.stringify(wrong)}`).toMatchObject({
          code: 'NATTER_FRAME_INVALID',
          details: { field: `frame.${field}` },
        });
      }
    }
    expect(rowCounts(h)).toEqual(before);
  });

  it('an unknown field in every frame type: an error frame naming it', async () => {
    const before = rowCounts(h);
    for (const frame of Object.values(sampleFrames())) {
      const id = c.reserveId();
      const err = await frameError(c, JSON.stringify({ id, ...frame, hostileExtra: true }), id);
      expect(err.error).toMatchObject({
        code: 'NATTER_FRAME_INVALID',
        message: 'frame.hostileExtra is not a known field',
        details: { field: 'frame.hostileExtra' },
      });
    }
    expect(rowCounts(h)).toEqual(before);
    expect(await c.request({ type: 'ping' })).toMatchObject({ time: expect.any(String) });
  });
});

describe('realtime: invalid UTF-8 and oversize frames end the connection with the documented codes', () => {
  it.each(Object.entries(NOT_UTF8))('%s in a text frame: closed (1007, or 1006 as documented)', async (_kind, bad) => {
    const c = await connect(h.url, a.member.token);
    const frame = Buffer.concat([
      Buffer.from(`{"id":1,"type":"message.send","channelId":"${a.channelId}","text":"a`),
      Buffer.from(bad),
      Buffer.from('b"}'),
    ]);
    const before = rowCounts(h);
    c.ws.send(frame, { binary: false });
    expect([1006, 1007]).toContain((await c.closed).code);
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });

  it('a frame over the limit closes with 1009; one far over it ends the connection; nothing stored', async () => {
    const before = rowCounts(h);
    const over = await connect(h.url, a.member.token);
    over.sendRaw(JSON.stringify({ id: 1, type: 'message.send', channelId: a.channelId, text: 'x'.repeat(LIMIT) }));
    expect((await over.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
    const far = await connect(h.url, a.member.token);
    far.sendRaw(JSON.stringify({ id: 1, type: 'message.send', channelId: a.channelId, text: 'x'.repeat(4 * LIMIT) }));
    expect([CloseCode.FRAME_TOO_LARGE, 1006]).toContain((await far.closed).code);
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  });
});

describe('memory stays flat', () => {
  // The server runs in this process (the harness), so this process's memory is the server's.
  // A full GC before each reading leaves only what is still referenced: a body or frame kept
  // after its answer would show as heap (parsed JSON, strings) or external memory (Buffers).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const retained = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed + m.external, rss: m.rss };
  };
  const MB = 1024 * 1024;

  /** One of each refused input: oversize, deep and non-UTF-8 bodies, a deep and an oversize frame. */
  async function round(): Promise<number> {
    let bytes = 0;
    const over = Buffer.from(JSON.stringify({ text: 'x'.repeat(3 * LIMIT) }));
    expectError(await sendBytes(sendPath(), over), 'NATTER_REQUEST_TOO_LARGE');
    const deep = withHole({ text: 'x', custom: '<hole>' }, DEEP.object);
    expectError(await a.member.api.request('POST', sendPath(), { raw: deep }), 'NATTER_REQUEST_INVALID', 'custom');
    const bad = Buffer.concat([
      Buffer.from(`{"text":"${'x'.repeat(64 * 1024)}`),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expectError(await sendBytes(sendPath(), bad), 'NATTER_REQUEST_INVALID', 'body');
    bytes += over.byteLength + deep.length + bad.byteLength;
    const c = await connect(h.url, a.member.token);
    const id = c.reserveId();
    const frame = withHole(
      { id, type: 'message.send', channelId: a.channelId, text: 'x', attachments: '<hole>' },
      DEEP.array,
    );
    expect((await frameError(c, frame, id)).error.code).toBe('NATTER_FRAME_INVALID');
    const big = JSON.stringify({
      id: c.reserveId(),
      type: 'message.send',
      channelId: a.channelId,
      text: 'x'.repeat(LIMIT + LIMIT / 2),
    });
    c.sendRaw(big);
    expect((await c.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
    return bytes + frame.length + big.length;
  }

  it('after hundreds of MB of refused bodies and frames, the server holds no more than a few MB more', async () => {
    const before = rowCounts(h);
    await round(); // warm up: compiled code, pools and caches that are made once
    const start = retained();
    let sent = 0;
    for (let i = 0; i < 30; i++) sent += await round();
    const end = retained();
    const grew = { heap: (end.heap - start.heap) / MB, rss: (end.rss - start.rss) / MB, sent: sent / MB };
    expect(sent).toBeGreaterThan(150 * MB);
    // Keeping even a tenth of what was sent would be over 15 MB of heap.
    expect(grew.heap, JSON.stringify(grew)).toBeLessThan(12);
    expect(rowCounts(h)).toEqual(before);
    await expectServing();
  }, 120_000);
});
