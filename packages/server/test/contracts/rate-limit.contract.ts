/**
 * The rate-limit contract: every RateLimiter adapter passes this suite against its real engine.
 * Rates are chosen so that refill during a test run cannot change the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/ports/rate-limit.js';

export function runRateLimitContract(options: { name: string; create: () => Promise<RateLimiter> }): void {
  describe(`rate-limit contract: ${options.name}`, () => {
    let limiter: RateLimiter;
    const key = (k: string) => `${k}-${Math.random().toString(36).slice(2)}`;
    beforeAll(async () => {
      limiter = await options.create();
    });
    afterAll(async () => limiter.close());

    it('allows a full burst, then refuses with a retry delay', async () => {
      const k = key('burst');
      const rule = { rate: 0.01, burst: 5 };
      for (let i = 0; i < 5; i++) expect((await limiter.take(k, rule)).allowed).toBe(true);
      const refused = await limiter.take(k, rule);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
    });

    it('keeps buckets apart by key', async () => {
      const a = key('a');
      const b = key('b');
      const rule = { rate: 0.01, burst: 1 };
      expect((await limiter.take(a, rule)).allowed).toBe(true);
      expect((await limiter.take(a, rule)).allowed).toBe(false);
      expect((await limiter.take(b, rule)).allowed).toBe(true);
    });

    it('refills over time', async () => {
      const k = key('refill');
      const rule = { rate: 20, burst: 1 };
      expect((await limiter.take(k, rule)).allowed).toBe(true);
      expect((await limiter.take(k, rule)).allowed).toBe(false);
      await new Promise((r) => setTimeout(r, 120));
      expect((await limiter.take(k, rule)).allowed).toBe(true);
    });

    it('never allows more than the burst under concurrent takes', async () => {
      const k = key('concurrent');
      const rule = { rate: 0.01, burst: 10 };
      const results = await Promise.all(Array.from({ length: 50 }, () => limiter.take(k, rule)));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
    });
  });
}
