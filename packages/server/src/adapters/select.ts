/**
 * Picks an adapter for every port from the configuration: an engine's URL set means that engine,
 * unset means the embedded default. Engine adapters are imported here, lazily, so a server on
 * the embedded defaults never loads mongodb, ioredis, kafkajs or the Elasticsearch client.
 *
 * | port | embedded default | with |
 * | --- | --- | --- |
 * | store | SQLite | NATTER_MONGODB_URL |
 * | bus (events) | in-process | NATTER_KAFKA_BROKERS, else NATTER_REDIS_URL (streams) |
 * | bus (signals) | in-process | NATTER_REDIS_URL, else Kafka |
 * | presence, rate limits | in-process | NATTER_REDIS_URL |
 * | search | SQLite FTS5 | NATTER_ELASTICSEARCH_URL |
 *
 * A worker process of `NATTER_WORKERS` > 1 takes the same store and search, and its bus,
 * presence and rate limits from {@link workerAdapters}: IPC to the primary, which holds the
 * in-process ones for all workers (see `cluster/hub.ts`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IpcEndpoint } from '../cluster/messages.js';
import type { Config } from '../config.js';
import type { EventBus } from '../ports/bus.js';
import type { PresenceStore } from '../ports/presence.js';
import type { RateLimiter } from '../ports/rate-limit.js';
import type { SearchIndex } from '../ports/search.js';
import type { Store } from '../ports/store.js';
import { combineBuses } from './bus/combined.js';
import { createIpcBus } from './bus/ipc.js';
import { createMemoryBus } from './bus/memory.js';
import { createIpcPresence } from './presence/ipc.js';
import { createMemoryPresence } from './presence/memory.js';
import { createIpcRateLimiter } from './rate-limit/ipc.js';
import { createMemoryRateLimiter } from './rate-limit/memory.js';
import { createSqliteSearch } from './search/sqlite-fts.js';
import { createSqliteStore } from './store/sqlite/index.js';

export interface Adapters {
  store: Store;
  bus: EventBus;
  presence: PresenceStore;
  limiter: RateLimiter;
  search: SearchIndex;
}

/** An engine that could not be reached at start: the message names the variable. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}

async function open<T>(variable: string, value: string, make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    throw new EngineError(`${variable}=${value}: cannot start: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** A worker's bus, presence and rate limiter: the primary's, over the IPC channel `primary`. */
export function workerAdapters(
  primary: IpcEndpoint,
  onBusError?: (err: unknown) => void,
): Pick<Adapters, 'bus' | 'presence' | 'limiter'> {
  return {
    bus: createIpcBus({ endpoint: primary, ...(onBusError ? { onError: onBusError } : {}) }),
    presence: createIpcPresence({ endpoint: primary }),
    limiter: createIpcRateLimiter({ endpoint: primary }),
  };
}

export async function createAdapters(
  config: Config,
  overrides: Partial<Adapters> = {},
  onBusError?: (err: unknown) => void,
): Promise<Adapters> {
  const { engines } = config;
  const opened: { close(): Promise<void> }[] = [];
  const keep = <T extends { close(): Promise<void> }>(x: T): T => {
    opened.push(x);
    return x;
  };
  try {
    const needsDataDir = !overrides.store && !engines.mongodbUrl;
    if (needsDataDir || (!overrides.search && !engines.elasticsearchUrl))
      mkdirSync(config.dataDir, { recursive: true });

    const store =
      overrides.store ??
      keep(
        engines.mongodbUrl
          ? await open('NATTER_MONGODB_URL', engines.mongodbUrl, async () => {
              const { createMongoStore } = await import('./store/mongodb/index.js');
              return createMongoStore({
                url: engines.mongodbUrl as string,
                databasePerTenant: engines.mongodbDbPerTenant,
              });
            })
          : createSqliteStore({ path: join(config.dataDir, 'natter.db') }),
      );

    let bus = overrides.bus;
    if (!bus) {
      let events: EventBus | undefined;
      let signals: EventBus | undefined;
      if (engines.kafkaBrokers) {
        const brokers = engines.kafkaBrokers;
        events = await open('NATTER_KAFKA_BROKERS', brokers.join(','), async () => {
          const { createKafkaBus } = await import('./bus/kafka.js');
          return createKafkaBus({ brokers, nodeId: config.nodeId });
        });
        opened.push(events);
      }
      if (engines.redisUrl) {
        const url = engines.redisUrl;
        const redisBus = await open('NATTER_REDIS_URL', url, async () => {
          const { createRedisBus } = await import('./bus/redis.js');
          return createRedisBus({ url });
        });
        opened.push(redisBus);
        if (events) signals = redisBus;
        else events = redisBus;
      }
      bus = events
        ? signals
          ? combineBuses(events, signals)
          : events
        : createMemoryBus(onBusError ? { onError: onBusError } : {});
    }

    const presence =
      overrides.presence ??
      keep(
        engines.redisUrl
          ? await open('NATTER_REDIS_URL', engines.redisUrl, async () => {
              const { createRedisPresence } = await import('./presence/redis.js');
              return createRedisPresence({ url: engines.redisUrl as string });
            })
          : createMemoryPresence(),
      );

    const limiter =
      overrides.limiter ??
      keep(
        engines.redisUrl
          ? await open('NATTER_REDIS_URL', engines.redisUrl, async () => {
              const { createRedisRateLimiter } = await import('./rate-limit/redis.js');
              return createRedisRateLimiter({ url: engines.redisUrl as string });
            })
          : createMemoryRateLimiter(),
      );

    const search =
      overrides.search ??
      keep(
        engines.elasticsearchUrl
          ? await open('NATTER_ELASTICSEARCH_URL', engines.elasticsearchUrl, async () => {
              const { createElasticsearchSearch } = await import('./search/elasticsearch.js');
              return createElasticsearchSearch({ url: engines.elasticsearchUrl as string });
            })
          : createSqliteSearch({ path: join(config.dataDir, 'search.db') }),
      );

    return { store, bus, presence, limiter, search };
  } catch (err) {
    await Promise.allSettled(opened.map((x) => x.close()));
    throw err;
  }
}
