/**
 * Shutting the server down closes every realtime connection with 1001 (going away).
 */
import { CloseCode } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../harness.js';
import { backendChannel, world } from './helpers.js';
import { connect } from './ws-client.js';

describe('server shutdown', () => {
  it('closes every connection with 1001, subscribed or not, and accepts no new ones', async () => {
    const h = await startTestServer();
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const clients = await Promise.all([w.connect('ann'), w.connect('ann'), w.connect('bob', { via: 'protocol' })]);
    await clients[0]!.request({ type: 'subscribe', channelId });
    expect(h.server.gateway.connections).toBe(3);

    await h.close();
    for (const c of clients) expect(await c.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(h.server.gateway.connections).toBe(0);
    await expect(connect(h.url, w.users.ann!.token, { timeoutMs: 2000 })).rejects.toThrow();
  });
});
