import { describe, expect, it } from 'vitest';
import { illFormedPath, mayHoldLoneSurrogate } from './unicode.js';

describe('illFormedPath', () => {
  it('is null for well-formed text, surrogate pairs included', () => {
    expect(illFormedPath({ text: 'a\u202Eb\u200B😀', list: ['\ud83d\ude00'], n: 1, x: null })).toBeNull();
    expect(illFormedPath('plain')).toBeNull();
  });

  it('names the first field holding a lone high or low surrogate', () => {
    expect(illFormedPath('\ud800')).toBe('');
    expect(illFormedPath({ text: 'ok', custom: { a: { b: 'x\udfff' } } })).toBe('custom.a.b');
    expect(illFormedPath({ attachments: [{ url: 'ok' }, { name: '\ud83d' }] })).toBe('attachments.1.name');
    expect(illFormedPath({ first: '\ud800', second: '\udc00' })).toBe('first');
  });

  it('names the object whose key holds one', () => {
    expect(illFormedPath({ custom: { 'k\ud800': 1 } })).toBe('custom');
  });

  it('walks 100k levels of nesting without overflowing the stack', () => {
    let deep: unknown = '\udc00';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(illFormedPath(deep)).toMatch(/^0(\.0)*$/);
  });
});

describe('mayHoldLoneSurrogate', () => {
  it('is true for JSON text with a surrogate escape, in either case, high or low', () => {
    for (const text of ['{"t":"\\ud800"}', '{"t":"\\uDFFF"}', '{"t":"\\uD83D\\uDE00"}', '{"\\udc00":1}']) {
      expect(mayHoldLoneSurrogate(text), text).toBe(true);
    }
  });

  it('is false for text that cannot parse to one: no escape, other escapes, astral characters as UTF-8', () => {
    for (const text of ['{"t":"plain"}', '{"t":"\\u00e9\\u202e\\ud7ff\\ue000"}', '{"t":"😀"}']) {
      expect(mayHoldLoneSurrogate(text), text).toBe(false);
      expect(illFormedPath(JSON.parse(text))).toBeNull();
    }
  });
});
