import { NatterError } from '../../errors.js';
import type { RateLimiter, RateRule } from '../../ports/rate-limit.js';
import { connectRedis, luaScript, quitRedis } from '../redis/client.js';

export interface RedisRateLimiterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every key this adapter writes. @default 'natter:' */
  keyPrefix?: string;
  /** Connection errors (the client reconnects by itself). @default console.error */
  onError?: (err: unknown) => void;
}

// KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns { allowed 0|1, retryAfter seconds }.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) / 1000 * rate)
  ts = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local fullInMs = math.ceil((burst - tokens) / rate * 1000)
if fullInMs <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
  redis.call('PEXPIRE', KEYS[1], fullInMs)
end
if allowed == 1 then return { 1, 0 } end
return { 0, math.max(1, math.ceil((1 - tokens) / rate)) }
`;

/**
 * Creates a rate limiter whose buckets live in Redis and are shared by every node.
 *
 * @example
 * const limiter = await createRedisRateLimiter({ url: 'redis://127.0.0.1:6379' });
 * const { allowed, retryAfter } = await limiter.take(`user:${tenantId}/${userId}`, { rate: 5, burst: 10 });
 * @see docs/engines.md#redis-adapters
 */
export async function createRedisRateLimiter(options: RedisRateLimiterOptions): Promise<RateLimiter> {
  const prefix = `${options.keyPrefix ?? 'natter:'}rl:`;
  const client = await connectRedis(
    options.url,
    'natter-rate-limit',
    options.onError ?? ((err) => console.error('[natter] redis rate limiter:', err)),
    // Takes sit on the request path: while Redis is away they fail within a second or so rather
    // than waiting out ioredis's default 20 reconnect attempts.
    { maxRetriesPerRequest: 2 },
  );
  const take = luaScript(client, TAKE);
  return {
    name: 'redis',
    async take(key: string, rule: RateRule) {
      if (!(rule.rate > 0 && rule.burst >= 1)) {
        throw new NatterError('NATTER_INTERNAL', `invalid rate rule for ${key}: rate must be > 0 and burst >= 1`);
      }
      const reply = (await take([prefix + key], [rule.rate, rule.burst])) as [number, number];
      return { allowed: reply[0] === 1, retryAfter: reply[1] };
    },
    async close() {
      await quitRedis(client);
    },
  };
}
