/**
 * The load generator: N forked worker processes (bench/gen/worker.mjs), each holding a share of the
 * clients. Client i goes to worker i % N and binds source address 127.0.0.(2 + i % addrs), so no
 * single source address runs out of ephemeral ports.
 */
import { execFileSync, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), '..', 'gen', 'worker.mjs');

export async function startGenerator({ procs, addrs, client, conn }) {
  const workers = [];
  for (let i = 0; i < procs; i++) {
    const child = fork(WORKER, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [
        '--max-old-space-size=4096',
        ...(process.env.BENCH_GEN_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_GEN_PROF}`] : []),
      ],
    });
    const waiting = new Map();
    child.on('message', (m) => {
      const w = waiting.get(m.rid);
      if (!w) return;
      waiting.delete(m.rid);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`generator ${i}: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const w of waiting.values()) w.reject(new Error(`generator ${i} exited (${code})`));
      waiting.clear();
    });
    workers.push({ child, waiting });
    const priority = Number(process.env.BENCH_PRIORITY || 0);
    if (priority) {
      try {
        execFileSync('renice', ['-n', String(-priority), '-p', String(child.pid)], { stdio: 'ignore' });
      } catch {}
    }
  }
  let rid = 0;
  // Every operation is bounded: a generator that does not answer in time fails the workload.
  const call = (i, msg, timeoutMs = 240000) =>
    new Promise((resolve, reject) => {
      const id = ++rid;
      const timer = setTimeout(() => {
        workers[i].waiting.delete(id);
        reject(new Error(`generator ${i}: ${msg.op} did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      workers[i].waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      workers[i].child.send({ ...msg, rid: id });
    });
  const all = (msg) => Promise.all(workers.map((_, i) => call(i, typeof msg === 'function' ? msg(i) : msg)));
  await all({ op: 'init', client, conn });

  return {
    procs,
    pids: workers.map((w) => w.child.pid),
    call,
    all,
    /** Spreads `list` (client specs) over workers and source addresses, then connects them. */
    async connect(list, { subscribe = false, concurrency = 200 } = {}) {
      const shares = workers.map(() => []);
      for (const [i, c] of list.entries()) shares[i % procs].push({ ...c, addr: `127.0.0.${2 + (i % addrs)}` });
      const results = await all((i) => ({ op: 'connect', list: shares[i], subscribe, concurrency }));
      return results.reduce(
        (acc, r) => ({
          ok: acc.ok + r.ok,
          failed: acc.failed + r.failed,
          retries: acc.retries + r.retries,
          healed: acc.healed + (r.healed ?? 0),
          errors: [...acc.errors, ...r.errors].slice(0, 3),
          ms: Math.max(acc.ms, r.ms),
        }),
        { ok: 0, failed: 0, retries: 0, healed: 0, errors: [], ms: 0 },
      );
    },
    async stop() {
      await Promise.race([all({ op: 'close' }).catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      for (const w of workers) {
        if (w.child.exitCode === null) {
          const exited = new Promise((r) => w.child.once('exit', r));
          w.child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        }
      }
    },
  };
}
