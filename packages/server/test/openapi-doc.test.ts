import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_FRAME_TYPES, CloseCode } from '@natter/protocol';
import { expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the repository's scripts, without type declarations
import { withRoutesTable } from '../../../scripts/rest-routes.mjs';
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

it('docs/rest.md lists every route of docs/openapi.json (run `npm run docs:openapi`)', () => {
  const page = readFileSync(new URL('docs/rest.md', root), 'utf8');
  const doc = JSON.parse(readFileSync(new URL('docs/openapi.json', root), 'utf8'));
  expect(page).toBe(withRoutesTable(page, doc));
});

it('docs/protocol.md describes every request frame, event and close code of the protocol package', () => {
  const page = readFileSync(new URL('docs/protocol.md', root), 'utf8');
  const frames = readFileSync(new URL('packages/protocol/src/frames.ts', root), 'utf8');
  // Event names are the keys of the EventData interface (a type only, so read from its source).
  const eventData = /export interface EventData \{([\s\S]*?)\n\}/.exec(frames)?.[1] ?? '';
  const events = [...eventData.matchAll(/^ {2}'([a-z.]+)':/gm)].map((m) => m[1]);
  expect(events.length).toBeGreaterThan(10);
  const missing = [
    ...CLIENT_FRAME_TYPES.filter((t) => !page.includes(`\`${t}\``)),
    ...events.filter((e) => !page.includes(`\`${e}\``)),
    ...Object.values(CloseCode)
      .filter((c) => !page.includes(`| ${c} |`))
      .map(String),
  ];
  expect(missing, 'not in docs/protocol.md').toEqual([]);
});
