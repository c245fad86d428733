/**
 * What the Redis adapters share: opening a connection (ioredis loaded only now, so the embedded
 * default never loads it), closing it without hanging on a dead server, and Lua scripts by SHA.
 */
import { createHash } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { NatterError } from '../../errors.js';

/** Opens a connection, failing fast with NATTER_UNAVAILABLE when Redis is unreachable. */
export async function connectRedis(
  url: string,
  name: string,
  onError: (err: unknown) => void,
  options: RedisOptions = {},
): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { ...options, lazyConnect: true, connectionName: name });
  // Report an outage once, not once per reconnect attempt; a failed first connect throws instead.
  let down = true;
  client.on('error', (err: unknown) => {
    if (!down) onError(err);
    down = true;
  });
  client.on('ready', () => {
    down = false;
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new NatterError('NATTER_UNAVAILABLE', `Redis at ${new URL(url).host} is unreachable`, undefined, {
      cause: err,
    });
  }
  return client;
}

/** Closes a connection: QUIT waits for pending replies, but not forever on a dead server. */
export async function quitRedis(client: Redis): Promise<void> {
  const timer = new Promise<void>((r) => setTimeout(r, 2000).unref());
  await Promise.race([client.quit().catch(() => undefined), timer]);
  client.disconnect();
}

export type LuaScript = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/** Runs a script by its SHA1, sending the source once when Redis does not have it (yet, or any more). */
export function luaScript(client: Redis, lua: string): LuaScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (keys, args) => {
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      return client.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
