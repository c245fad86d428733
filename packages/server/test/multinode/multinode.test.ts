/**
 * Several real Natter server processes (`node main.mjs`) on shared engines: MongoDB (FerretDB)
 * for the store, Kafka for events, Redis for signals, presence and rate limits.
 *
 * - Two nodes on the machine's shared engines, one fresh database: cross-node chat, then a node
 *   killed with SIGKILL under load.
 * - Two nodes on a PRIVATE Kafka and Redis (started here with scripts/engines.sh on free ports),
 *   since these tests stop Kafka and flush Redis: other suites use the shared ones meanwhile.
 *
 * Every test checks the messages against the store: each acknowledged message stored exactly
 * once, seqs 1..N without gaps, and every member holding exactly those messages in seq order
 * (members behave as the protocol asks of a client: see member.ts). Where the live stream itself
 * is guaranteed to be perfect, that is checked too: with both nodes writing one channel, every
 * subscriber gets its `message.new` events in seq order (each gateway's per-channel reorder
 * buffer, `src/realtime/reorder.ts`), and a subscribe with `since` joins its replay to the live
 * events with no repeat and no gap.
 *
 * The suite is sequential (one file; tests in a file run one after the other). Needs the engines:
 * `scripts/engines.sh up` (see docs/engines.md). ~2–3 minutes.
 */
import type { Channel, Message } from '@natter/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Client, createClient } from '../harness.js';
import { restHistory } from '../realtime/helpers.js';
import { connect, type WsClient } from '../realtime/ws-client.js';
import { buildServer, type Cluster, type ServerBundle, sharedEngines, sleep, startCluster, until } from './cluster.js';
import { Member, RestSender } from './member.js';
import { type PrivateEngines, startPrivateEngines } from './private-engines.js';

interface Tenant {
  tenantId: string;
  /** The tenant backend (its API key), on the first node. */
  api: Client;
  tokens: Record<string, string>;
  channel: Channel;
}

