/**
 * The SDK against a real server when things go wrong: lost answers, cut sockets, offline sends,
 * missed messages, too many missed messages, expired and refused tokens.
 */
import { type NatterClient, type StateChange, UnauthorizedError } from '@natter/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connected,
  createChannel,
  disconnectAll,
  network,
  sdkClient,
  socketOf,
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
  tenant = await tenantWith(h, ['alice', 'bob']);
});
afterEach(() => {
  network.down = false;
  disconnectAll();
});
afterAll(() => h.close());

async function room(): Promise<string> {
  const alice = await userClient(tenant, 'alice');
  return (await createChannel(alice.api, { id: `r-${++n}`, type: 'group', members: ['bob'] })).id;
}

/** Texts of the channel as stored on the server (REST), in seq order. */
async function stored(id: string): Promise<(string | null)[]> {
  const bob = await userClient(tenant, 'bob');
  const res = await bob.api.get(`/v1/channels/${id}/messages?limit=200`);
  return res.body.messages.map((m: { text: string }) => m.text);
}

/** Both users watching a fresh room. */
async function pair() {
  const id = await room();
  const alice = await connected(tenant, 'alice');
  const bob = await connected(tenant, 'bob');
  await Promise.all([alice.channel(id).watch(), bob.channel(id).watch()]);
  return { id, alice, bob };
}

