/**
 * Injection. MongoDB query operators put in place of EVERY string field (and every number and
 * flag) of EVERY request body and query string (fields found in the OpenAPI document, which the
 * validating schemas generate) are a 400 `NATTER_REQUEST_INVALID` naming the field, and write nothing. Markup, `javascript:` links
 * and odd Unicode are data: stored and returned verbatim over REST and realtime. Lone surrogates,
 * which no store can keep as they are, are refused naming the field (docs/security.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { ROUTES } from '../http/routes.js';
import { connect } from '../realtime/ws-client.js';
import { concrete, type Seeded, seedTenant } from './fixture.js';
import { expectConsistentStore, rawQuery, rowCounts } from './store.js';

let h: TestServer;
let a: Seeded;
let doc: Json;
beforeAll(async () => {
  h = await startTestServer();
  a = await seedTenant(h, 'a');
  doc = (await h.api(null).get('/openapi.json')).body;
});
afterAll(async () => {
  if (h) expectConsistentStore(h);
  await h?.close();
});

const OPERATORS: Record<string, unknown> = {
  $ne: { $ne: null },
  $regex: { $regex: '.*' },
  $where: { $where: 'sleep(1000) || true' },
  $gt: { $gt: '' },
};

type Schema = Json;
/** A field of a body: where it is, which field a validation error names, and a body with `op` there. */
interface Hit {
  path: string[];
  /** Where Ajv reports a wrong value: the field itself, or the `anyOf` above it. */
  named: string[];
  body: (op: unknown) => unknown;
}

const SCALARS = ['string', 'integer', 'number', 'boolean'];
/** A field holding one plain value (a string above all; numbers and flags get the same treatment). */
const isScalar = (s: Schema) =>
  SCALARS.includes(s.type) || (Array.isArray(s.anyOf) && s.anyOf.every((b: Schema) => SCALARS.includes(b.type)));

/** A valid value of `s` (required properties only). */
function example(s: Schema): unknown {
  if (s.anyOf) return example(s.anyOf.find((b: Schema) => b.type !== 'null'));
  if (s.enum) return s.enum[0];
  if (s.const !== undefined) return s.const;
  switch (s.type) {
    case 'string':
      if (s.format === 'uri') return 'https://example.com/a';
      if (s.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      return 'x1'.padEnd(Math.max(2, s.minLength ?? 0), 'x');
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => example(s.items));
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k: string) => [k, example(s.properties[k])]));
    default:
      return null;
  }
}

/** Every scalar field reachable in `s`, each with a value of `s` that has `op` in that field alone. */
function hits(s: Schema): Hit[] {
  if (isScalar(s)) return [{ path: [], named: [], body: (op) => op }];
  if (s.anyOf) {
    const out: Hit[] = [];
    s.anyOf.forEach((branch: Schema, i: number) => {
      for (const hit of hits(branch)) {
        if (out.some((o) => o.path.join('.') === hit.path.join('.'))) continue;
        out.push(i === 0 ? hit : { ...hit, named: [] });
      }
    });
    return out;
  }
  if (s.type === 'array' && s.items) {
    return hits(s.items).map((hit) => ({
      path: ['0', ...hit.path],
      named: ['0', ...hit.named],
      body: (op) => [hit.body(op)],
    }));
  }
  if (s.type === 'object' && s.properties) {
    const base = example(s) as Record<string, unknown>;
    return Object.entries(s.properties as Record<string, Schema>).flatMap(([key, sub]) =>
      hits(sub).map((hit) => ({
        path: [key, ...hit.path],
        named: [key, ...hit.named],
        body: (op: unknown) => ({ ...base, [key]: hit.body(op) }),
      })),
    );
  }
  return [];
}

const operation = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()];

