/**
 * Floods. One user of tenant A (or A's backend) sends as fast as it can, over REST and over
 * realtime: it is throttled with the documented answers (429 `NATTER_RATE_LIMITED` with
 * `Retry-After`; error frames, then close 4029), stores exactly what it was told was accepted,
 * and no more than its bucket allows. Meanwhile a user of tenant B sends at a human pace, and
 * every one of its sends succeeds promptly. A tenant deleted in the middle of its own flood leaves
 * no row behind.
 *
 * Extends, does not repeat: `test/http/errors.test.ts` checks the 429 shape on a frozen clock and
 * `test/realtime/limits.test.ts` the frame limit and 4029 for one client alone; here the flood is
 * concurrent, real-clock, and measured against another tenant.
 */
import { CloseCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiResponse,
  createChannel,
  createTenant,
  createUsers,
  startTestServer,
  type TestServer,
  userClient,
} from '../harness.js';
import { expectError } from '../http/assertions.js';
import { connect, FrameError } from '../realtime/ws-client.js';
import { type Seeded, seedTenant } from './fixture.js';
import { expectConsistentStore, rawQuery, tenantRows } from './store.js';

/** Requests (and write frames) per second per user; bursts of twice that. */
const USER_RATE = 20;
/** Per tenant, all its users and its backend together. */
const TENANT_RATE = 100;
/** What the victim tenant's sends may take, at most, while the flood runs (loose on purpose). */
const PROMPT_MS = 2000;

let h: TestServer;
let A: Seeded;
let B: Seeded;
beforeAll(async () => {
  h = await startTestServer({ NATTER_RATE_USER: String(USER_RATE), NATTER_RATE_TENANT: String(TENANT_RATE) });
  A = await seedTenant(h, 'a');
  B = await seedTenant(h, 'b');
});
afterAll(async () => {
  if (h) expectConsistentStore(h);
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** B's member sends `n` messages over REST at a human pace; resolves with each one's latency. */
async function victimSends(n: number, label: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await B.member.api.post(`/v1/channels/${B.channelId}/messages`, { text: `${label} ${i}` });
    latencies.push(performance.now() - started);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await sleep(50);
  }
  return latencies;
}

/** `send` run by `concurrency` loops until `until` settles; every answer, in order of arrival. */
async function flood(send: () => Promise<ApiResponse>, concurrency: number, until: Promise<unknown>) {
  let stop = false;
  void until.finally(() => {
    stop = true;
  });
  const answers: ApiResponse[] = [];
  const loop = async () => {
    while (!stop) answers.push(await send());
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { answers, seconds: (performance.now() - started) / 1000 };
}

/** Messages stored in `channelId` of `tenantId` whose text starts with `prefix`. */
const stored = (tenantId: string, channelId: string, prefix: string) =>
  rawQuery<{ n: number }>(
    h,
    'SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ? AND channel_id = ? AND substr(text, 1, ?) = ?',
    tenantId,
    channelId,
    prefix.length,
    prefix,
  )[0]?.n ?? 0;

/** Asserts every refusal is the documented 429 and returns how many were accepted. */
function throttled(answers: ApiResponse[], scope: string): number {
  const ok = answers.filter((r) => r.status === 201).length;
  for (const res of answers.filter((r) => r.status !== 201)) {
    expectError(res, 'NATTER_RATE_LIMITED');
    expect(res.body.error.details.scope).toBe(scope);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(res.body.error.details.retryAfter).toBe(retryAfter);
  }
  expect(answers.length - ok, 'refused').toBeGreaterThan(ok);
  return ok;
}

describe('REST floods', () => {
  it("one user sending as fast as it can gets 429s with Retry-After; tenant B's sends all succeed promptly", async () => {
    const victim = victimSends(20, 'calm-rest');
    let n = 0;
    const { answers, seconds } = await flood(
      () => A.member.api.post(`/v1/channels/${A.channelId}/messages`, { text: `flood-rest ${n++}` }),
      32,
      victim,
    );
    const latencies = await victim;
    const ok = throttled(answers, 'user');
    // The bucket: a burst of twice the rate, then the rate (and a little for timing).
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(2 * USER_RATE + USER_RATE * seconds + 2);
    // What was accepted was stored, and nothing that was refused.
    expect(stored(A.t.tenantId, A.channelId, 'flood-rest ')).toBe(ok);
    expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);
    expect(stored(B.t.tenantId, B.channelId, 'calm-rest ')).toBe(20);
  });

  it("a tenant's backend flooding hits the tenant's bucket; tenant B is unaffected", async () => {
    const victim = victimSends(20, 'calm-backend');
    let n = 0;
    const { answers, seconds } = await flood(
      () =>
        A.t.api.post(`/v1/channels/${A.channelId}/messages`, { text: `flood-backend ${n++}`, userId: A.owner.userId }),
      32,
      victim,
    );
    const latencies = await victim;
    const ok = throttled(answers, 'tenant');
    expect(ok).toBeLessThanOrEqual(2 * TENANT_RATE + TENANT_RATE * seconds + 5);
    expect(stored(A.t.tenantId, A.channelId, 'flood-backend ')).toBe(ok);
    expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);
  });
});

