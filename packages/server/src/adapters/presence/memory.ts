/**
 * In-process presence: the embedded default for a single node.
 */
import type { PresenceStore } from '../../ports/presence.js';

export function createMemoryPresence(): PresenceStore {
  // `${tenantId}/${userId}` → connection ids. Ids never contain '/', so keys cannot collide.
  const connections = new Map<string, Set<string>>();
  return {
    name: 'memory',
    async connect(tenantId, userId, connectionId) {
      const key = `${tenantId}/${userId}`;
      let set = connections.get(key);
      if (!set) {
        set = new Set();
        connections.set(key, set);
      }
      set.add(connectionId);
      return set.size === 1;
    },
    async disconnect(tenantId, userId, connectionId) {
      const key = `${tenantId}/${userId}`;
      const set = connections.get(key);
      if (!set?.delete(connectionId)) return false;
      if (set.size > 0) return false;
      connections.delete(key);
      return true;
    },
    async online(tenantId, userIds) {
      return new Set(userIds.filter((id) => connections.has(`${tenantId}/${id}`)));
    },
    async close() {
      connections.clear();
    },
  };
}
