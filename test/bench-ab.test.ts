/**
 * `npm run bench -- --ab` (bench/lib/ab.mjs): the order of the rounds and the comparison it prints.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { abTable, median, parseEnvList, roundOrder } from '../bench/lib/ab.mjs';

const sendsRow = (side: string, round: number, acked: number, extra: Record<string, unknown> = {}) => ({
  workload: 'sends',
  title: 'e. persisted sends',
  step: '100 clients × window 8',
  status: 'ok',
  side,
  round,
  ackedPerSec: acked,
  p99: 100,
  cpuPer100k: 10,
  busiestThread: { runMs: 850, waitMs: 130 },
  ...extra,
});

describe('--ab', () => {
  it('alternates which side runs first, so drift during the comparison falls on both', () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual([
      ['A', 'B'],
      ['B', 'A'],
      ['A', 'B'],
      ['B', 'A'],
    ]);
  });

  it('takes the median of the runs that measured something', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([null, 5, undefined])).toBe(5);
    expect(median([])).toBeNull();
  });

  it('reads side B’s environment, and names a malformed pair', () => {
    expect(parseEnvList('A=1,B=x=y')).toEqual({ A: '1', B: 'x=y' });
    expect(parseEnvList('')).toEqual({});
    expect(() => parseEnvList('A=1,oops')).toThrow(/"oops"/);
  });

  it('lists each side’s runs in order with the host speed, and compares the medians', () => {
    const rows = [
      sendsRow('A', 1, 10_000, { hostMs: 300 }),
      sendsRow('B', 1, 12_000, { hostMs: 301, cpuPer100k: 8 }),
      sendsRow('B', 2, 11_000, { cpuPer100k: 8 }),
      sendsRow('A', 2, 9_000),
      sendsRow('A', 3, 14_000),
      sendsRow('B', 3, 13_000, { cpuPer100k: 8 }),
      { title: 'e. persisted sends', step: 'x', status: 'error', side: 'A' },
    ];
    const out = abTable(rows, { A: 'working tree', B: 'HEAD~1' });
    expect(out).toContain('| A: working tree | 10,000 @300, 9,000, 14,000 | 10,000 acked msg/s |');
    expect(out).toContain('| B: HEAD~1 | 12,000 @301, 11,000, 13,000 | 12,000 acked msg/s |');
    expect(out).toContain('B ÷ A = 1.200× acked msg/s, 1.000× p99, 0.800× CPU per 100k');
    expect(out).not.toContain('| x |');
  });
});
