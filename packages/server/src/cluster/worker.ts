/**
 * A worker process of `NATTER_WORKERS` > 1: the whole HTTP and realtime server on the shared port
 * (uWebSockets.js listens with SO_REUSEPORT, so the kernel spreads new connections over the
 * workers), with its own connection to the SQLite file, and the primary's bus, presence, rate
 * limits and outbox relay over IPC. It reads the search index the primary writes.
 */
import { workerAdapters } from '../adapters/select.js';
import type { Config } from '../config.js';
import { createNatterServer } from '../server.js';
import { stopOnSignals } from '../shutdown.js';
import { linkTo } from './link.js';
import type { IpcEndpoint } from './messages.js';
import { createRemoteRelay } from './remote-relay.js';

/** Set in a worker's environment by the primary: the worker's number (1…N). */
export const WORKER_ENV = 'NATTER_CLUSTER_WORKER';

export async function runWorker(config: Config): Promise<void> {
  const primary = process as IpcEndpoint;
  let logError = (err: unknown): void => {
    process.stderr.write(`natter worker: ${String(err)}\n`);
  };
  const server = await createNatterServer(config, {
    ...workerAdapters(primary, (err) => logError(err)),
    relay: createRemoteRelay(linkTo(primary)),
    searchIndexer: false,
  });
  logError = (err) => server.http.log.error({ err }, 'event handler failed');
  // Without the primary there is no relay, presence or rate limit: stop at once (the primary is
  // gone too, so nobody would restart this worker).
  process.on('disconnect', () => {
    server.http.log.error('primary process gone; worker exits');
    process.exit(1);
  });
  await server.listen();
  linkTo(primary).post({ t: 'ready', port: server.port });

  stopOnSignals(() => server.close(), {
    stopping: (signal) => server.http.log.info({ signal, worker: process.env[WORKER_ENV] }, 'worker shutting down'),
    failed: (err) => server.http.log.error({ err }, 'worker shutdown failed'),
  });
}
