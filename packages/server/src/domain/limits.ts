/**
 * Limits on what users store, checked before anything is written. The errors name the field.
 */
import { invalid } from '../errors.js';

export interface Limits {
  /** Longest message text in characters. */
  maxMessageLength: number;
  /** Largest custom object in bytes of JSON. */
  maxCustomBytes: number;
}

/** Deepest nesting allowed inside custom data. */
export const MAX_CUSTOM_DEPTH = 8;

/** Rejects custom data that is too deep or too large. Walks iteratively: no recursion to blow. */
export function checkCustom(field: string, value: unknown, limits: Limits): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_CUSTOM_DEPTH) throw invalid(field, `is nested deeper than ${MAX_CUSTOM_DEPTH} levels`);
    for (const child of Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  const bytes = Buffer.byteLength(JSON.stringify(value ?? {}));
  if (bytes > limits.maxCustomBytes) {
    throw invalid(field, `is ${bytes} bytes of JSON; the limit is ${limits.maxCustomBytes}`);
  }
}

/** Rejects text over the limit (counted in Unicode code points, as users count characters). */
export function checkText(field: string, text: string, limits: Limits): void {
  let length = 0;
  for (const _ of text) length++;
  if (length > limits.maxMessageLength) {
    throw invalid(field, `is ${length} characters long; the limit is ${limits.maxMessageLength}`);
  }
}
