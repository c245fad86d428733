import { describe, expect, it } from 'vitest';
import { escapeHtml, queryWords } from '../ports/search.js';
import { foldedWords, foldText, highlight } from './highlight.js';

describe('foldText / foldedWords', () => {
  it('folds case and diacritics', () => {
    expect(foldText('Café Déjà Vu')).toBe('cafe deja vu');
    expect(foldText('ÀÉÎÕÜ ñ ç ø Å')).toBe('aeiou n c ø a');
    expect(foldText('İstanbul')).toBe('istanbul');
  });

  it('decomposes compatibility characters and folds decomposed input like composed input', () => {
    expect(foldText('ﬁne')).toBe('fine');
    expect(foldText('Cafe\u0301')).toBe(foldText('Caf\u00e9'));
  });

  it('folds the same letter the same way wherever it stands (final sigma)', () => {
    expect(foldText('ΟΔΟΣ')).toBe('οδοσ');
    expect(foldText('οδος')).toBe('οδοσ');
  });

  it('splits words on anything but letters and digits', () => {
    expect(foldedWords('Déjà-vu, CAFÉ! near(this) 42x')).toEqual(['deja', 'vu', 'cafe', 'near', 'this', '42x']);
    expect(foldedWords('  ...  ')).toEqual([]);
  });
});

describe('highlight', () => {
  it('marks whole words and leaves the rest', () => {
    expect(highlight('the quarterly report', ['report'])).toBe('the quarterly <mark>report</mark>');
    expect(highlight('report reports', ['report', 'x'])).toBe('<mark>report</mark> reports');
  });

  it('marks words starting with the last query word, whole', () => {
    expect(highlight('The quarterly report', ['quarter'])).toBe('The <mark>quarterly</mark> report');
    expect(highlight('lunch is ready, lunchtime', ['lunch', 'rea'])).toBe(
      '<mark>lunch</mark> is <mark>ready</mark>, lunchtime',
    );
  });

  it('marks the original characters of folded matches', () => {
    expect(highlight('Café Déjà Vu', ['cafe', 'deja'])).toBe('<mark>Café</mark> <mark>Déjà</mark> Vu');
    expect(highlight('CAFÉ au lait', queryWords('café'))).toBe('<mark>CAFÉ</mark> au lait');
    expect(highlight('ΟΔΟΣ', ['οδος'])).toBe('<mark>ΟΔΟΣ</mark>');
  });

  it('keeps combining marks inside the mark', () => {
    expect(highlight('Cafe\u0301 ok', ['cafe'])).toBe('<mark>Cafe\u0301</mark> ok');
  });

  it('maps positions through characters that fold to several (ligatures, astral letters)', () => {
    expect(highlight('ﬁne ﬁsh', ['fish'])).toBe('ﬁne <mark>ﬁsh</mark>');
    expect(highlight('𝐀𝐁 ab', ['ab'])).toBe('<mark>𝐀𝐁</mark> <mark>ab</mark>');
    expect(highlight('½ cup', ['2'])).toBe('<mark>½</mark> cup');
  });

  it('escapes HTML everywhere, inside marks too', () => {
    const text = `<script>alert("x")</script> deploy & done's`;
    const out = highlight(text, ['deploy']);
    expect(out).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; <mark>deploy</mark> &#38; done&#39;s');
    expect(highlight('<b>&amp;</b>', ['amp', 'b'])).toBe(
      '&#60;<mark>b</mark>&#62;&#38;<mark>amp</mark>;&#60;/<mark>b</mark>&#62;',
    );
    expect(out.replace(/<\/?mark>/g, '')).toBe(escapeHtml(text));
  });

  it('returns the escaped text when nothing matches or there are no words', () => {
    expect(highlight('a < b', [])).toBe('a &#60; b');
    expect(highlight('a < b', ['zzz'])).toBe('a &#60; b');
    expect(highlight('', ['a'])).toBe('');
  });

  it('treats query syntax as plain words', () => {
    expect(highlight('plain NOT words near(this)', queryWords('near(this'))).toBe(
      'plain NOT words <mark>near</mark>(<mark>this</mark>)',
    );
    expect(highlight('a.b', ['.*'])).toBe('a.b');
  });
});
