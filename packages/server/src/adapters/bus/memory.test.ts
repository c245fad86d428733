import { describe, expect, it } from 'vitest';
import { fakeEvent, runBusContract } from '../../../test/contracts/bus.contract.js';
import type { OutboxEvent } from '../../domain/events.js';
import { createMemoryBus } from './memory.js';

runBusContract({ name: 'memory', crossNode: false, create: async () => createMemoryBus() });

describe('memory bus: consumeBatches', () => {
  it('hands over what queued up while the previous batch was handled, in order, each event once', async () => {
    const bus = createMemoryBus();
    const batches: number[][] = [];
    let release: () => void = () => {};
    const first = new Promise<void>((r) => {
      release = r;
    });
    const stop = await bus.consumeBatches?.('g', async (events: OutboxEvent[]) => {
      batches.push(events.map((e) => (e.payload as { message: { seq: number } }).message.seq));
      if (batches.length === 1) await first;
    });
    await bus.publish([fakeEvent('t', 'c', 1)]);
    await new Promise((r) => setImmediate(r));
    await bus.publish([fakeEvent('t', 'c', 2), fakeEvent('t', 'c', 3)]);
    await bus.publish([fakeEvent('t', 'c', 4)]);
    release();
    await stop?.();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    await bus.close();
  });

  it('retries a failed batch whole, then goes on with the next', async () => {
    const bus = createMemoryBus();
    const seen: number[][] = [];
    let failures = 1;
    const stop = await bus.consumeBatches?.('g', async (events: OutboxEvent[]) => {
      seen.push(events.map((e) => (e.payload as { message: { seq: number } }).message.seq));
      if (failures-- > 0) throw new Error('index unavailable');
    });
    await bus.publish([fakeEvent('t', 'c', 1), fakeEvent('t', 'c', 2)]);
    await stop?.();
    expect(seen).toEqual([
      [1, 2],
      [1, 2],
    ]);
    await bus.close();
  });
});
