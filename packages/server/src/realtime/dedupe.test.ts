import { describe, expect, it } from 'vitest';
import { EventDedupe } from './dedupe.js';

describe('EventDedupe', () => {
  it('passes increasing ids per channel and drops repeats and older ids', () => {
    const d = new EventDedupe();
    expect([5, 6, 6, 5, 7].map((id) => d.fresh('t/c', id))).toEqual([true, true, false, false, true]);
  });

  it('keeps channels apart', () => {
    const d = new EventDedupe();
    expect(d.fresh('t/a', 10)).toBe(true);
    expect(d.fresh('t/b', 3)).toBe(true);
    expect(d.fresh('u/a', 3)).toBe(true);
  });

  it('forgets channels idle longer than the window', () => {
    const d = new EventDedupe(1000);
    expect(d.fresh('t/a', 10, 0)).toBe(true);
    expect(d.fresh('t/b', 1, 5000)).toBe(true);
    expect(d.fresh('t/a', 2, 5001)).toBe(true);
  });
});