describe('realtime floods', () => {
  it("a connection sending frames as fast as it can gets NATTER_RATE_LIMITED, then 4029; tenant B's sends all succeed promptly", async () => {
    await sleep(2500); // let A's buckets refill after the REST floods
    const flooder = await connect(h.url, A.member.token);
    const victim = await connect(h.url, B.member.token);
    const calm = (async () => {
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        await victim.request({ type: 'message.send', channelId: B.channelId, text: `calm-ws ${i}` });
        latencies.push(performance.now() - started);
        await sleep(50);
      }
      return latencies;
    })();
    const sends = Array.from({ length: 400 }, (_, i) =>
      flooder.request({ type: 'message.send', channelId: A.channelId, text: `flood-ws ${i}` }).then(
        () => 'ok' as const,
        (err: unknown) => (err instanceof FrameError ? err : 'unanswered'),
      ),
    );
    expect(await flooder.closed).toMatchObject({ code: CloseCode.RATE_LIMITED });
    const outcomes = await Promise.all(sends);
    const latencies = await calm;

    const acked = outcomes.filter((o) => o === 'ok').length;
    const refused = outcomes.filter((o): o is FrameError => o instanceof FrameError);
    expect(refused.length).toBeGreaterThan(20);
    for (const err of refused) {
      expect(err.code).toBe('NATTER_RATE_LIMITED');
      expect(err.body).toMatchObject({ retryable: true, details: { retryAfter: expect.any(Number) } });
    }
    // Acks come only after storage; a send whose ack the close cut off may be stored too, but
    // never more than the user's bucket allows.
    const kept = stored(A.t.tenantId, A.channelId, 'flood-ws ');
    expect(kept).toBeGreaterThanOrEqual(acked);
    expect(kept).toBeLessThanOrEqual(2 * USER_RATE + USER_RATE * 3);
    expect(latencies).toHaveLength(20);
    expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);
    expect(stored(B.t.tenantId, B.channelId, 'calm-ws ')).toBe(20);
    await victim.close();
  });
});

