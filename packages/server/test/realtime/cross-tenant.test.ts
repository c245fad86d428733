/**
 * Tenant isolation on the socket: a user of tenant A naming tenant B's channels, messages or users
 * in any frame gets exactly the answer a non-existent id gets, and nothing reaches B.
 */
import type { ClientFrame, Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, quiet, restHistory, restSend, type World, world } from './helpers.js';
import { FrameError, type Request, type WsClient } from './ws-client.js';

let h: TestServer;
let a: World;
let b: World;
let chA: string;
let chB: string;
let msgA: Message;
let msgB: Message;
beforeAll(async () => {
  h = await startTestServer();
  a = await world(h, ['ann', 'amy']);
  b = await world(h, ['ben', 'bea']);
  chA = (await backendChannel(a.t, { type: 'group', members: [{ userId: 'ann', role: 'owner' }, 'amy'] })).id;
  chB = (await backendChannel(b.t, { type: 'group', members: [{ userId: 'ben', role: 'owner' }, 'bea'] })).id;
  msgA = await restSend(a.users.ann!.api, chA, { text: 'in A' });
  msgB = await restSend(b.users.ben!.api, chB, { text: 'in B' });
});
afterAll(() => h.close());

type AnyRequest = { [T in ClientFrame['type']]: Request<T> & { type: T } }[ClientFrame['type']];

/** The answer to a request as comparable data: the reply's result or the error body. */
async function outcome(c: WsClient, frame: AnyRequest): Promise<unknown> {
  try {
    return { reply: await c.request(frame as Request<'ping'> & { type: 'ping' }) };
  } catch (err) {
    if (err instanceof FrameError) return { error: err.body };
    throw err;
  }
}

