/**
 * Every error code is documented in docs/errors.md, with the registry's status and retryability.
 */
import { readFileSync } from 'node:fs';
import { ERRORS, type ErrorCode } from '@natter/protocol';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

/** Rows of the table: `| \`CODE\` | status | yes/no | meaning | cause |`. */
const rows = new Map(
  [
    ...doc.matchAll(
      /^\|\s*`(NATTER_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(yes|no)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$/gm,
    ),
  ].map((m) => [
    m[1] as string,
    { status: Number(m[2]), retryable: m[3] === 'yes', meaning: m[4] as string, cause: m[5] as string },
  ]),
);

describe('docs/errors.md', () => {
  it.each(Object.keys(ERRORS) as ErrorCode[])('documents %s with its status and retryability', (code) => {
    const row = rows.get(code);
    expect(row, `${code} has no row in docs/errors.md`).toBeDefined();
    expect({ status: row?.status, retryable: row?.retryable }).toEqual({
      status: ERRORS[code].status,
      retryable: ERRORS[code].retryable,
    });
    expect(row?.meaning.length).toBeGreaterThan(10);
    expect(row?.cause.length).toBeGreaterThan(10);
  });

  it('documents no code the registry does not have', () => {
    expect([...rows.keys()].filter((code) => !Object.hasOwn(ERRORS, code))).toEqual([]);
  });
});
