/**
 * A connection that stops reading is closed with 4008 once its queue passes NATTER_WS_MAX_BUFFER,
 * while the others keep receiving everything, and the server's memory stays bounded.
 */
import { CloseCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, expectContiguous, restSend, world } from './helpers.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer({
    NATTER_WS_MAX_BUFFER: '65536',
    NATTER_MAX_MESSAGE_LENGTH: '60000',
    NATTER_RATE_TENANT: '10000000',
  });
});
afterAll(() => h.close());

describe('slow consumer', () => {
  it('the paused connection is closed with 4008; fast ones get the whole flood; memory stays bounded', async () => {
    const w = await world(h, ['reader1', 'reader2', 'sleeper', { id: 'boss', role: 'admin' }]);
    const { id: channelId } = await backendChannel(w.t, { type: 'public', name: 'news' });
    const [fast1, fast2, slow] = await Promise.all([w.connect('reader1'), w.connect('reader2'), w.connect('sleeper')]);
    await Promise.all([fast1, fast2, slow].map((c) => c.request({ type: 'subscribe', channelId })));
    slow.pause();

    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const text = 'x'.repeat(60_000);
    // Flood in waves of 600 KB until the server drops the sleeper (the kernel's socket buffers fill
    // first, a few MB), then one more wave; give up at ~24 MB.
    let total = 0;
    let wavesAfterDrop = 0;
    while (wavesAfterDrop < 1 && total < 400) {
      if (h.server.gateway.connections === 2) wavesAfterDrop++;
      await Promise.all(Array.from({ length: 10 }, () => restSend(w.t.api, channelId, { text, system: true })));
      total += 10;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    expect(h.server.gateway.connections, 'the sleeper was dropped').toBe(2);
    for (const c of [fast1, fast2]) {
      await c.waitFor(() => c.seqs(channelId).length >= total, 20_000, `${total} messages`);
      expectContiguous(c.seqs(channelId), 1, total);
      expect(c.isClosed).toBe(false);
    }
    // Once the sleeper reads again, it finds the close frame after what was queued before it.
    slow.resume();
    expect(await slow.closed).toEqual({ code: CloseCode.SLOW_CONSUMER, reason: 'slow consumer' });
    expect(slow.seqs(channelId).length).toBeLessThan(total);
    expectContiguous(slow.seqs(channelId), 1, slow.seqs(channelId).length);

    // Loose bound: the server did not keep queuing the flood for the sleeper.
    expect(peakRss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    // The survivors are still usable.
    await fast1.request({ type: 'ping' });
    await w.closeSockets();
  }, 60_000);
});
