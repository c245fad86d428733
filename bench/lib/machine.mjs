/** A description of the machine the numbers were taken on. */
import { execFileSync, execSync } from 'node:child_process';
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

/**
 * Two fixed jobs, each timed in a fresh Node process (best of three, ms; lower is faster):
 * - `cpuMs`: single-threaded JavaScript (integer arithmetic, JSON of a message, a Map);
 * - `loopbackMs`: 20,000 one-byte round trips over one loopback TCP connection (system calls and
 *   the kernel's TCP path, which every delivery goes through).
 * The host's speed drifts (this machine is a VM), and goals with absolute numbers, like persisted
 * sends per second, read differently on a slow hour. Taken before and after the suite.
 */
export function calibrate() {
  const job = `
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
    const time = async (job) => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const t = process.hrtime.bigint();
        await job();
        best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
      }
      return Math.round(best);
    };
    (async () => console.log(JSON.stringify({ cpuMs: await time(cpu), loopbackMs: await time(loopback) })))();`;
  try {
    return JSON.parse(execFileSync(process.execPath, ['-e', job], { encoding: 'utf8' }));
  } catch {
    return null;
  }
}
