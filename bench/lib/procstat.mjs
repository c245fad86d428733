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

/**
 * Time each thread of `pids` ran on a CPU and waited for one (runnable, not running), in seconds,
 * from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds); keyed `pid/tid`. Empty when the kernel
 * keeps no schedstat. The wait is what a second core's worth of threads costs a busy one: a
 * thread woken by its socket queues behind whatever runs on its CPU.
 */
export function threadTimes(pids) {
  const out = new Map();
  for (const pid of pids) {
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        out.set(`${pid}/${tid}`, { run: run / 1e9, wait: wait / 1e9 });
      } catch {}
    }
  }
  return out;
}

/**
 * What the busiest thread of a window did, per second of it: ms on a CPU and ms waiting for one
 * (run + wait near 1,000 is a thread that was never idle), and how many threads ran over 10 ms/s.
 * Null when no schedstat was readable.
 */
function busiestThread(before, after, wall) {
  let best = null;
  let busy = 0;
  for (const [key, t] of after) {
    const t0 = before.get(key) ?? { run: 0, wait: 0 };
    const run = ((t.run - t0.run) / wall) * 1000;
    const wait = ((t.wait - t0.wait) / wall) * 1000;
    if (run > 10) busy++;
    if (best === null || run > best.runMs) best = { runMs: Math.round(run), waitMs: Math.round(wait) };
  }
  return best === null ? null : { ...best, busyThreads: busy };
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
  const th0 = threadTimes(s0.keys());
  const g0 = cpuOf(pids.generator);
  const m0 = machineBusySeconds();
  return {
    end() {
      const wall = (performance.now() - t0) / 1000;
      let server = 0;
      const s1 = treeCpu(pids.server);
      for (const [pid, cpu] of s1) server += cpu - (s0.get(pid) ?? 0);
      const thread = busiestThread(th0, threadTimes(s1.keys()), wall);
      const generator = cpuOf(pids.generator) - g0;
      const m1 = machineBusySeconds();
      // Everything else that ran meanwhile (the harness itself, other users of the machine).
      const other = m0 === null || m1 === null ? null : Math.max(0, m1 - m0 - server - generator);
      return { wall, server, generator, other, thread };
    },
  };
}
