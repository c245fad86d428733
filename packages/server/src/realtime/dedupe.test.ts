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

  it('forgets a channel once all its ids are forgotten, and starts it afresh', () => {
    const d = new EventDedupe(2);
    d.fresh('t/a', 1);
    d.fresh('t/b', 2);
    expect(d.channelCount).toBe(2);
    // A third id pushes out t/a's only one: t/a is dropped, and its id 1 is new again.
    expect(d.fresh('t/b', 3)).toBe(true);
    expect(d.channelCount).toBe(1);
    expect(d.fresh('t/a', 1)).toBe(true);
    expect(d.fresh('t/a', 1)).toBe(false);
    expect(d.channelCount).toBe(2);
  });

  it('keeps the id it adds when the id it forgets was its own channel’s last', () => {
    const d = new EventDedupe(1);
    expect(d.fresh('t/c', 1)).toBe(true);
    expect(d.fresh('t/c', 2)).toBe(true);
    expect(d.fresh('t/c', 2)).toBe(false);
    expect(d.fresh('t/c', 1)).toBe(true);
    expect(d.channelCount).toBe(1);
  });
});
