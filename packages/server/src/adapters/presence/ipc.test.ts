import { afterAll } from 'vitest';
import { startHubProcess } from '../../../test/cluster/hub-process.js';
import { runPresenceContract } from '../../../test/contracts/presence.contract.js';
import { createIpcPresence } from './ipc.js';

// A real primary hub in its own process, over a real IPC channel (see bus/ipc.test.ts).
const hub = await startHubProcess();
afterAll(() => hub.stop());

runPresenceContract({
  name: 'ipc',
  crossNode: true,
  create: async () => createIpcPresence({ endpoint: hub.endpoint }),
});
