// Feature check for the FerretDB started by scripts/engines.sh, using the official `mongodb` driver
// (run via `scripts/engines.sh verify ferretdb`). REQUIRED checks must pass (exit 1 otherwise);
// PROBE checks only report what this FerretDB supports (see docs/engines.md).
const { MongoClient } = require('mongodb');

const url = process.env.NATTER_MONGODB_URL || 'mongodb://127.0.0.1:27017/';
let failedRequired = 0;

async function check(kind, name, fn) {
  try {
    const info = await fn();
    console.log(
      `ferretdb: ${kind === 'required' ? 'ok         ' : 'supported  '} ${name}${info === undefined ? '' : ` -> ${JSON.stringify(info)}`}`,
    );
  } catch (e) {
    const msg = `${e.codeName || e.name || 'Error'}${e.code !== undefined ? ` (${e.code})` : ''}: ${e.message}`;
    if (kind === 'required') {
      failedRequired++;
      console.log(`ferretdb: FAILED      ${name}: ${msg}`);
    } else {
      console.log(`ferretdb: unsupported ${name}: ${msg}`);
    }
  }
}
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg);
};

(async () => {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  const db = client.db(`natter_verify_${process.pid}`);
  const messages = db.collection('messages');
  const counters = db.collection('counters');
  const R = 'required';
  const P = 'probe';
  try {
    await check(R, 'buildInfo', async () => {
      const b = await db.admin().command({ buildInfo: 1 });
      return { version: b.version, ferretdb: b.ferretdb?.version };
    });
    await check(R, 'insertOne / insertMany / find sort+limit', async () => {
      await messages.insertOne({ channel: 'c1', seq: 1, body: 'hello world' });
      await messages.insertMany([
        { channel: 'c1', seq: 2, body: 'quick brown fox' },
        { channel: 'c2', seq: 1, body: 'lazy dog' },
      ]);
      const last = await messages.find({ channel: 'c1' }).sort({ seq: -1 }).limit(1).toArray();
      assert(last[0].seq === 2, 'sort/limit');
    });
    await check(R, 'unique compound index {channel, seq}', () =>
      messages.createIndex({ channel: 1, seq: 1 }, { unique: true }),
    );
    await check(R, 'duplicate key rejected with code 11000', async () => {
      try {
        await messages.insertOne({ channel: 'c1', seq: 1 });
      } catch (e) {
        assert(e.code === 11000, `code ${e.code}`);
        return e.code;
      }
      throw new Error('duplicate accepted');
    });
    await check(R, "findOneAndUpdate $inc upsert returnDocument:'after' (sequential)", async () => {
      const seqs = [];
      for (let i = 0; i < 5; i++) {
        const d = await counters.findOneAndUpdate(
          { _id: 'channel:c1' },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        seqs.push(d.seq);
      }
      assert(seqs.join() === '1,2,3,4,5', seqs.join());
      return seqs;
    });
    await check(
      R,
      "writeConcern {w:'majority', j:true}",
      async () =>
        (await messages.insertOne({ channel: 'c3', seq: 1 }, { writeConcern: { w: 'majority', j: true } }))
          .acknowledged,
    );
    await check(R, 'bulkWrite (insert, upsert, updateMany, replace, delete)', async () => {
      const r = await messages.bulkWrite([
        { insertOne: { document: { channel: 'b', seq: 1 } } },
        { updateOne: { filter: { channel: 'b', seq: 2 }, update: { $set: { body: 'u' } }, upsert: true } },
        { updateMany: { filter: { channel: 'b' }, update: { $set: { flag: true } } } },
        { replaceOne: { filter: { channel: 'b', seq: 1 }, replacement: { channel: 'b', seq: 1, body: 'r' } } },
        { deleteOne: { filter: { channel: 'b', seq: 2 } } },
      ]);
      return {
        inserted: r.insertedCount,
        upserted: r.upsertedCount,
        modified: r.modifiedCount,
        deleted: r.deletedCount,
      };
    });
    await check(R, 'aggregate $match/$sort/$skip/$limit/$count, $group with $sum', async () => {
      const g = await messages
        .aggregate([
          { $match: { seq: { $gte: 1 } } },
          { $group: { _id: '$channel', n: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      const c = await messages
        .aggregate([{ $sort: { seq: 1 } }, { $skip: 1 }, { $limit: 10 }, { $count: 'n' }])
        .toArray();
      return { groups: g.length, count: c[0]?.n };
    });
    await check(R, 'unique index makes concurrent inserts of one (channel, seq) yield exactly one winner', async () => {
      const r = await Promise.allSettled(
        Array.from({ length: 20 }, () => messages.insertOne({ channel: 'race', seq: 1 })),
      );
      const ok = r.filter((x) => x.status === 'fulfilled').length;
      assert(ok === 1, `${ok} inserts succeeded`);
      return { winners: ok, duplicateKeyErrors: r.length - ok };
    });

    await check(P, 'findOneAndUpdate $inc is atomic under 30 concurrent calls', async () => {
      await counters.insertOne({ _id: 'race', seq: 0 });
      const vals = await Promise.all(
        Array.from({ length: 30 }, () =>
          counters
            .findOneAndUpdate({ _id: 'race' }, { $inc: { seq: 1 } }, { returnDocument: 'after' })
            .then((d) => d.seq),
        ),
      );
      const final = (await counters.findOne({ _id: 'race' })).seq;
      assert(
        new Set(vals).size === 30 && final === 30,
        `returned ${new Set(vals).size} distinct values, final counter ${final} (want 30/30): lost updates`,
      );
    });
    await check(P, 'multi-document transactions (withTransaction)', async () => {
      const s = client.startSession();
      try {
        await s.withTransaction(async () => {
          await messages.insertOne({ channel: 'tx', seq: 1 }, { session: s });
        });
      } finally {
        await s.endSession();
      }
    });
    await check(P, 'text index + $text', async () => {
      await messages.createIndex({ body: 'text' });
      return (await messages.find({ $text: { $search: 'fox' } }).toArray()).length;
    });
    await check(P, '$group $max/$first/$push', () =>
      messages
        .aggregate([{ $group: { _id: '$channel', m: { $max: '$seq' }, f: { $first: '$seq' }, p: { $push: '$seq' } } }])
        .toArray()
        .then((r) => r.length),
    );
    await check(P, '$lookup', () =>
      messages
        .aggregate([{ $lookup: { from: 'counters', localField: 'channel', foreignField: '_id', as: 'c' } }])
        .toArray()
        .then((r) => r.length),
    );
    await check(P, 'TTL index (expireAfterSeconds)', () => messages.createIndex({ at: 1 }, { expireAfterSeconds: 60 }));
    await check(P, 'partial unique index', () =>
      messages.createIndex(
        { clientMsgId: 1 },
        { unique: true, partialFilterExpression: { clientMsgId: { $exists: true } } },
      ),
    );
    await check(P, 'sparse unique index', () => messages.createIndex({ ext: 1 }, { unique: true, sparse: true }));
    await check(P, 'arrayFilters', () =>
      messages.updateMany({}, { $set: { 'r.$[e].k': 2 } }, { arrayFilters: [{ 'e.k': 1 }] }),
    );
    await check(P, 'change streams (watch)', async () => {
      const cs = messages.watch();
      try {
        await Promise.race([cs.tryNext(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 3000))]);
      } finally {
        await cs.close().catch(() => {});
      }
    });
  } finally {
    await db.dropDatabase().catch(() => {});
    await client.close();
  }
  if (failedRequired) {
    console.log(`ferretdb: ${failedRequired} REQUIRED check(s) FAILED`);
    process.exit(1);
  }
  console.log('ferretdb: OK (required checks passed; "unsupported" lines are known FerretDB v1 gaps)');
})().catch((e) => {
  console.error('ferretdb: FAILED', e);
  process.exit(1);
});
