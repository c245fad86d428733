/**
 * The composition root: picks adapters from the configuration, wires services, REST, the realtime
 * gateway and the outbox relay, and owns their lifecycle. Whoever opens a connection closes it:
 * every adapter's `close()` runs on fastify's `onClose`.
 *
 * One uWebSockets.js app listens on the public port: WebSocket upgrades at `/v1/realtime` go to
 * the gateway, every other request to fastify (see `http/uws-bridge.ts`).
 */

import uWS from 'uWebSockets.js';
import type { FastifyInstance } from 'fastify';
import { type Adapters, createAdapters } from './adapters/select.js';
import type { Config } from './config.js';
import { buildHttpApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { mountFastify } from './http/uws-bridge.js';
import type { EventBus } from './ports/bus.js';
import type { PresenceStore } from './ports/presence.js';
import type { SearchIndex } from './ports/search.js';
import type { Store } from './ports/store.js';
import { createGateway, type Gateway } from './realtime/gateway.js';
import type { ServiceDeps } from './services/context.js';
import { createHooks } from './services/hooks.js';
import { restrictionsFor } from './services/moderation.js';
import { createOutboxRelay, type OutboxRelay } from './services/outbox-relay.js';
import { createPolicyHub } from './services/policy.js';
import { startSearchIndexer } from './services/search-indexer.js';
import { bootstrapPlatformKey, type IssuedKey } from './services/tenants.js';

export interface NatterServer {
  config: Config;
  store: Store;
  bus: EventBus;
  presence: PresenceStore;
  search: SearchIndex;
  relay: OutboxRelay;
  http: FastifyInstance;
  gateway: Gateway;
  /** The platform-admin key created on the very first start, or null. */
  bootstrapKey: IssuedKey | null;
  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(): Promise<string>;
  /** The port listened on (after listen). */
  readonly port: number;
  /** Closes realtime connections (1001), stops accepting, drains the outbox, closes every adapter. */
  close(): Promise<void>;
}

export interface CreateServerOptions extends Partial<Adapters> {
  /** Adapters given here (tests) are used instead of the configured ones; close() closes them too. */
  /** Clock (tests). */
  now?: () => Date;
  /**
   * The outbox relay to kick after writes, when another process runs it (a worker of
   * `NATTER_WORKERS`: see `cluster/worker.ts`). @default one of this server's own
   */
  relay?: OutboxRelay;
  /** Index search from the bus here. False where another process indexes. @default true */
  searchIndexer?: boolean;
}

export async function createNatterServer(config: Config, options: CreateServerOptions = {}): Promise<NatterServer> {
  let http: FastifyInstance | undefined;
  const { now, relay: remoteRelay, searchIndexer = true, ...overrides } = options;
  const { store, bus, presence, limiter, search } = await createAdapters(config, overrides, (err) =>
    http?.log.error({ err }, 'event handler failed'),
  );
  const metrics = createMetrics();
  const relay =
    remoteRelay ??
    createOutboxRelay({
      outbox: store.outbox,
      bus,
      retainMs: config.outboxRetention * 1000,
      onError: (err) =>
        http?.log.warn({ err }, 'outbox relay failed (bus unavailable, or pruning the outbox), will retry'),
    });
  const rule = (perSecond: number) => ({ rate: perSecond, burst: perSecond * 2 });
  const services: ServiceDeps = {
    relay,
    limiter,
    rateLimits: { user: rule(config.rateLimits.userPerSecond), tenant: rule(config.rateLimits.tenantPerSecond) },
    hooks: createHooks(),
    limits: { maxMessageLength: config.maxMessageLength, maxCustomBytes: config.maxCustomBytes },
    tokenTtl: config.tokenTtl,
    editWindow: config.editWindow,
    policies: createPolicyHub(),
    // Bans, mutes, blocks and slow mode, judged by authorization (channelFor) for every action.
    restrictions: (ctx, channel, member) => restrictionsFor(ctx, channel, member),
    now: now ?? (() => new Date()),
  };
  http = await buildHttpApp({
    store,
    bus,
    search,
    services,
    metrics,
    bodyLimit: config.bodyLimit,
    loggerLevel: config.logLevel,
  });
  const app = uWS.App();
  const gateway = createGateway(app, { store, bus, presence, services, config: config.realtime, log: http.log });
  const bridge = mountFastify(app, http, { bodyLimit: config.bodyLimit });
  const stopIndexer = searchIndexer
    ? await startSearchIndexer(bus, search, { minIntervalMs: config.searchBatchMs })
    : async () => {};
  let listenSocket: uWS.us_listen_socket | null = null;
  let port = 0;

  const ownedStore = store;
  http.addHook('onClose', async () => {
    await relay.drain();
    await relay.close();
    await gateway.close();
    await stopIndexer();
    // Engines last: the relay drained into the bus, the gateway is closed.
    await Promise.allSettled([bus.close(), search.close(), presence.close(), limiter.close()]);
    await ownedStore.close();
  });
  await http.ready();
  const bootstrapKey = await bootstrapPlatformKey(store);

  const server: NatterServer = {
    config,
    store,
    bus,
    presence,
    search,
    relay,
    http,
    gateway,
    bootstrapKey,
    get port() {
      return port;
    },
    listen() {
      return new Promise((resolve, reject) => {
        app.listen(config.host, config.port, (socket) => {
          if (!socket) {
            reject(new Error(`Cannot listen on ${config.host}:${config.port} (in use, or not permitted).`));
            return;
          }
          listenSocket = socket;
          port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
          const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
        });
      });
    },
    async close() {
      gateway.closeAll();
      if (listenSocket) {
        uWS.us_listen_socket_close(listenSocket);
        listenSocket = null;
      }
      // Finish in-flight writes before the store closes.
      await bridge.drain();
      await (http as FastifyInstance).close();
    },
  };
  return server;
}
