/**
 * Well-formed text. JSON may carry lone UTF-16 surrogates (`"\ud800"`), which are not Unicode:
 * no UTF-8 store can keep them, so SQLite, MongoDB or a search engine would store U+FFFD (or
 * bytes their readers refuse) instead of what was sent. Requests and frames carrying one are
 * refused naming the field, so text is either stored verbatim or not at all.
 *
 * @see docs/security.md (injection)
 */

/** A lone surrogate: with the `u` flag, a well-formed pair is one code point outside this range. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A JSON escape of a surrogate (`\ud800`…`\udfff`), in any case. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Whether JSON `text` decoded from UTF-8 can hold a lone surrogate once parsed: only through a
 * `\uD8xx`-style escape, since UTF-8 has none. One scan of the text, so {@link illFormedPath}
 * walks only the rare request that has such an escape (a well-formed pair has them too).
 */
export function mayHoldLoneSurrogate(text: string): boolean {
  return SURROGATE_ESCAPE.test(text);
}

/**
 * The dotted path (below the root, `''` for the root itself) of the first string, or object key,
 * in `value` holding a lone surrogate; null when all text is well-formed. A key names the object
 * holding it. Walks iteratively, so deeply nested input cannot overflow the stack.
 *
 * @example
 * illFormedPath({ custom: { k: '\ud800' } }); // 'custom.k'
 */
export function illFormedPath(value: unknown): string | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: join(path, String(i)) });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.some((k) => LONE_SURROGATE.test(k))) return path;
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push({ v: (v as Record<string, unknown>)[key], path: join(path, key) });
      }
    }
  }
  return null;
}
