import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_NICE } from './adapters/background-thread.js';

/**
 * Runs `lowerHelperThreads` in a fresh Node process (this one's threads are the test runner's) and
 * returns each thread's nice value before and after, by thread id, with the main thread's id.
 */
function niceAround(): {
  main: number;
  lowered: number;
  before: Record<string, number>;
  after: Record<string, number>;
} {
  // The module, bundled to JavaScript, defines lowerHelperThreads in the child's script.
  const built = buildSync({
    entryPoints: [fileURLToPath(new URL('./helper-threads.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
  });
  const module = (built.outputFiles[0]?.text ?? '').replace(/^export \{[^}]*\};?\s*$/m, '');
  const script = `
    ${module}
    const { readdirSync: list, readFileSync } = await import('node:fs');
    // Field 19 of stat(5), counted after the parenthesised command name.
    const nice = () => Object.fromEntries(list('/proc/self/task').map((tid) => {
      const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      return [tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    }));
    const before = nice();
    const lowered = lowerHelperThreads();
    console.log(JSON.stringify({ main: process.pid, lowered, before, after: nice() }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out);
}

describe('lowerHelperThreads', () => {
  it.runIf(process.platform === 'linux')(
    'puts every thread but the main one below it, and leaves the main thread as it was',
    () => {
      const { main, lowered, before, after } = niceAround();
      const helpers = Object.keys(before).filter((tid) => Number(tid) !== main);
      // V8's platform workers exist from the start (4 by default).
      expect(helpers.length).toBeGreaterThanOrEqual(4);
      expect(lowered).toBe(helpers.length);
      expect(after[main]).toBe(before[main]);
      for (const tid of helpers) expect(after[tid]).toBe(Math.min(19, (before[tid] as number) + BACKGROUND_NICE));
    },
  );
});
