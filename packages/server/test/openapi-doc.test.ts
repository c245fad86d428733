import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONFIG_VARS } from '../src/config.js';
import { createNatterServer, loadConfig } from '../src/index.js';

const root = new URL('../../../', import.meta.url);

it('docs/openapi.json matches the route schemas (run `npm run docs:openapi` after changing a route)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'natter-openapi-'));
  const server = await createNatterServer(loadConfig({ NATTER_DATA_DIR: dir, NATTER_LOG_LEVEL: 'silent' }));
  try {
    const committed = JSON.parse(readFileSync(new URL('docs/openapi.json', root), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(server.http.swagger())));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the README configuration table lists every variable with its default', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  for (const [name, spec] of Object.entries(CONFIG_VARS)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    expect(row, `README.md has no row for ${name}`).toBeDefined();
    expect(row).toContain(`\`${String(spec.default)}\``);
  }
});