describe('a tenant deleted during its own flood', () => {
  it('every in-flight request gets a coded answer (never a 500), and no row of the tenant remains', async () => {
    const c = await createTenant(h);
    await createUsers(c, ['c-owner', 'c-u1']);
    const owner = await userClient(c, 'c-owner');
    const channel = await createChannel(owner.api, { type: 'group', members: ['c-u1'] });
    const path = `/v1/channels/${channel.id}/messages`;
    const socket = await connect(h.url, owner.token);
    let deleted!: () => void;
    const gone = new Promise<void>((resolve) => {
      deleted = resolve;
    });
    let n = 0;
    const rest = flood(
      () =>
        n % 2 === 0
          ? owner.api.post(path, { text: `doomed ${n++}` })
          : c.api.post(path, { text: `doomed ${n++}`, userId: 'c-u1' }),
      8,
      gone.then(() => sleep(300)),
    );
    const frames = Array.from({ length: 60 }, (_, i) =>
      socket.request({ type: 'message.send', channelId: channel.id, text: `doomed-ws ${i}` }).catch(() => null),
    );
    await sleep(300);
    expect((await h.admin.delete(`/v1/admin/tenants/${c.tenantId}`)).status).toBe(204);
    deleted();
    const { answers } = await rest;
    await Promise.all(frames);
    for (const res of answers) {
      expect([201, 401, 404, 429], JSON.stringify(res.body)).toContain(res.status);
      if (res.status !== 201)
        expect(res.body.error.code).toMatch(/^NATTER_(AUTH_INVALID|CHANNEL_NOT_FOUND|RATE_LIMITED)$/);
    }
    expect(answers.some((r) => r.status === 401)).toBe(true);
    await sleep(200); // anything still in flight settles
    const left = Object.entries(tenantRows(h, c.tenantId)).filter(([, rows]) => rows.length > 0);
    expect(left).toEqual([]);
    expect(rawQuery(h, 'SELECT id, type FROM outbox WHERE tenant_id = ?', c.tenantId)).toEqual([]);
    await socket.close();
  });
});

describe('a channel deleted under a flood of writes into it', () => {
  // Its own server, rate limits off: every write must reach the store to race the delete.
  let r: TestServer;
  let C: Seeded;
  beforeAll(async () => {
    r = await startTestServer();
    C = await seedTenant(r, 'c');
  });
  afterAll(async () => {
    if (r) expectConsistentStore(r);
    await r?.close();
  });

  it('sends, reactions, member adds, flags, bans and mutes racing the delete get 2xx or 404, never a 500; nothing of it remains', async () => {
    const statuses = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      const channel = await createChannel(C.owner.api, { type: 'group', members: [C.member.userId] });
      const path = `/v1/channels/${channel.id}`;
      const first = await C.member.api.post(`${path}/messages`, { text: 'target' });
      const target = `${path}/messages/${first.body.message.id}`;
      const writes = Array.from({ length: 48 }, (_, i) => {
        if (i % 6 === 0) return C.member.api.put(`${target}/reactions/r${i}`);
        if (i % 6 === 1) return C.owner.api.post(`${path}/members`, { members: ['c-u2'] });
        if (i % 6 === 2) return C.member.api.post(`${target}/flags`, { reason: `r${i}` });
        if (i % 6 === 3) return C.t.api.post('/v1/moderation/bans', { userId: 'c-u2', channelId: channel.id });
        if (i % 6 === 4) return C.t.api.post('/v1/moderation/mutes', { userId: 'c-u2', channelId: channel.id });
        return C.member.api.post(`${path}/messages`, { text: `racing ${i}` });
      });
      await sleep(round);
      const deleted = await C.owner.api.delete(path);
      expect(deleted.status).toBe(204);
      for (const res of await Promise.all(writes)) {
        const key = `${res.status} ${res.body?.error?.code ?? ''}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (res.status >= 400) {
          expect(res.body.error.code, JSON.stringify(res.body)).toMatch(/^NATTER_(CHANNEL|MESSAGE)_NOT_FOUND$/);
        }
      }
      for (const table of ['messages', 'members', 'flags', 'sanctions']) {
        const rows = rawQuery(
          r,
          `SELECT * FROM ${table} WHERE tenant_id = ? AND channel_id = ?`,
          C.t.tenantId,
          channel.id,
        );
        expect(rows, table).toEqual([]);
      }
      const reactions = rawQuery(
        r,
        'SELECT * FROM reactions WHERE tenant_id = ? AND message_id = ?',
        C.t.tenantId,
        first.body.message.id,
      );
      expect(reactions).toEqual([]);
    }
    // The race was run: some writes landed before the delete, some came after.
    const keys = [...statuses.keys()];
    expect(
      keys.some((k) => k.startsWith('2')),
      keys.join(),
    ).toBe(true);
    expect(
      keys.some((k) => k.startsWith('404')),
      keys.join(),
    ).toBe(true);
  });
});
