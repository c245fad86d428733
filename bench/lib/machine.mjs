/** A description of the machine the numbers were taken on. */
import { execFile, execSync } from 'node:child_process';
import { cpus, release } from 'node:os';

const sh = (cmd) => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};

export function describeMachine() {
  return {
    nproc: sh('nproc'),
    cpu: cpus()[0]?.model ?? null,
    free: sh('free -h'),
    node: process.version,
    kernel: sh('uname -r') ?? release(),
    os: sh('. /etc/os-release && echo "$PRETTY_NAME"'),
    go: sh('go version'),
  };
}

/** The calibration jobs, run by `node -e JOBS <name>`; each prints its best of three, in ms. */
const JOBS = `
  const net = require('node:net');
  const cpu = () => {
    const message = { id: 'msg_01', channelId: 'c1', seq: 0, text: 'x'.repeat(100), custom: {}, attachments: [] };
    let x = 0;
    for (let i = 0; i < 3e7; i++) x = (x * 31 + i) | 0;
    const m = new Map();
    for (let i = 0; i < 2e5; i++) {
      message.seq = i;
      const back = JSON.parse(JSON.stringify(message));
      m.set(back.seq & 1023, back);
    }
    return x + m.size;
  };
  const loopback = () => new Promise((resolve) => {
    const server = net.createServer((s) => s.on('data', (d) => s.write(d))).listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1');
      c.setNoDelay(true);
      let n = 0;
      c.on('data', () => {
        if (++n < 20000) return void c.write('x');
        c.destroy();
        server.close(resolve);
      });
      c.write('x');
    });
  });
  (async () => {
    const job = { cpu, loopback }[process.argv[1]];
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const t = process.hrtime.bigint();
      await job();
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(Math.round(best));
  })();`;

const runJob = (name) =>
  new Promise((resolve) => {
    execFile(process.execPath, ['-e', JOBS, name], { encoding: 'utf8' }, (err, out) =>
      resolve(err ? null : Number(out.trim())),
    );
  });

/**
 * Fixed jobs, each in fresh Node processes (best of three, ms; lower is faster):
 * - `cpuMs`: single-threaded JavaScript (integer arithmetic, JSON of a message, a Map), alone;
 * - `cpuAllCoresMs`: the same job on every core at once, the slowest of them. The benchmarks keep
 *   both cores busy; when the two virtual CPUs share a physical core, or the host takes one, this
 *   is the number that grows;
 * - `loopbackMs`: 20,000 one-byte round trips over one loopback TCP connection (system calls and
 *   the kernel's TCP path, which every delivery goes through).
 * The host's speed drifts (this machine is a VM), and goals with absolute numbers, like persisted
 * sends per second, read differently on a slow hour. Taken before and after the suite.
 */
export async function calibrate() {
  const cores = cpus().length || 1;
  const cpuMs = await runJob('cpu');
  const all = await Promise.all(Array.from({ length: cores }, () => runJob('cpu')));
  const cpuAllCoresMs = all.includes(null) ? null : Math.max(...all);
  const loopbackMs = await runJob('loopback');
  return { cpuMs, cpuAllCoresMs, loopbackMs };
}
