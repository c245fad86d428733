/**
 * `NATTER_WORKERS=2` on the embedded defaults: a real primary and two real worker processes on one
 * port and one SQLite file, real WebSocket clients placed on a chosen worker (see workers.ts).
 * The guarantees of docs/protocol.md must hold across workers as in one process: per-channel seq
 * order without gap or duplicate, presence until the last connection on any worker, one rate
 * limit per user, and no acknowledged message lost when a worker is killed.
 *
 * Sequential (one file). Timings are loose: the machine has 2 shared cores.
 */
import type { Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, createClient } from '../harness.js';
import { buildServer, type ServerBundle, until } from '../multinode/cluster.js';
import { restHistory } from '../realtime/helpers.js';
import { FrameError, type WsClient } from '../realtime/ws-client.js';
import { startWorkers, type WorkersServer } from './workers.js';

let bundle: ServerBundle;
let server: WorkersServer;
let a: number;
let b: number;
const open: WsClient[] = [];

interface Tenant {
  api: Client;
  tokens: Record<string, string>;
  channelId: string;
}

let counter = 0;
async function tenantWith(userIds: string[], settings?: Record<string, unknown>): Promise<Tenant> {
  counter++;
  const res = await server.admin.post('/v1/admin/tenants', {
    name: `workers ${counter}`,
    ...(settings ? { settings } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const api = createClient(server.url, { basic: [res.body.apiKey.id, res.body.apiKey.secret] });
  expect((await api.post('/v1/users', { users: userIds.map((id) => ({ id, name: id })) })).status).toBe(200);
  const tokens: Record<string, string> = {};
  for (const id of userIds) tokens[id] = (await api.post(`/v1/users/${id}/tokens`)).body.token;
  const ch = await api.post('/v1/channels', { type: 'group', name: `c${counter}`, members: userIds });
  expect(ch.status, JSON.stringify(ch.body)).toBe(201);
  return { api, tokens, channelId: ch.body.channel.id };
}

async function on(pid: number, token: string): Promise<WsClient> {
  const client = await server.connectOn(pid, token);
  open.push(client);
  return client;
}

/** Seqs of the live `message.new` events `client` got in `channelId`, in arrival order. */
const live = (client: WsClient, channelId: string) => client.seqs(channelId);

beforeAll(async () => {
  bundle = await buildServer();
  server = await startWorkers(bundle.main, { workers: 2 });
  [a, b] = (await server.workerPids()) as [number, number];
  expect(a).toBeGreaterThan(0);
  expect(b).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.terminate()));
  await server?.stop();
  await bundle?.remove();
});

describe('NATTER_WORKERS=2 on the embedded defaults', () => {
  it('carries a message sent on worker A to subscribers on worker B, in seq order, once', async () => {
    const t = await tenantWith(['ann', 'bob']);
    const ann = await on(a, t.tokens.ann!);
    const bob = await on(b, t.tokens.bob!);
    await bob.request({ type: 'subscribe', channelId: t.channelId });
    const sent = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        ann.request({ type: 'message.send', channelId: t.channelId, text: `m${i}`, clientMsgId: `ann-${i}` }),
      ),
    );
    const seqs = sent.map((r) => (r as { message: Message }).message.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await bob.waitFor(() => live(bob, t.channelId).length >= 60, 15_000, '60 messages at bob');
    expect(live(bob, t.channelId)).toEqual(seqs);
  });

  it('keeps per-channel seqs gap-free under concurrent sends through both workers', async () => {
    const users = ['s1', 's2', 's3', 's4', 'r1', 'r2'];
    const t = await tenantWith(users);
    const senders = [
      await on(a, t.tokens.s1!),
      await on(a, t.tokens.s2!),
      await on(b, t.tokens.s3!),
      await on(b, t.tokens.s4!),
    ];
    const readers = [await on(a, t.tokens.r1!), await on(b, t.tokens.r2!)];
    for (const r of readers) await r.request({ type: 'subscribe', channelId: t.channelId });
    const perSender = 50;
    const acked = (
      await Promise.all(
        senders.map((s, si) =>
          Promise.all(
            Array.from({ length: perSender }, (_, i) =>
              s.request({
                type: 'message.send',
                channelId: t.channelId,
                text: `x${si}-${i}`,
                clientMsgId: `s${si}-${i}`,
              }),
            ),
          ),
        ),
      )
    ).flat() as { message: Message }[];
    const total = senders.length * perSender;
    const all = Array.from({ length: total }, (_, i) => i + 1);
    expect(acked.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(all);
    for (const r of readers) {
      await r.waitFor(() => live(r, t.channelId).length >= total, 20_000, `${total} messages`);
      expect(live(r, t.channelId)).toEqual(all);
    }
    const history = await restHistory(t.api, t.channelId);
    expect(history.map((m) => m.seq)).toEqual(all);
    expect(new Set(history.map((m) => m.clientMsgId)).size).toBe(total);
  });

  it('keeps a user online until the last connection on any worker closes', async () => {
    const t = await tenantWith(['carol', 'dave']);
    const dave = await on(a, t.tokens.dave!);
    const carolA = await on(a, t.tokens.carol!);
    const carolB = await on(b, t.tokens.carol!);
    const reply = (await dave.request({ type: 'presence.subscribe', userIds: ['carol'] })) as {
      presence: { userId: string; online: boolean }[];
    };
    expect(reply.presence).toEqual([{ userId: 'carol', online: true }]);
    await carolA.close();
    // The other worker still holds carol: no offline event, and a fresh query says online.
    await new Promise((r) => setTimeout(r, 500));
    const again = await on(b, t.tokens.dave!);
    const still = (await again.request({ type: 'presence.subscribe', userIds: ['carol'] })) as typeof reply;
    expect(still.presence).toEqual([{ userId: 'carol', online: true }]);
    expect(dave.eventsOf('presence.changed')).toEqual([]);
    await carolB.close();
    const offline = await dave.nextEvent('presence.changed', () => true, 10_000);
    expect(offline.data).toMatchObject({ userId: 'carol', online: false });
  });

  it('applies a user rate limit once across workers', async () => {
    // 2 per second, burst 4: through both workers together a user gets about 4, not 4 per worker.
    const t = await tenantWith(['erin'], { rateLimits: { userPerSecond: 2 } });
    const onA = await on(a, t.tokens.erin!);
    const onB = await on(b, t.tokens.erin!);
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? onA : onB).request({ type: 'message.send', channelId: t.channelId, text: `r${i}` }).then(
          () => 'ok',
          (err: unknown) => (err instanceof FrameError ? err.code : String(err)),
        ),
      ),
    );
    const allowed = results.filter((r) => r === 'ok').length;
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'NATTER_RATE_LIMITED')).toBe(true);
    // The burst plus what refills while the frames are handled; per-worker buckets would give 8+.
    expect(allowed).toBeGreaterThanOrEqual(4);
    expect(allowed).toBeLessThanOrEqual(6);
  });

  it('restarts a worker killed with SIGKILL; acknowledged messages are kept, seqs stay gap-free', async () => {
    const t = await tenantWith(['fay', 'gus', 'hal']);
    const fay = await on(a, t.tokens.fay!);
    const gus = await on(b, t.tokens.gus!);
    const hal = await on(a, t.tokens.hal!);
    await hal.request({ type: 'subscribe', channelId: t.channelId });
    const acked: Message[] = [];
    let stop = false;
    const sendLoop = async (client: WsClient, prefix: string) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = (await client.request({
            type: 'message.send',
            channelId: t.channelId,
            text: `${prefix}${i}`,
            clientMsgId: `${prefix}-${i}`,
          })) as { message: Message };
          acked.push(r.message);
        } catch {
          return; // its worker died
        }
      }
    };
    const loops = [sendLoop(fay, 'fay'), sendLoop(gus, 'gus')];
    await until('some messages acknowledged', () => acked.length >= 40, 20_000);
    process.kill(b, 'SIGKILL');
    await gus.closed;
    await until('fay to keep sending after the kill', () => acked.length >= 80, 20_000);
    stop = true;
    await Promise.all(loops);
    // The primary forks a new worker 2; clients reach both again.
    const pids = await until(
      'a new worker',
      async () => {
        const now = await server.workerPids();
        return now.length === 2 && !now.includes(b) ? now : null;
      },
      30_000,
    );
    expect(pids).toContain(a);
    const restarted = pids.find((p) => p !== a)!;
    const gus2 = await on(restarted, t.tokens.gus!);
    const reply = (await gus2.request({ type: 'message.send', channelId: t.channelId, text: 'back' })) as {
      message: Message;
    };
    const history = await restHistory(t.api, t.channelId);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
    const stored = new Set(history.map((m) => m.id));
    expect(acked.filter((m) => !stored.has(m.id))).toEqual([]);
    expect(history.at(-1)?.id).toBe(reply.message.id);
    // A subscriber on worker A got every message live, in order, those sent on the dead worker too.
    await hal.waitFor(() => live(hal, t.channelId).length >= history.length, 15_000, 'every message at hal');
    expect(live(hal, t.channelId)).toEqual(history.map((m) => m.seq));
    b = restarted;
  });

  it('stops gracefully on SIGTERM: workers drain, the primary exits 0', async () => {
    const pids = await server.workerPids();
    const result = await server.stop();
    expect(result).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
