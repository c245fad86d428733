/**
 * Tenant isolation over REST. Tenant A's credentials (API key, a member's token, a tenant admin's
 * token) naming tenant B's existing ids must answer exactly as for ids that exist nowhere, and
 * must leave B's data untouched (compared field by field through the store at the end).
 */
import type { Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Client,
  createChannel,
  createTenant,
  createUsers,
  startTestServer,
  type TestServer,
  type TestTenant,
  userClient,
} from '../harness.js';
import { outcome } from './assertions.js';

let h: TestServer;
let A: TestTenant;
let B: TestTenant;
/** A's callers. */
const callers: Record<'backend' | 'member' | 'admin', Client> = {} as never;
type Caller = keyof typeof callers;
/** Ids in A. */
let aChan: string;
let aMsg: Message;
/** Ids in B. */
const b = { group: 'b-group', pub: 'b-public', support: 'b-support', direct: '', msg: '', reply: '', keyId: '' };
let bBefore: Awaited<ReturnType<typeof snapshotB>>;

/** Everything of B a request could change, read straight from the store. */
async function snapshotB() {
  const db = h.server.store.tenant(B.tenantId);
  const channelIds = [b.group, b.pub, b.support, b.direct, 'shared-id'];
  return {
    tenant: await h.server.store.platform.getTenant(B.tenantId),
    keys: await h.server.store.platform.listApiKeys(B.tenantId),
    users: await db.listUsers({ limit: 200 }),
    channels: await Promise.all(channelIds.map((id) => db.getChannel(id))),
    members: await Promise.all(channelIds.map((id) => db.listMembers(id, { limit: 200 }))),
    messages: await Promise.all(channelIds.map((id) => db.listMessages(id, { limit: 200, includeReplies: true }))),
    bobChannels: await db.listMyChannels('bob', { limit: 200 }),
  };
}

beforeAll(async () => {
  h = await startTestServer();
  A = await createTenant(h, 'Tenant A');
  B = await createTenant(h, 'Tenant B');

  // B: users, one channel of each type, messages, a thread reply, a reaction, a second key.
  await createUsers(B, ['bob', 'bea', 'shared']);
  const bob = await userClient(B, 'bob');
  await createChannel(bob.api, { id: b.group, type: 'group', members: ['bea', 'shared'] });
  await createChannel(B.api, { id: b.pub, type: 'public' });
  await createChannel(bob.api, { id: b.support, type: 'support', members: ['bea'] });
  await createChannel(B.api, { id: 'shared-id', type: 'group', members: ['bob'] });
  b.direct = (await createChannel(bob.api, { type: 'direct', members: ['bea'] })).id;
  b.msg = (
    await bob.api.post(`/v1/channels/${b.group}/messages`, { text: 'secret of B', clientMsgId: 'c1' })
  ).body.message.id;
  b.reply = (
    await bob.api.post(`/v1/channels/${b.group}/messages`, { text: 'reply', parentId: b.msg })
  ).body.message.id;
  await bob.api.put(`/v1/channels/${b.group}/messages/${b.msg}/reactions/like`);
  b.keyId = (await B.api.post('/v1/keys')).body.apiKey.id;
  // B's message is in the search index before A searches for it.
  await h.server.relay.drain();
  await vi.waitFor(async () => expect((await bob.api.get('/v1/search?q=secret')).body.total).toBe(1), {
    timeout: 15_000,
    interval: 20,
  });

  // A: a member, a tenant admin, and a user whose id also exists in B; a channel named like B's.
  await createUsers(A, ['alice', { id: 'boss', role: 'admin' }, 'shared']);
  callers.backend = A.api;
  callers.member = (await userClient(A, 'alice')).api;
  callers.admin = (await userClient(A, 'boss')).api;
  aChan = (await createChannel(callers.member, { type: 'group', members: ['boss'] })).id;
  aMsg = (await callers.member.post(`/v1/channels/${aChan}/messages`, { text: 'of A' })).body.message;

  bBefore = await snapshotB();
});
afterAll(() => h.close());

