/**
 * The event bus on Apache Kafka (>= 3.x; tested on 4.1.1) through kafkajs, which is loaded only
 * when `createKafkaBus` runs.
 *
 * - Topics: `topic` (events, `partitions` partitions) and `signalTopic` (signals, one hour of
 *   retention), created at start when missing. An existing topic keeps its partition count.
 * - `publish`: one idempotent producer (`acks: -1`, one request in flight), one `send` per call,
 *   calls serialized. Key `<tenantId>/<channelId>` (`<tenantId>/` for events without a channel), so
 *   a channel's events share a partition and keep their order; value = the event as JSON; headers
 *   `natter-event-id` and `natter-event-type`. Rejects with NATTER_UNAVAILABLE after
 *   `publishTimeoutMs` at the latest, so the outbox keeps the events and retries. A failed send
 *   replaces the producer: kafkajs rolls its sequence numbers back after a failure, and a batch the
 *   broker did write (only the answer was lost) would otherwise wedge the producer with
 *   OUT_OF_ORDER_SEQUENCE_NUMBER. The retry may then write an event twice; consumers drop
 *   redeliveries by outbox id.
 * - `subscribe` and `onSignal`: each node runs one consumer for both topics in a consumer group of
 *   its own (`<groupPrefix>fanout.<nodeId>.<uuid>`, deleted on close). The factory reads the topics'
 *   end offsets, starts that consumer, seeks it there when it joins and resolves only then: every
 *   event published after `createKafkaBus` resolved reaches every handler, in partition order.
 * - `consume(group)`: a kafkajs consumer in group `<groupPrefix><group>`. A brand-new group starts
 *   at the oldest retained event (Kafka's `latest` reset could skip events published while the
 *   group's first members join). Kafka assigns each partition to one member, so a channel's events
 *   are handled by one node at a time, in order, one at a time per node. An event is committed
 *   after its handler resolved. A rejecting handler is retried in place (`attempts`, with
 *   backoff); if it still fails, its partition is paused and the event redelivered after a delay,
 *   nothing after it in that partition being handled first; after `maxDeliveries` deliveries it is
 *   reported to `onError` and skipped. Handlers must finish within `sessionTimeout`: kafkajs
 *   heartbeats between messages only.
 * - Every consumer is supervised: one that kafkajs gave up on, or that completed no fetch,
 *   heartbeat or join for `stallTimeoutMs` (kafkajs hangs on a half-open connection), is replaced
 *   by a new one resuming from the group's committed offsets.
 * - `signal`: best effort. Signals are batched per tick, keyed by tenant (in order per tenant) and
 *   sent by a plain producer with `acks: 1`; failures are reported, never thrown.
 *
 * @see docs/engines.md#kafka-bus
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, KafkaConfig, Producer } from 'kafkajs';
import type { OutboxEvent } from '../../domain/events.js';
import { NatterError } from '../../errors.js';
import type { EphemeralSignal, EventBus, EventHandler, GroupHandler, SignalHandler } from '../../ports/bus.js';

export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** This node's name: part of its fan-out group id and of the default `clientId`. */
  nodeId: string;
  /** @default `natter-${nodeId}` */
  clientId?: string;
  /** The events topic. @default 'natter.events' */
  topic?: string;
  /** The signals topic. @default 'natter.signals' */
  signalTopic?: string;
  /** Partitions of the events topic when this bus creates it. @default 12 */
  partitions?: number;
  /** Partitions of the signals topic when this bus creates it. @default 3 */
  signalPartitions?: number;
  /** Replication factor of the topics this bus creates (3 on a production cluster). @default 1 */
  replicationFactor?: number;
  /** Prefix of every consumer group id (`consume('search')` joins `natter.search`). @default 'natter.' */
  groupPrefix?: string;
  /**
   * A `publish` larger than this (in bytes of JSON, roughly) goes out in several sends, one after
   * the other: Kafka refuses a partition's batch larger than the topic's `max.message.bytes`
   * (1 MiB on a default broker). @default 900000
   */
  maxSendBytes?: number;
  /** `publish` rejects after this long at the latest. @default 8000 */
  publishTimeoutMs?: number;
  /** Startup (topics, the fan-out consumer) and each `consume()` fail after this long. @default 30000 */
  startTimeoutMs?: number;
  /**
   * Consumer group timing. kafkajs heartbeats only between fetches (`maxWaitTimeInMs`) and messages,
   * so these bound how fast a rebalance completes when a node joins or leaves.
   * @default { sessionTimeout: 30000, heartbeatInterval: 1000, rebalanceTimeout: 30000, maxWaitTimeInMs: 1000 }
   */
  groupTiming?: {
    sessionTimeout?: number;
    heartbeatInterval?: number;
    rebalanceTimeout?: number;
    maxWaitTimeInMs?: number;
  };
  /** In-place attempts of a rejecting group handler per delivery. @default 5 */
  attempts?: number;
  /** Deliveries of a failing group event before it is reported and skipped. @default 10 */
  maxDeliveries?: number;
  /**
   * A consumer that has completed no fetch, heartbeat or group join for this long is replaced by a
   * new one (kafkajs can hang on a half-open connection without crashing); 0 turns the watchdog
   * off. Keep it above `sessionTimeout`. @default 60000
   */
  stallTimeoutMs?: number;
  /** Passed to kafkajs: TLS, SASL, timeouts, a socket factory. @default { requestTimeout: 10000 } */
  client?: Pick<KafkaConfig, 'ssl' | 'sasl' | 'connectionTimeout' | 'requestTimeout' | 'socketFactory'>;
  /** Handler failures (with the event or signal), dead consumers and signal outages. @default console.error */
  onError?: (err: unknown, item?: OutboxEvent | EphemeralSignal) => void;
  /** kafkajs's own warnings and errors (lower levels are dropped). @default console.warn / console.error */
  log?: (level: 'warn' | 'error', message: string, extra: Record<string, unknown>) => void;
}