describe('operators in every field of every body', () => {
  it.each(ROUTES.map((r) => [r.method, r.path, r] as const))('%s %s', async (method, path, route) => {
    const schema = operation(method, path)?.requestBody?.content?.['application/json']?.schema;
    if (!schema) return expect(route.sample.body).toBeUndefined();
    const found = hits(schema);
    expect(found.length, 'a body schema with no field').toBeGreaterThan(0);
    const client = route.access === 'platform' ? h.admin : a.t.api;
    const { path: url } = concrete(a, route.sample);
    const before = rowCounts(h);
    for (const hit of found) {
      for (const [name, op] of Object.entries(OPERATORS)) {
        const res = await client.request(method, url, { body: hit.body(op) });
        const field = ['body', ...hit.named].join('.');
        expectError(res, 'NATTER_REQUEST_INVALID', field);
        expect(res.body.error.message, `${name} in ${hit.path.join('.')}`).toContain(field);
      }
    }
    expect(rowCounts(h)).toEqual(before);
  });

  it('policy conditions take an allow-list of operators: $where and $regex are refused by name', async () => {
    for (const op of ['$where', '$regex']) {
      const res = await a.t.api.put('/v1/policy', {
        mode: 'extend',
        rules: [{ action: 'read', subject: 'Channel', conditions: { type: { [op]: 'function () { return true }' } } }],
      });
      expectError(res, 'NATTER_REQUEST_INVALID', `body.rules.0.conditions.type.${op}`);
    }
    expect((await a.t.api.get('/v1/policy')).body.policy.mode).toBe('default');
  });

  it('operators inside custom data are data: stored and returned as sent, matching nothing', async () => {
    const custom = { $where: 'sleep(1000)', owner: { $ne: null }, tags: { $regex: '.*' } };
    const sent = await a.member.api.post(`/v1/channels/${a.channelId}/messages`, { text: 'ops as data', custom });
    expect(sent.status).toBe(201);
    const got = await a.member.api.get(`/v1/channels/${a.channelId}/messages/${sent.body.message.id}`);
    expect(got.body.message.custom).toEqual(custom);
  });
});

describe('operators in every query string parameter', () => {
  const withQuery = (path: string, q: string) => `${path}${path.includes('?') ? '&' : '?'}${q}`;
  it.each(ROUTES.map((r) => [r.method, r.path, r] as const))('%s %s', async (method, path, route) => {
    const params = ((operation(method, path)?.parameters ?? []) as Json[]).filter((p) => p.in === 'query');
    const client = route.access === 'platform' ? h.admin : a.t.api;
    const { path: url } = concrete(a, route.sample);
    const before = rowCounts(h);
    for (const p of params) {
      const name = p.name as string;
      // qs-style nesting (`userId[$ne]=`) is not parsed into objects: an unknown field.
      for (const op of Object.keys(OPERATORS)) {
        const res = await client.request(method, withQuery(url, `${name}[${op}]=1`));
        expectError(res, 'NATTER_REQUEST_INVALID', `querystring.${name}[${op}]`);
      }
      // Operator JSON as the value: a string like any other. Ids, numbers and enums refuse it;
      // free text (a search, an opaque cursor) takes it literally and so finds nothing.
      const free = p.schema?.type === 'string' && !p.schema.pattern && !p.schema.enum && !p.schema.anyOf;
      for (const op of Object.values(OPERATORS)) {
        const res = await client.request(method, withQuery(url, `${name}=${encodeURIComponent(JSON.stringify(op))}`));
        if (free) {
          const literal = await client.request(method, withQuery(url, `${name}=zzzz-matches-nothing`));
          expect({ status: res.status, body: res.body }, `${name}=${JSON.stringify(op)}`).toEqual({
            status: literal.status,
            body: literal.body,
          });
        } else {
          expectError(res, 'NATTER_REQUEST_INVALID', `querystring.${name}`);
        }
      }
    }
    expect(rowCounts(h)).toEqual(before);
  });
});

