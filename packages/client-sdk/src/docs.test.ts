/** Every public export is documented in docs/sdk/README.md. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as sdk from './index.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it('documents every export of src/index.ts in docs/sdk/README.md', () => {
  const index = read('./index.ts');
  const names = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
    (m[1] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  expect(names.length).toBeGreaterThan(40);
  expect(index).not.toMatch(/export \*/);
  const docs = read('../../../docs/sdk/README.md');
  const missing = names.filter((name) => !docs.includes(`\`${name}`));
  expect(missing).toEqual([]);
  // Every runtime export is among them.
  for (const name of Object.keys(sdk)) expect(names).toContain(name);
});
