/**
 * The primary process of `NATTER_WORKERS` > 1 on the embedded defaults. It serves no client
 * itself. It opens the store first (migrations run once, the first-start platform key is made
 * once), then holds what must exist once per machine: the outbox relay, the search indexer (the
 * only writer of search.db), and the hub with the bus, presence and rate limits the workers reach
 * over IPC. It forks the workers (this same program, marked by {@link WORKER_ENV}), restarts one
 * that dies, and on close stops them gracefully before closing its own parts.
 *
 * @see docs/self-hosting.md, "Using every core"
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createAdapters } from '../adapters/select.js';
import type { Config } from '../config.js';
import { createOutboxRelay } from '../services/outbox-relay.js';
import { startSearchIndexer } from '../services/search-indexer.js';
import { bootstrapPlatformKey, type IssuedKey } from '../services/tenants.js';
import { createHub } from './hub.js';
import { WORKER_ENV } from './worker.js';

export interface PrimaryOptions {
  /** The program a worker runs (this process's main script). */
  script: string;
  /** How long a worker may take to stop gracefully before it is killed, in ms. @default 30000 */
  stopTimeoutMs?: number;
}

export interface Primary {
  /** Base URL the workers listen on. */
  url: string;
  port: number;
  bootstrapKey: IssuedKey | null;
  /** Worker process ids, by worker number - 1 (a restarted worker has a new pid). */
  readonly pids: number[];
  /** Stops the workers gracefully (they drain), then the relay, indexer, hub and store. */
  close(): Promise<void>;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };

/** JSON log lines shaped like the workers' (pino) ones. */
function logger(level: string) {
  const min = LEVELS[level] ?? 30;
  return (lvl: 'info' | 'warn' | 'error', msg: string, extra: Record<string, unknown> = {}) => {
    if ((LEVELS[lvl] ?? 30) < min) return;
    const err = extra.err instanceof Error ? { err: { message: extra.err.message, stack: extra.err.stack } } : {};
    process.stdout.write(
      `${JSON.stringify({ level: LEVELS[lvl], time: Date.now(), pid: process.pid, role: 'primary', ...extra, ...err, msg })}\n`,
    );
  };
}

export async function startPrimary(config: Config, options: PrimaryOptions): Promise<Primary> {
  const log = logger(config.logLevel);
  const { store, bus, presence, limiter, search } = await createAdapters(config, {}, (err) =>
    log('error', 'event handler failed', { err }),
  );
  const relay = createOutboxRelay({
    outbox: store.outbox,
    bus,
    retainMs: config.outboxRetention * 1000,
    onError: (err) => log('warn', 'outbox relay failed (bus unavailable, or pruning the outbox), will retry', { err }),
  });
  const stopIndexer = await startSearchIndexer(bus, search, { minIntervalMs: config.searchBatchMs });
  const bootstrapKey = await bootstrapPlatformKey(store);
  const hub = createHub({ bus, presence, limiter, relay, onError: (err) => log('error', 'hub failed', { err }) });

  const children: (ChildProcess | null)[] = Array.from({ length: config.workers }, () => null);
  let port = config.port;
  let stopping = false;
  /** During the first start a dying worker fails the start instead of being restarted. */
  let starting = true;

  /** Forks worker `n` (1-based); resolves with its port once it listens, rejects if it exits first. */
  function spawn(n: number): Promise<number> {
    const child = fork(options.script, process.argv.slice(2), {
      env: {
        ...process.env,
        [WORKER_ENV]: String(n),
        NATTER_PORT: String(port),
        NATTER_NODE_ID: `${config.nodeId}-w${n}`,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children[n - 1] = child;
    // A message sent as the worker dies (SIGKILL) fails with EPIPE, reported as an 'error' event
    // on the child: unheard, it would take the primary down with the worker. Its exit follows
    // and restarts it.
    child.on('error', (err) => log('warn', 'worker channel failed', { worker: n, err }));
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      let ready = false;
      const detach = hub.attach(child, {
        onReady(listening) {
          ready = true;
          resolve(listening);
        },
      });
      child.once('exit', (code, signal) => {
        void detach();
        if (children[n - 1] === child) children[n - 1] = null;
        if (!ready) reject(new Error(`worker ${n} exited before listening (code ${code}, signal ${signal})`));
        if (stopping || starting) return;
        // Restart: at once after a long life, backing off when it keeps dying young.
        const delay = Date.now() - startedAt > 10_000 ? 100 : 2_000;
        log('error', 'worker died; restarting it', { worker: n, code, signal, restartInMs: delay });
        setTimeout(() => {
          if (stopping) return;
          spawn(n).then(
            () => log('info', 'worker restarted', { worker: n, pid: children[n - 1]?.pid }),
            // Its exit scheduled the next attempt.
            () => {},
          );
        }, delay);
      });
    });
  }

  async function stopWorkers(): Promise<void> {
    const timeoutMs = options.stopTimeoutMs ?? 30_000;
    await Promise.all(
      children.map(async (child) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  async function closeOwn(): Promise<void> {
    await relay.drain();
    await relay.close();
    await stopIndexer();
    await hub.close();
    await Promise.allSettled([bus.close(), search.close(), presence.close(), limiter.close()]);
    await store.close();
  }

  try {
    // The first worker takes the port (a free one when NATTER_PORT=0); the others join it.
    port = await spawn(1);
    await Promise.all(Array.from({ length: config.workers - 1 }, (_, i) => spawn(i + 2)));
    starting = false;
  } catch (err) {
    stopping = true;
    await stopWorkers();
    await closeOwn();
    throw err;
  }
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  log('info', 'workers listening', { workers: config.workers, port, pids: children.map((c) => c?.pid) });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    bootstrapKey,
    get pids() {
      return children.map((c) => c?.pid ?? 0);
    },
    async close() {
      if (stopping) return;
      stopping = true;
      await stopWorkers();
      await closeOwn();
    },
  };
}
