/**
 * Acks come after storage: a message the server acknowledged is in the history at that moment,
 * and a retry with the same clientMsgId after the socket died mid-send yields exactly one message.
 */
import type { Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, restHistory, world } from './helpers.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer({
    NATTER_WS_FRAMES_PER_SECOND: '100000',
    NATTER_RATE_USER: '1000000',
    NATTER_RATE_TENANT: '10000000',
  });
});
afterAll(() => h.close());

describe('durable before ack', () => {
  it('the acknowledged message is already in the history when the ack arrives', async () => {
    const w = await world(h, ['ann']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann'] });
    const ann = await w.connect('ann');
    const db = h.server.store.tenant(w.t.tenantId);
    // Read the store the instant each ack is parsed, before anything else can run.
    const atAck: Promise<Message | null>[] = [];
    ann.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; result?: { message?: Message } };
      if (frame.type === 'reply' && frame.result?.message) atAck.push(db.getMessage(frame.result.message.id));
    });
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ann.request({ type: 'message.send', channelId, text: `m${i}`, clientMsgId: `c${i}` }),
      ),
    );
    const stored = await Promise.all(atAck);
    expect(stored).toHaveLength(30);
    for (const [i, ack] of acks.entries()) {
      expect(
        stored.find((m) => m?.id === ack.message.id),
        `message ${i} at its ack`,
      ).toMatchObject({ seq: ack.message.seq, text: `m${i}` });
      // And through the API, right after.
      const res = await w.users.ann!.api.get(`/v1/channels/${channelId}/messages/${ack.message.id}`);
      expect(res.status).toBe(200);
    }
    await w.closeSockets();
  });
});

describe('retry after the socket died mid-send', () => {
  it('resending with the same clientMsgId yields exactly one message, whether or not the first send landed', async () => {
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const watcher = await w.connect('bob');
    await watcher.request({ type: 'subscribe', channelId });
    const rounds = 8;
    const outcomes: boolean[] = [];
    for (let i = 0; i < rounds; i++) {
      const clientMsgId = `retry-${i}`;
      const first = await w.connect('ann');
      // Send, then drop the TCP connection at once (odd rounds: after the ack had a chance).
      const id = first.reserveId();
      first.sendRaw(JSON.stringify({ id, type: 'message.send', channelId, text: `attempt ${i}`, clientMsgId }));
      if (i % 2 === 1) await first.answerTo(id).catch(() => undefined);
      await first.terminate();

      const second = await w.connect('ann');
      const retry = await second.request({ type: 'message.send', channelId, text: `attempt ${i}`, clientMsgId });
      outcomes.push(retry.created);
      expect(retry.message).toMatchObject({ clientMsgId, text: `attempt ${i}`, authorId: 'ann' });
      // A third try returns the same message again.
      const again = await second.request({ type: 'message.send', channelId, text: `attempt ${i}`, clientMsgId });
      expect(again).toMatchObject({ created: false, message: { id: retry.message.id, seq: retry.message.seq } });
      await second.close();
    }
    // Odd rounds waited for the ack, so the retry found the stored message.
    expect(outcomes.filter((_, i) => i % 2 === 1)).toEqual([false, false, false, false]);

    const history = await restHistory(w.users.ann!.api, channelId);
    for (let i = 0; i < rounds; i++)
      expect(
        history.filter((m) => m.clientMsgId === `retry-${i}`),
        `retry-${i}`,
      ).toHaveLength(1);
    expect(history).toHaveLength(rounds);
    // Subscribers saw each message once.
    await watcher.waitFor(() => watcher.seqs(channelId).length >= rounds);
    expect(watcher.seqs(channelId)).toEqual(history.map((m) => m.seq));
    await w.closeSockets();
  });
});
