/**
 * Per-channel total order: whoever sends, over the socket or over REST, concurrently, every
 * subscriber sees the channel's messages as seq 1..N, each once, in the order of the history.
 */
import type { Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, expectContiguous, restHistory, restSend, world } from './helpers.js';

let h: TestServer;
beforeAll(async () => {
  // The senders pipeline their frames: lift the per-connection rate limit out of the way.
  h = await startTestServer({
    NATTER_WS_FRAMES_PER_SECOND: '100000',
    NATTER_RATE_USER: '1000000',
    NATTER_RATE_TENANT: '10000000',
  });
});
afterAll(() => h.close());

describe('per-channel total order', () => {
  it('several senders over WS and REST at once: every subscriber sees seq 1..N in history order', async () => {
    const w = await world(h, ['ann', 'bob', 'cat', 'dan']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob', 'cat', 'dan'] });
    const [ann, bob, dan, dan2] = await Promise.all([
      w.connect('ann'),
      w.connect('bob'),
      w.connect('dan'),
      w.connect('dan'),
    ]);
    const subscribers = [ann, bob, dan, dan2];
    await Promise.all(subscribers.map((c) => c.request({ type: 'subscribe', channelId })));

    const perSocket = 90;
    const overRest = 60;
    const wsSends = [ann, bob].flatMap((c, k) =>
      Array.from({ length: perSocket }, (_, i) =>
        c.request({ type: 'message.send', channelId, text: `ws ${k}/${i}`, clientMsgId: `ws-${k}-${i}` }, 20_000),
      ),
    );
    // REST in waves of 10 concurrent requests, while the socket frames are in flight.
    const rest = (async () => {
      const sent: Message[] = [];
      for (let i = 0; i < overRest; i += 10) {
        sent.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, (_, j) => restSend(w.users.cat!.api, channelId, { text: `rest ${i + j}` })),
          )),
        );
      }
      return sent;
    })();
    const [acks, restSent] = await Promise.all([Promise.all(wsSends), rest]);
    const total = perSocket * 2 + overRest;
    expect(acks.every((a) => a.created)).toBe(true);
    expect(new Set([...acks.map((a) => a.message.seq), ...restSent.map((m) => m.seq)]).size).toBe(total);

    const history = await restHistory(w.users.ann!.api, channelId);
    expectContiguous(
      history.map((m) => m.seq),
      1,
      total,
    );
    const historyIds = history.map((m) => m.id);
    for (const c of subscribers) {
      await c.waitFor(() => c.seqs(channelId).length >= total, 15_000, `${total} messages`);
      expectContiguous(c.seqs(channelId), 1, total);
      // The event's top-level seq is the message's.
      const events = c.eventsOf('message.new', channelId);
      expect(events.every((e) => e.seq === e.data.message.seq)).toBe(true);
      // REST-sent and WS-sent messages interleave exactly as stored.
      expect(events.map((e) => e.data.message.id)).toEqual(historyIds);
    }
    await w.closeSockets();
  }, 40_000);
});
