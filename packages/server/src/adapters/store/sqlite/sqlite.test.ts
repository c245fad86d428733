import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runStoreContract, type StoreEntity, type StoreRaw } from '../../../../test/contracts/store.contract.js';
import { event } from '../../../domain/events.js';
import type { Store } from '../../../ports/store.js';
import { startCheckpointer } from './checkpointer.js';
import { createSqliteStore } from './index.js';
import { MIGRATIONS } from './migrations.js';
import type { SqliteOutboxStore } from './outbox-store.js';

const TABLES: Record<StoreEntity, string> = {
  users: 'users',
  channels: 'channels',
  members: 'members',
  messages: 'messages',
  reactions: 'reactions',
  outbox: 'outbox',
  apiKeys: 'api_keys',
  sanctions: 'sanctions',
  blocks: 'blocks',
  flags: 'flags',
  audit: 'audit_log',
};

/** Reads the file through its own read-only connection, bypassing the store. */
function sqlRaw(path: string): StoreRaw {
  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  return {
    async tenantIdsOf(entity) {
      const rows = query<{ t: string | null }>(`SELECT DISTINCT tenant_id AS t FROM ${TABLES[entity]}`);
      return rows.map((r) => r.t);
    },
    async countOf(entity, tenantId) {
      const [row] = query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLES[entity]} WHERE tenant_id = ?`, tenantId);
      return row?.n ?? 0;
    },
  };
}

/** A fresh file in a directory that does not exist yet (the store creates it). */
function tempPath(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'natter-sqlite-'));
  return { dir, path: join(dir, 'nested', 'natter.db') };
}

runStoreContract({
  name: 'sqlite',
  async create() {
    const { dir, path } = tempPath();
    return {
      store: createSqliteStore({ path }),
      raw: sqlRaw(path),
      reopen: async () => createSqliteStore({ path }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe('sqlite store', () => {
  it('applies each migration once and keeps data across reopening', async () => {
    const { dir, path } = tempPath();
    try {
      const first = createSqliteStore({ path });
      await first.platform.createTenant({ id: 't', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
      await first.close();
      const second = createSqliteStore({ path });
      expect((await second.platform.getTenant('t'))?.name).toBe('T');
      await second.close();

      const db = new Database(path, { readonly: true });
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs in memory', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.platform.createTenant({ id: 't', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
    expect(await store.platform.getTenant('t')).not.toBeNull();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});

/** Tenant `t` with users `u1` and `u2`; `u1` is a member of group channel `c1`. */
async function seedChannel(store: Store): Promise<void> {
  await store.platform.createTenant({ id: 't', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
  await store.tenant('t').upsertUsers([{ id: 'u1' }, { id: 'u2' }]);
  await store
    .tenant('t')
    .createChannel(
      { id: 'c1', type: 'group', members: [{ userId: 'u1', role: 'member' }] },
      '2026-01-01T00:00:00.000Z',
    );
}

type SendResult = Awaited<ReturnType<typeof sendHi>>;

/** A message by `u1` in `c1` (see {@link seedChannel}), with its `message.new` event. */
function sendHi(store: Store, id: string, createdAt = '2026-01-01T00:00:01.000Z') {
  return store.tenant('t').appendMessage(
    {
      id,
      channelId: 'c1',
      authorId: 'u1',
      type: 'regular',
      text: 'hi',
      createdAt,
    },
    (message) => [event('message.new', 'c1', { message })],
  );
}

/** A reply to a message that does not exist: fails inside its write, after taking a seq. */
function sendOrphanReply(store: Store, id: string) {
  return store.tenant('t').appendMessage({
    id,
    channelId: 'c1',
    authorId: 'u1',
    type: 'regular',
    text: 'a reply',
    parentId: 'no-such-message',
    createdAt: '2026-01-01T00:00:02.000Z',
  });
}

describe('sqlite store: what it remembers between reads (tenants, sanctions)', () => {
  const settings = { allowedOrigins: [] };
  const ban = (userId: string, channelId: string | null, expiresAt: string | null = null) => ({
    kind: 'ban' as const,
    userId,
    channelId,
    reason: null,
    createdBy: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt,
  });
  const NOW = '2026-06-01T00:00:00.000Z';

  async function twoConnections() {
    const { dir, path } = tempPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    await seedChannel(a);
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('sees a tenant changed or deleted by another connection (another process) at once', async () => {
    const { a, b, close } = await twoConnections();
    try {
      expect((await a.platform.getTenant('t'))?.name).toBe('T');
      await b.platform.updateTenant('t', { name: 'Renamed' });
      expect((await a.platform.getTenant('t'))?.name).toBe('Renamed');
      await b.platform.deleteTenant('t');
      expect(await a.platform.getTenant('t')).toBeNull();
    } finally {
      await close();
    }
  });

  it('sees its own tenant changes, and keeps them while only messages are sent', async () => {
    const { a, close } = await twoConnections();
    try {
      const first = await a.platform.getTenant('t');
      await sendHi(a, 'm1');
      // Sending does not touch tenants: the remembered record is served as it was.
      expect(await a.platform.getTenant('t')).toBe(first);
      await a.platform.updateTenant('t', { settings: { ...settings, maxMessageLength: 10 } });
      expect((await a.platform.getTenant('t'))?.settings.maxMessageLength).toBe(10);
    } finally {
      await close();
    }
  });

  it('sees sanctions put, lifted or cascaded away by this or another connection, and lets them expire', async () => {
    const { a, b, close } = await twoConnections();
    const active = async () => (await a.tenant('t').activeSanctions('u1', 'c1', NOW)).map((s) => s.channelId);
    try {
      expect(await active()).toEqual([]);
      await b.tenant('t').putSanction(ban('u1', null));
      expect(await active()).toEqual([null]);
      await a.tenant('t').putSanction(ban('u1', 'c1'));
      expect(await active()).toEqual([null, 'c1']);
      await a.tenant('t').removeSanction('ban', 'u1', null);
      expect(await active()).toEqual(['c1']);
      // Deleting the channel removes its bans by a foreign-key cascade, not by a sanctions statement.
      await a.tenant('t').deleteChannel('c1');
      expect(await active()).toEqual([]);
      await a.tenant('t').putSanction(ban('u1', null, '2026-05-31T23:59:59.000Z'));
      await a.tenant('t').activeSanctions('u1', 'c1', '2026-05-01T00:00:00.000Z');
      // Remembered, yet judged at the time asked: expired now.
      expect(await active()).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('sqlite store: what it remembers between reads (channels, memberships)', () => {
  it('keeps a remembered channel current through sends, and sees changes by either connection', async () => {
    const { dir, path } = tempPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    const read = async (userId = 'u1') => {
      const found = await a.tenant('t').getChannelWithMember?.('c1', userId);
      if (!found) throw new Error('c1 not found');
      return found;
    };
    try {
      await seedChannel(a);
      expect((await read()).channel.lastSeq).toBe(0);
      expect((await read('u2')).member).toBeNull();

      await sendHi(a, 'm1');
      await sendHi(a, 'm2');
      expect((await read()).channel).toMatchObject({ lastSeq: 2, lastMessageAt: '2026-01-01T00:00:01.000Z' });
      expect((await a.tenant('t').getChannel('c1'))?.lastSeq).toBe(2);
      await sendHi(b, 'm3');
      expect((await read()).channel.lastSeq).toBe(3);

      // A send that fails after taking its seq rolls the seq back, and the remembered channel with it.
      await expect(sendOrphanReply(a, 'm4')).rejects.toThrow(/parent/);
      expect((await read()).channel.lastSeq).toBe(3);

      await b.tenant('t').updateChannel('c1', { frozen: true });
      expect((await read()).channel.frozen).toBe(true);
      await b.tenant('t').addMembers('c1', [{ userId: 'u2', role: 'moderator' }], '2026-01-01T00:00:04.000Z');
      expect((await read('u2')).member?.role).toBe('moderator');
      expect((await read()).channel.memberCount).toBe(2);
      await a.tenant('t').removeMembers('c1', ['u1']);
      expect((await read()).member).toBeNull();
      await a.tenant('t').deleteChannel('c1');
      expect(await a.tenant('t').getChannelWithMember?.('c1', 'u2')).toBeNull();
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: sequence numbers counted per batch', () => {
  it('numbers a batch without gaps around a failed write, shows its numbers to the other statements of the batch, and stores the last', async () => {
    const { dir, path } = tempPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    const at = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    try {
      await seedChannel(a);
      // Queued in one turn: one batch. The failing write rolls back (to its savepoint) with the
      // number it took.
      const first = await Promise.allSettled([
        sendHi(a, 'm1', at(1)),
        sendOrphanReply(a, 'bad'),
        sendHi(a, 'm2', at(2)),
      ]);
      expect(first.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect([first[0], first[2]].map((r) => (r as PromiseFulfilledResult<SendResult>).value.message.seq)).toEqual([
        1, 2,
      ]);
      // A batch that succeeds as a whole: a channel change and a read mark (which reads `last_seq`
      // in SQL, and may not pass the last message) between two sends see the number so far.
      const [m3, renamed, read, m4] = await Promise.all([
        sendHi(a, 'm3', at(3)),
        a.tenant('t').updateChannel('c1', { name: 'renamed' }),
        a.tenant('t').markRead('c1', 'u1', 99, at(3)),
        sendHi(a, 'm4', at(4)),
      ]);
      expect([m3.message.seq, renamed?.lastSeq, read?.lastReadSeq, m4.message.seq]).toEqual([3, 3, 3, 4]);

      // What the file holds, read by another connection: the counter and the last message's time.
      const row = () => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare('SELECT last_seq, last_message_at, name FROM channels WHERE id = ?').get('c1');
        } finally {
          db.close();
        }
      };
      expect(row()).toEqual({ last_seq: 4, last_message_at: at(4), name: 'renamed' });
      // Another process counts on from the stored number, and this one from the other's.
      expect((await sendHi(b, 'm5', at(5))).message.seq).toBe(5);
      expect((await sendHi(a, 'm6', at(6))).message.seq).toBe(6);
      expect(row()).toEqual({ last_seq: 6, last_message_at: at(6), name: 'renamed' });
      const history = await b.tenant('t').listMessages('c1', { limit: 10 });
      expect(history.map((m) => [m.id, m.seq])).toEqual([
        ['m1', 1],
        ['m2', 2],
        ['m3', 3],
        ['m4', 4],
        ['m5', 5],
        ['m6', 6],
      ]);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: the outbox it hands over from memory', () => {
  async function twoStores() {
    const { dir, path } = tempPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    await seedChannel(a);
    // Everything so far is published: from here on `a` knows the unpublished set.
    await a.outbox.markPublished((await a.outbox.pending(100)).map((e) => e.id));
    return {
      a,
      b,
      path,
      close: async () => {
        await a.close();
        await b.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const texts = (events: { payload: unknown }[]) =>
    events.map((e) => (e.payload as { message: { id: string } }).message.id);

  it('hands out its own and other connections’ events in id order, each once', async () => {
    const { a, b, close } = await twoStores();
    try {
      expect(await a.outbox.pending(10)).toEqual([]);
      await sendHi(a, 'm1');
      expect(texts(await a.outbox.pending(10))).toEqual(['m1']);
      await sendHi(b, 'm2');
      await sendHi(a, 'm3');
      const events = await a.outbox.pending(10);
      expect(texts(events)).toEqual(['m1', 'm2', 'm3']);
      expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((x, y) => x - y));
      await a.outbox.markPublished(events.map((e) => e.id));
      expect(await a.outbox.pending(10)).toEqual([]);
      // Marked, not written yet, when another connection commits: read from the file, still not handed out.
      await sendHi(b, 'm4');
      expect(texts(await a.outbox.pending(10))).toEqual(['m4']);
    } finally {
      await close();
    }
  });

  it('keeps a mark made while earlier marks are being written, and writes it with the next ones', async () => {
    const { a, b, close } = await twoStores();
    try {
      await sendHi(a, 'm1');
      await sendHi(a, 'm2');
      const [e1, e2] = await a.outbox.pending(10);
      if (!e1 || !e2) throw new Error('expected two events');
      const outbox = a.outbox as SqliteOutboxStore;
      await outbox.markPublished([e1.id]);
      const first = outbox.writeMarks();
      await outbox.markPublished([e2.id]);
      await first;
      // Another connection reads the file: m1's mark is written, m2's not yet.
      expect(texts(await b.outbox.pending(10))).toEqual(['m2']);
      await outbox.writeMarks();
      expect(await b.outbox.pending(10)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('hands out nothing of a write that failed in the same batch as others', async () => {
    const { a, close } = await twoStores();
    try {
      const failing = sendOrphanReply(a, 'bad');
      // Queued in one turn: one batch, the failing write rolled back to its savepoint.
      const [ok1, bad, ok2] = await Promise.allSettled([sendHi(a, 'm1'), failing, sendHi(a, 'm2')]);
      expect([ok1.status, bad.status, ok2.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(texts(await a.outbox.pending(10))).toEqual(['m1', 'm2']);
      await sendHi(a, 'm3');
      expect(texts(await a.outbox.pending(10))).toEqual(['m1', 'm2', 'm3']);
    } finally {
      await close();
    }
  });

  it('writes its marks before closing: reopened, nothing is pending again', async () => {
    const { a, b, path, close } = await twoStores();
    try {
      await sendHi(a, 'm1');
      await a.outbox.markPublished((await a.outbox.pending(10)).map((e) => e.id));
      await a.close();
      const raw = new Database(path, { readonly: true });
      const unpublished = raw.prepare('SELECT COUNT(*) FROM outbox WHERE published_at IS NULL').pluck().get();
      raw.close();
      expect(unpublished).toBe(0);
      expect(await b.outbox.pending(10)).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('sqlite store: WAL checkpoints on their own thread', () => {
  /** Frames in the WAL and how many of them are copied into the database file. */
  function walState(path: string): { log: number; checkpointed: number } {
    const raw = new Database(path);
    try {
      // A checkpoint that copies nothing (`PASSIVE` with every frame still needed would) is not
      // what is asked here: `wal_checkpoint` on an empty request only reports.
      const [row] = raw.pragma('wal_checkpoint(NOOP)') as { log: number; checkpointed: number }[];
      return { log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
    } finally {
      raw.close();
    }
  }

  it('copies the WAL into the database file soon after writes, without a commit doing it', async () => {
    const { dir, path } = tempPath();
    const store = createSqliteStore({ path });
    try {
      await seedChannel(store);
      await Promise.all(Array.from({ length: 300 }, (_, i) => sendHi(store, `m${i}`)));
      // Far below the store's own threshold (FALLBACK_PAGES): only the thread checkpoints here.
      await expect
        .poll(() => walState(path), { timeout: 3000, interval: 50 })
        .toSatisfy((w: { log: number; checkpointed: number }) => w.log > 0 && w.checkpointed === w.log);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the WAL over under continuous writes once it holds walRestartPages frames', async () => {
    const { dir, path } = tempPath();
    // The thread alone never copies the last frames while commits keep landing, so without the
    // store finishing its checkpoint the WAL would grow to the fallback threshold (50,000 frames).
    const store = createSqliteStore({ path, walRestartPages: 200 });
    const watcher = new Database(path);
    try {
      await seedChannel(store);
      let most = 0;
      let last = 0;
      let frames = 0;
      let restarts = 0;
      let written = 0;
      const until = Date.now() + 15_000;
      while (frames < 60_000 && Date.now() < until) {
        // A batch of writes per turn of the event loop, back to back: one commit per turn.
        await Promise.all(Array.from({ length: 20 }, () => sendHi(store, `m${written++}`)));
        const [row] = watcher.pragma('wal_checkpoint(NOOP)') as { log: number }[];
        const log = row?.log ?? 0;
        if (log < last) restarts++;
        frames += log < last ? log : log - last;
        last = log;
        most = Math.max(most, log);
      }
      expect(frames).toBeGreaterThanOrEqual(60_000);
      // Between two of the thread's checkpoints (100 ms) the WAL grows by what was written meanwhile.
      expect(most).toBeLessThan(20_000);
      expect(restarts).toBeGreaterThan(2);
    } finally {
      watcher.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks the store again only after restartPages frames more when the WAL cannot start over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-sqlite-'));
    const path = join(dir, 'w.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x BLOB)');
    // A reader keeps the snapshot of before the writes: no checkpoint copies past it, so the WAL
    // cannot start over, whatever the store does when asked.
    const reader = new Database(path);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    let asked = 0;
    const checkpointer = startCheckpointer(path, { intervalMs: 5, restartPages: 100, restart: () => asked++ });
    try {
      const insert = db.prepare('INSERT INTO t VALUES (randomblob(3000))');
      // About 500 frames over half a second: some hundred of the thread's checkpoints.
      for (let i = 0; i < 50; i++) {
        for (let j = 0; j < 10; j++) insert.run();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [row] = db.pragma('wal_checkpoint(NOOP)') as { log: number }[];
      const frames = row?.log ?? 0;
      expect(frames).toBeGreaterThan(400);
      // One ask per 100 frames (the first at 100), not one per checkpoint past the first 100.
      expect(asked).toBeGreaterThanOrEqual(2);
      expect(asked).toBeLessThanOrEqual(Math.floor(frames / 100) + 1);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      await checkpointer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no WAL behind once closed: the database file alone holds everything', async () => {
    const { dir, path } = tempPath();
    const store = createSqliteStore({ path });
    try {
      await seedChannel(store);
      await sendHi(store, 'm1');
      expect(existsSync(`${path}-wal`)).toBe(true);
      // The thread is running (it has checkpointed) when the store closes.
      await expect.poll(() => walState(path).checkpointed, { timeout: 3000, interval: 50 }).toBeGreaterThan(0);
      await store.close();
      expect(existsSync(`${path}-wal`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: another process holding the write lock', () => {
  it('waits for the lock without stopping the event loop, then stores the write', async () => {
    const { dir, path } = tempPath();
    const store = createSqliteStore({ path });
    const other = new Database(path);
    try {
      await seedChannel(store);
      // A second connection (as a NATTER_WORKERS sibling would) takes the lock for 300 ms. It is
      // released by a timer of this very process: a store that waited inside SQLite would block
      // the event loop, the timer could not fire, and the write would fail after the busy timeout.
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      setTimeout(() => other.exec('COMMIT'), 300);
      const started = Date.now();
      const sent = await sendHi(store, 'm1');
      clearInterval(ticker);
      expect(sent).toMatchObject({ created: true, message: { seq: 1 } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(ticks).toBeGreaterThan(20);
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
