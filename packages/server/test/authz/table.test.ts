/**
 * docs/security.md and the tests agree: every row of the policy table and of the final rules has
 * a test named after its id (`[channel.read] …`), and every id a test names is in the docs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Row ids of the table between `<!-- name:start -->` and `<!-- name:end -->`. */
function tableIds(doc: string, name: string): string[] {
  const start = doc.indexOf(`<!-- ${name}:start -->`);
  const end = doc.indexOf(`<!-- ${name}:end -->`);
  expect(start, `docs/security.md has no ${name} table`).toBeGreaterThan(-1);
  return [...doc.slice(start, end).matchAll(/^\| `([a-z]+\.[A-Za-z]+)` \|/gm)].map((m) => m[1] as string);
}

/** Titles of the tests (it/test/describe) of the authorization suites and the ability unit tests. */
function testTitles(): string[] {
  const files = [
    ...readdirSync(new URL('packages/server/test/authz/', root))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `packages/server/test/authz/${f}`),
    ...readdirSync(new URL('packages/server/src/domain/', root))
      .filter((f) => f.startsWith('abilities') && f.endsWith('.test.ts'))
      .map((f) => `packages/server/src/domain/${f}`),
  ];
  return files.flatMap((f) =>
    [...read(f).matchAll(/\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*(['"`])(.*?)\1/gs)].map((m) => m[2] as string),
  );
}

const doc = read('docs/security.md');
const ids = [...tableIds(doc, 'policy-table'), ...tableIds(doc, 'final-rules')];
const titles = testTitles();

describe('docs/security.md policy table', () => {
  it('has rows', () => {
    expect(ids.length).toBeGreaterThan(30);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(ids)('row %s has a test named after it', (id) => {
    expect(
      titles.some((t) => t.includes(`[${id}]`)),
      `no test title contains [${id}]`,
    ).toBe(true);
  });

  it('every row id a test names is in the table', () => {
    const named = new Set(
      titles.flatMap((t) => [...t.matchAll(/\[([a-z]+\.[A-Za-z]+)\]/g)].map((m) => m[1] as string)),
    );
    expect([...named].filter((id) => !ids.includes(id))).toEqual([]);
  });
});
