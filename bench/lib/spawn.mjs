/**
 * Starting systems under test: with a raised file-descriptor limit, stdout/stderr kept for the
 * error message, and a bounded wait for readiness.
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';

export const FD_LIMIT = 200000;

/** The file-descriptor limit a spawned server will get (soft limit after raising). */
export function effectiveFdLimit() {
  try {
    const out = execFileSync(
      'bash',
      ['-c', `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n`],
      { encoding: 'utf8' },
    );
    return Number(out.trim()) || null;
  } catch {
    return null;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `command args` through bash so `ulimit -n` applies (exec keeps the pid).
 * Resolves once `ready(output)` is true; rejects on exit or after `timeoutMs`.
 */
export function spawnServer(
  name,
  command,
  args,
  { env = {}, cwd, ready, timeoutMs = 30000, priority = Number(process.env.BENCH_PRIORITY || 0) },
) {
  const niced = priority ? ['nice', '-n', String(-priority), command] : [command];
  const quoted = [...niced, ...args].map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(' ');
  // Raise the soft limit as far as allowed: to FD_LIMIT where the hard limit can be raised (needs
  // CAP_SYS_RESOURCE), else to the hard limit.
  const raise = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"`;
  const child = spawn('bash', ['-c', `${raise}; exec ${quoted}`], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 20000) output = output.slice(-10000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      stop('SIGKILL');
      reject(new Error(`${name} not ready after ${timeoutMs} ms; output:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const check = () => {
      if (settled || !ready(output)) return;
      settled = true;
      clearTimeout(timer);
      resolve({ pid: child.pid, child, output: () => output, stop });
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    // A server that prints nothing when it is up (Centrifugo at log level error) is ready when
    // `ready` says so without output: its caller then polls it.
    setImmediate(check);
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready; output:\n${output.slice(-2000)}`));
    });
  });
}

/** Polls `probe()` until it resolves truthy, up to `timeoutMs`. */
export async function waitFor(probe, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}
