/**
 * Cross-tenant probing of EVERY REST route (iterating `test/http/routes.ts`) and EVERY realtime
 * frame type: tenant A naming tenant B's ids gets the very answer ids that exist nowhere get
 * (status, code, body, with the ids themselves blanked), and not one row of B changes (B's rows
 * read from the SQLite file around each request). Requests that fail write nothing at all.
 *
 * `test/http/tenant-isolation.test.ts` and `test/realtime/cross-tenant.test.ts` hold hand-picked
 * cases (each channel type, ids with the same spelling in both tenants, presence); this file is
 * generated from the route list and the frame types, so a new route or frame is covered, or fails
 * the coverage check, without anyone remembering to add it.
 */
import { CLIENT_FRAME_TYPES, type ClientFrame, type ClientFrameType } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, type Client, type Json, startTestServer, type TestServer, userClient } from '../harness.js';
import { ROUTES, type RouteSpec } from '../http/routes.js';
import { quiet } from '../realtime/helpers.js';
import { connect, FrameError, type WsClient } from '../realtime/ws-client.js';
import { concrete, type Seeded, seedTenant } from './fixture.js';
import { expectConsistentStore, rowCounts, tenantRows } from './store.js';

let h: TestServer;
let A: Seeded;
let B: Seeded;
const callers: Record<'backend' | 'member' | 'admin', Client> = {} as never;
let bRows: ReturnType<typeof tenantRows>;

/** Ids that exist in no tenant, in the shape of a seeded tenant's (for `concrete`). */
const NOWHERE = {
  ids: [
    ['ch-1', 'zz-ch'],
    ['/u1', '/zz-u1'],
    ['"u1"', '"zz-u1"'],
    ['msg_1', 'msg_zz'],
    ['flg_1', 'flg_zz'],
    ['/keys/k1', '/keys/ak_zz'],
  ],
} as Seeded;

beforeAll(async () => {
  h = await startTestServer();
  A = await seedTenant(h, 'a');
  B = await seedTenant(h, 'b');
  callers.backend = A.t.api;
  callers.member = A.member.api;
  callers.admin = (await userClient(A.t, 'a-boss')).api;
  bRows = tenantRows(h, B.t.tenantId);
});
afterAll(async () => {
  if (h) expectConsistentStore(h);
  await h?.close();
});

/** A's channel with B's other ids (and A's channel with ids that exist nowhere). */
const mixed = (s: Seeded): Seeded => ({
  ...s,
  ids: s.ids.map(([k, v]) => (k === 'ch-1' ? ['ch-1', A.channelId] : [k, v])),
});

/** The answer with every id of B, A and NOWHERE blanked, and times and generated ids normalized. */
function normalized(res: ApiResponse): Json {
  let text = JSON.stringify({ status: res.status, body: res.body });
  const ids = [...B.ids, ...NOWHERE.ids, ...A.ids]
    .map(([, v]) => v.replaceAll('"', '').split('/').pop() as string)
    .sort((x, y) => y.length - x.length);
  for (const id of ids) text = text.replaceAll(id, '<id>');
  return JSON.parse(
    text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\b(msg|flg|ak|aud)_[0-9a-z]+/g, '<generated>'),
  );
}

/** Query parameters that name ids: B's id, and one of nowhere. */
const ID_QUERIES: Record<string, () => [string, string]> = {
  userId: () => [B.member.userId, 'zz-u1'],
  channelId: () => [B.channelId, 'zz-ch'],
  targetId: () => [B.member.userId, 'zz-u1'],
};

interface Variant {
  label: string;
  /** The request naming B's ids. */
  foreign: { path: string; body?: unknown };
  /** The same request naming ids that exist nowhere. */
  nowhere: { path: string; body?: unknown };
}

/** Ids a route takes in its path or sample body. */
const namesIds = (r: RouteSpec) => /ch-1|u1|msg_1|flg_1|k1/.test(JSON.stringify(r.sample));
const withQuery = (path: string, q: string) => `${path}${path.includes('?') ? '&' : '?'}${q}`;

/**
 * Routes whose sample names no id of another tenant: listings and the caller's own things. Each
 * is still called, and its answer must not show anything of B.
 */
