import { randomBytes } from 'node:crypto';
import type { User } from '@natter/protocol';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emits, messageInput, seedChannel, tenantInput } from '../../../../test/contracts/fixtures.js';
import { runStoreContract, type StoreEntity, type StoreRaw } from '../../../../test/contracts/store.contract.js';
import { event } from '../../../domain/events.js';
import type { Store } from '../../../ports/store.js';
import { createMongoStore, type MongoStoreOptions } from './index.js';

// CI starts FerretDB (scripts/engines.sh up ferretdb); an unreachable server fails every test.
const URL = process.env.NATTER_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/';
const RUN = randomBytes(3).toString('hex');
let databases = 0;

const COLLECTIONS: Record<StoreEntity, { name: string; platform: boolean }> = {
  users: { name: 'users', platform: false },
  channels: { name: 'channels', platform: false },
  members: { name: 'members', platform: false },
  messages: { name: 'messages', platform: false },
  reactions: { name: 'reactions', platform: false },
  outbox: { name: 'outbox', platform: true },
  apiKeys: { name: 'apiKeys', platform: true },
  sanctions: { name: 'sanctions', platform: false },
  blocks: { name: 'blocks', platform: false },
  flags: { name: 'flags', platform: false },
  audit: { name: 'audit', platform: false },
};

/** Options for a store in a database of its own (unique per test run and test). */
function freshOptions(databasePerTenant: boolean): MongoStoreOptions {
  databases += 1;
  return {
    url: URL,
    dbName: `natter_test_${RUN}_${databases}`,
    databasePerTenant,
    clientOptions: { serverSelectionTimeoutMS: 5000 },
  };
}

/** Every database the store of `opts` uses: the main one and, per tenant, its own. */
async function databasesOf(client: MongoClient, opts: MongoStoreOptions): Promise<string[]> {
  const { databases: all } = await client.db().admin().listDatabases({ nameOnly: true });
  const main = opts.dbName as string;
  return all.map((d) => d.name).filter((n) => n === main || n.startsWith(`${main}_t_`));
}

/** Looks at the documents themselves through a client of its own, bypassing the store. */
function mongoRaw(client: MongoClient, opts: MongoStoreOptions): StoreRaw {
  const main = opts.dbName as string;
  const dbsHolding = async (entity: StoreEntity): Promise<string[]> => {
    if (COLLECTIONS[entity].platform || !opts.databasePerTenant) return [main];
    return (await databasesOf(client, opts)).filter((n) => n !== main);
  };
  return {
    async tenantIdsOf(entity) {
      const ids = new Set<string | null>();
      for (const name of await dbsHolding(entity)) {
        const found = await client.db(name).collection(COLLECTIONS[entity].name).distinct('tenantId');
        for (const id of found) ids.add(id as string | null);
      }
      return [...ids];
    },
    async countOf(entity, tenantId) {
      let n = 0;
      for (const name of await dbsHolding(entity)) {
        n += await client.db(name).collection(COLLECTIONS[entity].name).countDocuments({ tenantId });
      }
      return n;
    },
  };
}

async function dropAll(client: MongoClient, opts: MongoStoreOptions): Promise<void> {
  for (const name of await databasesOf(client, opts)) await client.db(name).dropDatabase();
}

let rawClient: MongoClient;
beforeAll(async () => {
  rawClient = new MongoClient(URL, { serverSelectionTimeoutMS: 5000 });
  await rawClient.connect();
});
afterAll(async () => {
  await rawClient?.close();
});

for (const databasePerTenant of [false, true]) {
  runStoreContract({
    name: databasePerTenant ? 'mongodb (database per tenant)' : 'mongodb',
    async create() {
      const opts = freshOptions(databasePerTenant);
      return {
        store: await createMongoStore(opts),
        raw: mongoRaw(rawClient, opts),
        // Another "node": a second client on the same databases.
        reopen: () => createMongoStore(opts),
        cleanup: () => dropAll(rawClient, opts),
      };
    },
  });
}

