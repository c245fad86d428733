import { afterEach, describe, expect, it, vi } from 'vitest';
import { now } from './connection.js';

describe('now() (the time as stored)', () => {
  afterEach(() => vi.useRealTimers());

  it('follows the clock millisecond by millisecond, as ISO-8601 UTC text', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 4, 21, 0, 0, 1));
    expect(now()).toBe('2026-12-04T21:00:00.001Z');
    expect(now()).toBe('2026-12-04T21:00:00.001Z');
    vi.setSystemTime(Date.UTC(2026, 11, 4, 21, 0, 0, 2));
    expect(now()).toBe('2026-12-04T21:00:00.002Z');
    // Back in time (the clock was set back): the text follows it, nothing is kept from before.
    vi.setSystemTime(Date.UTC(2025, 0, 1));
    expect(now()).toBe('2025-01-01T00:00:00.000Z');
  });
});
