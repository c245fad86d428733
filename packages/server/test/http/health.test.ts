/**
 * Liveness, readiness and metrics: unauthenticated, for orchestrators and Prometheus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { Store } from '../../src/ports/store.js';
import { createTenant, createUsers, startTestServer, type TestServer } from '../harness.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('health', () => {
  it('GET /health/ready answers 503 while the store does not answer, and ready again after', async () => {
    // The real SQLite store with a ping that can be made to fail (a fake only for the outage).
    const real = createSqliteStore({ path: ':memory:' });
    let down = false;
    const store: Store = {
      name: real.name,
      platform: real.platform,
      outbox: real.outbox,
      tenant: (id) => real.tenant(id),
      ping: async () => {
        if (down) throw new Error('database is locked');
        await real.ping();
      },
      close: () => real.close(),
    };
    const flaky = await startTestServer({}, { store });
    try {
      expect((await flaky.api(null).get('/health/ready')).status).toBe(200);
      down = true;
      const res = await flaky.api(null).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable' });
      expect((await flaky.api(null).get('/health/live')).status).toBe(200);
      down = false;
      expect((await flaky.api(null).get('/health/ready')).body).toEqual({ status: 'ready' });
    } finally {
      await flaky.close();
    }
  });

  it('GET /health/live answers ok without credentials', async () => {
    const res = await h.api(null).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers ready while the store answers', async () => {
    const res = await h.api(null).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('GET /metrics exposes Prometheus text with natter_messages_stored_total counting sends', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann']);
    const ch = await t.api.post('/v1/channels', { type: 'group', members: ['ann'] });
    const before = await h.api(null).get('/metrics');
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain/);
    const count = (text: string) => Number(/^natter_messages_stored_total (\d+)/m.exec(text)?.[1]);
    const n = count(before.body);
    expect(n).toBeGreaterThanOrEqual(0);
    const sent = await t.api.post(`/v1/channels/${ch.body.channel.id}/messages`, {
      text: 'hi',
      userId: 'ann',
      clientMsgId: 'm1',
    });
    expect(sent.status).toBe(201);
    // A retry with the same clientMsgId stores nothing new and is not counted.
    expect(
      (
        await t.api.post(`/v1/channels/${ch.body.channel.id}/messages`, {
          text: 'hi',
          userId: 'ann',
          clientMsgId: 'm1',
        })
      ).status,
    ).toBe(200);
    const after = await h.api(null).get('/metrics');
    expect(count(after.body)).toBe(n + 1);
    expect(after.body).toContain('natter_http_request_duration_seconds');
  });
});