describe("frames naming another tenant's ids", () => {
  it('answer exactly like non-existent ids, for every frame type that takes ids, and write nothing to B', async () => {
    const ann = await a.connect('ann');
    const ben = await b.connect('ben');
    await ben.request({ type: 'subscribe', channelId: chB });
    await ben.request({ type: 'presence.subscribe', userIds: ['bea'] });
    const beaOnline = await b.connect('bea');
    await ben.nextEvent('presence.changed');

    const x = 'does-not-exist';
    // Each pair: [with B's ids, with ids that exist nowhere].
    const pairs: [AnyRequest, AnyRequest][] = [
      [
        { type: 'subscribe', channelId: chB },
        { type: 'subscribe', channelId: x },
      ],
      [
        { type: 'subscribe', channelId: chB, since: 0 },
        { type: 'subscribe', channelId: x, since: 0 },
      ],
      [
        { type: 'unsubscribe', channelId: chB },
        { type: 'unsubscribe', channelId: x },
      ],
      [
        { type: 'message.send', channelId: chB, text: 'intrude' },
        { type: 'message.send', channelId: x, text: 'intrude' },
      ],
      [
        { type: 'message.send', channelId: chA, text: 'reply', parentId: msgB.id },
        { type: 'message.send', channelId: chA, text: 'reply', parentId: x },
      ],
      [
        { type: 'message.edit', channelId: chB, messageId: msgB.id, text: 'defaced' },
        { type: 'message.edit', channelId: x, messageId: x, text: 'defaced' },
      ],
      [
        { type: 'message.edit', channelId: chA, messageId: msgB.id, text: 'defaced' },
        { type: 'message.edit', channelId: chA, messageId: x, text: 'defaced' },
      ],
      [
        { type: 'message.delete', channelId: chB, messageId: msgB.id },
        { type: 'message.delete', channelId: x, messageId: x },
      ],
      [
        { type: 'message.delete', channelId: chA, messageId: msgB.id },
        { type: 'message.delete', channelId: chA, messageId: x },
      ],
      [
        { type: 'reaction.add', channelId: chB, messageId: msgB.id, reaction: 'x' },
        { type: 'reaction.add', channelId: x, messageId: x, reaction: 'x' },
      ],
      [
        { type: 'reaction.add', channelId: chA, messageId: msgB.id, reaction: 'x' },
        { type: 'reaction.add', channelId: chA, messageId: x, reaction: 'x' },
      ],
      [
        { type: 'reaction.remove', channelId: chB, messageId: msgB.id, reaction: 'x' },
        { type: 'reaction.remove', channelId: x, messageId: x, reaction: 'x' },
      ],
      [
        { type: 'reaction.remove', channelId: chA, messageId: msgB.id, reaction: 'x' },
        { type: 'reaction.remove', channelId: chA, messageId: x, reaction: 'x' },
      ],
      [
        { type: 'typing.start', channelId: chB },
        { type: 'typing.start', channelId: x },
      ],
      [
        { type: 'typing.stop', channelId: chB },
        { type: 'typing.stop', channelId: x },
      ],
      [
        { type: 'read', channelId: chB },
        { type: 'read', channelId: x },
      ],
      [
        { type: 'read', channelId: chB, seq: 1 },
        { type: 'read', channelId: x, seq: 1 },
      ],
      [
        { type: 'presence.subscribe', userIds: ['bea'] },
        { type: 'presence.subscribe', userIds: [x] },
      ],
      [
        { type: 'presence.unsubscribe', userIds: ['bea'] },
        { type: 'presence.unsubscribe', userIds: [x] },
      ],
    ];
    const errorCodes = new Set<string>();
    for (const [foreign, missing] of pairs) {
      const got = await outcome(ann, foreign);
      const expected = await outcome(ann, missing);
      // Presence replies name the user asked about; compare their state, not the id.
      const normalize = (o: unknown) => JSON.parse(JSON.stringify(o).replaceAll('"bea"', `"${x}"`));
      expect(normalize(got), JSON.stringify(foreign)).toEqual(normalize(expected));
      const code = (got as { error?: { code: string } }).error?.code;
      if (code) errorCodes.add(code);
    }
    expect([...errorCodes].sort()).toEqual([
      'NATTER_CHANNEL_NOT_FOUND',
      'NATTER_MESSAGE_NOT_FOUND',
      'NATTER_NOT_SUBSCRIBED',
    ]);
    // B's user is online, yet A sees them offline (they do not exist in A).
    expect(await ann.request({ type: 'presence.subscribe', userIds: ['bea'] })).toEqual({
      presence: [{ userId: 'bea', online: false }],
    });

    // Nothing was written to B, and B's subscriber saw nothing.
    const history = await restHistory(b.users.ben!.api, chB);
    expect(history).toEqual([msgB]);
    const members = await b.users.ben!.api.get(`/v1/channels/${chB}/members`);
    expect(members.body.items.map((m: { userId: string; lastReadSeq: number }) => [m.userId, m.lastReadSeq])).toEqual([
      ['bea', 0],
      ['ben', 0],
    ]);
    await quiet();
    expect(ben.events.filter((e) => e.channelId === chB)).toEqual([]);
    // And A's own channel got only what A legitimately did (nothing, here).
    expect(await restHistory(a.users.ann!.api, chA)).toEqual([msgA]);

    // Presence in B is still B's own: bea going offline reaches ben, not ann.
    await beaOnline.close();
    expect(await ben.nextEvent('presence.changed')).toMatchObject({ data: { userId: 'bea', online: false } });
    await quiet();
    expect(ann.eventsOf('presence.changed')).toEqual([]);
    await Promise.all([ann.close(), ben.close()]);
  });

  it('channels with the same id in two tenants stay apart', async () => {
    const idA = await backendChannel(a.t, { id: 'general', type: 'group', members: ['ann'] });
    const idB = await backendChannel(b.t, { id: 'general', type: 'group', members: ['ben'] });
    expect(idA.id).toBe(idB.id);
    const [ann, ben] = await Promise.all([a.connect('ann'), b.connect('ben')]);
    await ann.request({ type: 'subscribe', channelId: 'general' });
    await ben.request({ type: 'subscribe', channelId: 'general' });
    await ann.request({ type: 'message.send', channelId: 'general', text: 'A only' });
    await ann.request({ type: 'typing.start', channelId: 'general' });
    await ann.nextEvent('message.new');
    await ann.nextEvent('typing.start');
    await quiet();
    expect(ben.events).toEqual([]);
    expect(await restHistory(b.users.ben!.api, 'general')).toEqual([]);
    await Promise.all([ann.close(), ben.close()]);
  });
});
