import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 60, write: (c: string) => chunks.push(c) } };
}

describe('progress', () => {
  it('prints one plain line per 10% when not on a terminal', () => {
    const { chunks, stream } = sink(false);
    const p = createProgress(stream, { label: 'reindex', unit: 'messages' });
    p.start(200);
    for (let i = 0; i < 20; i++) p.advance(10);
    p.finish();
    expect(chunks).toEqual([
      'reindex: 0% (0/200 messages)\n',
      ...Array.from({ length: 10 }, (_, i) => `reindex: ${(i + 1) * 10}% (${(i + 1) * 20}/200 messages)\n`),
    ]);
  });

  it('shows 100% for an empty job and never more than 100%', () => {
    const { chunks, stream } = sink(false);
    const p = createProgress(stream, { label: 'x' });
    p.start(0);
    p.finish();
    expect(chunks).toEqual(['x: 100% (0/0 items)\n']);

    const more = sink(false);
    const q = createProgress(more.stream, { label: 'x' });
    q.start(2);
    q.advance(3);
    q.finish();
    expect(more.chunks).toEqual(['x: 0% (0/2 items)\n', 'x: 100% (3/3 items)\n']);
  });

  it('redraws a bar in place on a terminal, at most every redrawMs, and ends the line', () => {
    const { chunks, stream } = sink(true);
    let clock = 0;
    const p = createProgress(stream, { label: 'reindex', unit: 'messages', now: () => clock });
    p.start(4);
    p.advance(1); // too soon after start: not drawn
    clock = 150;
    p.advance(1);
    p.finish();
    expect(chunks).toHaveLength(4);
    expect(chunks.slice(0, 3).every((c) => c.startsWith('\rreindex ['))).toBe(true);
    expect(chunks[1]).toMatch(/\[#+-+\] {2}50% 2\/4 messages$/);
    expect(chunks[2]).toMatch(/\[#+\] 100% 4\/4 messages$/);
    expect(chunks[3]).toBe('\n');
  });
});
