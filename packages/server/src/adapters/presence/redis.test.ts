import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runPresenceContract } from '../../../test/contracts/presence.contract.js';
import type { PresenceStore } from '../../ports/presence.js';
import { createRedisPresence } from './redis.js';

// Without Redis this file fails, it never skips: CI starts Redis with scripts/engines.sh.
const url = process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6390';
const keyPrefix = `natter-test-${process.pid}-${Date.now().toString(36)}:`;

runPresenceContract({ name: 'redis', crossNode: true, create: () => createRedisPresence({ url, keyPrefix }) });

describe('redis presence: expiry', () => {
  const open: PresenceStore[] = [];
  const node = async () => {
    const p = await createRedisPresence({ url, keyPrefix, ttlSeconds: 1 });
    open.push(p);
    return p;
  };
  const tenant = () => `t-${Math.random().toString(36).slice(2)}`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  afterAll(async () => {
    await Promise.all(open.map((p) => p.close()));
  });

  it('keeps a live node’s connections online past the TTL', async () => {
    const p = await node();
    const t = tenant();
    await p.connect(t, 'ann', 'c1');
    await sleep(2500);
    expect(await p.online(t, ['ann'])).toEqual(new Set(['ann']));
    expect(await p.disconnect(t, 'ann', 'c1')).toBe(true);
  });

  it('drops the connections of a node that stopped refreshing (as after a crash) after the TTL', async () => {
    const [crashed, alive] = [await node(), await node()];
    const t = tenant();
    expect(await crashed.connect(t, 'ann', 'c1')).toBe(true);
    await crashed.close(); // no disconnect: from Redis's side, a crash
    expect(await alive.online(t, ['ann'])).toEqual(new Set(['ann']));
    await sleep(1300);
    expect(await alive.online(t, ['ann'])).toEqual(new Set());
    // The expired connection does not count: ann comes online again with her next one.
    expect(await alive.connect(t, 'ann', 'c2')).toBe(true);
    expect(await alive.disconnect(t, 'ann', 'c2')).toBe(true);
  });
});

afterAll(async () => {
  // Deletes what the suite wrote (Redis being down already failed every test).
  const raw = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  if (
    await raw.connect().then(
      () => true,
      () => false,
    )
  ) {
    for await (const keys of raw.scanStream({ match: `${keyPrefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await raw.del(...keys);
    }
  }
  raw.disconnect();
});
