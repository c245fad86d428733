/**
 * The browser loads the SDK's ESM build (`packages/client-sdk/dist/index.js`), not its sources:
 * build it (protocol first, it is bundled in) when it is missing or older than a source file.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The SDK's ESM build, as the example's import map names it. */
export const sdkBuild = join(repo, 'packages/client-sdk/dist/index.js');

/** The sources the build is made of. */
const SOURCES = ['packages/client-sdk/src', 'packages/protocol/src'].map((p) => join(repo, p));

/** Newest modification time under `dir` (recursively), in ms. */
async function newest(dir: string): Promise<number> {
  let max = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, await newest(path));
    else if (entry.isFile()) max = Math.max(max, (await stat(path)).mtimeMs);
  }
  return max;
}

async function mtime(file: string): Promise<number | null> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

function npmBuild(workspace: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['run', 'build', '-w', workspace],
      { cwd: repo, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve();
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
        reject(
          new Error(
            `Building the SDK for the browser failed (npm run build -w ${workspace}${err.killed ? `, killed after ${timeoutMs} ms` : ''}):\n${output}`,
            { cause: err },
          ),
        );
      },
    );
  });
}

/**
 * Builds `@natter/protocol` then `@natter/client` unless `dist/index.js` is newer than every
 * source file; throws with the build's output when it fails.
 *
 * @returns whether a build ran
 */
export async function ensureSdkBuild(timeoutMs = 120_000): Promise<boolean> {
  if (await upToDate()) return false;
  // Test files run in parallel processes: one builds (tsup empties dist/ first), the others wait.
  const lock = join(repo, 'packages/client-sdk/.build-lock');
  const deadline = Date.now() + 2 * timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`${lock} held for too long: remove it if no build is running.`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (await upToDate()) return false;
    // In order: the client bundles the protocol's build (tsup noExternal).
    await npmBuild('@natter/protocol', timeoutMs);
    await npmBuild('@natter/client', timeoutMs);
    if ((await mtime(sdkBuild)) === null) throw new Error(`The SDK build succeeded but ${sdkBuild} is missing.`);
    return true;
  } finally {
    await rmdir(lock);
  }
}

async function upToDate(): Promise<boolean> {
  const built = await mtime(sdkBuild);
  if (built === null) return false;
  return built >= Math.max(...(await Promise.all(SOURCES.map(newest))));
}