/**
 * kafkajs log lines about conditions it handles itself (rebalances, coordinators moving or loading,
 * leaders being elected), logged at error level per request; and the warning about the producer's
 * bounded retries, which is deliberate (see `publish`).
 */
const ROUTINE = [
  /rebalancing/i,
  /coordinator is (loading|not available)/i,
  /not the (correct )?coordinator/i,
  /not the leader/i,
  /no leader for this topic-partition/i,
  /Limiting retries for the idempotent producer/,
];
const EVENT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const SIGNAL_RETENTION_MS = 3_600_000;
const MAX_QUEUED_SIGNALS = 10_000;
const SIGNAL_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Creates an event bus on Kafka: every instance is one node. Resolves once the topics exist and
 * this node's fan-out consumer has joined; rejects with NATTER_UNAVAILABLE when Kafka does not
 * answer within `startTimeoutMs`.
 *
 * @example
 * const bus = await createKafkaBus({ brokers: ['kafka-1:9092'], nodeId: hostname() });
 * bus.subscribe((event) => fanOut(event));
 * const stop = await bus.consume('search', (event) => index(event));
 * @see docs/engines.md#kafka-bus
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<EventBus> {
  const { Kafka, Partitioners, logLevel } = await import('kafkajs');
  const topic = options.topic ?? 'natter.events';
  const signalTopic = options.signalTopic ?? 'natter.signals';
  const groupPrefix = options.groupPrefix ?? 'natter.';
  const publishTimeoutMs = options.publishTimeoutMs ?? 8000;
  const maxSendBytes = options.maxSendBytes ?? 900_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const attempts = options.attempts ?? 5;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const timing = {
    sessionTimeout: 30_000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 30_000,
    maxWaitTimeInMs: 1000,
    ...options.groupTiming,
  };
  const onError = options.onError ?? ((err: unknown) => console.error('[natter] kafka bus:', err));
  const log =
    options.log ??
    ((level: 'warn' | 'error', message: string, extra: Record<string, unknown>) =>
      console[level]('[natter] kafka:', message, extra.error ?? ''));

  const config: KafkaConfig = {
    requestTimeout: 10_000,
    ...options.client,
    clientId: options.clientId ?? `natter-${options.nodeId}`,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: { message, timestamp: _t, logger: _l, ...extra } }) => {
        if (ROUTINE.some((r) => r.test(message) || r.test(String(extra.error ?? '')))) return;
        log(level === logLevel.ERROR ? 'error' : 'warn', namespace ? `${namespace}: ${message}` : message, extra);
      },
  };
  const kafka = new Kafka(config);
  // The event producer's own client gives up reconnecting sooner, so that a refused connection
  // fails a publish in about 2 s rather than at the deadline; the producer is replaced anyway.
  const producerKafka = new Kafka({ ...config, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } });
  // kafkajs's default backoff grows to 30 s between restarts: a consumer would stay down that long
  // after Kafka is back.
  const consumerOf = (groupId: string) =>
    kafka.consumer({
      groupId: groupPrefix + groupId,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 3000 },
      ...timing,
    });

  const handlers = new Set<EventHandler>();
  const signalHandlers = new Set<SignalHandler>();
  /** Group → its stop function. */
  const groups = new Map<string, () => Promise<void>>();
  let closed = false;

  function dispatch<T extends OutboxEvent | EphemeralSignal>(set: Set<(x: T) => void>, item: T): void {
    for (const handler of set) {
      try {
        handler(item);
      } catch (err) {
        onError(err, item);
      }
    }
  }

  function decode<T>(value: Buffer | null): T | undefined {
    try {
      return value ? (JSON.parse(value.toString()) as T) : undefined;
    } catch (err) {
      onError(err);
      return undefined;
    }
  }

  // --- start: topics, the signal producer, the fan-out consumer ----------------------------------

  const admin = kafka.admin();
  const signalProducerOf = () =>
    kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  /** Replaced after a failed send, like the event producer. */
  let signalProducer = signalProducerOf();
  /** The current signal producer's connect (the first one is awaited by start()). */
  let signalConnected: Promise<void> = Promise.resolve();
  const fanoutGroup = `fanout.${options.nodeId}.${randomUUID()}`;
  /** Where the topics ended when this node started: its fan-out starts there. */
  const ends = new Map<string, Map<number, string>>();
  const fanout = supervised('the fan-out consumer', fanoutGroup, async (consumer, first) => {
    await step(consumer.connect());
    await step(consumer.subscribe({ topics: [topic, signalTopic], fromBeginning: false }));
    // The first consumer starts exactly where the topics ended before it joined: kafkajs would
    // resolve "latest" only at its first fetch, after this factory resolved, and skip what came
    // between. A replacement resumes from the offsets the group committed.
    const seekToEnds = (assignment: Record<string, number[]>) => {
      for (const [t, partitions] of Object.entries(assignment)) {
        for (const partition of partitions) {
          const offset = ends.get(t)?.get(partition);
          if (offset !== undefined) consumer.seek({ topic: t, partition, offset });
        }
      }
    };
    const joined = whenJoined(consumer, first ? seekToEnds : undefined);
    joined.catch(() => undefined); // awaited below; not unhandled if run() throws first
    await step(
      consumer.run({
        eachMessage: async ({ topic: from, message }) => {
          if (closed) return;
          if (from === topic) {
            const event = decode<OutboxEvent>(message.value);
            if (event) dispatch(handlers, event);
          } else {
            const signal = decode<EphemeralSignal>(message.value);
            if (signal) dispatch(signalHandlers, signal);
          }
        },
      }),
    );
    await step(joined);
    if (first) await step(positioned(seekToEnds));
  });
  let aborted = false;
  const firstProducer = connectProducer();
  firstProducer.catch(() => undefined); // awaited by start()
  /** The event producer; replaced after a failed send. */
  let eventProducer: Promise<Producer> | undefined = firstProducer;

  /** Awaits one startup step; gives up when the startup deadline has passed meanwhile. */
  async function step<T>(promise: Promise<T>): Promise<T> {
    const result = await promise;
    if (aborted) throw new Error('startup timed out');
    return result;
  }

  async function start(): Promise<void> {
    await step(admin.connect());
    // Create only what is missing: kafkajs logs TOPIC_ALREADY_EXISTS at error level.
    const existing = new Set(await step(admin.listTopics()));
    const wanted = [
      {
        topic,
        numPartitions: options.partitions ?? 12,
        replicationFactor: options.replicationFactor ?? 1,
        // Room for one very large event (a 100,000-character message); batches are split below 1 MB.
        configEntries: [{ name: 'max.message.bytes', value: String(EVENT_MAX_MESSAGE_BYTES) }],
      },
      {
        topic: signalTopic,
        numPartitions: options.signalPartitions ?? 3,
        replicationFactor: options.replicationFactor ?? 1,
        configEntries: [{ name: 'retention.ms', value: String(SIGNAL_RETENTION_MS) }],
      },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      await step(admin.createTopics({ waitForLeaders: true, timeout: startTimeoutMs, topics: wanted }));
    }
    // Also waits until a just-created topic's partitions have leaders (kafkajs's admin gives up on
    // NOT_LEADER_OR_FOLLOWER right after creation).
    for (const t of [topic, signalTopic]) {
      const offsets = await step(
        retrying(
          () => admin.fetchTopicOffsets(t),
          () => aborted,
        ),
      );
      ends.set(t, new Map(offsets.map((p) => [p.partition, p.high])));
    }
    await step(signalProducer.connect());
    await step(firstProducer);
    await fanout.start();
  }

  /**
   * Waits until the fan-out group has committed a position for every partition (kafkajs commits a
   * seek at its next fetch). A seek lost to a failed fetch is made again: without it, kafkajs
   * would fall back to "latest" later and skip events published after this factory resolved.
   */
  async function positioned(seekToEnds: (assignment: Record<string, number[]>) => void): Promise<void> {
    for (let round = 0; ; round++) {
      const missing: Record<string, number[]> = {};
      let count = 0;
      for (const t of ends.keys()) {
        const [committed] = await admin.fetchOffsets({ groupId: groupPrefix + fanoutGroup, topics: [t] });
        missing[t] = (committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition);
        count += missing[t].length;
      }
      if (count === 0 || aborted) return;
      if (round > 0 && round % 10 === 0) {
        try {
          seekToEnds(missing);
        } catch {
          // The consumer is restarting; it seeks again when it has rejoined.
        }
      }
      await sleep(50);
    }
  }

  try {
    await withDeadline(start(), startTimeoutMs);
  } catch (err) {
    aborted = true;
    // A client still connecting is disconnected once it gives up or succeeds; not waited for.
    void firstProducer.then((p) => p.disconnect()).catch(() => undefined);
    await Promise.all([fanout.stop(), bounded(signalProducer.disconnect())]);
    await bounded(admin.disconnect());
    throw new NatterError('NATTER_UNAVAILABLE', `Kafka at ${options.brokers.join(',')} did not answer`, undefined, {
      cause: err,
    });
  }

  // --- publish -----------------------------------------------------------------------------------

  async function connectProducer(): Promise<Producer> {
    const producer = producerKafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    try {
      await producer.connect();
    } catch (err) {
      await bounded(producer.disconnect());
      throw err;
    }
    return producer;
  }

  async function send(events: OutboxEvent[]): Promise<void> {
    eventProducer ??= connectProducer();
    const producer = await eventProducer;
    for (const messages of chunked(events.map(toMessage), maxSendBytes)) {
      await producer.send({ topic, acks: -1, timeout: publishTimeoutMs, messages });
    }
  }

  /** Publishes one at a time: per-channel order holds across calls, and kafkajs's sequences stay sane. */
  let publishing: Promise<unknown> = Promise.resolve();

  // --- consume -----------------------------------------------------------------------------------

  interface GroupState {
    group: string;
    handler: GroupHandler;
    stopped: boolean;
    /** Failed deliveries of the events being retried, by `partition/offset`. */
    failures: Map<string, number>;
    resumeTimers: Set<NodeJS.Timeout>;
  }

  async function handleBatch(state: GroupState, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
    const going = () => !state.stopped && isRunning() && !isStale();
    for (const message of batch.messages) {
      if (!going()) return;
      const event = decode<OutboxEvent>(message.value);
      const key = `${batch.partition}/${message.offset}`;
      if (event) {
        const outcome = await deliver(state, event, going, heartbeat);
        if (outcome === 'stopped') return;
        if (outcome === 'failed') {
          const deliveries = (state.failures.get(key) ?? 0) + 1;
          if (deliveries < maxDeliveries) {
            // Not resolved, so fetched again from here once the partition resumes: later events of
            // the partition wait, the other partitions go on.
            state.failures.set(key, deliveries);
            const resume = pause();
            const timer = setTimeout(
              () => {
                state.resumeTimers.delete(timer);
                resume();
              },
              Math.min(30_000, 500 * 2 ** (deliveries - 1)),
            );
            state.resumeTimers.add(timer);
            return;
          }
          onError(
            new NatterError(
              'NATTER_INTERNAL',
              `group ${state.group} skipped event ${event.id} after ${maxDeliveries} deliveries`,
            ),
            event,
          );
        }
      }
      state.failures.delete(key);
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  async function deliver(
    state: GroupState,
    event: OutboxEvent,
    going: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<'ok' | 'failed' | 'stopped'> {
    for (let attempt = 1; ; attempt++) {
      try {
        await state.handler(event);
        return 'ok';
      } catch (err) {
        if (attempt >= attempts) {
          onError(err, event);
          return 'failed';
        }
        await sleep(50 * 2 ** attempt);
        if (!going()) return 'stopped';
        await heartbeat(); // throws when the group rebalances: kafkajs rejoins, the event is redelivered
      }
    }
  }

  // --- signals -----------------------------------------------------------------------------------

  let signalQueue: EphemeralSignal[] = [];
  let flushing = false;
  let signalsDown = false;

  async function flushSignals(): Promise<void> {
    while (signalQueue.length > 0 && !closed) {
      const batch = signalQueue;
      signalQueue = [];
      try {
        await withDeadline(
          (async () => {
            await signalConnected;
            await signalProducer.send({
              topic: signalTopic,
              acks: 1,
              timeout: SIGNAL_TIMEOUT_MS,
              messages: batch.map((s) => ({ key: s.tenantId, value: JSON.stringify(s) })),
            });
          })(),
          SIGNAL_TIMEOUT_MS,
        );
        signalsDown = false;
      } catch (err) {
        // The producer may be stuck on a half-open connection, which kafkajs keeps: the next
        // batch goes out through a new one.
        const broken = signalProducer;
        signalProducer = signalProducerOf();
        signalConnected = signalProducer.connect();
        signalConnected.catch(() => undefined); // the next send awaits it
        void bounded(broken.disconnect());
        // Once per outage, not once per typing indicator.
        if (!signalsDown)
          onError(new NatterError('NATTER_UNAVAILABLE', 'Kafka dropped signals', undefined, { cause: err }), batch[0]);
        signalsDown = true;
      }
    }
    flushing = false;
  }

  // --- the port ------------------------------------------------------------------------------------

  return {
    name: 'kafka',
    publish(events) {
      if (closed) return Promise.reject(new NatterError('NATTER_UNAVAILABLE', 'the event bus is closed'));
      if (events.length === 0) return Promise.resolve();
      const run = publishing.then(async () => {
        try {
          await withDeadline(send(events), publishTimeoutMs);
        } catch (err) {
          const broken = eventProducer;
          eventProducer = undefined;
          void broken?.then((p) => bounded(p.disconnect())).catch(() => undefined);
          throw new NatterError('NATTER_UNAVAILABLE', 'Kafka did not accept the events', undefined, { cause: err });
        }
      });
      publishing = run.catch(() => undefined);
      return run;
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async consume(group, handler) {
      if (closed) throw new NatterError('NATTER_UNAVAILABLE', 'the event bus is closed');
      if (groups.has(group)) {
        throw new NatterError('NATTER_INTERNAL', `group ${group} is already consumed on this node`);
      }
      const state: GroupState = { group, handler, stopped: false, failures: new Map(), resumeTimers: new Set() };
      const going = async <T>(promise: Promise<T>): Promise<T> => {
        const result = await promise;
        if (state.stopped) throw new Error('stopped while starting');
        return result;
      };
      const consumer = supervised(`the consumer of group ${group}`, group, async (c) => {
        await going(c.connect());
        await going(c.subscribe({ topic, fromBeginning: true }));
        const joined = whenJoined(c);
        joined.catch(() => undefined); // awaited below; not unhandled if run() throws first
        await going(c.run({ eachBatchAutoResolve: false, eachBatch: (payload) => handleBatch(state, payload) }));
        await going(joined);
      });
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= (async () => {
          state.stopped = true;
          for (const timer of state.resumeTimers) clearTimeout(timer);
          await consumer.stop();
          groups.delete(group);
        })();
        return stopping;
      };
      groups.set(group, stop); // taken now: a concurrent consume() of the group fails
      try {
        await withDeadline(consumer.start(), startTimeoutMs);
      } catch (err) {
        await stop();
        throw new NatterError('NATTER_UNAVAILABLE', `group ${group} could not join`, undefined, { cause: err });
      }
      return stop;
    },
    signal(signal) {
      if (closed) return;
      if (signalQueue.length >= MAX_QUEUED_SIGNALS) signalQueue.shift();
      signalQueue.push(signal);
      if (flushing) return;
      flushing = true;
      setImmediate(() => void flushSignals());
    },
    onSignal(handler) {
      signalHandlers.add(handler);
      return () => signalHandlers.delete(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...groups.values()].map((stop) => stop()));
      await fanout.stop();
      // A unique group per node and run: delete it rather than leave it to offset expiry.
      await bounded(admin.deleteGroups([groupPrefix + fanoutGroup]));
      await bounded(publishing);
      const producer = eventProducer;
      await Promise.all([
        bounded(signalProducer.disconnect()),
        bounded((async () => producer && (await producer).disconnect())()),
      ]);
      await bounded(admin.disconnect());
      handlers.clear();
      signalHandlers.clear();
    },
  };

  /**
   * Runs one consumer of a group at a time and replaces it when kafkajs has given up on it: after
   * a crash kafkajs does not restart itself (an error it does not call retriable), or after
   * `stallTimeoutMs` without a completed fetch, heartbeat or join (kafkajs can hang on a
   * half-open connection without crashing). The replacement joins the same group and resumes from
   * its committed offsets; it is retried with backoff until it joins or `stop()` is called.
   */
  function supervised(
    what: string,
    groupId: string,
    launch: (consumer: Consumer, first: boolean) => Promise<void>,
  ): { start(): Promise<void>; stop(): Promise<void> } {
    let current: Consumer | undefined;
    /** The current consumer has joined: from then on the supervisor replaces it. */
    let running = false;
    let alive = Date.now();
    let replacing: Promise<void> | undefined;
    let stopped = false;
    const watchdog =
      stallTimeoutMs > 0
        ? setInterval(
            () => {
              if (running && !replacing && !stopped && !closed && Date.now() - alive > stallTimeoutMs) {
                void replace(`completed no fetch or heartbeat for ${Math.round((Date.now() - alive) / 1000)} s`);
              }
            },
            Math.min(5000, Math.max(100, stallTimeoutMs / 4)),
          )
        : undefined;
    watchdog?.unref();

    function fresh(): Consumer {
      const consumer = consumerOf(groupId);
      const beat = () => {
        if (consumer === current) alive = Date.now();
      };
      consumer.on(consumer.events.FETCH, beat);
      consumer.on(consumer.events.HEARTBEAT, beat);
      consumer.on(consumer.events.GROUP_JOIN, beat);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (consumer !== current || !running || payload.restart || stopped || closed) return;
        onError(new NatterError('NATTER_UNAVAILABLE', `${what} stopped`, undefined, { cause: payload.error }));
        void replace('stopped');
      });
      current = consumer;
      running = false;
      alive = Date.now();
      return consumer;
    }

    async function launched(consumer: Consumer, first: boolean): Promise<void> {
      await launch(consumer, first);
      if (consumer === current) {
        running = true;
        alive = Date.now();
      }
    }

    function replace(reason: string): Promise<void> {
      replacing ??= (async () => {
        log('warn', `${what} ${reason}: starting a new one`, {});
        for (let attempt = 0; !stopped && !closed; attempt++) {
          // A hung consumer may take long to disconnect: its successor does not wait for that
          // (kafkajs stops its fetching first; the group drops it after its session timeout).
          const old = current;
          if (old) await withDeadline(old.disconnect(), 2000).catch(() => undefined);
          if (stopped || closed) return;
          try {
            await withDeadline(launched(fresh(), false), startTimeoutMs);
            return;
          } catch (err) {
            log('warn', `${what} did not start again: ${err instanceof Error ? err.message : String(err)}`, {});
            await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** attempt)).unref());
          }
        }
      })().finally(() => {
        replacing = undefined;
      });
      return replacing;
    }

    return {
      start: () => launched(fresh(), true),
      async stop() {
        stopped = true;
        clearInterval(watchdog);
        if (current) await bounded(current.disconnect());
      },
    };
  }
}

