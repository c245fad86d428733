import { describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter.js';
import { createStore } from './store.js';

describe('store', () => {
  it('replaces the snapshot on change and notifies listeners', () => {
    const store = createStore({ n: 0 }, () => {});
    const first = store.getSnapshot();
    const listener = vi.fn();
    const off = store.subscribe(listener);
    store.update((s) => ({ n: s.n + 1 }));
    expect(store.getSnapshot()).toEqual({ n: 1 });
    expect(store.getSnapshot()).not.toBe(first);
    expect(first).toEqual({ n: 0 });
    expect(listener).toHaveBeenCalledTimes(1);
    off();
    store.update((s) => ({ n: s.n + 1 }));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('does not notify when the update returns the same snapshot', () => {
    const store = createStore({ n: 0 }, () => {});
    const listener = vi.fn();
    store.subscribe(listener);
    store.update((s) => s);
    expect(listener).not.toHaveBeenCalled();
  });

  it('a throwing listener does not stop the others', () => {
    const errors: unknown[] = [];
    const store = createStore({ n: 0 }, (err) => errors.push(err));
    const second = vi.fn();
    store.subscribe(() => {
      throw new Error('boom');
    });
    store.subscribe(second);
    store.update(() => ({ n: 1 }));
    expect(second).toHaveBeenCalled();
    expect(errors).toHaveLength(1);
  });
});

describe('emitter', () => {
  it('calls listeners of the event in order and removes them', () => {
    const emitter = new Emitter<{ a: number; b: string }>();
    const seen: string[] = [];
    const off = emitter.on('a', (n) => seen.push(`1:${n}`));
    emitter.on('a', (n) => seen.push(`2:${n}`));
    emitter.on('b', (s) => seen.push(`b:${s}`));
    emitter.emit('a', 1);
    off();
    emitter.emit('a', 2);
    expect(seen).toEqual(['1:1', '2:1', '2:2']);
  });

  it('reports listener errors and keeps going', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<{ a: number }>((err) => errors.push(err));
    const after = vi.fn();
    emitter.on('a', () => {
      throw new Error('x');
    });
    emitter.on('a', after);
    emitter.emit('a', 1);
    expect(after).toHaveBeenCalledWith(1);
    expect(errors).toHaveLength(1);
  });
});
