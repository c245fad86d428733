import { NatterError } from '../../errors.js';
import type { PresenceStore } from '../../ports/presence.js';
import { connectRedis, type LuaScript, luaScript, quitRedis } from '../redis/client.js';

export interface RedisPresenceOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every key this adapter writes. @default 'natter:' */
  keyPrefix?: string;
  /** How long a connection outlives its node's last refresh. @default 30 */
  ttlSeconds?: number;
  /** Connection and refresh errors (the client reconnects by itself). @default console.error */
  onError?: (err: unknown) => void;
}

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1] user; ARGV ttlMs, connectionId. 1 when the user just came online.
const CONNECT = `${NOW}
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
if before == 0 then return 1 end
return 0`;

// KEYS[1] user; ARGV connectionId. 1 when the user just went offline. A connection that expired
// while its node was alive (stalled) still counts as known: its node reports the transition.
const DISCONNECT = `${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then return 1 end
return 0`;

// KEYS users. The 1-based indexes of the users with a live connection.
const ONLINE = `${NOW}
local out = {}
local min = string.format('(%.0f', now)
for i, key in ipairs(KEYS) do
  if redis.call('ZCOUNT', key, min, '+inf') > 0 then out[#out + 1] = i end
end
return out`;

// KEYS users; ARGV ttlMs, then per key: a count n and n connection ids. Re-adds a connection that
// is gone from Redis (data lost, or expired during a stall): the node knows it is alive.
const REFRESH = `${NOW}
local ttl = tonumber(ARGV[1])
local a = 2
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[a])
  for j = a + 1, a + n do redis.call('ZADD', key, now + ttl, ARGV[j]) end
  a = a + n + 1
  redis.call('PEXPIRE', key, ttl)
end
return 0`;

/** Keys per script call: keeps each script short, so Redis is never blocked for long. */
const CHUNK = 500;

/**
 * Creates a presence store in Redis, shared by every node.
 *
 * @example
 * const presence = await createRedisPresence({ url: 'redis://127.0.0.1:6379', ttlSeconds: 30 });
 * if (await presence.connect(tenantId, userId, connectionId)) announceOnline(userId);
 * @see docs/engines.md#redis-adapters
 */
export async function createRedisPresence(options: RedisPresenceOptions): Promise<PresenceStore> {
  const prefix = `${options.keyPrefix ?? 'natter:'}p:`;
  const ttlMs = Math.round((options.ttlSeconds ?? 30) * 1000);
  if (!(ttlMs >= 1000)) throw new NatterError('NATTER_INTERNAL', 'presence ttlSeconds must be at least 1');
  const onError = options.onError ?? ((err: unknown) => console.error('[natter] redis presence:', err));
  const client = await connectRedis(options.url, 'natter-presence', onError);
  const [connectScript, disconnectScript, onlineScript, refreshScript] = [CONNECT, DISCONNECT, ONLINE, REFRESH].map(
    (lua) => luaScript(client, lua),
  ) as [LuaScript, LuaScript, LuaScript, LuaScript];
  const keyOf = (tenantId: string, userId: string) => `${prefix}{${tenantId}}/${userId}`;

  // This node's connections, by user key: what the refresh timer keeps alive.
  const mine = new Map<string, Set<string>>();

  async function refresh(): Promise<void> {
    // Snapshot and send in one tick: a disconnect called later reaches Redis after the refresh.
    const snapshot = [...mine].map(([key, ids]) => [key, [...ids]] as const);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < snapshot.length; i += CHUNK) {
      const chunk = snapshot.slice(i, i + CHUNK);
      calls.push(
        refreshScript(
          chunk.map(([key]) => key),
          [ttlMs, ...chunk.flatMap(([, ids]) => [ids.length, ...ids])],
        ),
      );
    }
    await Promise.all(calls);
    // A script resent after NOSCRIPT may still land after a disconnect: remove what went meanwhile.
    const gone = snapshot.flatMap(([key, ids]) =>
      ids.filter((id) => !mine.get(key)?.has(id)).map((id) => [key, id] as const),
    );
    if (gone.length > 0) await Promise.all(gone.map(([key, id]) => client.zrem(key, id)));
  }
  let refreshing = false;
  const timer = setInterval(() => {
    if (refreshing || mine.size === 0) return;
    refreshing = true;
    refresh()
      .catch(onError)
      .finally(() => {
        refreshing = false;
      });
  }, ttlMs / 3);
  timer.unref();

  return {
    name: 'redis',
    async connect(tenantId, userId, connectionId) {
      const key = keyOf(tenantId, userId);
      // Remembered first: should Redis be down now, the next refresh after it is back adds it.
      const ids = mine.get(key) ?? new Set<string>();
      mine.set(key, ids.add(connectionId));
      return (await connectScript([key], [ttlMs, connectionId])) === 1;
    },
    async disconnect(tenantId, userId, connectionId) {
      const key = keyOf(tenantId, userId);
      const ids = mine.get(key);
      if (ids?.delete(connectionId) && ids.size === 0) mine.delete(key);
      return (await disconnectScript([key], [connectionId])) === 1;
    },
    async online(tenantId, userIds) {
      const unique = [...new Set(userIds)];
      const chunks: string[][] = [];
      for (let i = 0; i < unique.length; i += CHUNK) chunks.push(unique.slice(i, i + CHUNK));
      const replies = await Promise.all(
        chunks.map((chunk) =>
          onlineScript(
            chunk.map((id) => keyOf(tenantId, id)),
            [],
          ),
        ),
      );
      const online = new Set<string>();
      replies.forEach((indexes, c) => {
        for (const i of indexes as number[]) online.add(chunks[c]![i - 1]!);
      });
      return online;
    },
    async close() {
      // The connections still listed expire after the TTL, as after a crash: the gateway
      // disconnects its own before the presence store closes.
      clearInterval(timer);
      mine.clear();
      await quitRedis(client);
    },
  };
}
