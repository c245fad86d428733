import { runRateLimitContract } from '../../../test/contracts/rate-limit.contract.js';
import { createMemoryRateLimiter } from './memory.js';

runRateLimitContract({ name: 'memory', create: async () => createMemoryRateLimiter() });
