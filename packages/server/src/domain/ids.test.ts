import { describe, expect, it } from 'vitest';
import { timeId } from './ids.js';

describe('timeId', () => {
  it('is the prefix and 26 Crockford base32 characters', () => {
    expect(timeId('msg')).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('sorts by the time it was made, whatever the random part', () => {
    const times = [1, 255, 256, 65_536, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const ids = times.map((t) => timeId('m', t));
    expect([...ids].sort()).toEqual(ids);
    // The same millisecond keeps the same 9 leading characters (45 of the 48 bits of time).
    expect(timeId('m', 1_700_000_000_000).slice(0, 11)).toBe(ids[4]?.slice(0, 11));
  });

  it('gives a new random part to every id, also within one millisecond', () => {
    const ids = Array.from({ length: 2_000 }, () => timeId('m', 1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
