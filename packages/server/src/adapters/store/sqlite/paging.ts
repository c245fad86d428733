/**
 * Page building and cursors.
 *
 * Pages ordered by id use the last id as the cursor. "My channels" is ordered by activity, so its
 * cursor carries the sort key too; it is opaque to clients (base64url JSON).
 */
import type { Page } from '../../../ports/store.js';

/**
 * Builds a page from up to `limit + 1` rows: the extra row only tells that a next page exists.
 * The cursor is the key of the last item returned.
 */
export function pageOf<T>(rows: T[], limit: number, key: (item: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: last === undefined ? null : key(last) };
}

/** Position in "my channels": the channel's lastMessageAt (null sorts last) and its id. */
export interface ActivityCursor {
  lastMessageAt: string | null;
  id: string;
}

export function encodeActivityCursor(c: ActivityCursor): string {
  return Buffer.from(JSON.stringify([c.lastMessageAt, c.id])).toString('base64url');
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
    return { lastMessageAt: parsed[0], id: parsed[1] };
  }
  throw new Error(`invalid channel cursor: ${cursor}`);
}
