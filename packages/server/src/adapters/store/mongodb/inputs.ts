/**
 * Checks at the adapter boundary. The port's types already say "string", but a value that reaches
 * a MongoDB filter as an object would become an operator (`{ $gt: '' }` matches everything), so
 * every id is checked at run time before any query is built. Cheap, and it makes NoSQL injection
 * through this adapter impossible whatever a caller forgot to validate.
 */

/** Throws unless `value` is a string. */
export function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string, got ${typeName(value)}`);
  return value;
}

/** A string or null; `undefined` becomes null. */
export function strOrNull(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : str(value, field);
}

/** A string or undefined (an optional field left out). */
export function optStr(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : str(value, field);
}

export function strs(values: unknown, field: string): string[] {
  if (!Array.isArray(values)) throw new TypeError(`${field} must be an array of strings`);
  return values.map((v, i) => str(v, `${field}[${i}]`));
}

/** Throws unless `value` is a finite number. */
export function num(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${field} must be a finite number, got ${typeName(value)}`);
  }
  return value;
}

export function optNum(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : num(value, field);
}

/** A page size: a non-negative integer. */
export function limitOf(value: unknown): number {
  const n = num(value, 'limit');
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`limit must be a non-negative integer, got ${n}`);
  return n;
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