/** A tenant with users (each with a token) and one group channel of all of them. */
async function tenantWith(cluster: Cluster, userIds: string[], settings?: Record<string, unknown>): Promise<Tenant> {
  const res = await cluster.admin.post('/v1/admin/tenants', {
    name: `multinode ${userIds[0]}`,
    ...(settings ? { settings } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const api = createClient(cluster.nodes[0]!.url, { basic: [res.body.apiKey.id, res.body.apiKey.secret] });
  const users = await api.post('/v1/users', { users: userIds.map((id) => ({ id, name: id })) });
  expect(users.status, JSON.stringify(users.body)).toBe(200);
  const tokens: Record<string, string> = {};
  for (const id of userIds) {
    const t = await api.post(`/v1/users/${id}/tokens`);
    expect(t.status).toBe(201);
    tokens[id] = t.body.token;
  }
  const ch = await api.post('/v1/channels', { type: 'group', name: 'multinode', members: userIds });
  expect(ch.status, JSON.stringify(ch.body)).toBe(201);
  return { tenantId: res.body.tenant.id, api, tokens, channel: ch.body.channel };
}

/** The channel's history read through `url` with `token`. */
function historyVia(url: string, token: string, channelId: string): Promise<Message[]> {
  return restHistory(createClient(url, { bearer: token }), channelId);
}

/**
 * The store holds every acknowledged message exactly once, with seqs 1..N and nothing else, and
 * every member holds exactly that history, in order (live events plus what it recovered).
 */
function expectConsistent(history: Message[], acked: Map<string, Message>, members: Member[]): void {
  expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
  const byClientMsgId = new Map<string, Message[]>();
  for (const m of history)
    byClientMsgId.set(m.clientMsgId ?? '', [...(byClientMsgId.get(m.clientMsgId ?? '') ?? []), m]);
  const repeated = [...byClientMsgId].filter(([, ms]) => ms.length > 1).map(([id]) => id);
  expect(repeated, 'clientMsgIds stored more than once').toEqual([]);
  expect(new Set(byClientMsgId.keys())).toEqual(new Set(acked.keys()));
  for (const [clientMsgId, message] of acked) expect(byClientMsgId.get(clientMsgId)?.[0]?.id).toBe(message.id);
  for (const member of members) {
    member.check();
    expect(
      member.messages.map((m) => m.id),
      `${member.userId}'s messages`,
    ).toEqual(history.map((m) => m.id));
  }
}

/** The live stream itself was perfect: seq by seq, nothing repeated, no resubscription needed. */
function expectLiveInOrder(members: Member[]): void {
  for (const m of members) {
    const detail = `${m.userId}: stats ${JSON.stringify(m.stats)}, live anomalies ${JSON.stringify(m.liveAnomalies())}`;
    expect(m.liveAnomalies(), detail).toEqual([]);
    expect(m.stats.gaps, detail).toEqual([]);
    expect(m.stats.duplicates, detail).toBe(0);
  }
}

function summary(members: Member[]): string {
  return members.map((m) => `${m.userId} ${JSON.stringify(m.stats)}`).join('; ');
}

function allAcked(...senders: { acked: Map<string, Message> }[]): Map<string, Message> {
  const all = new Map<string, Message>();
  for (const s of senders) for (const [k, v] of s.acked) all.set(k, v);
  return all;
}

let bundle: ServerBundle | undefined;
/** Started in the background at once (Kafka takes ~20–40 s), awaited by the second group. */
let privateEngines: Promise<PrivateEngines> | undefined;

beforeAll(async () => {
  privateEngines = startPrivateEngines();
  privateEngines.catch(() => undefined); // reported by the group that awaits it
  bundle = await buildServer();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([privateEngines?.then((e) => e.down()), bundle?.remove()]);
}, 120_000);

describe('two nodes on the shared engines', () => {
  let cluster: Cluster;
  const sockets: WsClient[] = [];
  const members: Member[] = [];

  beforeAll(async () => {
    cluster = await startCluster(bundle!, {
      engines: sharedEngines(),
      env: { NATTER_RATE_USER: '100000', NATTER_RATE_TENANT: '1000000' },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...members.map((m) => m.close()), ...sockets.map((s) => s.terminate())]);
    await cluster?.close();
  }, 60_000);

  // A node that died on its own fails the test that was running, with its last output.
  afterEach(() => cluster?.checkNodes());

  it('chat across nodes: WS and REST senders on both; every member ends with every message once, in order; same history on both nodes; typing and presence cross', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['alice', 'bob', 'carol', 'dave', 'eve', 'frank']);
    const channelId = t.channel.id;
    const alice = new Member({ userId: 'alice', token: t.tokens.alice!, channelId, urls: [a.url, b.url] });
    const bob = new Member({ userId: 'bob', token: t.tokens.bob!, channelId, urls: [b.url, a.url] });
    members.push(alice, bob);
    await Promise.all([alice.start(), bob.start()]);
    const carol = new RestSender('carol', t.tokens.carol!, channelId, [a.url, b.url]);
    const dave = new RestSender('dave', t.tokens.dave!, channelId, [b.url, a.url]);

    await Promise.all([
      alice.sendMany('alice', 40, 4),
      bob.sendMany('bob', 40, 4),
      carol.sendMany('carol', 30, 3),
      dave.sendMany('dave', 30, 3),
    ]);
    const acked = allAcked(alice, bob, carol, dave);
    expect(acked.size).toBe(140);
    await Promise.all([alice.waitForSeq(140, 30_000), bob.waitForSeq(140, 30_000)]);

    const [fromA, fromB] = await Promise.all([
      historyVia(a.url, t.tokens.alice!, channelId),
      historyVia(b.url, t.tokens.alice!, channelId),
    ]);
    expect(fromB).toEqual(fromA);
    expectConsistent(fromA, acked, [alice, bob]);
    // Written through both nodes, yet live in seq order on both: nothing to resubscribe for.
    expectLiveInOrder([alice, bob]);
    console.info(`two nodes: ${fromA.length} messages; ${summary([alice, bob])}`);

    // Typing from A reaches B.
    await alice.socket!.request({ type: 'typing.start', channelId });
    const typing = await bob.socket!.nextEvent('typing.start', (e) => e.data.userId === 'alice', 10_000);
    expect(typing.channelId).toBe(channelId);

    // Presence: frank on B follows eve; eve comes online on A, also connects on B, and is online
    // until both sockets are closed.
    const frank = await connect(b.url, t.tokens.frank!);
    sockets.push(frank);
    expect(await frank.request({ type: 'presence.subscribe', userIds: ['eve'] })).toEqual({
      presence: [{ userId: 'eve', online: false }],
    });
    const eveOnA = await connect(a.url, t.tokens.eve!);
    sockets.push(eveOnA);
    expect((await frank.nextEvent('presence.changed', undefined, 10_000)).data).toEqual({
      userId: 'eve',
      online: true,
    });
    const eveOnB = await connect(b.url, t.tokens.eve!);
    sockets.push(eveOnB);
    // The gateway sends `welcome` before it records the connection in Redis: closing A within
    // that moment reports eve offline, then online again (seen under load).
    await sleep(1000);
    await eveOnA.close();
    await sleep(1500);
    expect(frank.eventsOf('presence.changed').map((e) => e.data.online)).toEqual([true]);
    const onA = await connect(a.url, t.tokens.frank!);
    sockets.push(onA);
    expect(await onA.request({ type: 'presence.subscribe', userIds: ['eve'] })).toEqual({
      presence: [{ userId: 'eve', online: true }],
    });
    await eveOnB.close();
    expect((await frank.nextEvent('presence.changed', undefined, 10_000)).data).toEqual({
      userId: 'eve',
      online: false,
    });
    expect((await onA.nextEvent('presence.changed', undefined, 10_000)).data).toEqual({ userId: 'eve', online: false });
  }, 120_000);

  /**
   * Two nodes appending to one channel allocate seqs (by unique insert) and outbox ids (from a
   * counter, after the insert) independently, and each node's relay publishes its own outbox: the
   * bus order is not the seq order (seq 4 can arrive before seq 2). Each gateway's reorder buffer
   * (`realtime/reorder.ts`) holds what comes early and, if a hole stays open past its wait, reads
   * the missing messages from the store. Without it, live streams showed e.g. 1, 4, 2, 3 in most
   * runs. Edits and reactions made through the other node than the message's never overtake it.
   */
  it('live message.new events of a channel written through both nodes arrive in seq order, edits and reactions after their message', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['w1', 'w2', 's1', 's2', 's3', 's4']);
    const channelId = t.channel.id;
    // Watchers that only record: no resubscription on a jump.
    const w1 = new Member({ userId: 'w1', token: t.tokens.w1!, channelId, urls: [a.url], resyncOnGap: false });
    const w2 = new Member({ userId: 'w2', token: t.tokens.w2!, channelId, urls: [b.url], resyncOnGap: false });
    members.push(w1, w2);
    await Promise.all([w1.start(), w2.start()]);
    const senders = [
      new RestSender('s1', t.tokens.s1!, channelId, [a.url]),
      new RestSender('s2', t.tokens.s2!, channelId, [b.url]),
      new RestSender('s3', t.tokens.s3!, channelId, [a.url]),
      new RestSender('s4', t.tokens.s4!, channelId, [b.url]),
    ];
    let observed: Record<string, { outOfOrder: number[][]; neverLive: number[] }> = {};
    // Steady sends through both nodes at once (a few in flight: deep bursts are grouped into one
    // insert per node and interleave less), until a live stream shows the race.
    for (let round = 1; round <= 5; round++) {
      await Promise.all(senders.map((s) => s.sendMany(`${s.userId}-${round}`, 15, 2)));
      const total = round * 60;
      const seen = (m: Member) => new Set(m.live.flat());
      await until('the round live on both nodes', () => seen(w1).size >= total && seen(w2).size >= total, 15_000).catch(
        () => undefined, // what never arrived is reported below
      );
      const neverLive = (m: Member) =>
        Array.from({ length: total }, (_, i) => i + 1).filter((seq) => !seen(m).has(seq));
      observed = Object.fromEntries(
        [w1, w2].map((m) => [m.userId, { outOfOrder: m.liveAnomalies(), neverLive: neverLive(m) }]),
      );
      if (Object.values(observed).some((o) => o.outOfOrder.length + o.neverLive.length > 0)) break;
    }
    expect(observed).toEqual({ w1: { outOfOrder: [], neverLive: [] }, w2: { outOfOrder: [], neverLive: [] } });

    // Each sender edits and reacts to its messages through the other node, right after sending:
    // a watcher gets every message.updated and reaction.added after that message's message.new.
    const other = (s: RestSender) => (s === senders[0] || s === senders[2] ? b.url : a.url);
    await Promise.all(
      senders.map(async (s) => {
        const api = createClient(other(s), { bearer: t.tokens[s.userId]! });
        for (let i = 0; i < 5; i++) {
          const m = await s.send(`${s.userId}-edited-${i}`);
          const path = `/v1/channels/${encodeURIComponent(channelId)}/messages/${encodeURIComponent(m.id)}`;
          const [edit, react] = await Promise.all([
            api.patch(path, { text: `${s.userId}-edited-${i} (edited)` }),
            api.put(`${path}/reactions/ok`),
          ]);
          expect([edit.status, react.status], JSON.stringify([edit.body, react.body])).toEqual([200, 200]);
        }
      }),
    );
    for (const w of [w1, w2]) {
      await w.socket!.waitFor(
        () =>
          w.socket!.eventsOf('reaction.added', channelId).length >= 20 &&
          w.socket!.eventsOf('message.updated', channelId).length >= 20,
        15_000,
        'edits and reactions',
      );
      const newAt = new Map<string, number>();
      const late: string[] = [];
      w.socket!.events.forEach((e, i) => {
        if (e.channelId !== channelId) return;
        const message = (e.data as { message?: Message }).message;
        if (!message) return;
        if (e.event === 'message.new') newAt.set(message.id, i);
        else if (!((newAt.get(message.id) ?? Number.POSITIVE_INFINITY) < i)) late.push(`${e.event} ${message.seq}`);
      });
      expect(late, `${w.userId}: events before their message.new`).toEqual([]);
      expect(w.liveAnomalies(), w.userId).toEqual([]);
    }
  }, 240_000 /* 300 sends on FerretDB: about a minute alone, more on a busy machine */);

  it('subscribe with since while both nodes write: every replay joins the live events with no repeat and no gap', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['x1', 'x2', 'r1', 'r2', 'r3', 'r4']);
    const channelId = t.channel.id;
    const senders = [
      new RestSender('x1', t.tokens.x1!, channelId, [a.url]),
      new RestSender('x2', t.tokens.x2!, channelId, [b.url]),
    ];
    const traffic = Promise.all(senders.map((s) => s.sendMany(s.userId, 60, 2, 30)));
    // Clients coming back during the traffic, on either node, a few messages behind.
    const joiners: { member: Member; since: number }[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(200);
      const res = await t.api.get<{ channel: Channel }>(`/v1/channels/${encodeURIComponent(channelId)}`);
      const since = Math.max(0, res.body.channel.lastSeq - 5);
      const userId = `r${(i % 4) + 1}`;
      const url = i % 2 === 0 ? a.url : b.url;
      const member = new Member({
        userId,
        token: t.tokens[userId]!,
        channelId,
        urls: [url],
        since,
        resyncOnGap: false,
      });
      members.push(member);
      joiners.push({ member, since });
      await member.start();
    }
    await traffic;
    await until('every joiner has all 120', () => joiners.every(({ member }) => member.lastSeq >= 120), 20_000).catch(
      () => undefined, // reported below
    );
    const history = await historyVia(a.url, t.tokens.r1!, channelId);
    expect(history).toHaveLength(120);
    for (const { member, since } of joiners) {
      const seen = { duplicates: member.stats.duplicates, gaps: member.stats.gaps, live: member.liveAnomalies() };
      expect(seen, `${member.userId} on ${member.url} since ${since}`).toEqual({ duplicates: 0, gaps: [], live: [] });
      expect(member.messages.map((m) => m.id)).toEqual(history.slice(since).map((m) => m.id));
    }
  }, 120_000);

  it('kill -9 of a node under load: its clients move to the other node, resend, and nothing is lost or doubled', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['gina', 'hank', 'ivan', 'june', 'kim']);
    const channelId = t.channel.id;
    const gina = new Member({ userId: 'gina', token: t.tokens.gina!, channelId, urls: [a.url, b.url] });
    const hank = new Member({ userId: 'hank', token: t.tokens.hank!, channelId, urls: [b.url, a.url] });
    // Only listens, on the node that dies.
    const ivan = new Member({ userId: 'ivan', token: t.tokens.ivan!, channelId, urls: [b.url, a.url] });
    members.push(gina, hank, ivan);
    await Promise.all([gina.start(), hank.start(), ivan.start()]);
    const june = new RestSender('june', t.tokens.june!, channelId, [b.url, a.url]);
    const kim = new RestSender('kim', t.tokens.kim!, channelId, [a.url, b.url]);

    const senders = Promise.all([
      gina.sendMany('gina', 40, 3, 30),
      hank.sendMany('hank', 40, 3, 30),
      june.sendMany('june', 30, 2, 30),
      kim.sendMany('kim', 30, 2, 30),
    ]);
    await until(
      '30 acknowledged messages before the kill',
      () => allAcked(gina, hank, june, kim).size >= 30,
      60_000,
      20,
    );
    await b.crash();
    await senders;
    const acked = allAcked(gina, hank, june, kim);
    expect(acked.size).toBe(140);
    // The members of B are on A now.
    expect(hank.url).toBe(a.url);
    expect(ivan.url).toBe(a.url);
    expect(june.moves).toBeGreaterThan(0);
    await Promise.all([gina, hank, ivan].map((m) => m.waitForSeq(140, 30_000)));

    const history = await historyVia(a.url, t.tokens.gina!, channelId);
    expectConsistent(history, acked, [gina, hank, ivan]);
    console.info(`kill -9: ${history.length} messages; ${summary([gina, hank, ivan])}`);
  }, 180_000);
});

