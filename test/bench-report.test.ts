/**
 * The benchmark's goal checks (bench/lib/report.mjs): what bench/RESULTS.md says is met or not.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { verdicts } from '../bench/lib/report.mjs';

interface Row {
  workload: string;
  system: string;
  label: string;
  status: 'ok';
  step: string;
  p99: number | null;
  deliveredPct?: number;
}

const row = (workload: string, system: string, step: string, p99: number, deliveredPct = 100): Row => ({
  workload,
  system,
  label: system,
  status: 'ok',
  step,
  p99,
  deliveredPct,
});

function verdictOf(rows: Row[], goal: string): { verdict: string; why: string } {
  const found = (verdicts(rows) as { goal: string; verdict: string; why: string }[]).find((v) => v.goal === goal);
  if (!found) throw new Error(`no verdict for ${goal}`);
  return found;
}

describe('bench goals: p99 at the same offered load', () => {
  const SMALL = 'small channels p99 ≤ best peer at the same offered load';
  const BROADCAST = 'broadcast p99 ≤ best peer at the same offered load';

  it('judges the small channels against the best peer at the same step', () => {
    const step = '2000×5, 0.2 msg/s each';
    const peers = [row('small', 'socketio', step, 12.4), row('small', 'centrifugo', step, 7.8)];
    expect(verdictOf([row('small', 'natter', step, 7.5), ...peers], SMALL).verdict).toBe('pass');
    const slower = verdictOf([row('small', 'natter', step, 54.2), ...peers], SMALL);
    expect(slower.verdict).toBe('fail');
    expect(slower.why).toContain('54.2 ms vs centrifugo 7.8 ms');
  });

  it('compares broadcast step by step, leaving out peers that did not deliver everything', () => {
    const rows = [
      row('broadcast', 'natter', '200 msg/s', 40),
      row('broadcast', 'centrifugo', '200 msg/s', 180),
      row('broadcast', 'natter', '2000 msg/s', 2500),
      // Faster, but it lost 17 % of the messages: no comparison at this step.
      row('broadcast', 'centrifugo', '2000 msg/s', 900, 83),
    ];
    const v = verdictOf(rows, BROADCAST);
    expect(v.verdict).toBe('pass');
    expect(v.why).not.toContain('2000 msg/s');
    expect(verdictOf([...rows, row('broadcast', 'socketio', '200 msg/s', 30)], BROADCAST).verdict).toBe('fail');
  });

  it('says n/a when a workload was not run', () => {
    expect(verdictOf([row('broadcast', 'natter', '200 msg/s', 40)], SMALL)).toMatchObject({
      verdict: 'n/a',
      why: 'not run',
    });
  });
});

describe('bench goals: RSS per idle connection', () => {
  const IDLE = 'RSS per idle connection ≤ 1/3 of best peer';
  const idle = (system: string, rssPerConnKB: number) => ({ ...row('idle', system, '1000 conns', 0), rssPerConnKB });

  it('passes at a third of the best peer or less, and fails above it', () => {
    const peers = [idle('socketio', 12.3), idle('centrifugo', 41.8)];
    expect(verdictOf([idle('natter', 2.0), ...peers], IDLE).verdict).toBe('pass');
    const v = verdictOf([idle('natter', 4.5), ...peers], IDLE);
    expect(v.verdict).toBe('fail');
    expect(v.why).toContain('4.5 KB vs socketio 12.3 KB');
  });

  it('judges nothing when Natter’s RSS did not grow with its connections', () => {
    // A GC that gave memory back while a few connections opened: a negative cost is no measurement.
    const v = verdictOf([idle('natter', -1.2), idle('socketio', 14.27)], IDLE);
    expect(v.verdict).toBe('n/a');
    expect(v.why).toContain('-1.2 KB/conn');
  });
});