const NO_FOREIGN_IDS: Record<string, string> = {
  'POST /v1/users': 'the ids in the body are created in A (ids are per tenant: tenant-isolation.test.ts)',
  'GET /v1/users': 'a listing',
  'GET /v1/me': 'the caller',
  'GET /v1/keys': 'a listing',
  'POST /v1/keys': "issues A's own key",
  'POST /v1/channels': 'creates an A channel (members of B: tenant-isolation.test.ts)',
  'GET /v1/channels': 'a listing',
  'GET /v1/search': 'a listing',
  'GET /v1/policy': "A's policy",
  'PUT /v1/policy': "A's policy",
  'DELETE /v1/policy': "A's policy",
  'GET /v1/moderation/bans': 'a listing',
  'GET /v1/moderation/mutes': 'a listing',
  'GET /v1/blocks': 'a listing',
  'GET /v1/moderation/queue': 'a listing',
  'GET /v1/audit': 'a listing',
};

/** The query parameters of a route, from the OpenAPI document. */
let queryParams: Map<string, string[]>;
beforeAll(async () => {
  const doc = (await h.api(null).get('/openapi.json')).body;
  queryParams = new Map();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { parameters?: Json[] }>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const names = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name as string);
      queryParams.set(`${method.toUpperCase()} ${path}`, names);
    }
  }
});

function variants(route: RouteSpec): Variant[] {
  const out: Variant[] = [];
  // Ids in its body are created in A: naming B's would give A users of the same ids.
  if (route.method === 'POST' && route.path === '/v1/users') return out;
  if (namesIds(route)) {
    out.push({ label: "B's ids", foreign: concrete(B, route.sample), nowhere: concrete(NOWHERE, route.sample) });
    if (route.sample.path.includes('ch-1') && /u1|msg_1/.test(JSON.stringify(route.sample))) {
      out.push({
        label: "A's channel, B's other ids",
        foreign: concrete(mixed(B), route.sample),
        nowhere: concrete(mixed(NOWHERE), route.sample),
      });
    }
  }
  const base = concrete(A, route.sample);
  for (const q of queryParams.get(`${route.method} ${route.path}`) ?? []) {
    const ids = ID_QUERIES[q]?.();
    if (!ids) continue;
    out.push({
      label: `?${q}= of B`,
      foreign: { ...base, path: withQuery(base.path, `${q}=${ids[0]}`) },
      nowhere: { ...base, path: withQuery(base.path, `${q}=${ids[1]}`) },
    });
  }
  if (route.path === '/v1/search') {
    out.push({
      label: "words only B's messages hold",
      foreign: { path: `/v1/search?q=${B.secret}` },
      nowhere: { path: '/v1/search?q=zzznowhere' },
    });
  }
  return out;
}

const tenantRoutes = ROUTES.filter((r) => r.access === 'tenant');

describe('REST: every route, A naming B’s ids', () => {
  it('every tenant route takes ids of B or is listed as taking none', () => {
    for (const r of tenantRoutes) {
      const key = `${r.method} ${r.path}`;
      expect(variants(r).length > 0 || key in NO_FOREIGN_IDS, `${key}: add a case`).toBe(true);
    }
  });

  describe.each(['backend', 'member', 'admin'] as const)("A's %s", (caller) => {
    it.each(tenantRoutes.map((r) => [r.method, r.path, r] as const))('%s %s', async (method, _path, route) => {
      const client = callers[caller];
      const send = (req: { path: string; body?: unknown }) =>
        client.request(method, req.path, req.body === undefined ? {} : { body: req.body });
      for (const v of variants(route)) {
        const countsBefore = rowCounts(h);
        const foreign = await send(v.foreign);
        const nowhere = await send(v.nowhere);
        const what = `${v.label}: ${method} ${v.foreign.path} ${JSON.stringify(foreign.body)}`;
        expect(normalized(foreign), what).toEqual(normalized(nowhere));
        expect(JSON.stringify(foreign.body), what).not.toContain(B.secret);
        expect(tenantRows(h, B.t.tenantId), what).toEqual(bRows);
        if (nowhere.status >= 400) expect(rowCounts(h), `${what}: a refused request wrote`).toEqual(countsBefore);
      }
      if (`${method} ${route.path}` in NO_FOREIGN_IDS && method === 'GET') {
        const res = await send(concrete(A, route.sample));
        const text = JSON.stringify(res.body);
        for (const id of [B.secret, B.channelId, B.messageId, B.member.userId, B.keyId, B.flagId, B.t.tenantId]) {
          expect(text, `${method} ${route.sample.path}`).not.toContain(id);
        }
      }
    });
  });
});

