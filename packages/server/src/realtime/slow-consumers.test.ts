import { describe, expect, it } from 'vitest';
import { type Connection, topics } from './connection.js';
import { ConnectionRegistry } from './registry.js';
import { SlowConsumerSweep } from './slow-consumers.js';

/** A connection as the registry files it (the sweep only passes it on). */
function conn(id: string, channels: string[] = []): Connection {
  return {
    id,
    tenantId: 't',
    user: { id: `u-${id}` },
    channels: new Set(channels),
    pending: new Map(),
  } as unknown as Connection;
}

function world(count: number, slices: number) {
  const registry = new ConnectionRegistry();
  const conns = Array.from({ length: count }, (_, i) => conn(`c${i}`));
  for (const c of conns) registry.add(c);
  const sweep = new SlowConsumerSweep(registry, slices);
  const once = () => {
    const asked: string[] = [];
    sweep.sweep((c) => asked.push(c.id));
    return asked;
  };
  return { registry, conns, sweep, once };
}

function subscribe(registry: ConnectionRegistry, c: Connection, channelId: string): void {
  c.channels.add(channelId);
  registry.subscribed(topics.channel('t', channelId), c);
}

describe('SlowConsumerSweep', () => {
  it("asks a published channel's subscribers at the next sweep; with nothing sent, only the rolling slice", () => {
    // 30 connections in passes of 1,000 sweeps: the rolling slice is one connection per sweep.
    const { registry, conns, sweep, once } = world(30, 1000);
    subscribe(registry, conns[10] as Connection, 'news');
    subscribe(registry, conns[20] as Connection, 'news');
    subscribe(registry, conns[25] as Connection, 'other');
    sweep.published(topics.channel('t', 'news'));
    const asked = once();
    expect(asked).toEqual(expect.arrayContaining(['c10', 'c20']));
    expect(asked).not.toContain('c25');
    expect(asked).toHaveLength(3);
    expect(once()).toEqual(['c1']);
  });

  it('asks a connection that was sent something alone, once even when it is also a subscriber', () => {
    const { registry, conns, sweep, once } = world(3, 1000);
    subscribe(registry, conns[0] as Connection, 'news');
    sweep.touched(conns[0] as Connection);
    sweep.touched(conns[2] as Connection);
    sweep.published(topics.channel('t', 'news'));
    const asked = once();
    expect(asked.filter((id) => id === 'c0')).toHaveLength(1);
    expect(asked).toContain('c2');
    expect(new Set(asked).size).toBe(asked.length);
  });

  it('asks every connection within one rolling pass, a slice per sweep, when nothing marks them', () => {
    const { once } = world(10, 4);
    const sweeps = [once(), once(), once()];
    // ceil(10 / 4) = 3 per sweep: three sweeps cover nine, the fourth the last one and the pass ends.
    expect(sweeps.map((s) => s.length)).toEqual([3, 3, 3]);
    const fourth = once();
    expect(fourth).toHaveLength(1);
    expect(new Set([...sweeps.flat(), ...fourth])).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `c${i}`)));
    // The next pass starts over.
    expect(once()).toEqual(['c0', 'c1', 'c2']);
  });

  it('passes no connection that left, also in the middle of a rolling pass', () => {
    const { registry, conns, sweep, once } = world(6, 2);
    expect(once()).toEqual(['c0', 'c1', 'c2']);
    registry.remove(conns[3] as Connection);
    sweep.touched(conns[4] as Connection);
    const asked = once();
    expect(asked).not.toContain('c3');
    expect(asked).toEqual(expect.arrayContaining(['c4', 'c5']));
  });
});
