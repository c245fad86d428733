/**
 * Builds the Natter server of a committed git ref in a private copy (git archive, never a
 * worktree), so a benchmark can run against a consistent commit while others edit the working
 * tree. node_modules entries are symlinked from the checkout; workspace packages point into the
 * copy. The copy lives in ${NATTER_BENCH_HOME:-~/.cache/natter-bench}/src-<sha> and is reused.
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const cacheDir = () => process.env.NATTER_BENCH_HOME || join(homedir(), '.cache', 'natter-bench');

/** @returns {{ sha: string, dir: string, main: string }} */
export function serverFromRef(root, ref, log) {
  const sha = execFileSync('git', ['-C', root, 'rev-parse', '--verify', `${ref}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  const dir = join(cacheDir(), `src-${sha.slice(0, 12)}`);
  const main = join(dir, 'packages', 'server', 'dist', 'main.js');
  if (existsSync(main)) return { sha, dir, main };
  log(`building the server of ${ref} (${sha.slice(0, 12)}) in ${dir}…`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git -C '${root}' archive ${sha} | tar -x -C '${dir}'`, { stdio: ['ignore', 'ignore', 'pipe'] });
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '@natter'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@natter') continue;
    symlinkSync(join(root, 'node_modules', name), join(nm, name));
  }
  for (const name of readdirSync(join(root, 'node_modules', '@natter'))) {
    // Relative targets (../../packages/x) now resolve inside the copy.
    symlinkSync(readlinkSync(join(root, 'node_modules', '@natter', name)), join(nm, '@natter', name));
  }
  try {
    execFileSync('npx', ['turbo', 'run', 'build', '--filter=@natter/server...', '--output-logs=errors-only'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 600000,
    });
  } catch (err) {
    rmSync(join(dir, 'packages', 'server', 'dist'), { recursive: true, force: true });
    throw new Error(
      `building ${ref} failed: ${String(err.stderr ?? err.message)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ')}`,
    );
  }
  if (!existsSync(main)) throw new Error(`building ${ref} produced no ${main}`);
  return { sha, dir, main };
}
