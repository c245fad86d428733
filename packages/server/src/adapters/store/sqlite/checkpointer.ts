/**
 * WAL checkpoints on a thread of their own.
 *
 * In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them back into the
 * database file and, with `synchronous = NORMAL`, syncs it to disk. SQLite runs one inside the
 * commit that takes the WAL past `wal_autocheckpoint` pages, so with the default every few
 * hundred messages one commit also waited for an fsync, with the event loop stopped behind it.
 *
 * Here a worker thread with its own connection runs a PASSIVE checkpoint every
 * {@link INTERVAL_MS}: it copies what no reader still needs, never waits for a lock, and the
 * fsync happens off the event loop. The store's connection keeps a high `wal_autocheckpoint`
 * ({@link FALLBACK_PAGES}) in case the thread falls behind or is gone.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LOWER_PRIORITY_SOURCE } from '../../background-thread.js';

/** How often the thread checkpoints. */
const INTERVAL_MS = 100;
/**
 * `wal_autocheckpoint` of the store's own connection while the thread runs (about 200 MB of WAL
 * with 4-KB pages).
 *
 * It is also how often the WAL starts over under continuous writes. SQLite restarts the WAL from
 * its first frame only in a write that begins when every frame has been copied back; the thread's
 * PASSIVE checkpoint never gets there while commits keep landing during it, so the store's own
 * checkpoint past this threshold is what restarts it: on the event loop, with an fsync of the WAL
 * and one of the database file (about 6 ms together here). At 2,000 messages a second (some
 * 10,000 WAL pages a second) that was once a second with 10,000 pages; with 50,000, every five.
 * Under lighter load the thread's checkpoint does complete and the WAL restarts small.
 */
export const FALLBACK_PAGES = 50_000;

/** The thread's program; modules come through `import()` (see `sqlite-fts.ts` for why). */
const SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
${LOWER_PRIORITY_SOURCE}
  const Driver = (await import(workerData.driver)).default;
  const db = new Driver(workerData.path);
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing this time: the next tick tries again, and the store's own connection
      // still checkpoints past its fallback threshold.
    }
  }, workerData.intervalMs);
  parentPort.on('message', () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
})();
`;

export interface Checkpointer {
  /** Stops the thread after closing its connection; call before closing the store's. */
  stop(): Promise<void>;
}

/** Starts checkpointing the database at `path` (a file, in WAL mode) on a thread. */
export function startCheckpointer(path: string, intervalMs = INTERVAL_MS): Checkpointer {
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: {
      driver: pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href,
      path,
      intervalMs,
    },
  });
  // Never what keeps the process alive.
  worker.unref();
  // A thread that failed leaves the store's own checkpoints (FALLBACK_PAGES) to do the work; the
  // operator is told once, on stderr, rather than never.
  worker.on('error', (err) =>
    process.emitWarning(
      `WAL checkpoint thread stopped (${err.message}); checkpoints now run inside a commit, every ${FALLBACK_PAGES} WAL pages`,
    ),
  );
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate();
    },
  };
}
