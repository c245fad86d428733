#!/usr/bin/env node
// Writes docs/openapi.json from the route schemas of the built server (`npm run docs:openapi`),
// and the route table of docs/rest.md from it.
// A test (packages/server/test/openapi-doc.test.ts) fails when the committed file drifts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNatterServer, loadConfig } from '../packages/server/dist/index.js';
import { withRoutesTable } from './rest-routes.mjs';

const dir = mkdtempSync(join(tmpdir(), 'natter-openapi-'));
const server = await createNatterServer(loadConfig({ NATTER_DATA_DIR: dir, NATTER_LOG_LEVEL: 'silent' }));
const doc = server.http.swagger();
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
const restPage = new URL('../docs/rest.md', import.meta.url);
writeFileSync(restPage, withRoutesTable(readFileSync(restPage, 'utf8'), doc));
await server.close();
rmSync(dir, { recursive: true, force: true });
console.log(`docs/openapi.json: ${Object.keys(doc.paths ?? {}).length} paths`);
