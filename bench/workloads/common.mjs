/**
 * Helpers shared by the workloads: merging worker measurements into one row, draining, timing.
 */

import { loadavg } from 'node:os';
import { Histogram } from '../lib/hist.mjs';
import { rssBytes } from '../lib/procstat.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function mergeHists(list) {
  const h = new Histogram();
  for (const j of list) if (j) h.merge(Histogram.from(j));
  return h;
}

/** Waits until the generators saw `expected` deliveries, or nothing new arrived for `quietMs`. */
export async function drain(gen, expected, { quietMs = 1000, maxMs = 10000 } = {}) {
  const until = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < until) {
    const peeks = await gen.all({ op: 'peek' });
    const got = peeks.reduce((a, p) => a + p.deliveries, 0);
    if (got >= expected) return got;
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) return got;
    await sleep(100);
  }
  return last;
}

/** Fills the CPU and memory columns of a row from a cpuWindow result. */
export function cpuColumns(cpu, events, pid) {
  return {
    wallS: round(cpu.wall, 2),
    serverCpuS: round(cpu.server, 2),
    serverCores: round(cpu.server / cpu.wall, 2),
    genCpuS: round(cpu.generator, 2),
    genCores: round(cpu.generator / cpu.wall, 2),
    otherCores: cpu.other === null ? null : round(cpu.other / cpu.wall, 2),
    // The server's busiest thread, ms per second on a CPU and waiting for one (see threadTimes).
    busiestThread: cpu.thread ?? null,
    cpuPer100k: events > 0 ? round((cpu.server / events) * 1e5, 3) : null,
    serverRssMB: round((rssBytes(pid) ?? 0) / 2 ** 20, 1),
    load1: round(loadavg()[0], 2),
  };
}

export function round(v, digits = 0) {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function latencyColumns(h) {
  const s = h.summary();
  return { p50: s.p50, p99: s.p99, p999: s.p999, max: s.max, samples: s.count };
}
