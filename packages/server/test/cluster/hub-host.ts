/**
 * A real primary hub in a process of its own, for the IPC adapters' contract suites: the test
 * process forks it (see `hub-process.ts`) and is the worker side of a real IPC channel. The
 * outbox relay is not under test here, so it is a stub that has nothing to move.
 */
import { createMemoryBus } from '../../src/adapters/bus/memory.js';
import { createMemoryPresence } from '../../src/adapters/presence/memory.js';
import { createMemoryRateLimiter } from '../../src/adapters/rate-limit/memory.js';
import { createHub } from '../../src/cluster/hub.js';

const hub = createHub({
  bus: createMemoryBus({ onError: (err) => process.stderr.write(`hub bus: ${String(err)}\n`) }),
  presence: createMemoryPresence(),
  limiter: createMemoryRateLimiter(),
  relay: { kick() {}, async drain() {}, async close() {} },
});
hub.attach(process);
process.on('disconnect', () => process.exit(0));
process.send?.([{ t: 'ready', port: 0 }]);
