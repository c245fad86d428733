import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../harness.js';

describe('one port for REST and realtime: the uWS → fastify bridge', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it('answers CORS preflights for any origin, without credentials', async () => {
    const h = await startTestServer();
    cleanup.push(h.close);
    const res = await fetch(`${h.url}/v1/channels`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers 503 with connection: close on kept-alive connections once closing', async () => {
    const h = await startTestServer();
    const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
    const first = await request(`${h.url}/health/live`, { dispatcher: agent });
    expect(first.statusCode).toBe(200);
    await first.body.text();
    const closing = h.close();
    const after = await request(`${h.url}/health/live`, { dispatcher: agent }).catch((err: unknown) => err as Error);
    await closing;
    await agent.close();
    if (after instanceof Error) throw after;
    expect(after.statusCode).toBe(503);
    expect(after.headers.connection).toBe('close');
    expect(((await after.body.json()) as { error: { code: string } }).error.code).toBe('NATTER_UNAVAILABLE');
  });
});
