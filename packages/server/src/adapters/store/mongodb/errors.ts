/**
 * Reading driver errors without importing the driver's classes (it is loaded lazily).
 *
 * FerretDB v1 reports duplicate keys with code 11000 but without `keyPattern`, so callers that
 * need to know which unique index refused a write read the conflicting document back instead.
 */

const DUPLICATE_KEY = 11000;

interface WriteErrorLike {
  code?: unknown;
  index?: unknown;
}

/** True for a duplicate-key error of a single write. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * For an ordered `insertMany` refused by a unique index: the index of the refused document (all
 * documents before it were inserted, none after it). Null for any other error.
 */
export function duplicateAt(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const raw = (err as { writeErrors?: unknown }).writeErrors;
  const list: WriteErrorLike[] = Array.isArray(raw) ? raw : raw ? [raw as WriteErrorLike] : [];
  const first = list[0];
  if (first && first.code === DUPLICATE_KEY && typeof first.index === 'number') return first.index;
  return null;
}

/**
 * For a bulk insert: the index of the first document the server refused for a reason other than a
 * duplicate key (a document it will refuse again, however often it is retried). Null otherwise.
 */
export function refusedAt(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const raw = (err as { writeErrors?: unknown }).writeErrors;
  const first: WriteErrorLike | undefined = Array.isArray(raw) ? raw[0] : (raw as WriteErrorLike | undefined);
  if (first && first.code !== DUPLICATE_KEY && typeof first.index === 'number') return first.index;
  return null;
}

/** The index of every document refused as a duplicate by an unordered bulk insert. */
export function duplicateIndexes(err: unknown): Set<number> | null {
  if (typeof err !== 'object' || err === null) return null;
  const raw = (err as { writeErrors?: unknown }).writeErrors;
  const list: WriteErrorLike[] = Array.isArray(raw) ? raw : raw ? [raw as WriteErrorLike] : [];
  if (list.length === 0 || list.some((w) => w.code !== DUPLICATE_KEY || typeof w.index !== 'number')) return null;
  return new Set(list.map((w) => w.index as number));
}
