/**
 * The SDK against a real server over real sockets: messaging between clients, history, typing,
 * read receipts, presence, reactions, threads, channel list.
 */
import type { NatterClient } from '@natter/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connected,
  createChannel,
  disconnectAll,
  startTestServer,
  type TestServer,
  type TestTenant,
  tenantWith,
  texts,
  userClient,
  waitFor,
} from './setup.js';

let h: TestServer;
let tenant: TestTenant;
let n = 0;

beforeAll(async () => {
  h = await startTestServer();
  tenant = await tenantWith(h, ['alice', 'bob', 'carol']);
});
afterAll(async () => {
  disconnectAll();
  await h.close();
});

/** A fresh group channel of alice, bob (and carol). */
async function group(members = ['bob', 'carol']): Promise<string> {
  const alice = await userClient(tenant, 'alice');
  return (await createChannel(alice.api, { id: `room-${++n}`, type: 'group', name: 'Room', members })).id;
}

describe('messaging between two clients', () => {
  let alice: NatterClient;
  let bob: NatterClient;
  let id: string;

  beforeAll(async () => {
    id = await group();
  });

  it('delivers a message sent by one client to the other, in both local states', async () => {
    alice = await connected(tenant, 'alice');
    bob = await connected(tenant, 'bob');
    await Promise.all([alice.channel(id).watch(), bob.channel(id).watch()]);
    const got = new Promise((resolve) => bob.channel(id).on('message.new', ({ message }) => resolve(message.text)));
    const sent = await alice.channel(id).send('hello bob');
    expect(sent).toMatchObject({ channelId: id, text: 'hello bob', authorId: 'alice', seq: 1 });
    expect(sent.clientMsgId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await got).toBe('hello bob');
    await waitFor(() => texts(bob, id).length === 1);
    expect(texts(alice, id)).toEqual(['hello bob']);
    // The event carried the message in compact form; the SDK hands it out whole, as stored.
    expect(bob.channel(id).state.messages[0]).toEqual(sent);
    expect(bob.store.getSnapshot().channels[id]?.status).toBe('subscribed');
    expect(bob.user?.id).toBe('bob');
  });

  it('keeps order and custom fields, and counts unread for the receiver', async () => {
    for (const text of ['one', 'two', 'three']) void bob.channel(id).send({ text, custom: { n: text.length } });
    await waitFor(() => texts(alice, id).length === 4, 5000, 'alice receives all');
    expect(texts(alice, id)).toEqual(['hello bob', 'one', 'two', 'three']);
    const last = alice.channel(id).state.messages.at(-1);
    expect(last?.custom).toEqual({ n: 5 });
    expect(alice.channel(id).state.unreadCount).toBe(3);
  });

  it('applies edits, reactions, deletes and thread replies to both states', async () => {
    const target = alice.channel(id).state.messages[0]!;
    await alice.channel(id).edit(target.id, 'hello bob (edited)');
    await bob.channel(id).react(target.id, '👍');
    await waitFor(() => alice.channel(id).state.messages[0]?.reactionCounts['👍'] === 1);
    await waitFor(() => bob.channel(id).state.messages[0]?.text === 'hello bob (edited)');
    const reply = await bob.channel(id).reply(target.id, 'a reply');
    expect(reply.parentId).toBe(target.id);
    await waitFor(() => alice.channel(id).state.replies[target.id]?.length === 1);
    expect(alice.channel(id).state.messages[0]?.replyCount).toBe(1);
    expect(alice.channel(id).state.messages).toHaveLength(4);
    await bob.channel(id).unreact(target.id, '👍');
    await waitFor(() => alice.channel(id).state.messages[0]?.reactionCounts['👍'] === undefined);
    const gone = alice.channel(id).state.messages[1]!;
    await bob.channel(id).delete(gone.id);
    await waitFor(() => alice.channel(id).state.messages[1]?.deletedAt !== null);
    expect(alice.channel(id).state.unreadCount).toBe(2);
  });

  it('marks read: my unread count drops, the other side sees the receipt', async () => {
    await bob.channel(id).members();
    const member = await alice.channel(id).markRead();
    expect(member.lastReadSeq).toBe(alice.channel(id).state.lastSeq);
    expect(alice.channel(id).state.unreadCount).toBe(0);
    await waitFor(() => bob.channel(id).state.reads.alice === member.lastReadSeq, 5000, 'read receipt');
  });

  it('shows typing to others and stops on its own or on send', async () => {
    const starts: string[] = [];
    bob.channel(id).on('typing.start', ({ userId }) => starts.push(userId));
    alice.channel(id).typing();
    alice.channel(id).typing(); // throttled: one start
    await waitFor(() => bob.channel(id).state.typing.includes('alice'), 5000, 'typing start');
    expect(alice.channel(id).state.typing).toEqual([]); // never myself
    alice.channel(id).stopTyping();
    await waitFor(() => bob.channel(id).state.typing.length === 0, 5000, 'typing stop');
    expect(starts).toEqual(['alice']);
    alice.channel(id).typing();
    await waitFor(() => bob.channel(id).state.typing.includes('alice'));
    // No keystroke for 3 s: the SDK sends typing.stop itself.
    await waitFor(() => bob.channel(id).state.typing.length === 0, 5000, 'automatic stop');
  });

  it('follows presence of members', async () => {
    const presence = await alice.channel(id).watchPresence();
    expect(presence).toEqual(
      expect.arrayContaining([
        { userId: 'alice', online: true },
        { userId: 'bob', online: true },
        { userId: 'carol', online: false },
      ]),
    );
    expect(alice.store.getSnapshot().presence).toMatchObject({ bob: true, carol: false });
    const carol = await connected(tenant, 'carol');
    await waitFor(() => alice.store.getSnapshot().presence.carol === true, 5000, 'carol online');
    carol.disconnect();
    await waitFor(() => alice.store.getSnapshot().presence.carol === false, 5000, 'carol offline');
  });
});