/**
 * Resolves when the consumer first joined its group (with its assignment). Rejects if it crashed
 * for good first; kafkajs restarts it after retriable errors (a coordinator still loading).
 * `onJoin` runs inside kafkajs's join: it must not throw.
 */
function whenJoined(consumer: Consumer, onJoin?: (assignment: Record<string, number[]>) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const offJoin = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      offJoin();
      offCrash();
      onJoin?.(payload.memberAssignment);
      resolve();
    });
    const offCrash = consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      offJoin();
      offCrash();
      reject(payload.error);
    });
  });
}

/** Retries a call while it fails with an error kafkajs calls retriable. */
async function retrying<T>(call: () => Promise<T>, stop: () => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (stop() || !(err instanceof Error && 'retriable' in err && err.retriable === true)) throw err;
      await sleep(Math.min(1000, 50 * 2 ** attempt));
    }
  }
}

interface EventMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

function toMessage(event: OutboxEvent): EventMessage {
  return {
    key: `${event.tenantId}/${event.channelId ?? ''}`,
    value: JSON.stringify(event),
    headers: { 'natter-event-id': String(event.id), 'natter-event-type': event.type },
  };
}

/** Splits messages, in order, into runs of at most about `maxBytes` (never an empty run). */
function chunked(messages: EventMessage[], maxBytes: number): EventMessage[][] {
  const runs: EventMessage[][] = [];
  let run: EventMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    // Record overhead (varints, header names, attributes) is well under 100 bytes.
    const size = Buffer.byteLength(message.value) + Buffer.byteLength(message.key) + 100;
    if (run.length > 0 && bytes + size > maxBytes) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(message);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Kafka within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Waits for a clean-up step, but not forever on a dead broker, and never throws. */
async function bounded(promise: Promise<unknown>): Promise<void> {
  await withDeadline(promise, STOP_TIMEOUT_MS).catch(() => undefined);
}
