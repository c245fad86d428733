import { describe, expect, it } from 'vitest';
import { EventDedupe } from './dedupe.js';

describe('EventDedupe', () => {
  it('drops exact repeats', () => {
    const d = new EventDedupe();
    expect([5, 6, 6, 5, 7].map((id) => d.fresh('t/c', id))).toEqual([true, true, false, false, true]);
  });

  it('delivers a lower id that shows up after a higher one (another node stored it later)', () => {
    const d = new EventDedupe();
    expect(d.fresh('t/c', 100)).toBe(true);
    expect(d.fresh('t/c', 99)).toBe(true);
    expect(d.fresh('t/c', 99)).toBe(false);
  });

  it('keeps channels apart', () => {
    const d = new EventDedupe();
    expect(d.fresh('t/a', 10)).toBe(true);
    expect(d.fresh('t/b', 10)).toBe(true);
  });

  it('remembers only the newest ids, in bounded memory', () => {
    const d = new EventDedupe(3);
    for (const id of [1, 2, 3, 4]) d.fresh('t/c', id);
    expect(d.fresh('t/c', 4)).toBe(false);
    expect(d.fresh('t/c', 1)).toBe(true);
  });
});
