/**
 * Shared setup of the realtime suites: a tenant with users and tokens on a real server (through
 * the REST harness), REST shortcuts the tests need beside the socket, and frame assertions.
 */
import type { Channel, ErrorCode, Message } from '@natter/protocol';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import {
  type Client,
  createChannel,
  createTenant,
  createUsers,
  type TestServer,
  type TestTenant,
  type TestUser,
  userClient,
} from '../harness.js';
import { type ConnectOptions, connect, FrameError, type WsClient } from './ws-client.js';

export interface World {
  h: TestServer;
  t: TestTenant;
  users: Record<string, TestUser>;
  /** Opens a socket as `userId` (token via the query unless `opts.via` says otherwise). */
  connect(userId: string, opts?: ConnectOptions): Promise<WsClient>;
  /** Terminates every socket this world opened. */
  closeSockets(): Promise<void>;
}

/** A tenant with the given users (plain ids are members; `{ id, role }` for other roles), each with a token. */
export async function world(
  h: TestServer,
  users: (string | { id: string; role?: 'admin' | 'moderator' | 'member' | 'guest' })[],
): Promise<World> {
  const t = await createTenant(h);
  await createUsers(t, users);
  const ids = users.map((u) => (typeof u === 'string' ? u : u.id));
  const clients = await Promise.all(ids.map((id) => userClient(t, id)));
  const byId: Record<string, TestUser> = {};
  for (const c of clients) byId[c.userId] = c;
  const sockets: WsClient[] = [];
  return {
    h,
    t,
    users: byId,
    async connect(userId, opts) {
      const user = byId[userId];
      if (!user) throw new Error(`no user ${userId} in this world`);
      const socket = await connect(h.url, user.token, opts);
      sockets.push(socket);
      return socket;
    },
    async closeSockets() {
      await Promise.all(sockets.splice(0).map((s) => s.terminate()));
    },
  };
}

/** Creates a channel as the tenant backend. */
export function backendChannel(t: TestTenant, input: Record<string, unknown>): Promise<Channel> {
  return createChannel(t.api, input);
}

/** Sends a message over REST with `client`; throws unless 201/200. */
export async function restSend(client: Client, channelId: string, body: Record<string, unknown>): Promise<Message> {
  const res = await client.post<{ message: Message }>(`/v1/channels/${encodeURIComponent(channelId)}/messages`, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`send: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.message;
}

/** A channel's whole history (including thread replies is not needed here), ascending. */
export async function restHistory(client: Client, channelId: string, after = 0): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const res = await client.get<{ messages: Message[] }>(
      `/v1/channels/${encodeURIComponent(channelId)}/messages?after=${after}&limit=100`,
    );
    if (res.status !== 200) throw new Error(`history: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body.messages);
    const last = res.body.messages.at(-1);
    if (!last || res.body.messages.length < 100) return all;
    after = last.seq;
  }
}

/** Asserts that `promise` rejects with an error frame of `code` (and `details.field` when given). */
export async function expectFrameError(
  promise: Promise<unknown>,
  code: ErrorCode,
  field?: string,
): Promise<FrameError> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected ${code}, got a reply ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FrameError);
  const fe = err as FrameError;
  expect(fe.code, JSON.stringify(fe.frame)).toBe(code);
  expect(typeof fe.body.message).toBe('string');
  expect(JSON.stringify(fe.frame)).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/src\//);
  if (field !== undefined) expect(fe.body.details?.field, JSON.stringify(fe.frame)).toBe(field);
  return fe;
}

/** Signs a user token by hand (to forge expired, foreign or short-lived ones). */
export async function signToken(
  secret: string,
  claims: { tid: string; sub: string; exp: number; iat?: number },
): Promise<string> {
  return new SignJWT({ tid: claims.tid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('natter')
    .setSubject(claims.sub)
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000) - 10)
    .setExpirationTime(claims.exp)
    .sign(Buffer.from(secret, 'base64url'));
}

/** The tenant's signing secret, read from the store (never exposed by the API). */
export async function signingSecret(h: TestServer, tenantId: string): Promise<string> {
  const tenant = await h.server.store.platform.getTenant(tenantId);
  if (!tenant) throw new Error(`no tenant ${tenantId}`);
  return tenant.signingSecret;
}

/** Resolves after `ms`: only to prove that something does NOT happen within a short window. */
export function quiet(ms = 200): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts `seqs` is exactly from..to, ascending, with no gap and no duplicate. */
export function expectContiguous(seqs: number[], from: number, to: number): void {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  if (seqs.length !== expected.length || seqs.some((s, i) => s !== expected[i])) {
    const dups = seqs.filter((s, i) => seqs.indexOf(s) !== i);
    const missing = expected.filter((s) => !seqs.includes(s));
    throw new Error(
      `expected seq ${from}..${to}; got ${seqs.length} (dups ${JSON.stringify(dups.slice(0, 10))}, missing ${JSON.stringify(missing.slice(0, 10))})`,
    );
  }
}
