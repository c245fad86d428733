/**
 * Rate limits in a worker process (`NATTER_WORKERS` > 1 on the embedded defaults): the buckets live
 * in the primary, so a user's limit holds across workers. The checks of one event-loop turn travel
 * together in one IPC message.
 */
import { linkTo } from '../../cluster/link.js';
import type { IpcEndpoint } from '../../cluster/messages.js';
import type { RateLimiter } from '../../ports/rate-limit.js';

export function createIpcRateLimiter(options: { endpoint: IpcEndpoint }): RateLimiter {
  const link = linkTo(options.endpoint);
  return {
    name: 'ipc',
    take: (key, rule) => link.request({ op: 'limit.take', key, rule }),
    async close() {},
  };
}
