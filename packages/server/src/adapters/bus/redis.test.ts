import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeEvent, runBusContract } from '../../../test/contracts/bus.contract.js';
import type { OutboxEvent } from '../../domain/events.js';
import type { EventBus } from '../../ports/bus.js';
import { createRedisBus, type RedisBusOptions } from './redis.js';

// Without Redis this file fails, it never skips: CI starts Redis with scripts/engines.sh.
const url = process.env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6390';
const run = `natter-test-${process.pid}-${Date.now().toString(36)}`;
const names = { stream: `${run}:events`, signalChannel: `${run}:signals` };

// The suite's own view of Redis (connects on first use, never retries).
const raw = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
afterAll(async () => {
  if (raw.status === 'ready') await raw.del(names.stream);
  raw.disconnect();
});

runBusContract({ name: 'redis', crossNode: true, create: () => createRedisBus({ url, ...names }) });

describe('redis bus: pending entries', () => {
  const open: EventBus[] = [];
  const node = async (options: Partial<RedisBusOptions> = {}) => {
    const bus = await createRedisBus({ url, ...names, ...options });
    open.push(bus);
    return bus;
  };
  const unique = (what: string) => `${what}-${Math.random().toString(36).slice(2)}`;
  afterAll(async () => {
    await Promise.all(open.map((b) => b.close()));
  });

  it('hands the entries a stalled (or crashed) node holds to another node after claimIdleMs', async () => {
    const [tenant, group] = [unique('t'), unique('g')];
    const stalled = await node({ claimIdleMs: 500 });
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const atStalled: number[] = [];
    const stopStalled = await stalled.consume(group, async (e) => {
      if (e.tenantId !== tenant) return;
      atStalled.push(e.id);
      await gate;
    });
    const events = Array.from({ length: 5 }, (_, i) => fakeEvent(tenant, 'c', i + 1));
    await stalled.publish(events);
    await until(() => atStalled.length === 1, 'the stalled node to take the batch');

    const handled: number[] = [];
    const stopRescuer = await (await node({ claimIdleMs: 500 })).consume(group, async (e) => {
      if (e.tenantId === tenant) handled.push(e.id);
    });
    await until(() => handled.length === 5, 'the reclaimed entries');
    expect(handled).toEqual(events.map((e) => e.id));
    expect(atStalled).toHaveLength(1);
    const stopping = stopStalled();
    release();
    await stopping;
    await stopRescuer();
    expect(await raw.xpending(names.stream, group)).toEqual([0, null, null, null]);
  });

  it('reports and drops an event whose handler still fails after maxDeliveries', async () => {
    const [tenant, group] = [unique('t'), unique('g')];
    const reported: unknown[] = [];
    const bus = await node({
      claimIdleMs: 200,
      attempts: 1,
      maxDeliveries: 2,
      onError: (err, item) => item && reported.push(err),
    });
    const [poison, fine] = [fakeEvent(tenant, 'c', 1), fakeEvent(tenant, 'c', 2)];
    let tries = 0;
    const handled: OutboxEvent[] = [];
    const stop = await bus.consume(group, async (e) => {
      if (e.tenantId !== tenant) return;
      if (e.id === poison.id) {
        tries++;
        throw new Error('poison');
      }
      handled.push(e);
    });
    await bus.publish([poison, fine]);
    await until(() => reported.length === 3, 'two failed deliveries and the drop');
    expect(handled.map((e) => e.id)).toEqual([fine.id]);
    expect(tries).toBe(2);
    expect(String(reported[2])).toMatch(/dropped event .* after 2 deliveries/);
    await new Promise((r) => setTimeout(r, 600));
    expect(tries).toBe(2);
    expect(await raw.xpending(names.stream, group)).toEqual([0, null, null, null]);
    await stop();
  });

  it('closes promptly, interrupting its blocking reads', async () => {
    const bus = await createRedisBus({ url, ...names });
    bus.subscribe(() => {});
    await bus.consume(unique('g'), async () => {});
    const start = Date.now();
    await bus.close();
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
