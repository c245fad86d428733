/**
 * Page building and the "my channels" cursor.
 *
 * Pages ordered by id use the last id as the cursor. "My channels" is ordered by activity, so its
 * cursor carries the sort key too; it is opaque to clients (base64url JSON).
 */
import type { Page } from '../../../ports/store.js';

/** A page from up to `limit + 1` items: the extra one only tells that a next page exists. */
export function pageOf<T>(items: T[], limit: number, key: (item: T) => string): Page<T> {
  if (items.length <= limit) return { items, next: null };
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, next: last === undefined ? null : key(last) };
}

/** Position in "my channels": the channel's activity time (null sorts last) and its id. */
export interface ActivityCursor {
  activityAt: string | null;
  id: string;
}

export function encodeActivityCursor(c: ActivityCursor): string {
  return Buffer.from(JSON.stringify([c.activityAt, c.id])).toString('base64url');
}

/** Throws on a cursor this store did not produce. */
export function decodeActivityCursor(cursor: string): ActivityCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`invalid channel cursor: ${cursor}`);
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    (parsed[0] === null || typeof parsed[0] === 'string') &&
    typeof parsed[1] === 'string'
  ) {
    return { activityAt: parsed[0], id: parsed[1] };
  }
  throw new Error(`invalid channel cursor: ${cursor}`);
}
