/**
 * Source text for the worker threads that do background work (the search index, WAL checkpoints):
 * run first in their program, it lowers the thread's own scheduling priority by
 * {@link BACKGROUND_NICE} steps of `nice`.
 *
 * Everything a client waits for passes through the main thread (the event loop), which is the one
 * that bounds the server under load; on a busy machine the background threads take turns on the
 * same cores with it. Behind it, they use what it leaves free and catch up in larger batches. With
 * idle cores they run as before. On Linux a thread's id is the last part of `/proc/thread-self`,
 * and `setpriority` on that id changes only that thread; elsewhere nothing changes.
 */

/** How many steps of `nice` the background threads sit below the process (at most 19 in all). */
export const BACKGROUND_NICE = 5;

export const LOWER_PRIORITY_SOURCE = `
  try {
    const { readlinkSync } = await import('node:fs');
    const os = await import('node:os');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + ${BACKGROUND_NICE}));
  } catch {
    // No /proc (not Linux), or not permitted: the thread keeps the process's priority.
  }
`;
