/**
 * Text folding and search highlights, computed in the server rather than by the search engine, so
 * every adapter matches and highlights the same way: a word is a run of letters and digits
 * (the tokens of `queryWords` and of SQLite's unicode61), compared after folding case and
 * diacritics. Engines that cannot fold (the cut-down Elasticsearch, which lacks `asciifolding`)
 * index the output of {@link foldedWords} and get the highlight from {@link highlight}.
 *
 * Pure functions, no I/O.
 *
 * @see docs/engines.md "Elasticsearch search"
 */

/** A word: letters and digits, as in `queryWords`. */
const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;

/**
 * Folds one code point: compatibility decomposition (NFKD) then lowercase (in that order, as
 * `𝐀` only decomposes to an uppercase `A`), combining marks removed.
 * Folding code point by code point (never a whole string) keeps the result independent of
 * context: JavaScript lowercases a final capital sigma by its position, so `ς` is mapped to `σ`.
 */
function foldCodePoint(c: string): string {
  return c.normalize('NFKD').toLowerCase().normalize('NFKD').replace(MARKS, '').replaceAll('ς', 'σ');
}

/**
 * Folds case and diacritics: `Café Déjà` becomes `cafe deja`. Compatibility characters are
 * decomposed (`ﬁ` becomes `fi`).
 * @example foldText('Ÿ Straße') // 'y straße'
 */
export function foldText(text: string): string {
  let out = '';
  for (const c of text) out += foldCodePoint(c);
  return out;
}

/**
 * The folded words of a text, in order: what an engine without folding indexes (joined by
 * spaces, with a whitespace analyzer) and searches for.
 * @example foldedWords('Déjà-vu, CAFÉ!') // ['deja', 'vu', 'cafe']
 */
export function foldedWords(text: string): string[] {
  return foldText(text).match(WORD) ?? [];
}

/** Same output as `escapeHtml` of the search port; kept here so the domain imports no port. */
function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Marks the words of `text` that match the query: a word matches when its folded form equals one
 * of `words` (folded first), or starts with the last of them (the last query word is a prefix, as
 * the user may still be typing). Whole words are marked, even for a prefix match. Everything
 * outside the `<mark>` tags is HTML-escaped, so the result can only contain our own tags.
 *
 * Positions are mapped from the folded text back to the original, so the marked parts are the
 * original characters (with their accents and case), including combining marks that follow them.
 *
 * @param words Query words as typed (e.g. from `queryWords`); empty means nothing is marked.
 * @example highlight('Café <b>', ['cafe']) // '<mark>Café</mark> &#60;b&#62;'
 */
export function highlight(text: string, words: readonly string[]): string {
  const query = words.flatMap(foldedWords);
  const prefix = query.at(-1);
  if (prefix === undefined) return escapeText(text);
  const exact = new Set(query);

  // folded[i] came from text.slice(start[i], end[i]).
  let folded = '';
  const start: number[] = [];
  const end: number[] = [];
  let pos = 0;
  for (const c of text) {
    const f = foldCodePoint(c);
    if (f === '' && end.length > 0 && end[end.length - 1] === pos) {
      // A combining mark (or other code point that folds to nothing) sticks to what precedes it.
      end[end.length - 1] = pos + c.length;
    }
    for (let i = 0; i < f.length; i++) {
      start.push(pos);
      end.push(pos + c.length);
    }
    folded += f;
    pos += c.length;
  }

  let out = '';
  let copied = 0;
  for (const m of folded.matchAll(WORD)) {
    const word = m[0];
    if (!exact.has(word) && !word.startsWith(prefix)) continue;
    const from = start[m.index] ?? 0;
    const to = end[m.index + word.length - 1] ?? from;
    // Two folded words can come from one original character (`½` folds to `1⁄2`): never mark twice.
    if (from < copied) continue;
    out += `${escapeText(text.slice(copied, from))}<mark>${escapeText(text.slice(from, to))}</mark>`;
    copied = to;
  }
  return out + escapeText(text.slice(copied));
}
