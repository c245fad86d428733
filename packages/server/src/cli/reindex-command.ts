/**
 * `natter-server reindex [--clean]`: rebuilds the search index of the configured search engine
 * from the configured store (the same environment / `NATTER_CONFIG_FILE` as the server), then
 * exits. Progress goes to stderr (a bar on a terminal), the summary to stdout.
 *
 * Exit codes: 0 done, 1 failed, 64 bad arguments, 78 bad configuration.
 */

import { createMemoryBus } from '../adapters/bus/memory.js';
import { createMemoryPresence } from '../adapters/presence/memory.js';
import { createMemoryRateLimiter } from '../adapters/rate-limit/memory.js';
import { ConfigError, loadConfig } from '../config.js';
import { createProgress, type ProgressStream } from './progress.js';
import { reindex } from './reindex.js';

export const REINDEX_USAGE = `Usage: natter-server reindex [--clean]

Rebuilds the search index from the store, for every tenant. Safe to run while the server runs,
and to run again.

  --clean   empty each tenant's index first (also drops documents of messages no longer stored;
            that tenant's search is incomplete until it is done)
`;

export interface CommandIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
}

/** Runs the command; resolves with the process exit code. */
export async function runReindexCommand(
  args: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(REINDEX_USAGE);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--clean');
  if (unknown.length > 0) {
    io.stderr.write(`natter: reindex: unknown argument ${unknown[0]}\n${REINDEX_USAGE}`);
    return 64; // EX_USAGE
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`natter: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }

  // Only the store and the search index are needed: in-process stand-ins keep the other ports
  // from connecting to Redis or Kafka.
  const { createAdapters } = await import('../adapters/select.js');
  const unused = { bus: createMemoryBus(), presence: createMemoryPresence(), limiter: createMemoryRateLimiter() };
  let adapters: Awaited<ReturnType<typeof createAdapters>> | undefined;
  try {
    adapters = await createAdapters(config, unused);
    await reindex({
      store: adapters.store,
      search: adapters.search,
      clean: args.includes('--clean'),
      log: (line) => io.stdout.write(`${line}\n`),
      progress: createProgress(io.stderr, { label: 'reindex', unit: 'messages' }),
    });
    return 0;
  } catch (err) {
    io.stderr.write(`natter: reindex failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await Promise.allSettled([
      adapters?.search.close(),
      adapters?.store.close(),
      unused.bus.close(),
      unused.presence.close(),
      unused.limiter.close(),
    ]);
  }
}
