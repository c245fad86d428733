import { afterAll } from 'vitest';
import { startHubProcess } from '../../../test/cluster/hub-process.js';
import { runBusContract } from '../../../test/contracts/bus.contract.js';
import { createIpcBus } from './ipc.js';

// A real primary hub in its own process, over a real IPC channel. Two buses on the channel are
// two workers to the hub (it serves each instance as a node); test/cluster runs real workers.
const hub = await startHubProcess();
afterAll(() => hub.stop());

runBusContract({ name: 'ipc', crossNode: true, create: async () => createIpcBus({ endpoint: hub.endpoint }) });