type Req = [method: string, path: string, body?: unknown];
interface Case {
  name: string;
  /** The request naming B's existing id(s). */
  existing: (c: Caller) => Req;
  /** The same request naming ids that exist nowhere. */
  missing: (c: Caller) => Req;
}

const M = (channel: string, message: string) => `/v1/channels/${channel}/messages/${message}`;
/** The backend names the acting user; users act as themselves. */
const actAs = (c: Caller, userId = 'alice') => (c === 'backend' ? { userId } : {});
const actAsQuery = (c: Caller, userId = 'alice') => (c === 'backend' ? `?userId=${userId}` : '');

const cases: Case[] = [
  // Ids in the path.
  {
    name: 'GET /v1/users/:userId',
    existing: () => ['GET', '/v1/users/bob'],
    missing: () => ['GET', '/v1/users/nobody'],
  },
  {
    name: 'DELETE /v1/users/:userId',
    existing: () => ['DELETE', '/v1/users/bob'],
    missing: () => ['DELETE', '/v1/users/nobody'],
  },
  {
    name: 'POST /v1/users/:userId/tokens',
    existing: () => ['POST', '/v1/users/bob/tokens', {}],
    missing: () => ['POST', '/v1/users/nobody/tokens', {}],
  },
  {
    name: 'DELETE /v1/keys/:keyId',
    existing: () => ['DELETE', `/v1/keys/${b.keyId}`],
    missing: () => ['DELETE', '/v1/keys/ak_nobody'],
  },
  ...[b.group, b.pub, b.support, 'DIRECT'].flatMap((which): Case[] => {
    const id = () => (which === 'DIRECT' ? b.direct : which);
    const label = which === 'DIRECT' ? 'direct' : which;
    return [
      {
        name: `GET /v1/channels/:channelId (${label})`,
        existing: () => ['GET', `/v1/channels/${id()}`],
        missing: () => ['GET', '/v1/channels/nope'],
      },
      {
        name: `PATCH /v1/channels/:channelId (${label})`,
        existing: () => ['PATCH', `/v1/channels/${id()}`, { name: 'pwned', frozen: true }],
        missing: () => ['PATCH', '/v1/channels/nope', { name: 'pwned', frozen: true }],
      },
      {
        name: `DELETE /v1/channels/:channelId (${label})`,
        existing: () => ['DELETE', `/v1/channels/${id()}`],
        missing: () => ['DELETE', '/v1/channels/nope'],
      },
      {
        name: `POST /v1/channels/:channelId/end (${label})`,
        existing: () => ['POST', `/v1/channels/${id()}/end`],
        missing: () => ['POST', '/v1/channels/nope/end'],
      },
      {
        name: `GET /v1/channels/:channelId/members (${label})`,
        existing: () => ['GET', `/v1/channels/${id()}/members`],
        missing: () => ['GET', '/v1/channels/nope/members'],
      },
      {
        name: `POST /v1/channels/:channelId/members, joining oneself (${label})`,
        existing: (c) => ['POST', `/v1/channels/${id()}/members`, { members: [c === 'admin' ? 'boss' : 'alice'] }],
        missing: (c) => ['POST', '/v1/channels/nope/members', { members: [c === 'admin' ? 'boss' : 'alice'] }],
      },
      {
        name: `DELETE /v1/channels/:channelId/members/:userId (${label})`,
        existing: () => ['DELETE', `/v1/channels/${id()}/members/bob`],
        missing: () => ['DELETE', '/v1/channels/nope/members/bob'],
      },
      {
        name: `POST /v1/channels/:channelId/read (${label})`,
        existing: () => ['POST', `/v1/channels/${id()}/read`, {}],
        missing: () => ['POST', '/v1/channels/nope/read', {}],
      },
      {
        name: `GET /v1/channels/:channelId/messages (${label})`,
        existing: () => ['GET', `/v1/channels/${id()}/messages`],
        missing: () => ['GET', '/v1/channels/nope/messages'],
      },
      {
        name: `POST /v1/channels/:channelId/messages (${label})`,
        existing: (c) => ['POST', `/v1/channels/${id()}/messages`, { text: 'intrusion', ...actAs(c) }],
        missing: (c) => ['POST', '/v1/channels/nope/messages', { text: 'intrusion', ...actAs(c) }],
      },
    ];
  }),
  {
    name: 'DELETE /v1/channels/:channelId/members/:userId (A channel, B user)',
    existing: () => ['DELETE', `/v1/channels/${aChan}/members/bob`],
    missing: () => ['DELETE', `/v1/channels/${aChan}/members/nobody`],
  },
  // Message routes: B's channel with B's message, and A's own channel with B's message.
  ...(['b-channel', 'a-channel'] as const).flatMap((where): Case[] => {
    const ch = () => (where === 'b-channel' ? b.group : aChan);
    const missingCh = () => (where === 'b-channel' ? 'nope' : aChan);
    return [
      {
        name: `GET message (${where})`,
        existing: () => ['GET', M(ch(), b.msg)],
        missing: () => ['GET', M(missingCh(), 'msg_nope')],
      },
      {
        name: `PATCH message (${where})`,
        existing: () => ['PATCH', M(ch(), b.msg), { text: 'edited by A' }],
        missing: () => ['PATCH', M(missingCh(), 'msg_nope'), { text: 'edited by A' }],
      },
      {
        name: `DELETE message (${where})`,
        existing: () => ['DELETE', M(ch(), b.msg)],
        missing: () => ['DELETE', M(missingCh(), 'msg_nope')],
      },
      {
        name: `GET replies (${where})`,
        existing: () => ['GET', `${M(ch(), b.msg)}/replies`],
        missing: () => ['GET', `${M(missingCh(), 'msg_nope')}/replies`],
      },
      {
        name: `PUT reaction (${where})`,
        existing: (c) => ['PUT', `${M(ch(), b.msg)}/reactions/like${actAsQuery(c)}`],
        missing: (c) => ['PUT', `${M(missingCh(), 'msg_nope')}/reactions/like${actAsQuery(c)}`],
      },
      {
        name: `DELETE reaction (${where})`,
        existing: (c) => ['DELETE', `${M(ch(), b.msg)}/reactions/like${actAsQuery(c, 'bob')}`],
        missing: (c) => ['DELETE', `${M(missingCh(), 'msg_nope')}/reactions/like${actAsQuery(c, 'bob')}`],
      },
    ];
  }),
  // Ids in bodies and queries.
  {
    name: 'POST /v1/channels with a member of B',
    existing: () => ['POST', '/v1/channels', { type: 'group', members: ['bob'] }],
    missing: () => ['POST', '/v1/channels', { type: 'group', members: ['nobody'] }],
  },
  {
    name: 'POST /v1/channels direct with a user of B',
    existing: (c) => [
      'POST',
      '/v1/channels',
      { type: 'direct', members: c === 'backend' ? ['alice', 'bob'] : ['bob'] },
    ],
    missing: (c) => [
      'POST',
      '/v1/channels',
      { type: 'direct', members: c === 'backend' ? ['alice', 'nobody'] : ['nobody'] },
    ],
  },
  {
    name: 'POST /v1/channels/:channelId/members with a user of B',
    existing: () => ['POST', `/v1/channels/${aChan}/members`, { members: ['bob'] }],
    missing: () => ['POST', `/v1/channels/${aChan}/members`, { members: ['nobody'] }],
  },
  {
    name: 'POST messages with a parentId of B',
    existing: (c) => ['POST', `/v1/channels/${aChan}/messages`, { text: 'x', parentId: b.msg, ...actAs(c) }],
    missing: (c) => ['POST', `/v1/channels/${aChan}/messages`, { text: 'x', parentId: 'msg_nope', ...actAs(c) }],
  },
  {
    name: 'POST messages as a userId of B',
    existing: () => ['POST', `/v1/channels/${aChan}/messages`, { text: 'x', userId: 'bob' }],
    missing: () => ['POST', `/v1/channels/${aChan}/messages`, { text: 'x', userId: 'nobody' }],
  },
  {
    name: 'PUT reaction on A message as a userId of B',
    existing: () => ['PUT', `${M(aChan, aMsg.id)}/reactions/like?userId=bob`],
    missing: () => ['PUT', `${M(aChan, aMsg.id)}/reactions/like?userId=nobody`],
  },
  {
    name: 'GET /v1/channels?userId= of B',
    existing: () => ['GET', '/v1/channels?userId=bob'],
    missing: () => ['GET', '/v1/channels?userId=nobody'],
  },
  {
    name: 'GET /v1/search in a channel of B',
    existing: () => ['GET', `/v1/search?q=secret&channelId=${b.group}`],
    missing: () => ['GET', '/v1/search?q=secret&channelId=nope'],
  },
  {
    name: 'GET /v1/search for words only B wrote (the backend as a user of B)',
    existing: (c) => ['GET', `/v1/search?q=secret${c === 'backend' ? '&userId=bob' : ''}`],
    missing: (c) => ['GET', `/v1/search?q=nowhere${c === 'backend' ? '&userId=nobody' : ''}`],
  },
];

