import { afterAll } from 'vitest';
import { startHubProcess } from '../../../test/cluster/hub-process.js';
import { runRateLimitContract } from '../../../test/contracts/rate-limit.contract.js';
import { createIpcRateLimiter } from './ipc.js';

// A real primary hub in its own process, over a real IPC channel (see bus/ipc.test.ts).
const hub = await startHubProcess();
afterAll(() => hub.stop());

runRateLimitContract({ name: 'ipc', create: async () => createIpcRateLimiter({ endpoint: hub.endpoint }) });
