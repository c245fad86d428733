#!/usr/bin/env node
/**
 * `natter-server`: starts Natter from the environment. A bad setting stops it with one line that
 * names the variable; SIGTERM/SIGINT stop it gracefully. `natter-server reindex` rebuilds the
 * search index instead (see `cli/reindex-command.ts`).
 */
import { ConfigError, loadConfig } from './config.js';
import { createNatterServer } from './server.js';

async function main(): Promise<void> {
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
  const server = await createNatterServer(config);
  const url = await server.listen();
  process.stdout.write(`\nNatter is listening on ${url}  (REST: ${url}/v1, API docs: ${url}/docs)\n`);
  if (server.bootstrapKey) {
    const { id, secret } = server.bootstrapKey;
    process.stdout.write(
      `First start: platform admin key (shown only now, store it):\n  NATTER_ADMIN_KEY=${id}:${secret}\n` +
        `Create a tenant:  curl -u "${id}:${secret}" -H 'content-type: application/json' -d '{"name":"Acme"}' ${url}/v1/admin/tenants\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.http.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.http.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`natter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
