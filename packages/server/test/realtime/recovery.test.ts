/**
 * Recovery by sequence: a client that was away subscribes with `since` and gets exactly what it
 * missed, then live events with no duplicate and no gap, even while messages keep arriving during
 * the subscribe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, expectContiguous, restSend, world } from './helpers.js';
import type { WsClient } from './ws-client.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer({
    NATTER_REPLAY_MAX: '20',
    NATTER_WS_FRAMES_PER_SECOND: '100000',
    NATTER_RATE_USER: '1000000',
    NATTER_RATE_TENANT: '10000000',
  });
});
afterAll(() => h.close());

describe('recovery after a disconnect', () => {
  it('replays exactly the missed messages (thread replies too), in order, then live events continue', async () => {
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const ann = await w.connect('ann');
    let bob = await w.connect('bob');
    await bob.request({ type: 'subscribe', channelId });
    for (let i = 0; i < 3; i++) await ann.request({ type: 'message.send', channelId, text: `before ${i}` });
    await bob.waitFor(() => bob.seqs(channelId).length === 3);
    const since = bob.seqs(channelId).at(-1)!;
    await bob.terminate();

    // K = 7 missed, over both transports, one of them a thread reply.
    const missed: string[] = [];
    for (let i = 0; i < 3; i++)
      missed.push((await ann.request({ type: 'message.send', channelId, text: `missed ws ${i}` })).message.id);
    for (let i = 0; i < 3; i++)
      missed.push((await restSend(w.users.ann!.api, channelId, { text: `missed rest ${i}` })).id);
    missed.push(
      (await ann.request({ type: 'message.send', channelId, text: 'a reply', parentId: missed[0]! })).message.id,
    );

    bob = await w.connect('bob');
    const sub = await bob.request({ type: 'subscribe', channelId, since });
    expect(sub.recovery).toBe('recovered');
    expect(sub.channel.lastSeq).toBe(since + 7);
    expect(sub.messages.map((m) => m.id)).toEqual(missed);
    expectContiguous(
      sub.messages.map((m) => m.seq),
      since + 1,
      since + 7,
    );
    expect(sub.messages.at(-1)).toMatchObject({ parentId: missed[0] });

    for (let i = 0; i < 3; i++) await ann.request({ type: 'message.send', channelId, text: `after ${i}` });
    await bob.waitFor(() => bob.seqs(channelId).length === 3);
    expectContiguous([...sub.messages.map((m) => m.seq), ...bob.seqs(channelId)], since + 1, since + 10);
    await w.closeSockets();
  });

  it('since = lastSeq recovers nothing; without since nothing is replayed', async () => {
    const w = await world(h, ['ann']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann'] });
    await restSend(w.users.ann!.api, channelId, { text: 'one' });
    const ann = await w.connect('ann');
    const upToDate = await ann.request({ type: 'subscribe', channelId, since: 1 });
    expect(upToDate).toMatchObject({ recovery: 'recovered', messages: [] });
    const fresh = await (await w.connect('ann')).request({ type: 'subscribe', channelId });
    expect(fresh).toMatchObject({ recovery: 'not_requested', messages: [], channel: { lastSeq: 1 } });
    await w.closeSockets();
  });

  it('more missed than NATTER_REPLAY_MAX: too_far with no messages; exactly the maximum still recovers', async () => {
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const ann = await w.connect('ann');
    for (let i = 0; i < 25; i++) await ann.request({ type: 'message.send', channelId, text: `m${i}` });
    const bob = await w.connect('bob');
    expect(bob.welcome.limits.replayMax).toBe(20);
    const tooFar = await bob.request({ type: 'subscribe', channelId, since: 4 });
    expect(tooFar).toMatchObject({ recovery: 'too_far', messages: [], channel: { lastSeq: 25 } });
    const bob2 = await w.connect('bob');
    const exact = await bob2.request({ type: 'subscribe', channelId, since: 5 });
    expect(exact.recovery).toBe('recovered');
    expectContiguous(
      exact.messages.map((m) => m.seq),
      6,
      25,
    );
    // too_far still subscribes: live events flow.
    await ann.request({ type: 'message.send', channelId, text: 'live' });
    expect(await bob.nextEvent('message.new')).toMatchObject({ seq: 26 });
    expect(await bob2.nextEvent('message.new')).toMatchObject({ seq: 26 });
    await w.closeSockets();
  });
});

describe('subscribing while messages keep arriving', () => {
  it('resubscribing with since on a connection already subscribed: no duplicate, no gap', async () => {
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const ann = await w.connect('ann');
    const bob = await w.connect('bob');
    await bob.request({ type: 'subscribe', channelId });
    let stop = false;
    const pump = (async () => {
      while (!stop) await Promise.all([0, 1, 2].map(() => ann.request({ type: 'message.send', channelId, text: 'x' })));
    })();
    try {
      await bob.waitFor(() => bob.seqs(channelId).length >= 10);
      // As after a detected gap: resubscribe from an earlier point without unsubscribing.
      const since = bob.seqs(channelId).length - 5;
      const resub = await bob.request({ type: 'subscribe', channelId, since });
      expect(resub.recovery).toBe('recovered');
      const replyAt = bob.frames.findIndex(
        (f) => f.type === 'reply' && 'recovery' in f.result && f.result.recovery === 'recovered',
      );
      stop = true;
      await pump;
      const last = (await ann.request({ type: 'message.send', channelId, text: 'last' })).message.seq;
      await bob.waitFor(() => bob.seqs(channelId).includes(last));
      // The reply is the reset point: the replay, then the events after it, each seq once.
      const after = bob.frames
        .slice(replyAt + 1)
        .flatMap((f) => (f.type === 'event' && f.event === 'message.new' ? [f.data.message.seq] : []));
      expectContiguous([...resub.messages.map((m) => m.seq), ...after], since + 1, last);
    } finally {
      stop = true;
      await pump;
      await w.closeSockets();
    }
  });

  it('the replayed and the live messages together have no gap and no duplicate (several rounds)', async () => {
    const w = await world(h, ['ann', 'bob', 'cat']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob', 'cat'] });
    const ann = await w.connect('ann');
    let sent = 0;
    let stop = false;
    // Two senders, one per transport, each keeping a few sends in flight.
    const pump = async (send: () => Promise<unknown>) => {
      while (!stop) {
        await Promise.all([send(), send(), send()]);
        sent += 3;
      }
    };
    const senders = Promise.all([
      pump(() => ann.request({ type: 'message.send', channelId, text: 'ws' })),
      pump(() => restSend(w.users.cat!.api, channelId, { text: 'rest' })),
    ]);
    try {
      const rounds = 12;
      const subscribers: { client: WsClient; since: number; replayed: number[] }[] = [];
      for (let round = 0; round < rounds; round++) {
        // Wait for some traffic, then subscribe from a point a few messages back.
        const target = sent + 6;
        await ann.waitFor(() => sent >= target || undefined, 10_000, 'traffic');
        const client = await w.connect('bob');
        const since = Math.max(0, sent - 1 - (round % 4) * 3);
        const sub = await client.request({ type: 'subscribe', channelId, since });
        expect(sub.recovery).toBe('recovered');
        subscribers.push({ client, since, replayed: sub.messages.map((m) => m.seq) });
      }
      stop = true;
      await senders;
      const last = (await restSend(w.users.cat!.api, channelId, { text: 'final' })).seq;
      for (const { client, since, replayed } of subscribers) {
        await client.waitFor(() => client.seqs(channelId).includes(last), 10_000, `seq ${last}`);
        expectContiguous([...replayed, ...client.seqs(channelId)], since + 1, last);
      }
    } finally {
      stop = true;
      await senders;
      await w.closeSockets();
    }
  }, 40_000);
});
