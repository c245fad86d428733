import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { runRateLimitContract } from '../../../test/contracts/rate-limit.contract.js';
import { createRedisRateLimiter } from './redis.js';

// Without Redis this file fails, it never skips: CI starts Redis with scripts/engines.sh.
const url = process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6390';
const keyPrefix = `natter-test-${process.pid}-${Date.now().toString(36)}:`;

runRateLimitContract({ name: 'redis', create: () => createRedisRateLimiter({ url, keyPrefix }) });

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
