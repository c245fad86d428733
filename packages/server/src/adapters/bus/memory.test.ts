import { runBusContract } from '../../../test/contracts/bus.contract.js';
import { createMemoryBus } from './memory.js';

runBusContract({ name: 'memory', crossNode: false, create: async () => createMemoryBus() });