describe.each(Object.keys({ backend: 0, member: 0, admin: 0 }) as Caller[])("A's %s naming B's ids", (caller) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s answers as for a missing id', async (_name, c) => {
    const [m1, p1, body1] = c.existing(caller);
    const [m2, p2, body2] = c.missing(caller);
    const client = callers[caller];
    const existing = await client.request(m1, p1, body1 === undefined ? {} : { body: body1 });
    const missing = await client.request(m2, p2, body2 === undefined ? {} : { body: body2 });
    expect(outcome(existing), `${m1} ${p1}: ${JSON.stringify(existing.body)}`).toEqual(outcome(missing));
    expect(existing.body?.error?.details, JSON.stringify(existing.body)).toEqual(missing.body?.error?.details);
    if (existing.status < 400) expect(existing.body).toEqual(missing.body);
    expect(JSON.stringify(existing.body)).not.toContain('secret of B');
  });
});

describe('ids are per tenant', () => {
  it("A's user 'shared' sees none of B's 'shared' channels", async () => {
    const shared = await userClient(A, 'shared');
    expect((await shared.api.get('/v1/channels')).body.items).toEqual([]);
    expect((await shared.api.get(`/v1/channels/${b.group}`)).status).toBe(404);
    expect((await shared.api.get(`/v1/channels/${b.group}/messages`)).status).toBe(404);
  });

  it('A creates a channel and a user with ids B already uses: they are A’s own', async () => {
    const ch = await A.api.post('/v1/channels', { id: 'shared-id', type: 'group', members: ['alice'] });
    expect(ch.status).toBe(201);
    expect(ch.body.channel).toMatchObject({ id: 'shared-id', memberCount: 1, lastSeq: 0 });
    expect((await A.api.post('/v1/channels/shared-id/messages', { text: 'A only', userId: 'alice' })).status).toBe(201);
    const bob = await A.api.post('/v1/users', { users: [{ id: 'bob', name: 'Mallory', role: 'admin' }] });
    expect(bob.status).toBe(200);
    const fromA = await A.api.get('/v1/channels/shared-id/messages');
    expect(fromA.body.messages.map((m: { text: string }) => m.text)).toEqual(['A only']);
    const fromB = await B.api.get('/v1/channels/shared-id/messages');
    expect(fromB.body.messages).toEqual([]);
    expect((await B.api.get('/v1/users/bob')).body.user).toMatchObject({ name: 'bob', role: 'member' });
  });

  it("a tenant admin of A with a token naming A's own ids never reaches B's rows of the same id", async () => {
    const res = await callers.admin.get('/v1/channels/shared-id/members');
    expect(res.body.items.map((m: { userId: string }) => m.userId)).toEqual(['alice']);
  });

  it("A's key and tokens still work, and B's data is exactly as before", async () => {
    expect((await A.api.get('/v1/users')).status).toBe(200);
    expect((await B.api.get('/v1/users')).status).toBe(200);
    const bobToken = await userClient(B, 'bob');
    expect(
      (await bobToken.api.get(`/v1/channels/${b.group}/messages`)).body.messages.map((m: { text: string }) => m.text),
    ).toEqual(['secret of B']);
    expect(await snapshotB()).toEqual(bBefore);
  });
});
