/**
 * The event bus on Redis: a stream for events, pub/sub for signals.
 *
 * - `publish` appends one entry per event (`XADD`, field `e` = the event as JSON) to `stream`,
 *   trimmed to about `maxLen` entries, and resolves once Redis has accepted them all.
 * - `subscribe`: each node reads the stream with a blocking `XREAD` on a connection of its own,
 *   from the stream's end when the first handler registers, and hands every handler every event in
 *   stream order. Once started, the reader runs until `close()`.
 * - `consume(group)`: a Redis consumer group. A group created by its first `consume()` starts at the
 *   stream's current end (earlier events are not replayed); a node joining an existing group
 *   continues where the group stands. Each node reads with `XREADGROUP` as its own consumer, on its
 *   own connection, and handles the group's events one at a time in stream order; an event is
 *   acknowledged (`XACK`) once its handler resolves. A rejecting handler is retried in place
 *   (`attempts` times, with backoff); if it still fails the event stays pending and is handed out
 *   again later, up to `maxDeliveries` deliveries, after which it is reported and dropped. Pending
 *   entries idle for `claimIdleMs` (a crashed or stalled node's) are reclaimed with `XAUTOCLAIM`
 *   by any node of the group, so `claimIdleMs` must exceed the time a node takes to handle a
 *   batch (up to 100 events).
 * - Ordering across nodes: Redis streams hand a group's entries to whichever consumer asks next, so
 *   with several nodes in one group, two events of one channel may be handled concurrently, or out
 *   of order, by different nodes. Per-channel order holds only within one node. Consumers already
 *   drop redeliveries by outbox id; handlers that need strict per-channel order across nodes need a
 *   partitioned broker (Kafka) or a single consuming node.
 * - `signal`/`onSignal`: `PUBLISH`/`SUBSCRIBE` on `signalChannel`, subscribed on a connection of
 *   its own when the bus is created. Best effort: a node that is disconnected misses signals.
 * - `maxLen` bounds memory: events older than the last ~`maxLen` are gone, also for a group whose
 *   consumers lag further behind.
 *
 * @see docs/engines.md#redis-adapters
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { OutboxEvent } from '../../domain/events.js';
import { NatterError } from '../../errors.js';
import type { EphemeralSignal, EventBus, EventHandler, GroupHandler, SignalHandler } from '../../ports/bus.js';
import { connectRedis, quitRedis } from '../redis/client.js';

export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** The stream events go to. @default 'natter:events' */
  stream?: string;
  /** About how many events the stream keeps (approximate `MAXLEN` trimming). @default 100000 */
  maxLen?: number;
  /** The pub/sub channel of signals. @default 'natter:signals' */
  signalChannel?: string;
  /** A pending group entry idle this long is taken over by another consumer. @default 30000 */
  claimIdleMs?: number;
  /** In-place attempts of a rejecting group handler per delivery. @default 5 */
  attempts?: number;
  /** Deliveries of a failing group event before it is reported and dropped. @default 10 */
  maxDeliveries?: number;
  /**
   * Handler failures (with the event or signal) and Redis errors (without; the client reconnects
   * by itself and the loops resume). @default console.error
   */
  onError?: (err: unknown, item?: OutboxEvent | EphemeralSignal) => void;
}

type Entry = [id: string, fields: string[] | null];

/** A group this node consumes: its blocking connection and read loop, once started. */
interface GroupState {
  stopped: boolean;
  conn?: Redis;
  loop?: Promise<void>;
}

const READ_COUNT = 100;
const MAX_BLOCK_MS = 2000;

