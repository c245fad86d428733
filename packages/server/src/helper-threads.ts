/**
 * Puts the runtime's own helper threads below the event loop.
 *
 * Besides the main thread, a Node process starts V8's platform workers (`--v8-pool-size`, 4 by
 * default: they mark the old generation concurrently, help scavenges and compile code in the
 * background) and, on first use, libuv's thread pool (file system, DNS). They run at the
 * process's priority, so on a machine short of cores a mark-compact's concurrent marking took the
 * CPU from the thread that serves connections: in the small-channels benchmark every
 * mark-compact (one every few seconds) came with event-loop stalls of 20–40 ms, over half of
 * which the main thread spent runnable and waiting for a core (bench/README, "The helpers of
 * mark-compacts").
 *
 * Lowered by {@link BACKGROUND_NICE} steps of `nice`, they use what the event loop leaves free; a
 * collection's marking takes longer in wall time, and the old generation grows a little more
 * meanwhile. With idle cores nothing changes. Linux only (a thread's id is its entry in
 * `/proc/self/task`, and `setpriority` on that id changes that thread alone); elsewhere nothing
 * happens.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { BACKGROUND_NICE } from './adapters/background-thread.js';

/**
 * Lowers every thread of the process but the main one by `steps` of `nice` (at most to 19), and
 * returns how many it lowered. Call it once, when the process starts, before it starts threads of
 * its own (worker threads lower themselves and would be lowered twice).
 */
export function lowerHelperThreads(steps = BACKGROUND_NICE): number {
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    return 0; // No /proc: not Linux.
  }
  let lowered = 0;
  for (const tid of tids) {
    if (tid === process.pid) continue;
    try {
      os.setPriority(tid, Math.min(19, os.getPriority(tid) + steps));
      lowered++;
    } catch {
      // The thread ended meanwhile, or this is not permitted: it keeps the process's priority.
    }
  }
  return lowered;
}
