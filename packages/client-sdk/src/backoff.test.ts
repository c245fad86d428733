import { describe, expect, it } from 'vitest';
import { backoff, DEFAULT_BACKOFF } from './backoff.js';

describe('backoff (full jitter)', () => {
  const bounds = { minDelay: 500, maxDelay: 20_000 };

  it('stays within [min, min + min·2ⁿ) and never above max', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const delay = backoff(attempt, bounds, () => r);
        expect(delay).toBeGreaterThanOrEqual(500);
        expect(delay).toBeLessThanOrEqual(20_000);
        expect(delay).toBeLessThan(500 + Math.min(20_000, 500 * 2 ** attempt) + 1);
      }
    }
  });

  it('grows exponentially until the cap', () => {
    const top = (attempt: number) => backoff(attempt, bounds, () => 0.999999);
    expect(top(0)).toBe(999);
    expect(top(1)).toBe(1499);
    expect(top(3)).toBe(4499);
    expect(top(10)).toBe(20_000);
  });

  it('is jittered: random 0 gives the minimum', () => {
    expect(backoff(7, bounds, () => 0)).toBe(500);
    expect(new Set(Array.from({ length: 50 }, () => backoff(5, bounds))).size).toBeGreaterThan(10);
  });

  it('defaults to 500 ms … 20 s', () => {
    expect(DEFAULT_BACKOFF).toEqual({ minDelay: 500, maxDelay: 20_000 });
  });
});
