/**
 * The event-bus contract: every EventBus adapter passes this suite against its real engine.
 *
 * `create()` returns a new bus instance; for adapters over a shared engine (Kafka, Redis) two
 * instances are two nodes, and `crossNode: true` runs the tests that need that.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/domain/events.js';
import type { EphemeralSignal, EventBus } from '../../src/ports/bus.js';

export interface BusContractOptions {
  name: string;
  create: () => Promise<EventBus>;
  /** Instances share an engine: events and signals cross between them. */
  crossNode: boolean;
  /** How long to wait for delivery before failing. @default 10000 */
  timeoutMs?: number;
}

let nextId = Date.now() * 1000;
/** A message.new event shaped like the outbox's, with a unique tenant per call site. */
export function fakeEvent(tenantId: string, channelId: string, seq: number): OutboxEvent {
  nextId++;
  return {
    id: nextId,
    tenantId,
    createdAt: new Date().toISOString(),
    type: 'message.new',
    channelId,
    payload: {
      message: {
        id: `m-${nextId}`,
        channelId,
        seq,
        clientMsgId: null,
        authorId: 'u1',
        type: 'regular',
        text: `message ${seq}`,
        attachments: [],
        custom: {},
        encrypted: null,
        parentId: null,
        replyCount: 0,
        reactionCounts: {},
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        editedAt: null,
        deletedAt: null,
      },
    },
  };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const seqsOf = (events: OutboxEvent[], channelId: string) =>
  events
    .filter((e) => e.channelId === channelId && e.type === 'message.new')
    .map((e) => (e.type === 'message.new' ? e.payload.message.seq : 0));

export function runBusContract(options: BusContractOptions): void {
  const timeout = options.timeoutMs ?? 10_000;
  describe(`bus contract: ${options.name}`, () => {
    const open: EventBus[] = [];
    const make = async () => {
      const bus = await options.create();
      open.push(bus);
      return bus;
    };
    afterAll(async () => {
      await Promise.all(open.map((b) => b.close()));
    });

    it('delivers published events to every subscriber, in order per channel', async () => {
      const bus = await make();
      const tenant = `t-${Math.random().toString(36).slice(2)}`;
      const a: OutboxEvent[] = [];
      const b: OutboxEvent[] = [];
      const offA = bus.subscribe((e) => e.tenantId === tenant && a.push(e));
      const offB = bus.subscribe((e) => e.tenantId === tenant && b.push(e));
      const events = Array.from({ length: 50 }, (_, i) => fakeEvent(tenant, i % 2 ? 'x' : 'y', Math.floor(i / 2) + 1));
      await bus.publish(events);
      await until(() => a.length === 50 && b.length === 50, timeout, 'both subscribers');
      expect(seqsOf(a, 'x')).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect(seqsOf(b, 'y')).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      // Events arrive whole; order is promised per channel only (partitions), not across channels.
      expect(a.find((e) => e.id === events[0]?.id)).toEqual(events[0]);
      offA();
      await bus.publish([fakeEvent(tenant, 'x', 26)]);
      await until(() => b.length === 51, timeout, 'remaining subscriber');
      expect(a).toHaveLength(50);
      offB();
    });

    it('hands each event to one consumer of a group, retrying a failed handler, in order per channel', async () => {
      const bus = await make();
      const tenant = `t-${Math.random().toString(36).slice(2)}`;
      const group = `g-${Math.random().toString(36).slice(2)}`;
      const handled: OutboxEvent[] = [];
      let failOnce = true;
      const stop = await bus.consume(group, async (e) => {
        if (e.tenantId !== tenant) return;
        if (failOnce && e.type === 'message.new' && e.payload.message.seq === 3) {
          failOnce = false;
          throw new Error('transient');
        }
        handled.push(e);
      });
      const other: OutboxEvent[] = [];
      const stopOther = await bus.consume(`${group}-other`, async (e) => {
        if (e.tenantId === tenant) other.push(e);
      });
      await bus.publish(Array.from({ length: 10 }, (_, i) => fakeEvent(tenant, 'c', i + 1)));
      await until(() => handled.length >= 10 && other.length >= 10, timeout, 'group consumers');
      const seqs = seqsOf(handled, 'c');
      expect(new Set(seqs)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i + 1)));
      // At least once, in order: a retried event may not be overtaken by later ones.
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(seqsOf(other, 'c')).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      await stop();
      await stopOther();
    });

    it('broadcasts signals to every handler', async () => {
      const bus = await make();
      const tenant = `t-${Math.random().toString(36).slice(2)}`;
      const got: EphemeralSignal[] = [];
      const off = bus.onSignal((s) => s.tenantId === tenant && got.push(s));
      bus.signal({ event: 'typing.start', tenantId: tenant, channelId: 'c', userId: 'u1' });
      bus.signal({ event: 'presence.changed', tenantId: tenant, userId: 'u1', online: true });
      await until(() => got.length === 2, timeout, 'signals');
      expect(got.map((s) => s.event)).toEqual(['typing.start', 'presence.changed']);
      off();
    });

    it.runIf(options.crossNode)('carries events and signals between nodes', async () => {
      const nodeA = await make();
      const nodeB = await make();
      const tenant = `t-${Math.random().toString(36).slice(2)}`;
      const atB: OutboxEvent[] = [];
      const signalsAtB: EphemeralSignal[] = [];
      const off = nodeB.subscribe((e) => e.tenantId === tenant && atB.push(e));
      const offSignals = nodeB.onSignal((s) => s.tenantId === tenant && signalsAtB.push(s));
      await nodeA.publish(Array.from({ length: 20 }, (_, i) => fakeEvent(tenant, 'c', i + 1)));
      nodeA.signal({ event: 'typing.start', tenantId: tenant, channelId: 'c', userId: 'u1' });
      await until(() => atB.length === 20 && signalsAtB.length === 1, timeout, 'cross-node delivery');
      expect(seqsOf(atB, 'c')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      off();
      offSignals();
    });

    it.runIf(options.crossNode)('shares a group between nodes: every event handled, each by one node', async () => {
      const nodeA = await make();
      const nodeB = await make();
      const tenant = `t-${Math.random().toString(36).slice(2)}`;
      const group = `g-${Math.random().toString(36).slice(2)}`;
      const handledBy = new Map<number, string[]>();
      const record = (node: string) => async (e: OutboxEvent) => {
        if (e.tenantId !== tenant) return;
        handledBy.set(e.id, [...(handledBy.get(e.id) ?? []), node]);
      };
      const stopA = await nodeA.consume(group, record('a'));
      const stopB = await nodeB.consume(group, record('b'));
      const events = Array.from({ length: 40 }, (_, i) => fakeEvent(tenant, `c${i % 8}`, Math.floor(i / 8) + 1));
      await nodeA.publish(events);
      await until(() => handledBy.size === 40, timeout * 3, 'group delivery across nodes');
      // Without failures nobody redelivers: each event exactly once.
      expect([...handledBy.values()].every((nodes) => nodes.length === 1)).toBe(true);
      await stopA();
      await stopB();
    });
  });
}
