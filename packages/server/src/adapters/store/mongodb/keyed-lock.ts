/**
 * In-process mutual exclusion per key (a channel, a message, a member, a user).
 *
 * FerretDB v1 applies every update as read, modify in Go, write the whole document back, with no
 * compare-and-set, so two concurrent updates of one document can lose one of them (even `$inc`).
 * Serializing the writes of one document inside the process makes a single node exact on
 * FerretDB; on MongoDB the updates used are atomic anyway and the lock only orders the
 * read-compute-write steps (emit needs the result before the write).
 *
 * Locks are leaves or taken in one order (channel, then message), never held while waiting for
 * the outbox, so they cannot deadlock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `body` when every earlier holder of `key` has finished; resolves with its result. */
  async run<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await body();
    } finally {
      release();
      // The last holder removes the key, so the map only holds keys in use.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Runs `body` holding every key of `keys` (taken in sorted order, so callers cannot deadlock). */
  async runAll<T>(keys: readonly string[], body: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => {
      const key = sorted[i];
      return key === undefined ? body() : this.run(key, () => step(i + 1));
    };
    return step(0);
  }
}