/**
 * Creates an event bus on Redis: every instance is one node.
 *
 * @example
 * const bus = await createRedisBus({ url: 'redis://127.0.0.1:6379' });
 * bus.subscribe((event) => fanOut(event));
 * const stop = await bus.consume('search', (event) => index(event));
 * @see docs/engines.md#redis-adapters
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const stream = options.stream ?? 'natter:events';
  const maxLen = options.maxLen ?? 100_000;
  const signalChannel = options.signalChannel ?? 'natter:signals';
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const attempts = options.attempts ?? 5;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const onError = options.onError ?? ((err: unknown) => console.error('[natter] redis bus:', err));
  // Blocking reads wake up this often to reclaim stale entries and notice a stop.
  const blockMs = Math.max(50, Math.min(MAX_BLOCK_MS, Math.floor(claimIdleMs / 2)));
  const consumerName = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  const opened = new Set<Redis>();
  const open = async (role: string) => {
    const conn = await connectRedis(options.url, `natter-bus-${role}`, (err) => onError(err));
    opened.add(conn);
    return conn;
  };
  let command: Redis;
  let reader: Redis;
  let subscriber: Redis;
  try {
    [command, reader, subscriber] = await Promise.all([open('command'), open('reader'), open('signals')]);
    await subscriber.subscribe(signalChannel);
  } catch (err) {
    for (const conn of opened) conn.disconnect();
    throw err;
  }

  const handlers = new Set<EventHandler>();
  const signalHandlers = new Set<SignalHandler>();
  /** Group → its stop function. */
  const groups = new Map<string, () => Promise<void>>();
  let closed = false;

  function dispatch<T extends OutboxEvent | EphemeralSignal>(set: Set<(x: T) => void>, item: T): void {
    for (const handler of set) {
      try {
        handler(item);
      } catch (err) {
        onError(err, item);
      }
    }
  }

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== signalChannel || closed) return;
    let signal: EphemeralSignal;
    try {
      signal = JSON.parse(message) as EphemeralSignal;
    } catch (err) {
      onError(err);
      return;
    }
    dispatch(signalHandlers, signal);
  });

  // --- subscribe: one XREAD loop per node ----------------------------------------------------

  let readLoop: Promise<void> | undefined;
  /** Settles once the reader knows where the stream ended when the first handler registered. */
  let readerPositioned: Promise<unknown> = Promise.resolve();

  function startReader(): void {
    // Sent now, in the caller's tick, so that an event published after subscribe() returned is
    // appended after this read of the stream's end.
    const start = reader.xrevrange(stream, '+', '-', 'COUNT', 1);
    readerPositioned = start.catch(() => undefined);
    readLoop = (async () => {
      let lastId: string | undefined;
      while (!closed) {
        try {
          lastId ??= (await start.catch(() => reader.xrevrange(stream, '+', '-', 'COUNT', 1)))[0]?.[0] ?? '0-0';
          const reply = await reader.xread('COUNT', READ_COUNT, 'BLOCK', blockMs, 'STREAMS', stream, lastId);
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              lastId = id;
              const event = decode(fields);
              if (event) dispatch(handlers, event);
            }
          }
        } catch (err) {
          if (closed) return;
          onError(err);
          await sleep(500);
        }
      }
    })();
  }

  function decode(fields: string[] | null): OutboxEvent | undefined {
    const i = fields ? fields.indexOf('e') : -1;
    if (!fields || i < 0 || i % 2 !== 0) return undefined;
    try {
      return JSON.parse(fields[i + 1] ?? '') as OutboxEvent;
    } catch (err) {
      onError(err);
      return undefined;
    }
  }

  // --- consume: one consumer per node and group --------------------------------------------------

  async function createGroup(group: string, from: '$' | '0'): Promise<void> {
    try {
      await command.xgroup('CREATE', stream, group, from, 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  async function runGroup(group: string, state: GroupState, conn: Redis, handler: GroupHandler): Promise<void> {
    let lastClaim = 0;
    let failures = 0;
    while (!state.stopped) {
      try {
        if (Date.now() - lastClaim >= claimIdleMs / 2) {
          lastClaim = Date.now();
          await reclaim(group, state, handler);
        }
        const reply = (await conn.xreadgroup(
          'GROUP',
          group,
          consumerName,
          'COUNT',
          READ_COUNT,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        )) as [string, Entry[]][] | null;
        failures = 0;
        for (const [, entries] of reply ?? []) await handleEntries(group, state, handler, entries);
      } catch (err) {
        if (state.stopped) return;
        // The stream was deleted (FLUSHALL, a restore): recreate the group, from the beginning.
        if (err instanceof Error && err.message.startsWith('NOGROUP'))
          await createGroup(group, '0').catch(() => undefined);
        onError(err);
        await sleep(Math.min(5000, 100 * 2 ** failures++));
      }
    }
  }

  /** Takes over entries that a consumer (a crashed node, or this one after a failure) left pending. */
  async function reclaim(group: string, state: GroupState, handler: GroupHandler): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await command.xautoclaim(
        stream,
        group,
        consumerName,
        claimIdleMs,
        cursor,
        'COUNT',
        READ_COUNT,
      )) as [string, Entry[]];
      await handleEntries(group, state, handler, entries);
      cursor = next;
    } while (cursor !== '0-0' && !state.stopped);
  }

  async function handleEntries(
    group: string,
    state: GroupState,
    handler: GroupHandler,
    entries: Entry[],
  ): Promise<void> {
    for (const [id, fields] of entries) {
      // Entries read but not handled stay pending and are reclaimed by another node.
      if (state.stopped) return;
      const event = decode(fields);
      if (!event) {
        // Trimmed away, or not an event: nothing to hand out, ever.
        await command.xack(stream, group, id);
        continue;
      }
      if (await handleWithRetry(handler, event, () => state.stopped)) {
        await command.xack(stream, group, id);
        continue;
      }
      // Left pending for a later delivery, unless it has had enough of them.
      const pending = (await command.xpending(stream, group, id, id, 1)) as [string, string, number, number][];
      if ((pending[0]?.[3] ?? 0) >= maxDeliveries) {
        await command.xack(stream, group, id);
        onError(
          new NatterError(
            'NATTER_INTERNAL',
            `group ${group} dropped event ${event.id} after ${maxDeliveries} deliveries`,
          ),
          event,
        );
      }
    }
  }

  async function stopGroup(group: string, state: GroupState): Promise<void> {
    state.stopped = true;
    state.conn?.disconnect(); // interrupts the blocking read; acks go through `command`
    await state.loop;
    groups.delete(group);
    if (state.conn) opened.delete(state.conn);
    // Forget this consumer unless it still holds entries (those wait to be reclaimed).
    const held = await command.xpending(stream, group, '-', '+', 1, consumerName).catch(() => [1]);
    if (held.length === 0) await command.xgroup('DELCONSUMER', stream, group, consumerName).catch(() => undefined);
  }

  async function handleWithRetry(handler: GroupHandler, event: OutboxEvent, stopped: () => boolean): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event);
        return true;
      } catch (err) {
        if (attempt >= attempts || stopped()) {
          onError(err, event);
          return false;
        }
        await sleep(50 * 2 ** attempt);
      }
    }
  }

  return {
    name: 'redis',
    async publish(events) {
      if (closed) throw new NatterError('NATTER_UNAVAILABLE', 'the event bus is closed');
      if (events.length === 0) return;
      await readerPositioned;
      const pipeline = command.pipeline();
      for (const event of events) pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', 'e', JSON.stringify(event));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed || results.length !== events.length) {
        throw new NatterError('NATTER_UNAVAILABLE', 'Redis did not accept every event', undefined, {
          cause: failed?.[0],
        });
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      if (!readLoop && !closed) startReader();
      return () => handlers.delete(handler);
    },
    async consume(group, handler) {
      if (closed) throw new NatterError('NATTER_UNAVAILABLE', 'the event bus is closed');
      if (groups.has(group)) {
        throw new NatterError('NATTER_INTERNAL', `group ${group} is already consumed on this node`);
      }
      const state: GroupState = { stopped: false };
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= stopGroup(group, state);
        return stopping;
      };
      groups.set(group, stop); // taken now: a concurrent consume() of the group fails
      let conn: Redis;
      try {
        await createGroup(group, '$');
        conn = await open(`group-${group}`);
      } catch (err) {
        groups.delete(group);
        throw err;
      }
      state.conn = conn;
      if (!state.stopped) state.loop = runGroup(group, state, conn, handler);
      else conn.disconnect(); // stopped (closed) while connecting
      return stop;
    },
    signal(signal) {
      if (closed) return;
      command.publish(signalChannel, JSON.stringify(signal)).catch((err: unknown) => onError(err, signal));
    },
    onSignal(handler) {
      signalHandlers.add(handler);
      return () => signalHandlers.delete(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...groups.values()].map((stop) => stop()));
      reader.disconnect();
      await readLoop;
      await Promise.all([subscriber, command].map(quitRedis));
      for (const conn of opened) conn.disconnect();
      handlers.clear();
      signalHandlers.clear();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