describe('mongodb store', () => {
  async function withStore(databasePerTenant: boolean, body: (store: Store, opts: MongoStoreOptions) => Promise<void>) {
    const opts = freshOptions(databasePerTenant);
    const store = await createMongoStore(opts);
    try {
      await body(store, opts);
    } finally {
      await store.close();
      await dropAll(rawClient, opts);
    }
  }

  it('refuses ids that are not strings, so no object can become a query operator', async () => {
    await withStore(false, async (store) => {
      const t = store.tenant('A');
      await t.upsertUsers([{ id: 'u1' }]);
      const operator = { $gt: '' } as unknown as string;
      await expect(t.getUser(operator)).rejects.toThrow(TypeError);
      await expect(t.getUsers([operator])).rejects.toThrow(TypeError);
      await expect(t.listUsers({ limit: 10, after: operator })).rejects.toThrow(TypeError);
      await expect(t.deleteUser(operator)).rejects.toThrow(TypeError);
      await expect(store.platform.getApiKey(operator)).rejects.toThrow(TypeError);
      expect(() => store.tenant(operator)).toThrow(TypeError);
      expect(await t.getUser('u1')).not.toBeNull();
    });
  });

  it('keeps each tenant in a database of its own, named from a hash, and drops it with the tenant', async () => {
    await withStore(true, async (store, opts) => {
      const weird = 'acme/../$x y.z';
      await store.platform.createTenant(tenantInput(weird));
      await seedChannel(store.tenant(weird), 'c1', ['u1']);
      const names = await databasesOf(rawClient, opts);
      const tenantDbs = names.filter((n) => n !== opts.dbName);
      expect(tenantDbs).toHaveLength(1);
      expect(tenantDbs[0]).toMatch(new RegExp(`^${opts.dbName}_t_[0-9a-f]{24}$`));
      // Reading a tenant that has no database does not create one.
      expect(await store.tenant('nobody').getChannel('c1')).toBeNull();
      expect(await databasesOf(rawClient, opts)).toHaveLength(2);
      expect(await store.platform.deleteTenant(weird)).toBe(true);
      expect(await databasesOf(rawClient, opts)).toEqual([opts.dbName]);
    });
  });

  it('skips an outbox id another node already used instead of losing the event', async () => {
    await withStore(false, async (store, opts) => {
      await store.platform.createTenant(tenantInput('A'));
      const t = store.tenant('A');
      await t.upsertUsers([{ id: 'u1' }], emits.usersUpdated);
      // What a node handed the same counter value (FerretDB's $inc is not atomic) would have written.
      await rawClient.db(opts.dbName).collection<{ _id: number; [field: string]: unknown }>('outbox').insertOne({
        _id: 2,
        tenantId: 'A',
        channelId: null,
        type: 'user.updated',
        payload: '{"users":[]}',
        createdAt: new Date().toISOString(),
        publishedAt: null,
        writer: 'another-node',
      });
      await t.upsertUsers([{ id: 'u2' }], emits.usersUpdated);
      const events = await store.outbox.pending(10);
      expect(events.map((e) => e.id)).toEqual([1, 2, 3]);
      expect(events[1]?.payload).toEqual({ users: [] });
      expect(events[2]?.payload).toMatchObject({ users: [{ id: 'u2' }] });
    });
  });

  it('refuses events too large for a document without holding up the events after them', async () => {
    await withStore(false, async (store) => {
      const t = store.tenant('A');
      const huge = 'x'.repeat(15 * 1024 * 1024 + 1);
      const tooLarge = (users: User[]) => [event('user.updated', null, { users, padding: huge } as never)];
      await expect(t.upsertUsers([{ id: 'u1' }], tooLarge)).rejects.toThrow(RangeError);
      await t.upsertUsers([{ id: 'u2' }], emits.usersUpdated);
      expect((await store.outbox.pending(10)).map((e) => e.payload)).toEqual([
        { users: [expect.objectContaining({ id: 'u2' })] },
      ]);
    });
  });

  it('gives events of two nodes distinct, increasing outbox ids', async () => {
    await withStore(false, async (store, opts) => {
      const second = await createMongoStore(opts);
      try {
        await store.platform.createTenant(tenantInput('A'));
        const [a, b] = [store.tenant('A'), second.tenant('A')];
        await seedChannel(a, 'c1', ['u1', 'u2']);
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 ? b : a).appendMessage(messageInput('c1', i % 2 ? 'u2' : 'u1'), emits.messageNew),
          ),
        );
        const events = await store.outbox.pending(100);
        expect(events).toHaveLength(40);
        const ids = events.map((e) => e.id);
        expect(new Set(ids).size).toBe(40);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        const seqs = events.map((e) => (e.payload as { message: { seq: number } }).message.seq);
        expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      } finally {
        await second.close();
      }
    });
  });
});
