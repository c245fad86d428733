/**
 * The composition root: picks adapters from the configuration, wires services, REST and the
 * outbox relay, and owns their lifecycle. Whoever opens a connection closes it: every adapter's
 * `close()` runs on fastify's `onClose`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createMemoryBus } from './adapters/bus/memory.js';
import { createSqliteStore } from './adapters/store/sqlite/index.js';
import type { Config } from './config.js';
import { buildHttpApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import type { EventBus } from './ports/bus.js';
import type { Store } from './ports/store.js';
import type { ServiceDeps } from './services/context.js';
import { createHooks } from './services/hooks.js';
import { createOutboxRelay, type OutboxRelay } from './services/outbox-relay.js';
import { bootstrapPlatformKey, type IssuedKey } from './services/tenants.js';

export interface NatterServer {
  config: Config;
  store: Store;
  bus: EventBus;
  relay: OutboxRelay;
  http: FastifyInstance;
  /** The platform-admin key created on the very first start, or null. */
  bootstrapKey: IssuedKey | null;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, drains the outbox, closes every adapter. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** Use this store instead of the configured one (tests). */
  store?: Store;
  /** Clock (tests). */
  now?: () => Date;
}

export async function createNatterServer(config: Config, options: CreateServerOptions = {}): Promise<NatterServer> {
  let store = options.store;
  if (!store) {
    mkdirSync(config.dataDir, { recursive: true });
    store = createSqliteStore({ path: join(config.dataDir, 'natter.db') });
  }
  const metrics = createMetrics();
  let http: FastifyInstance | undefined;
  const bus = createMemoryBus({ onError: (err, event) => http?.log.error({ err, eventId: event.id }, 'event handler failed') });
  const relay = createOutboxRelay({
    outbox: store.outbox,
    bus,
    onError: (err) => http?.log.warn({ err }, 'outbox relay: bus unavailable, will retry'),
  });
  const services: ServiceDeps = {
    relay,
    hooks: createHooks(),
    limits: { maxMessageLength: config.maxMessageLength, maxCustomBytes: config.maxCustomBytes },
    tokenTtl: config.tokenTtl,
    now: options.now ?? (() => new Date()),
  };
  http = await buildHttpApp({ store, services, metrics, bodyLimit: config.bodyLimit, loggerLevel: config.logLevel });
  const bootstrapKey = await bootstrapPlatformKey(store);
  const ownedStore = store;
  http.addHook('onClose', async () => {
    await relay.drain();
    await relay.close();
    await bus.close();
    await ownedStore.close();
  });

  return {
    config,
    store,
    bus,
    relay,
    http,
    bootstrapKey,
    async listen() {
      const address = await (http as FastifyInstance).listen({ host: config.host, port: config.port });
      return address.replace('[::1]', 'localhost');
    },
    async close() {
      await (http as FastifyInstance).close();
    },
  };
}
