/**
 * The embedded default store: one SQLite file (or memory) through better-sqlite3.
 *
 * Several processes may open the same file: writes take the lock at BEGIN (IMMEDIATE) and wait up
 * to 5 s for each other, and sequence numbers are read from the file inside the write, never
 * cached. Reads never block writes (WAL).
 *
 * @example
 * const store = createSqliteStore({ path: './data/natter.db' });
 * const t = store.tenant('acme');
 * await t.appendMessage({ id, channelId: 'general', authorId: 'ann', type: 'regular', text: 'hi', createdAt });
 */
import type { PlatformStore, Store, TenantStore } from '../../../ports/store.js';
import { type Checkpointer, FALLBACK_PAGES, startCheckpointer } from './checkpointer.js';
import { openDatabase, SqliteContext } from './connection.js';
import { SEND_STATEMENTS, SEND_WRITES } from './message-store.js';
import { SqliteOutboxStore } from './outbox-store.js';
import { SqlitePlatformStore } from './platform-store.js';
import { SqliteTenantStore } from './tenant-store.js';

export interface SqliteStoreOptions {
  /** Database file, created with its directory when missing; `:memory:` for a private in-memory one. */
  path: string;
  /**
   * Checkpoint the WAL on a thread of its own (see `checkpointer.ts`) instead of inside commits.
   * Files only. @default true
   */
  checkpointThread?: boolean;
  /**
   * WAL frames from which the checkpoint thread has the store finish a checkpoint so that the WAL
   * starts over (see `checkpointer.ts`). @default RESTART_PAGES (20,000 frames, about 80 MB)
   */
  walRestartPages?: number;
}

/** Opens the SQLite store at `options.path`, applying pending schema migrations. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.path);
  let checkpointer: Checkpointer | null = null;
  if ((options.checkpointThread ?? true) && db.pragma('journal_mode', { simple: true }) === 'wal') {
    db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
    checkpointer = startCheckpointer(db.name, {
      restartPages: options.walRestartPages,
      // Between two writes (a batch runs synchronously), and never waiting for a lock: a PASSIVE
      // checkpoint that finds one held (another process's checkpoint) copies what it can.
      restart: () => {
        try {
          if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // An I/O error: left to the next ask and to the fallback, not thrown into the event
          // loop (this runs in a message listener, where nothing would catch it).
        }
      },
    });
  }
  const ctx = new SqliteContext(db);
  ctx.keepsMemo(...SEND_WRITES);
  ctx.keepsSeqs(...SEND_STATEMENTS);
  const platform: PlatformStore = new SqlitePlatformStore(ctx);
  const outbox = new SqliteOutboxStore(ctx);
  return {
    name: 'sqlite',
    platform,
    outbox,
    tenant(tenantId: string): TenantStore {
      return new SqliteTenantStore(ctx, tenantId);
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (!db.open) return;
      void outbox.writeMarks();
      ctx.drain();
      // The last connection to close checkpoints the WAL and removes it: the store's, after the thread's.
      await checkpointer?.stop();
      checkpointer = null;
      if (db.open) db.close();
    },
  };
}