describe('REST reads', () => {
  it('pages through history and merges pages into local state', async () => {
    const id = await group();
    const alice = await connected(tenant, 'alice');
    for (let i = 1; i <= 12; i++) await alice.channel(id).send(`m${i}`);
    const bob = await connected(tenant, 'bob', { pageSize: 5 });
    const ch = bob.channel(id);
    await ch.watch();
    expect(texts(bob, id)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    const older = await ch.history({ before: ch.state.messages[0]!.seq, limit: 5 });
    expect(older.map((m) => m.text)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    await ch.history({ before: older[0]!.seq });
    expect(texts(bob, id)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i + 1}`));
    expect((await ch.history({ after: 10 })).map((m) => m.seq)).toEqual([11, 12]);
  });

  it('lists my channels with unread counts into the store', async () => {
    const id = await group(['bob']);
    const alice = await connected(tenant, 'alice');
    await alice.channel(id).send('x');
    await alice.channel(id).send('y');
    const bob = await connected(tenant, 'bob');
    const page = await bob.channels({ limit: 200 });
    const entry = page.items.find((c) => c.channel.id === id);
    expect(entry).toMatchObject({ unreadCount: 2, lastMessage: { text: 'y' } });
    expect(bob.store.getSnapshot().channels[id]).toMatchObject({ unreadCount: 2, membership: { userId: 'bob' } });
  });

  it('rejects with NatterClientError carrying the protocol code', async () => {
    const alice = await connected(tenant, 'alice');
    await expect(alice.channel('nope').watch()).rejects.toMatchObject({
      name: 'NatterClientError',
      code: 'NATTER_CHANNEL_NOT_FOUND',
      retryable: false,
      status: 404,
    });
    expect(alice.channel('nope').state.status).toBe('unsubscribed');
    await expect(alice.channel('nope').send('x')).rejects.toMatchObject({ code: 'NATTER_CHANNEL_NOT_FOUND' });
  });
});
