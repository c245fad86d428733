import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSearchContract } from '../../../test/contracts/search.contract.js';
import { createSqliteSearch } from './sqlite-fts.js';

runSearchContract({
  name: 'sqlite-fts',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    return {
      index: createSqliteSearch({ path: join(dir, 'search.db') }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});
