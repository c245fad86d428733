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
 *
 * Under continuous writes the thread's checkpoint never copies the last frames (commits land
 * while it works), and SQLite starts the WAL over only in a write that begins when every frame
 * has been copied. So once the WAL holds {@link RESTART_PAGES}, the thread tells the store right
 * after a checkpoint, and the store's connection checkpoints the few frames committed since, on
 * the event loop, between two writes; its next write then starts the WAL over. That checkpoint
 * costs little because the thread has just copied and synced everything else: the same restart
 * at {@link FALLBACK_PAGES}, inside a commit, had up to 100 ms of frames to copy and sync.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LOWER_PRIORITY_SOURCE } from '../../background-thread.js';

/** How often the thread checkpoints. */
const INTERVAL_MS = 100;
/**
 * `wal_autocheckpoint` of the store's own connection while the thread runs (about 200 MB of WAL
 * with 4-KB pages): a checkpoint inside a commit, for when the thread is gone or the store could
 * not finish one on request ({@link RESTART_PAGES}).
 */
export const FALLBACK_PAGES = 50_000;
/**
 * WAL frames from which the thread asks the store to finish a checkpoint, so that the WAL starts
 * over (about 80 MB with 4-KB pages). At 2,000 messages a second (some 10,000 frames a second)
 * that is every two seconds, and each such checkpoint took the event loop 2.4–5 ms here, against
 * 10–15 ms for the one inside a commit at {@link FALLBACK_PAGES}, every five seconds.
 */
export const RESTART_PAGES = 20_000;

/** The thread's program; modules come through `import()` (see `sqlite-fts.ts` for why). */
const SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
${LOWER_PRIORITY_SOURCE}
  const Driver = (await import(workerData.driver)).default;
  const db = new Driver(workerData.path);
  // Asked again only after as many frames more: when the store cannot finish (another process
  // keeps committing, a reader holds an old snapshot), its checkpoint, with two fsyncs on the
  // event loop, should not come every interval.
  let askAt = workerData.restartPages;
  let lastLog = 0;
  const timer = setInterval(() => {
    try {
      const [state] = db.pragma('wal_checkpoint(PASSIVE)');
      if (!state) return;
      if (state.log < lastLog) askAt = workerData.restartPages; // The WAL started over.
      lastLog = state.log;
      if (state.log >= askAt) {
        askAt = state.log + workerData.restartPages;
        parentPort.postMessage('restart');
      }
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

export interface CheckpointerOptions {
  /** How often the thread checkpoints, in ms. @default INTERVAL_MS */
  intervalMs?: number;
  /** WAL frames from which {@link CheckpointerOptions.restart} is called. @default RESTART_PAGES */
  restartPages?: number;
  /**
   * Called on the event loop right after a checkpoint of the thread's found the WAL at
   * `restartPages` or more: the store's connection checkpoints what is left, so that its next
   * write starts the WAL over.
   */
  restart?: () => void;
}

/** Starts checkpointing the database at `path` (a file, in WAL mode) on a thread. */
export function startCheckpointer(path: string, options: CheckpointerOptions = {}): Checkpointer {
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: {
      driver: pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href,
      path,
      intervalMs: options.intervalMs ?? INTERVAL_MS,
      restartPages: options.restartPages ?? RESTART_PAGES,
    },
  });
  // Never what keeps the process alive.
  worker.unref();
  // The thread posts nothing else (the store's `stop` goes the other way).
  if (options.restart) worker.on('message', options.restart);
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
