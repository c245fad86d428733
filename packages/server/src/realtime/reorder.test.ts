import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Ordered, ReorderBuffer, ReorderBuffers } from './reorder.js';

/** A buffer over string items, with a fake store holding seqs 1..storeLast as `store:<seq>`. */
function setup(options: { gapMs?: number; maxHeld?: number; storeLast?: number; missing?: number[] } = {}) {
  const out: string[] = [];
  const fetches: [number, number][] = [];
  const errors: string[] = [];
  const store = { last: options.storeLast ?? 1000, missing: new Set(options.missing ?? []), fail: false };
  const buffer = new ReorderBuffer<string>({
    gapMs: options.gapMs ?? 100,
    maxHeld: options.maxHeld ?? 1000,
    deliver: (value) => out.push(value),
    fetch: async (after, upTo) => {
      fetches.push([after, upTo]);
      if (store.fail) throw new Error('store down');
      const items: { seq: number; value: string }[] = [];
      for (let seq = after + 1; seq <= Math.min(upTo, store.last); seq++)
        if (!store.missing.has(seq)) items.push({ seq, value: `store:${seq}` });
      return items;
    },
    onError: (err, what) => errors.push(`${what}: ${(err as Error).message}`),
  });
  const msg = (seq: number): Ordered<string> => ({ seq, value: `new:${seq}` });
  const about = (after: number, name: string): Ordered<string> => ({ after, value: name });
  return { buffer, out, fetches, errors, store, msg, about };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ReorderBuffer', () => {
  it('passes events that arrive in order straight through, synchronously, without timers or reads', () => {
    const { buffer, out, fetches, msg, about } = setup();
    buffer.join(0);
    buffer.push(msg(1));
    expect(out).toEqual(['new:1']);
    buffer.push(about(1, 'edit 1'));
    buffer.push({ value: 'member.added' });
    buffer.push(msg(2));
    expect(out).toEqual(['new:1', 'edit 1', 'member.added', 'new:2']);
    expect(vi.getTimerCount()).toBe(0);
    expect(buffer.size).toBe(0);
    expect(fetches).toEqual([]);
  });

  it('holds a seq that comes early and delivers it after the one before it', () => {
    const { buffer, out, fetches, msg } = setup();
    buffer.join(0);
    buffer.push(msg(1));
    buffer.push(msg(4));
    buffer.push(msg(3));
    expect(out).toEqual(['new:1']);
    expect(buffer.size).toBe(2);
    buffer.push(msg(2));
    expect(out).toEqual(['new:1', 'new:2', 'new:3', 'new:4']);
    expect(buffer.size).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(fetches).toEqual([]);
  });

  it('drops a seq already delivered (a redelivery, or one read from the store first)', () => {
    const { buffer, out, msg } = setup();
    buffer.join(0);
    buffer.push(msg(1));
    buffer.push(msg(2));
    buffer.push(msg(1));
    buffer.push(msg(2));
    expect(out).toEqual(['new:1', 'new:2']);
  });

  it('reads a hole from the store once it stays open past gapMs, then goes on with what it held', async () => {
    const { buffer, out, fetches, msg } = setup({ gapMs: 100 });
    buffer.join(0);
    buffer.push(msg(1));
    buffer.push(msg(4));
    await vi.advanceTimersByTimeAsync(99);
    expect(fetches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toEqual([[1, 4]]);
    // 2 and 3 from the store; 4 as it came from the bus.
    expect(out).toEqual(['new:1', 'store:2', 'store:3', 'new:4']);
    // The live 2 and 3, late, are dropped.
    buffer.push(msg(2));
    buffer.push(msg(3));
    buffer.push(msg(5));
    expect(out).toEqual(['new:1', 'store:2', 'store:3', 'new:4', 'new:5']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('restarts the wait when a hole closes and another opens, so each hole gets its full wait', async () => {
    const { buffer, out, fetches, msg } = setup({ gapMs: 100 });
    buffer.join(0);
    buffer.push(msg(2));
    await vi.advanceTimersByTimeAsync(80);
    buffer.push(msg(1));
    buffer.push(msg(4));
    await vi.advanceTimersByTimeAsync(80);
    expect(fetches).toEqual([]);
    buffer.push(msg(3));
    expect(out).toEqual(['new:1', 'new:2', 'new:3', 'new:4']);
    await vi.advanceTimersByTimeAsync(500);
    expect(fetches).toEqual([]);
  });

  it('keeps an edit, a deletion or a reaction behind the message it is about', async () => {
    const { buffer, out, msg, about } = setup();
    buffer.join(0);
    buffer.push(msg(1));
    // The edit of 3 (made through another node) arrives before 2 and 3 themselves.
    buffer.push(about(3, 'edit 3'));
    buffer.push(about(1, 'reaction 1'));
    expect(out).toEqual(['new:1']);
    buffer.push(msg(2));
    expect(out).toEqual(['new:1', 'new:2']);
    buffer.push(msg(3));
    expect(out).toEqual(['new:1', 'new:2', 'new:3', 'edit 3', 'reaction 1']);
  });

  it('never takes an edit of a message for a new message: edits of delivered messages pass', () => {
    const { buffer, out, msg, about } = setup();
    buffer.join(5);
    buffer.push(about(2, 'edit 2'));
    buffer.push(about(5, 'delete 5'));
    buffer.push(msg(6));
    expect(out).toEqual(['edit 2', 'delete 5', 'new:6']);
  });

  it('keeps other channel events after the messages that arrived before them, and before later ones', () => {
    const { buffer, out, msg } = setup();
    buffer.join(5);
    buffer.push(msg(7));
    buffer.push({ value: 'member.removed' });
    buffer.push(msg(8));
    buffer.push(msg(6));
    // 6 arrived after member.removed but comes before 7, which arrived before it; 8 after it.
    expect(out).toEqual(['new:6', 'new:7', 'member.removed', 'new:8']);
  });

  it('holds everything until the first subscriber joins, then drops what its start covers', () => {
    const { buffer, out, msg, about } = setup();
    buffer.push(msg(3));
    buffer.push(msg(5));
    buffer.push(about(3, 'edit 3'));
    buffer.push(msg(4));
    expect(out).toEqual([]);
    expect(buffer.position).toBeNull();
    buffer.join(3);
    expect(out).toEqual(['new:4', 'new:5', 'edit 3']);
    expect(buffer.position).toBe(5);
  });

  it('a subscriber ahead of what was delivered: caughtUp waits for the bus, else reads the store', async () => {
    const { buffer, out, fetches, msg } = setup({ gapMs: 100 });
    buffer.join(2);
    buffer.join(4); // its replay went up to 4
    let done: boolean | undefined;
    void buffer.caughtUp(4, 5000).then((v) => {
      done = v;
    });
    buffer.push(msg(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBeUndefined();
    buffer.push(msg(4));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    expect(out).toEqual(['new:3', 'new:4']);

    // Now the bus is silent (down): the store fills in after the wait.
    buffer.join(7);
    const late = buffer.caughtUp(7, 5000);
    await vi.advanceTimersByTimeAsync(100);
    expect(await late).toBe(true);
    expect(fetches).toEqual([[4, 7]]);
    expect(out).toEqual(['new:3', 'new:4', 'store:5', 'store:6', 'store:7']);
    expect(await buffer.caughtUp(6, 5000)).toBe(true);
  });

  it('caughtUp gives up after its timeout when the store cannot be read, and retries the read', async () => {
    const { buffer, errors, fetches, store, out } = setup({ gapMs: 100 });
    store.fail = true;
    buffer.join(0);
    buffer.join(2);
    const result = buffer.caughtUp(2, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await result).toBe(false);
    expect(fetches.length).toBeGreaterThanOrEqual(5);
    expect(errors[0]).toBe('fetch: store down');
    store.fail = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(out).toEqual(['store:1', 'store:2']);
  });

  it('goes past a seq the store does not have, rather than blocking the channel', async () => {
    const { buffer, out, msg, errors } = setup({ gapMs: 100, missing: [2] });
    buffer.join(0);
    buffer.push(msg(1));
    buffer.push(msg(3));
    await vi.advanceTimersByTimeAsync(100);
    expect(out).toEqual(['new:1', 'new:3']);
    expect(errors).toEqual([]);

    // Nothing at all in the store for the hole: given up after three reads.
    const empty = setup({ gapMs: 100, storeLast: 1 });
    empty.buffer.join(1);
    empty.buffer.join(4);
    empty.buffer.push(empty.about(4, 'edit 4'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(empty.out).toEqual(['edit 4']);
    expect(empty.fetches).toHaveLength(3);
    expect(empty.errors).toEqual(['fetch: seqs 2..4 not found in the store']);
    expect(empty.buffer.position).toBe(4);
  });

  it('bounds what it holds: beyond maxHeld seqs it reads the store at once', async () => {
    const { buffer, out, fetches, msg } = setup({ maxHeld: 3, gapMs: 10_000 });
    buffer.join(0);
    for (const seq of [2, 3, 4, 5, 6]) buffer.push(msg(seq));
    expect(buffer.size).toBe(3);
    await vi.advanceTimersByTimeAsync(0);
    // The read starts when 5 is not kept; 6, not kept either, is read right after.
    expect(fetches).toEqual([
      [0, 5],
      [5, 6],
    ]);
    expect(out).toEqual(['store:1', 'new:2', 'new:3', 'new:4', 'store:5', 'store:6']);
    expect(buffer.size).toBe(0);
  });

  it('bounds other held events too: beyond maxHeld the oldest goes out of order', () => {
    const { buffer, out, msg } = setup({ maxHeld: 2 });
    buffer.join(0);
    buffer.push(msg(2));
    buffer.push({ value: 'a' });
    buffer.push({ value: 'b' });
    buffer.push({ value: 'c' });
    expect(out).toEqual(['a']);
    buffer.push(msg(1));
    expect(out).toEqual(['a', 'new:1', 'new:2', 'b', 'c']);
  });

  it('reads a long hole page by page', async () => {
    const { buffer, out, fetches } = setup({ gapMs: 50, storeLast: 1200 });
    buffer.join(0);
    buffer.join(1200);
    const caught = buffer.caughtUp(1200, 5000);
    await vi.advanceTimersByTimeAsync(50);
    expect(await caught).toBe(true);
    expect(fetches).toEqual([
      [0, 500],
      [500, 1000],
      [1000, 1200],
    ]);
    expect(out).toHaveLength(1200);
    expect(out.at(-1)).toBe('store:1200');
  });

  it('close drops what it holds, stops its timer and ends waiters', async () => {
    const { buffer, out, msg } = setup();
    buffer.join(0);
    buffer.push(msg(2));
    const waiting = buffer.caughtUp(2, 5000);
    buffer.close();
    expect(await waiting).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    buffer.push(msg(1));
    expect(out).toEqual([]);
  });
});

describe('ReorderBuffers', () => {
  it('one buffer per key while open; forget closes it and the next open starts afresh', () => {
    const buffers = new ReorderBuffers<string>();
    const out: string[] = [];
    const create = () =>
      new ReorderBuffer<string>({
        gapMs: 100,
        maxHeld: 10,
        deliver: (v) => out.push(v),
        fetch: async () => [],
        onError: () => undefined,
      });
    const first = buffers.open('c/t/a', create);
    expect(buffers.open('c/t/a', create)).toBe(first);
    expect(buffers.get('c/t/b')).toBeUndefined();
    first.join(0);
    first.push({ seq: 2, value: 'two' });
    buffers.forget('c/t/a');
    expect(buffers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const again = buffers.open('c/t/a', create);
    expect(again).not.toBe(first);
    expect(again.position).toBeNull();
  });
});
