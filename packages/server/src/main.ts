#!/usr/bin/env node
/**
 * `natter-server`: starts Natter from the environment. A bad setting stops it with one line that
 * names the variable; SIGTERM/SIGINT stop it gracefully. `natter-server reindex` rebuilds the
 * search index instead (see `cli/reindex-command.ts`).
 */
import { WORKER_ENV } from './cluster/worker.js';
import { ConfigError, loadConfig } from './config.js';
import { lowerHelperThreads } from './helper-threads.js';
import { createNatterServer } from './server.js';
import { stopOnSignals } from './shutdown.js';

function printStarted(url: string, bootstrapKey: { id: string; secret: string } | null): void {
  process.stdout.write(`\nNatter is listening on ${url}  (REST: ${url}/v1, API docs: ${url}/docs)\n`);
  if (bootstrapKey) {
    const { id, secret } = bootstrapKey;
    process.stdout.write(
      `First start: platform admin key (shown only now, store it):\n  NATTER_ADMIN_KEY=${id}:${secret}\n` +
        `Create a tenant:  curl -u "${id}:${secret}" -H 'content-type: application/json' -d '{"name":"Acme"}' ${url}/v1/admin/tenants\n\n`,
    );
  }
}

/** NATTER_WORKERS > 1: this process forks the workers and keeps the parts that must be single. */
async function runPrimary(config: ReturnType<typeof loadConfig>): Promise<void> {
  const { startPrimary } = await import('./cluster/primary.js');
  const primary = await startPrimary(config, { script: process.argv[1] as string });
  printStarted(primary.url, primary.bootstrapKey);
  stopOnSignals(() => primary.close(), {
    stopping: () => {},
    failed: (err) =>
      process.stderr.write(`natter: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`),
  });
}

async function main(): Promise<void> {
  // First, before the server starts worker threads of its own (they lower themselves).
  lowerHelperThreads();
  if (process.argv[2] === 'reindex') {
    const { runReindexCommand } = await import('./cli/reindex-command.js');
    process.exit(await runReindexCommand(process.argv.slice(3)));
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`natter: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  if (process.env[WORKER_ENV] && process.send) {
    const { runWorker } = await import('./cluster/worker.js');
    await runWorker(config);
    return;
  }
  if (config.workers > 1) {
    await runPrimary(config);
    return;
  }
  const server = await createNatterServer(config);
  const url = await server.listen();
  printStarted(url, server.bootstrapKey);
  stopOnSignals(() => server.close(), {
    stopping: (signal) => server.http.log.info({ signal }, 'shutting down'),
    failed: (err) => server.http.log.error({ err }, 'shutdown failed'),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`natter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