describe('hostile text is data, returned verbatim', () => {
  const TEXTS = {
    script: '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>',
    link: '[click](javascript:alert(1)) <a href="javascript:alert(1)">x</a>',
    rtl: 'invoice\u202Egnp.exe',
    zeroWidth: 'ad\u200Bmin\u200C\u200D\uFEFF',
    sql: "'; DROP TABLE messages; --",
    emoji: '👩‍👩‍👧‍👦 e\u0301 𝕳',
    nul: 'a\u0000b',
  };

  it.each(Object.entries(TEXTS))('%s: over REST, realtime and the raw row', async (_kind, text) => {
    const reader = await connect(h.url, a.owner.token);
    await reader.request({ type: 'subscribe', channelId: a.channelId });
    const custom = { note: text, [text]: 1 };
    const attachments = [{ type: 'link', url: 'javascript:alert(1)', name: text }];
    const sent = await a.member.api.post(`/v1/channels/${a.channelId}/messages`, { text, custom, attachments });
    expect(sent.status).toBe(201);
    expect(sent.body.message).toMatchObject({ text, custom, attachments });
    const event = await reader.nextEvent('message.new', (e) => e.data.message.id === sent.body.message.id);
    expect(event.data.message).toMatchObject({ text, custom, attachments });
    const got = await a.owner.api.get(`/v1/channels/${a.channelId}/messages/${sent.body.message.id}`);
    expect(got.body.message).toMatchObject({ text, custom, attachments });
    const [row] = rawQuery<{ text: string }>(h, 'SELECT text FROM messages WHERE id = ?', sent.body.message.id);
    expect(row?.text).toBe(text);
    // Names too: a channel renamed to it, a user called it.
    expect((await a.owner.api.patch(`/v1/channels/${a.channelId}`, { name: text })).body.channel.name).toBe(text);
    expect((await a.t.api.post('/v1/users', { users: [{ id: 'named', name: text }] })).status).toBe(200);
    expect((await a.t.api.get('/v1/users/named')).body.user.name).toBe(text);
    await reader.close();
  });
});

describe('lone surrogates are refused naming the field', () => {
  // "\ud800" is valid JSON but not Unicode: UTF-8 cannot hold it, so a store would keep U+FFFD
  // (or bytes no reader accepts) instead. Refused rather than silently changed.
  const send = '/v1/channels/ch-1/messages';

  it('in message text, custom values and keys, names, over REST', async () => {
    const url = concrete(a, { path: send }).path;
    const before = rowCounts(h);
    const cases: [string, string, string][] = [
      ['POST', url, '{"text":"a\\ud800b"}'],
      ['POST', url, '{"text":"trailing \\udfff"}'],
      ['POST', url, '{"text":"ok","custom":{"k":"\\udc00"}}'],
      ['POST', url, '{"text":"ok","custom":{"k\\ud800":1}}'],
      ['PATCH', `/v1/channels/${a.channelId}`, '{"name":"\\ud83d"}'],
    ];
    const fields = ['body.text', 'body.text', 'body.custom.k', 'body.custom', 'body.name'];
    for (const [i, [method, path, raw]] of cases.entries()) {
      const client = method === 'PATCH' ? a.owner.api : a.member.api;
      expectError(await client.request(method, path, { raw }), 'NATTER_REQUEST_INVALID', fields[i]);
    }
    // A well-formed pair written as escapes is fine.
    const pair = await a.member.api.request('POST', url, { raw: '{"text":"\\ud83d\\ude00"}' });
    expect(pair.status).toBe(201);
    expect(pair.body.message.text).toBe('😀');
    await a.member.api.delete(`${url}/${pair.body.message.id}`);
    expect(rowCounts(h).messages).toBe((before.messages ?? 0) + 1);
  });

  it('in a realtime frame', async () => {
    const c = await connect(h.url, a.member.token);
    const id = c.reserveId();
    c.sendRaw(`{"id":${id},"type":"message.send","channelId":"${a.channelId}","text":"x\\ud800"}`);
    const answer = await c.answerTo(id);
    expect(answer).toMatchObject({
      type: 'error',
      error: { code: 'NATTER_FRAME_INVALID', details: { field: 'frame.text' } },
    });
    expect(await c.request({ type: 'ping' })).toMatchObject({ time: expect.any(String) });
    await c.close();
  });
});