/** The seqs of the channel's local messages are exactly 1..count. */
function expectContiguous(client: NatterClient, id: string, count: number): void {
  const seqs = client.channel(id).state.messages.map((m) => m.seq);
  expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe('network cut mid-send', () => {
  it('answer lost after the server stored the message: resent with the same clientMsgId, stored once, order kept', async () => {
    const { id, alice, bob } = await pair();
    await alice.channel(id).send('a');
    const cut = socketOf(alice);
    cut.dropReplies = 1; // the reply to 'b' is lost and the socket dies
    const b = alice.channel(id).send('b');
    const c = alice.channel(id).send('c');
    const [sentB, sentC] = await Promise.all([b, c]);
    expect(cut.dropReplies).toBe(0);
    expect(socketOf(alice)).not.toBe(cut);
    expect(sentB.seq).toBe(2);
    expect(sentC.seq).toBe(3);
    expect(await stored(id)).toEqual(['a', 'b', 'c']);
    await waitFor(() => texts(bob, id).length === 3);
    expect(texts(bob, id)).toEqual(['a', 'b', 'c']);
    await waitFor(() => texts(alice, id).length === 3);
    expect(texts(alice, id)).toEqual(['a', 'b', 'c']);
  });

  it('client-side socket terminated right after send: exactly one copy of each, in order', async () => {
    const { id, alice, bob } = await pair();
    const sends = [alice.channel(id).send('1')];
    socketOf(alice).terminate();
    sends.push(alice.channel(id).send('2'), alice.channel(id).send('3'));
    await Promise.all(sends);
    expect(await stored(id)).toEqual(['1', '2', '3']);
    await waitFor(() => texts(bob, id).length === 3);
    expect(texts(bob, id)).toEqual(['1', '2', '3']);
  });

  it('server-side close right after send: exactly one copy, in order', async () => {
    const { id, alice, bob } = await pair();
    const sends = [alice.channel(id).send('x'), alice.channel(id).send('y')];
    h.server.gateway.closeAll(4012, 'restarting');
    sends.push(alice.channel(id).send('z'));
    await Promise.all(sends);
    expect(await stored(id)).toEqual(['x', 'y', 'z']);
    await waitFor(() => texts(bob, id).length === 3);
    expect(texts(bob, id)).toEqual(['x', 'y', 'z']);
  });
});

describe('offline queue', () => {
  it('sends made while disconnected go out in order, exactly once, after reconnect', async () => {
    const { id, alice, bob } = await pair();
    alice.disconnect();
    const pending = ['q1', 'q2', 'q3', 'q4'].map((t) => alice.channel(id).send(t));
    expect(alice.channel(id).state.pending.map((p) => p.text)).toEqual(['q1', 'q2', 'q3', 'q4']);
    await new Promise((r) => setTimeout(r, 200));
    expect(await stored(id)).toEqual([]);
    alice.connect();
    const sent = await Promise.all(pending);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(alice.channel(id).state.pending).toEqual([]);
    expect(await stored(id)).toEqual(['q1', 'q2', 'q3', 'q4']);
    await waitFor(() => texts(bob, id).length === 4);
    expect(texts(bob, id)).toEqual(['q1', 'q2', 'q3', 'q4']);
  });

  it('sends made while the network is down are delivered once it is back', async () => {
    const { id, alice, bob } = await pair();
    network.down = true;
    socketOf(alice).terminate();
    await waitFor(() => alice.state === 'connecting');
    const pending = alice.channel(id).send('while down');
    await new Promise((r) => setTimeout(r, 300));
    network.down = false;
    expect((await pending).text).toBe('while down');
    await waitFor(() => texts(bob, id).length === 1);
  });
});

describe('recovery', () => {
  it('a client cut off while others send has all missed messages after reconnect, no dups or holes', async () => {
    const { id, alice, bob } = await pair();
    await alice.channel(id).send('before');
    await waitFor(() => texts(bob, id).length === 1);
    network.down = true;
    socketOf(bob).terminate();
    await waitFor(() => bob.state === 'connecting');
    for (let i = 1; i <= 20; i++) await alice.channel(id).send(`missed ${i}`);
    expect(texts(bob, id)).toEqual(['before']);
    network.down = false;
    await waitFor(() => texts(bob, id).length === 21, 5000, 'bob recovers');
    expectContiguous(bob, id, 21);
    expect(texts(bob, id)).toEqual(['before', ...Array.from({ length: 20 }, (_, i) => `missed ${i + 1}`)]);
    // Live again after recovery.
    await alice.channel(id).send('after');
    await waitFor(() => texts(bob, id).length === 22);
    expectContiguous(bob, id, 22);
  });

  it('too_far: refetches the latest page over REST and replaces local state', async () => {
    const small = await startTestServer({ NATTER_REPLAY_MAX: '3' });
    try {
      const t = await tenantWith(small, ['alice', 'bob']);
      const a = await userClient(t, 'alice');
      const id = (await createChannel(a.api, { id: 'far', type: 'group', members: ['bob'] })).id;
      const historyCalls: string[] = [];
      const countingFetch: typeof fetch = (input, init) => {
        if (String(input).includes('/messages')) historyCalls.push(String(input));
        return fetch(input, init);
      };
      const alice = await connected(t, 'alice');
      const bob = await connected(t, 'bob', { pageSize: 5, fetch: countingFetch });
      for (const text of ['m1', 'm2', 'm3']) await alice.channel(id).send(text);
      await bob.channel(id).watch();
      expect(texts(bob, id)).toEqual(['m1', 'm2', 'm3']);
      expect(historyCalls).toHaveLength(1);
      bob.disconnect();
      for (let i = 4; i <= 13; i++) await alice.channel(id).send(`m${i}`);
      bob.connect();
      await waitFor(() => texts(bob, id).at(-1) === 'm13', 5000, 'bob refetched');
      expect(historyCalls).toHaveLength(2);
      // The latest page replaced the old state: no stale m1..m3 with a hole after them.
      expect(texts(bob, id)).toEqual(['m9', 'm10', 'm11', 'm12', 'm13']);
      expect(bob.channel(id).state.lastSeq).toBe(13);
      await alice.channel(id).send('m14');
      await waitFor(() => texts(bob, id).at(-1) === 'm14');
      expect(bob.channel(id).state.status).toBe('subscribed');
    } finally {
      disconnectAll();
      await small.close();
    }
  });
});

describe('tokens', () => {
  it('close 4001 (token expired): getToken is called again and the client reconnects', async () => {
    let calls = 0;
    const client = await connected(tenant, 'alice', {
      getToken: async () => {
        calls++;
        return (await userClient(tenant, 'alice')).token;
      },
    });
    const changes: StateChange[] = [];
    client.on('state', (c) => changes.push(c));
    expect(calls).toBe(1);
    h.server.gateway.closeAll(4001, 'token expired');
    await waitFor(() => calls === 2 && client.state === 'connected', 5000, 'reconnect with a new token');
    expect(changes).toEqual([
      { oldState: 'connected', newState: 'connecting', code: 4001, reason: 'token expired' },
      { oldState: 'connecting', newState: 'connected', code: null, reason: 'connected' },
    ]);
    const id = await room();
    expect((await client.channel(id).send('still works')).text).toBe('still works');
  });

  it('a token refused at the upgrade (HTTP 401) is replaced by a new one from getToken', async () => {
    let calls = 0;
    const client = await connected(tenant, 'alice', {
      getToken: async () => (++calls === 1 ? 'not-a-jwt' : (await userClient(tenant, 'alice')).token),
    });
    expect(client.state).toBe('connected');
    expect(calls).toBe(2);
  });

  it('UnauthorizedError from getToken stops retries and disconnects with reason unauthorized', async () => {
    let calls = 0;
    const client = await connected(tenant, 'alice', {
      getToken: async () => {
        if (++calls > 1) throw new UnauthorizedError('signed out');
        return (await userClient(tenant, 'alice')).token;
      },
    });
    const changes: StateChange[] = [];
    const errors: unknown[] = [];
    client.on('state', (c) => changes.push(c));
    client.on('error', (e) => errors.push(e));
    h.server.gateway.closeAll(4001, 'token expired');
    await waitFor(() => client.state === 'disconnected');
    expect(changes.at(-1)).toEqual({
      oldState: 'connecting',
      newState: 'disconnected',
      code: null,
      reason: 'unauthorized',
    });
    expect(errors).toEqual([expect.objectContaining({ code: 'NATTER_AUTH_INVALID', message: 'signed out' })]);
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(2);
    expect(client.state).toBe('disconnected');
  });

  it('UnauthorizedError on the very first connect never opens a socket', async () => {
    const client = await sdkClient(tenant, 'alice', {
      getToken: () => {
        throw new UnauthorizedError('no session');
      },
    });
    const reasons: string[] = [];
    client.on('state', (c) => reasons.push(`${c.newState}:${c.reason}`));
    client.connect();
    await waitFor(() => client.state === 'disconnected');
    expect(reasons).toEqual(['connecting:connect called', 'disconnected:unauthorized']);
  });
});
