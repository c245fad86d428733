/**
 * The primary's hub: what must exist once among the worker processes of one machine. It holds the
 * in-process bus, presence and rate limiter, and the outbox relay, and serves them to every
 * attached worker over IPC (the worker side is `adapters/{bus,presence,rate-limit}/ipc.ts`).
 *
 * - Every event the relay publishes, and every signal, goes to every worker, in publish order
 *   (one ordered IPC channel per worker).
 * - A group (search indexing, plugins) is consumed through the in-process bus, which hands events
 *   one at a time in order; each is delivered to one worker consuming that group, and retried on
 *   another if that worker fails it or dies.
 * - Presence counts connections of all workers; when a worker goes, its connections are
 *   disconnected (users it alone held go offline, with the signal).
 */
import type { OutboxEvent } from '../domain/events.js';
import type { EventBus } from '../ports/bus.js';
import type { PresenceStore } from '../ports/presence.js';
import type { RateLimiter } from '../ports/rate-limit.js';
import type { OutboxRelay } from '../services/outbox-relay.js';
import { Outbox } from './link.js';
import type { IpcEndpoint, Request, ToPrimary, ToWorker } from './messages.js';

export interface HubOptions {
  /** The in-process bus the relay publishes to. */
  bus: EventBus;
  presence: PresenceStore;
  limiter: RateLimiter;
  relay: OutboxRelay;
  onError?: (err: unknown) => void;
}

export interface AttachOptions {
  /** The worker says its server listens. */
  onReady?: (port: number) => void;
}

export interface Hub {
  /** Serves a worker over `endpoint`; returns the function that detaches it (call it when the worker exits). */
  attach(endpoint: IpcEndpoint, options?: AttachOptions): () => Promise<void>;
  /** Workers attached now. */
  readonly size: number;
  close(): Promise<void>;
}

interface Worker {
  out: Outbox<ToWorker>;
  /** Its realtime connections, by connection id, so they can be forgotten if it dies. */
  connections: Map<string, { tenantId: string; userId: string }>;
  /** Group deliveries awaiting `group.done`. */
  deliveries: Map<number, { resolve: () => void; reject: (err: Error) => void }>;
}

interface Group {
  members: { worker: Worker; consumer: number }[];
  next: number;
  stop: Promise<() => Promise<void>>;
}

export function createHub(options: HubOptions): Hub {
  const { bus, presence, limiter, relay } = options;
  const workers = new Set<Worker>();
  const groups = new Map<string, Group>();
  let nextDelivery = 1;

  const offEvents = bus.subscribe((event) => {
    for (const w of workers) w.out.push({ t: 'event', event });
  });
  const offSignals = bus.onSignal((signal) => {
    for (const w of workers) w.out.push({ t: 'signal', signal });
  });

  function deliver(group: Group, event: OutboxEvent): Promise<void> {
    const member = group.members[group.next++ % Math.max(1, group.members.length)];
    // The last consumer stopped: nobody consumes the group any more (a new one starts from now).
    if (!member) return Promise.resolve();
    const id = nextDelivery++;
    return new Promise<void>((resolve, reject) => {
      member.worker.deliveries.set(id, { resolve, reject });
      member.worker.out.push({ t: 'group', id, consumer: member.consumer, event });
    });
  }

  async function removeMember(worker: Worker, consumer: number | null): Promise<void> {
    for (const [name, group] of groups) {
      group.members = group.members.filter(
        (m) => m.worker !== worker || (consumer !== null && m.consumer !== consumer),
      );
      if (group.members.length === 0) {
        groups.delete(name);
        await (await group.stop)();
      }
    }
  }

  async function serve(worker: Worker, request: Request): Promise<unknown> {
    switch (request.op) {
      case 'publish':
        await bus.publish(request.events);
        return null;
      case 'consume': {
        let group = groups.get(request.group);
        if (!group) {
          const created: Group = { members: [], next: 0, stop: Promise.resolve(async () => {}) };
          created.stop = bus.consume(request.group, (event) => deliver(created, event));
          groups.set(request.group, created);
          group = created;
        }
        group.members.push({ worker, consumer: request.consumer });
        await group.stop;
        return null;
      }
      case 'unconsume':
        await removeMember(worker, request.consumer);
        return null;
      case 'presence.connect':
        worker.connections.set(request.connectionId, { tenantId: request.tenantId, userId: request.userId });
        return presence.connect(request.tenantId, request.userId, request.connectionId);
      case 'presence.disconnect':
        worker.connections.delete(request.connectionId);
        return presence.disconnect(request.tenantId, request.userId, request.connectionId);
      case 'presence.online':
        return [...(await presence.online(request.tenantId, request.userIds))];
      case 'limit.take':
        return limiter.take(request.key, request.rule);
      case 'relay.drain':
        await relay.drain();
        return null;
    }
  }

  function receive(worker: Worker, message: ToPrimary, attach: AttachOptions): void {
    switch (message.t) {
      case 'req': {
        const { t: _t, id, ...request } = message;
        serve(worker, request as Request).then(
          (value) => worker.out.push({ t: 'res', id, value }),
          (err: unknown) => worker.out.push({ t: 'res', id, error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      }
      case 'kick':
        relay.kick();
        return;
      case 'signal':
        bus.signal(message.signal);
        return;
      case 'group.done': {
        const d = worker.deliveries.get(message.id);
        if (!d) return;
        worker.deliveries.delete(message.id);
        if (message.error === undefined) d.resolve();
        else d.reject(new Error(message.error));
        return;
      }
      case 'ready':
        attach.onReady?.(message.port);
        return;
    }
  }

  return {
    attach(endpoint, attach = {}) {
      const worker: Worker = { out: new Outbox(endpoint), connections: new Map(), deliveries: new Map() };
      workers.add(worker);
      const onMessage = (batch: unknown) => {
        if (!Array.isArray(batch)) return;
        for (const message of batch as ToPrimary[]) receive(worker, message, attach);
      };
      endpoint.on('message', onMessage);
      let detached: Promise<void> | null = null;
      return () => {
        detached ??= (async () => {
          endpoint.off('message', onMessage);
          workers.delete(worker);
          for (const d of worker.deliveries.values()) d.reject(new Error('worker gone'));
          worker.deliveries.clear();
          await removeMember(worker, null);
          // Its connections are gone with it: users no other worker holds go offline.
          for (const [connectionId, { tenantId, userId }] of worker.connections) {
            if (await presence.disconnect(tenantId, userId, connectionId).catch(() => false)) {
              bus.signal({ event: 'presence.changed', tenantId, userId, online: false });
            }
          }
          worker.connections.clear();
        })().catch((err: unknown) => options.onError?.(err));
        return detached;
      };
    },
    get size() {
      return workers.size;
    },
    async close() {
      offEvents();
      offSignals();
      for (const group of groups.values()) await (await group.stop)();
      groups.clear();
      workers.clear();
    },
  };
}
