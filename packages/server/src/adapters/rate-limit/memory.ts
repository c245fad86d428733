/**
 * In-process token buckets: the embedded default for one node. Idle buckets (full again) are
 * swept so memory follows the active keys, not every key ever seen.
 */
import { TokenBucket } from '../../domain/token-bucket.js';
import type { RateLimiter } from '../../ports/rate-limit.js';

export function createMemoryRateLimiter(options: { now?: () => number } = {}): RateLimiter {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { bucket: TokenBucket; lastUsed: number; fullAfterMs: number }>();
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, entry] of buckets) if (t - entry.lastUsed > entry.fullAfterMs) buckets.delete(key);
  }, 10_000);
  sweep.unref();
  return {
    name: 'memory',
    async take(key, rule) {
      const t = now();
      let entry = buckets.get(key);
      if (!entry) {
        entry = {
          bucket: new TokenBucket(rule.rate, rule.burst, t),
          lastUsed: t,
          fullAfterMs: (rule.burst / rule.rate) * 1000,
        };
        buckets.set(key, entry);
      }
      entry.lastUsed = t;
      const allowed = entry.bucket.take(t);
      return { allowed, retryAfter: allowed ? 0 : Math.max(1, entry.bucket.retryAfter()) };
    },
    async close() {
      clearInterval(sweep);
      buckets.clear();
    },
  };
}
