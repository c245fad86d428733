/**
 * A real `NATTER_WORKERS=N` server for tests: the bundled `main` (see `../multinode/cluster.ts`)
 * started as an operator would, a primary that forks N workers sharing one port.
 *
 * Which worker holds a connection is read from the kernel, not from the server: the server side
 * of a client's socket is found in /proc/net/tcp (by the two ports), and the worker that holds its
 * inode among its file descriptors is the one serving it. So tests can place clients on a chosen
 * worker without any test hook in the server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from '../harness.js';
import { freePort, until } from '../multinode/cluster.js';
import { connect, type WsClient } from '../realtime/ws-client.js';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface WorkersServer {
  url: string;
  port: number;
  admin: Client;
  primaryPid: number;
  output(): string;
  /** Pids of the live worker processes (children of the primary). */
  workerPids(): Promise<number[]>;
  /** Opens a realtime connection served by worker `pid` (retries until the kernel puts one there). */
  connectOn(pid: number, token: string): Promise<WsClient>;
  /** The worker pid serving `client`. */
  workerOf(client: WsClient): Promise<number>;
  /** SIGTERM to the primary; resolves with its exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startWorkers(
  main: string,
  options: { workers?: number; env?: Record<string, string> } = {},
): Promise<WorkersServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'natter-workers-'));
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      NATTER_HOST: '127.0.0.1',
      NATTER_PORT: String(port),
      NATTER_DATA_DIR: dataDir,
      NATTER_LOG_LEVEL: process.env.NATTER_TEST_LOG ?? 'warn',
      NATTER_WORKERS: String(options.workers ?? 2),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const take = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  await until(
    'the workers to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`the primary exited (${child.exitCode}):\n${output}`);
      return output.includes('NATTER_ADMIN_KEY=');
    },
    60_000,
  );
  const key = /NATTER_ADMIN_KEY=([^:\s]+):(\S+)/.exec(output);
  const url = `http://127.0.0.1:${port}`;
  const primaryPid = child.pid ?? -1;

  const workerPids = async () => {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // Field 4 (ppid), after the parenthesised command name.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === primaryPid) pids.push(Number(entry));
    }
    return pids.sort((a, b) => a - b);
  };

  /** Whether worker `pid` holds a socket listening on the port (state 0A in /proc/net/tcp). */
  const listens = async (pid: number) => {
    const table = await readFile('/proc/net/tcp', 'utf8');
    const inodes = new Set(
      table
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f[1]?.endsWith(`:${port.toString(16).toUpperCase().padStart(4, '0')}`) && f[3] === '0A')
        .map((f) => `socket:[${f[9]}]`),
    );
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if (inodes.has(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) return true;
    }
    return false;
  };

  const workerOf = async (client: WsClient) => {
    const clientPort = (client.ws as unknown as { _socket: Socket })._socket.localPort;
    const hex = (n: number | undefined) => (n ?? 0).toString(16).toUpperCase().padStart(4, '0');
    const table = await readFile('/proc/net/tcp', 'utf8');
    const row = table
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find((f) => f[1]?.endsWith(`:${hex(port)}`) && f[2]?.endsWith(`:${hex(clientPort)}`));
    if (!row) throw new Error(`no server socket for client port ${clientPort}`);
    const inode = `socket:[${row[9]}]`;
    for (const pid of await workerPids()) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === inode) return pid;
      }
    }
    throw new Error(`no worker holds ${inode}`);
  };

  return {
    url,
    port,
    admin: createClient(url, { basic: [key?.[1] ?? '', key?.[2] ?? ''] }),
    primaryPid,
    output: () => output,
    workerPids,
    workerOf,
    async connectOn(pid, token) {
      // A worker just forked is a child of the primary before it listens (a restarted one opens
      // the store and the search index first): wait for its listening socket.
      await until(`worker ${pid} to listen`, () => listens(pid), 30_000);
      for (let attempt = 0; attempt < 64; attempt++) {
        const client = await connect(url, token);
        if ((await workerOf(client)) === pid) return client;
        await client.close();
      }
      throw new Error(`could not get a connection on worker ${pid}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const result = await exited;
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
      return result;
    },
  };
}
