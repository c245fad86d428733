/**
 * Presence in a worker process (`NATTER_WORKERS` > 1 on the embedded defaults): the primary keeps
 * the one count of connections per user for every worker, so a user is online until the last
 * connection on any worker goes. When a worker dies, the primary forgets its connections.
 */
import { linkTo } from '../../cluster/link.js';
import type { IpcEndpoint } from '../../cluster/messages.js';
import type { PresenceStore } from '../../ports/presence.js';

export function createIpcPresence(options: { endpoint: IpcEndpoint }): PresenceStore {
  const link = linkTo(options.endpoint);
  return {
    name: 'ipc',
    connect: (tenantId, userId, connectionId) =>
      link.request({ op: 'presence.connect', tenantId, userId, connectionId }),
    disconnect: (tenantId, userId, connectionId) =>
      link.request({ op: 'presence.disconnect', tenantId, userId, connectionId }),
    async online(tenantId, userIds) {
      if (userIds.length === 0) return new Set();
      return new Set(await link.request({ op: 'presence.online', tenantId, userIds }));
    },
    async close() {},
  };
}
