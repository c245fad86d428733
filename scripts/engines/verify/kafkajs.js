// Smoke test for the Kafka started by scripts/engines.sh, using kafkajs (run via `scripts/engines.sh verify kafka`).
// Admin creates a 3-partition topic, an idempotent producer (acks=-1) sends keyed messages,
// a consumer group reads them all back; then a transactional send and clean-up.
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.NATTER_KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'natter-verify', brokers, logLevel: logLevel.NOTHING });
const topic = `natter-verify-${process.pid}-${Date.now()}`;
const groupId = `${topic}-group`;
const N = 30;

const step = async (name, fn) => {
  const t0 = Date.now();
  const r = await fn();
  console.log(`kafka: ${name} ok (${Date.now() - t0} ms)`);
  return r;
};
const within = (ms, p, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

(async () => {
  const admin = kafka.admin();
  await step('admin connect', () => admin.connect());
  const { brokers: bs } = await admin.describeCluster();
  console.log(`kafka: cluster brokers ${bs.map((b) => `${b.host}:${b.port}`).join(',')}`);
  await step('createTopics (3 partitions)', () =>
    admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }),
  );
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  if (md.topics[0].partitions.length !== 3) throw new Error('expected 3 partitions');

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await step('idempotent producer connect', () => producer.connect());
  const messages = Array.from({ length: N }, (_, i) => ({ key: `channel-${i % 6}`, value: JSON.stringify({ i }) }));
  await step(`send ${N} keyed messages (acks=-1)`, () => producer.send({ topic, acks: -1, messages }));

  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map();
  const all = new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.set(JSON.parse(message.value.toString()).i, { partition, key: message.key.toString() });
        if (seen.size === N) resolve();
      },
    });
  });
  await step(`consumer group reads all ${N}`, () => within(60000, all, `consumed ${seen.size}/${N}`));
  const keyPartitions = new Map();
  for (const { key, partition } of seen.values())
    (keyPartitions.get(key) || keyPartitions.set(key, new Set()).get(key)).add(partition);
  if ([...keyPartitions.values()].some((s) => s.size !== 1)) throw new Error('a key landed on several partitions');
  const used = new Set([...seen.values()].map((v) => v.partition));
  console.log(`kafka: keys map to one partition each; partitions used: ${[...used].sort().join(',')}`);
  await consumer.disconnect();

  const tx = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  await step('transactional send + commit', async () => {
    const t = await tx.transaction();
    await t.send({ topic, acks: -1, messages: [{ key: 'channel-0', value: 'tx' }] });
    await t.commit();
  });
  await tx.disconnect();

  await producer.disconnect();
  await step('deleteTopics', () => admin.deleteTopics({ topics: [topic] }));
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
  console.log(`kafka: OK (kafkajs ${require('kafkajs/package.json').version})`);
  process.exit(0); // kafkajs may keep sockets/timers alive for a while after disconnect
})().catch((e) => {
  console.error('kafka: FAILED', e);
  process.exit(1);
});