/** Live message.new seqs a subscriber got although its recovery had replayed them (Kafka test). */
let replayedThenLive: number[] | undefined;

describe('two nodes on a private Kafka and Redis', () => {
  let engines: PrivateEngines;
  let cluster: Cluster;
  const members: Member[] = [];
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    engines = await privateEngines!;
    cluster = await startCluster(bundle!, {
      engines: { mongodb: sharedEngines().mongodb, redis: engines.redisUrl, kafka: engines.kafkaBrokers },
      env: { NATTER_RATE_USER: '100000', NATTER_RATE_TENANT: '1000000' },
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([...members.map((m) => m.close()), ...sockets.map((s) => s.terminate())]);
    await cluster?.close();
  }, 60_000);

  afterEach(async () => {
    // A test that failed while Kafka was stopped leaves it running for the next one.
    if (engines?.kafkaStopped) await engines.startKafka();
    cluster?.checkNodes();
  }, 120_000);

  /**
   * Writes go through node A only and the strongest guarantee is checked: after the outage every
   * subscriber, on A and on B, gets every event live, in seq order, with no gap, repeat,
   * resubscription or reconnection. (A subscribe with `since` on B during the outage makes B read
   * the missing messages from the store, so B's subscribers may get them before Kafka is back.)
   */
  it('Kafka down for a while: sends are acknowledged, events wait in the outbox, and arrive live and in order once it is back', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['lena', 'mo', 'nina', 'pat']);
    const channelId = t.channel.id;
    const lena = new Member({ userId: 'lena', token: t.tokens.lena!, channelId, urls: [a.url, b.url] });
    // Subscribed on the other node.
    const mo = new Member({ userId: 'mo', token: t.tokens.mo!, channelId, urls: [b.url, a.url] });
    members.push(lena, mo);
    await Promise.all([lena.start(), mo.start()]);
    const nina = new RestSender('nina', t.tokens.nina!, channelId, [a.url]);

    await Promise.all([lena.sendMany('lena-before', 5, 2), nina.sendMany('nina-before', 5, 2)]);
    await Promise.all([lena.waitForSeq(10, 20_000), mo.waitForSeq(10, 20_000)]);

    await engines.stopKafka();
    const stopped = Date.now();
    await Promise.all([lena.sendMany('lena-during', 15, 2, 50), nina.sendMany('nina-during', 15, 2, 50)]);
    const sendMs = Date.now() - stopped;
    // Acknowledged without Kafka: stored, their events in the outbox.
    expect(allAcked(lena, nina).size).toBe(40);
    // The store is the truth: a client (re)subscribing with `since` now recovers everything.
    const pat = new Member({ userId: 'pat', token: t.tokens.pat!, channelId, urls: [b.url, a.url], since: 10 });
    members.push(pat);
    await pat.start();
    expect(pat.lastSeq).toBe(40);
    await sleep(Math.max(0, 8000 - (Date.now() - stopped))); // down for at least 8 s
    const heldAt = [lena.lastSeq, mo.lastSeq];
    await engines.startKafka();
    const back = Date.now();
    await Promise.all([lena.waitForSeq(40, 60_000), mo.waitForSeq(40, 60_000)]);
    const drainMs = Date.now() - back;

    // And the cluster carries on.
    await Promise.all([lena.sendMany('lena-after', 5, 2), nina.sendMany('nina-after', 5, 2)]);
    await Promise.all([lena.waitForSeq(50, 30_000), mo.waitForSeq(50, 30_000), pat.waitForSeq(50, 30_000)]);
    const history = await historyVia(b.url, t.tokens.mo!, channelId);
    expectConsistent(history, allAcked(lena, nina), [lena, mo]);
    expectLiveInOrder([lena, mo]);
    for (const m of [lena, mo, pat]) expect(m.stats.reconnects).toBe(0);
    // pat recovered 11..40 from the store, then took the live events from 41 on, in order.
    expect(pat.messages.map((m) => m.id)).toEqual(history.slice(10).map((m) => m.id));
    expect(pat.stats.gaps).toEqual([]);
    replayedThenLive = pat.live.flat().filter((seq) => seq <= 40);
    console.info(
      `Kafka outage: 30 sends acknowledged in ${sendMs} ms while Kafka was down; subscribers held seqs ${JSON.stringify(heldAt)}; ` +
        `all 40 delivered ${drainMs} ms after Kafka had started again; ${summary([lena, mo, pat])}`,
    );
  }, 180_000);

  /**
   * `subscribe` with `since` holds the channel's live events aside while it reads history; then it
   * waits until its node's reorder buffer has delivered the channel up to the replay (from the bus,
   * or read from the store when the bus is late: here Kafka was down), so an event of a replayed
   * message is dropped there instead of arriving live after the reply. docs/protocol.md promises
   * no duplicate after `recovered`.
   */
  it('after a subscribe with since, no live event repeats a replayed message (while the bus was down)', () => {
    expect(replayedThenLive, 'recorded by the Kafka test, which did not finish').toBeDefined();
    expect(replayedThenLive).toEqual([]);
  });

  it('FLUSHALL of Redis under traffic: presence rebuilds, rate limits hold, no message lost', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const t = await tenantWith(cluster, ['olga', 'pia', 'quin', 'rex']);
    const channelId = t.channel.id;
    const olga = new Member({ userId: 'olga', token: t.tokens.olga!, channelId, urls: [a.url, b.url] });
    const pia = new Member({ userId: 'pia', token: t.tokens.pia!, channelId, urls: [b.url, a.url] });
    members.push(olga, pia);
    await Promise.all([olga.start(), pia.start()]);
    // quin is online on A and on B; rex follows quin from B.
    const quinA = await connect(a.url, t.tokens.quin!);
    const quinB = await connect(b.url, t.tokens.quin!);
    const rex = await connect(b.url, t.tokens.rex!);
    sockets.push(quinA, quinB, rex);
    const quinOnline = async () =>
      (await rex.request({ type: 'presence.subscribe', userIds: ['quin'] })).presence[0]?.online === true;
    await until('quin online', quinOnline, 10_000);

    // Rate limits: a tenant of its own with 5 requests/s per user (burst 10), shared by the nodes.
    const limited = await tenantWith(cluster, ['sam'], { rateLimits: { userPerSecond: 5 } });
    const burst = async () => {
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          createClient(cluster.nodes[i % 2]!.url, { bearer: limited.tokens.sam! }).get(
            `/v1/channels/${limited.channel.id}`,
          ),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const ok = results.filter((r) => r.status === 200).length;
      const refused = results.filter((r) => r.status === 429).length;
      expect(ok + refused).toBe(30);
      // Burst 10, refilled at 5/s while the requests were answered.
      expect(ok).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds) + 1);
      expect(refused).toBeGreaterThan(0);
    };
    await burst();

    const traffic = Promise.all([olga.sendMany('olga', 30, 2, 50), pia.sendMany('pia', 30, 2, 50)]);
    await until('some traffic', () => olga.acked.size + pia.acked.size >= 15, 30_000, 20);
    await engines.flushRedis();
    const flushed = Date.now();
    await traffic;

    // Presence: gone with the flush, back once each node's refresh timer (ttl/3 = 10 s) re-adds
    // its live connections.
    await until('quin online again after the flush', quinOnline, 20_000, 500);
    const rebuiltMs = Date.now() - flushed;
    await sleep(1000); // the buckets the flush emptied were full again anyway
    await burst();

    await Promise.all([olga.waitForSeq(60, 30_000), pia.waitForSeq(60, 30_000)]);
    const history = await historyVia(a.url, t.tokens.olga!, channelId);
    expectConsistent(history, allAcked(olga, pia), [olga, pia]);
    console.info(`Redis FLUSHALL: presence back after ${rebuiltMs} ms; ${summary([olga, pia])}`);
  }, 120_000);
});
