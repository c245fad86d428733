import { runPresenceContract } from '../../../test/contracts/presence.contract.js';
import { createMemoryPresence } from './memory.js';

runPresenceContract({ name: 'memory', crossNode: false, create: async () => createMemoryPresence() });
