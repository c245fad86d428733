/**
 * CPU time and resident memory of a process, read from /proc (Linux only).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks = 100;
try {
  ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {}

/** utime + stime of `pid` (all its threads) in seconds, or null when it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return null;
  }
}

/** VmRSS of one process in bytes, or null. */
function ownRss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * `pid` and its descendants: a server that forks workers (Natter with NATTER_WORKERS) is measured
 * as the whole tree.
 */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {}
  }
  const out = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop();
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** VmRSS of `pid` and its descendants in bytes, or null when `pid` is gone. */
export function rssBytes(pid) {
  const own = ownRss(pid);
  if (own === null) return null;
  let total = own;
  for (const p of processTree(pid).slice(1)) total += ownRss(p) ?? 0;
  return total;
}

/** CPU seconds per process of `pid`'s tree. */
function treeCpu(pid) {
  return new Map(processTree(pid).map((p) => [p, cpuSeconds(p) ?? 0]));
}

/** Sum of cpuSeconds over pids (missing ones count 0). */
export function cpuOf(pids) {
  let total = 0;
  for (const pid of pids) total += cpuSeconds(pid) ?? 0;
  return total;
}

/** Busy CPU seconds of the whole machine (all processes, all cores) from /proc/stat. */
export function machineBusySeconds() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = line;
    return (user + nice + system + irq + softirq + (steal || 0)) / ticks;
  } catch {
    return null;
  }
}

/**
 * Snapshots server and generator CPU, and wall time; `end()` returns the deltas.
 * @param {{ server: number, generator: number[] }} pids
 */
export function cpuWindow(pids) {
  const t0 = performance.now();
  // The server's whole process tree (workers included); a process that ends meanwhile drops out.
  const s0 = treeCpu(pids.server);
  const g0 = cpuOf(pids.generator);
  const m0 = machineBusySeconds();
  return {
    end() {
      const wall = (performance.now() - t0) / 1000;
      let server = 0;
      for (const [pid, cpu] of treeCpu(pids.server)) server += cpu - (s0.get(pid) ?? 0);
      const generator = cpuOf(pids.generator) - g0;
      const m1 = machineBusySeconds();
      // Everything else that ran meanwhile (the harness itself, other users of the machine).
      const other = m0 === null || m1 === null ? null : Math.max(0, m1 - m0 - server - generator);
      return { wall, server, generator, other };
    },
  };
}