type FrameOf<T extends ClientFrameType> = Omit<Extract<ClientFrame, { type: T }>, 'id'>;
/** For each frame type, requests naming ids: `(ids) => frames`, called with B's ids and with ids of nowhere. */
type FrameIds = { channelId: string; messageId: string; userId: string; ownChannel: string };
const FRAMES: { [T in ClientFrameType]: ((x: FrameIds) => FrameOf<T>)[] } = {
  subscribe: [
    (x) => ({ type: 'subscribe', channelId: x.channelId }),
    (x) => ({ type: 'subscribe', channelId: x.channelId, since: 0 }),
  ],
  unsubscribe: [(x) => ({ type: 'unsubscribe', channelId: x.channelId })],
  'message.send': [
    (x) => ({ type: 'message.send', channelId: x.channelId, text: 'intrusion' }),
    (x) => ({ type: 'message.send', channelId: x.ownChannel, text: 'intrusion', parentId: x.messageId }),
  ],
  'message.edit': [
    (x) => ({ type: 'message.edit', channelId: x.channelId, messageId: x.messageId, text: 'defaced' }),
    (x) => ({ type: 'message.edit', channelId: x.ownChannel, messageId: x.messageId, text: 'defaced' }),
  ],
  'message.delete': [
    (x) => ({ type: 'message.delete', channelId: x.channelId, messageId: x.messageId }),
    (x) => ({ type: 'message.delete', channelId: x.ownChannel, messageId: x.messageId }),
  ],
  'reaction.add': [
    (x) => ({ type: 'reaction.add', channelId: x.channelId, messageId: x.messageId, reaction: 'like' }),
    (x) => ({ type: 'reaction.add', channelId: x.ownChannel, messageId: x.messageId, reaction: 'like' }),
  ],
  'reaction.remove': [
    (x) => ({ type: 'reaction.remove', channelId: x.channelId, messageId: x.messageId, reaction: 'like' }),
    (x) => ({ type: 'reaction.remove', channelId: x.ownChannel, messageId: x.messageId, reaction: 'like' }),
  ],
  'typing.start': [(x) => ({ type: 'typing.start', channelId: x.channelId })],
  'typing.stop': [(x) => ({ type: 'typing.stop', channelId: x.channelId })],
  read: [(x) => ({ type: 'read', channelId: x.channelId }), (x) => ({ type: 'read', channelId: x.channelId, seq: 1 })],
  'presence.subscribe': [(x) => ({ type: 'presence.subscribe', userIds: [x.userId] })],
  'presence.unsubscribe': [(x) => ({ type: 'presence.unsubscribe', userIds: [x.userId] })],
  ping: [],
};

async function frameOutcome(c: WsClient, frame: FrameOf<ClientFrameType>): Promise<Json> {
  try {
    return { reply: await c.request(frame as FrameOf<'ping'>) };
  } catch (err) {
    if (err instanceof FrameError) return { error: err.body };
    throw err;
  }
}

describe('realtime: every frame type that takes ids, A naming B’s ids', () => {
  it('answers as for ids of nowhere and writes nothing to B; B’s subscribers hear nothing', async () => {
    expect(Object.keys(FRAMES).sort()).toEqual([...CLIENT_FRAME_TYPES].sort());
    const intruder = await connect(h.url, A.member.token);
    const watcher = await connect(h.url, B.owner.token);
    await watcher.request({ type: 'subscribe', channelId: B.channelId });
    await watcher.request({ type: 'presence.subscribe', userIds: [B.member.userId] });
    const bOnline = await connect(h.url, B.member.token);
    await watcher.nextEvent('presence.changed');
    const foreign: FrameIds = {
      channelId: B.channelId,
      messageId: B.messageId,
      userId: B.member.userId,
      ownChannel: A.channelId,
    };
    const nowhere: FrameIds = { channelId: 'zz-ch', messageId: 'msg_zz', userId: 'zz-u1', ownChannel: A.channelId };
    const blank = (o: Json) =>
      JSON.parse(JSON.stringify(o).replaceAll(B.member.userId, '<id>').replaceAll(nowhere.userId, '<id>'));
    let cases = 0;
    for (const [type, makers] of Object.entries(FRAMES)) {
      for (const make of makers as ((x: FrameIds) => FrameOf<ClientFrameType>)[]) {
        const countsBefore = rowCounts(h);
        const got = await frameOutcome(intruder, make(foreign));
        const expected = await frameOutcome(intruder, make(nowhere));
        const what = `${type} ${JSON.stringify(make(foreign))}: ${JSON.stringify(got)}`;
        expect(blank(got), what).toEqual(blank(expected));
        expect(tenantRows(h, B.t.tenantId), what).toEqual(bRows);
        if (expected.error) expect(rowCounts(h), `${what}: a refused frame wrote`).toEqual(countsBefore);
        cases++;
      }
    }
    expect(cases).toBeGreaterThanOrEqual(18);
    await quiet();
    expect(watcher.events.filter((e) => e.channelId === B.channelId)).toEqual([]);
    await Promise.all([intruder.close(), watcher.close(), bOnline.close()]);
  });
});
