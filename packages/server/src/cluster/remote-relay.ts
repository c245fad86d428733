/**
 * The outbox relay as a worker sees it: the primary runs the one relay of the machine; a worker
 * kicks it after its writes and asks it to drain. Kicks travel with the rest of the turn's IPC
 * batch, and the primary's relay coalesces them into one pass.
 */
import type { OutboxRelay } from '../services/outbox-relay.js';
import type { PrimaryLink } from './link.js';

export function createRemoteRelay(link: PrimaryLink): OutboxRelay {
  return {
    kick: () => link.post({ t: 'kick' }),
    async drain() {
      await link.request({ op: 'relay.drain' });
    },
    async close() {},
  };
}
