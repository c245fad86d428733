import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteQueue } from './write-queue.js';

describe('WriteQueue: what it tells its owner', () => {
  let dir: string;
  let db: Database.Database;
  let other: Database.Database;
  let rollbacks: number;
  let commits: number;
  let queue: WriteQueue;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'natter-wq-'));
    const path = join(dir, 'q.db');
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT NOT NULL)');
    // A second connection on the same file, as a NATTER_WORKERS sibling holds one.
    other = new Database(path);
    rollbacks = 0;
    commits = 0;
    queue = new WriteQueue(db, { onRollback: () => rollbacks++, onCommit: () => commits++ });
  });

  afterEach(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (v: string | null) => queue.push(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes);
  const values = () => (db.prepare('SELECT v FROM t ORDER BY rowid').all() as { v: string }[]).map((r) => r.v);

  it('reports no rollback while another connection holds the write lock (no write ran), then commits', async () => {
    await insert('a');
    rollbacks = 0;
    commits = 0;
    other.exec('BEGIN IMMEDIATE');
    // Released by a timer of this process: the queue must keep the event loop turning meanwhile.
    setTimeout(() => other.exec('COMMIT'), 50);
    const started = Date.now();
    await expect(insert('b')).resolves.toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    // Every try before the lock was free failed at BEGIN: what the owner keeps (remembered reads,
    // events to hand over) is still good, so it is not told to forget it.
    expect(rollbacks).toBe(0);
    expect(commits).toBe(1);
    expect(values()).toEqual(['a', 'b']);
  });

  it("does not stop the event loop when a new connection's first write finds the lock taken", async () => {
    other.exec('BEGIN IMMEDIATE');
    // Released by a timer of this process: a queue that waited inside SQLite (its busy timeout,
    // 5 s) would keep it from firing until then.
    setTimeout(() => other.exec('COMMIT'), 50);
    const started = Date.now();
    await expect(insert('a')).resolves.toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(values()).toEqual(['a']);
  });

  it('drain (before the database closes) waits for a lock another process holds, then commits', async () => {
    // The other process holds the lock for 300 ms; drain blocks this thread, so only another
    // process can let go of it meanwhile.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.exec('BEGIN IMMEDIATE'); console.log('held');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`,
        join(dir, 'q.db'),
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const written = insert('a');
    queue.drain();
    await expect(written).resolves.toBe(1);
    expect(values()).toEqual(['a']);
    await new Promise((resolve) => holder.once('exit', resolve));
  });

  it('reports the rollback of a batch whose write failed, and commits the others', async () => {
    const results = await Promise.allSettled([insert('a'), insert(null), insert('b')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // The fast pass rolled back whole, then the failing write's savepoint in the second pass.
    expect(rollbacks).toBeGreaterThan(0);
    expect(commits).toBe(1);
    expect(values()).toEqual(['a', 'b']);
  });
});
