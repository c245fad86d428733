/**
 * Forks `hub-host.ts` (bundled with esbuild: a forked process cannot load TypeScript) and resolves
 * once it is ready; the returned child process is the IPC endpoint the adapters under test use.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface HubProcess {
  endpoint: ChildProcess;
  stop(): Promise<void>;
}

export async function startHubProcess(): Promise<HubProcess> {
  const outfile = join(here, `.hub-${process.pid}-${randomBytes(3).toString('hex')}.mjs`);
  await build({
    entryPoints: [join(here, 'hub-host.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  const child = fork(outfile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`hub process exited with ${code}`)));
  });
  return {
    endpoint: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.disconnect();
        await exited;
      }
      await rm(outfile, { force: true });
    },
  };
}
