/**
 * Shared setup of the authorization suites: a tenant with one user of every tenant role, REST
 * shortcuts, and the channels the policy table talks about. Everything goes through the real
 * server (REST and realtime); test names carry the policy table row they cover, e.g.
 * `[channel.read] …` (see `table.test.ts`).
 */
import type { Channel, Message } from '@natter/protocol';
import { expect } from 'vitest';
import type { ApiResponse, Client, TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { backendChannel, restSend, type World, world } from '../realtime/helpers.js';

/**
 * boss: tenant admin; mod: tenant moderator; ann, bob, cat: members; gus, vic: guests.
 * In the channels the tests create, ann is usually the owner and bob a plain member.
 */
export const CAST = [
  { id: 'boss', role: 'admin' },
  { id: 'mod', role: 'moderator' },
  'ann',
  'bob',
  'cat',
  { id: 'gus', role: 'guest' },
  { id: 'vic', role: 'guest' },
] as const;

export type Who = 'boss' | 'mod' | 'ann' | 'bob' | 'cat' | 'gus' | 'vic';

export interface Cast extends World {
  /** REST client of a user. */
  as(who: Who): Client;
  /** REST client of the tenant backend. */
  backend: Client;
  /** Creates a channel as the backend (members as ids or `{ userId, role }`). */
  channel(input: Record<string, unknown>): Promise<Channel>;
  /** Sends a message as `who` over REST; throws unless stored. */
  send(who: Who, channelId: string, text?: string): Promise<Message>;
}

export async function cast(h: TestServer): Promise<Cast> {
  const w = await world(
    h,
    CAST.map((u) => (typeof u === 'string' ? u : { ...u })),
  );
  return {
    ...w,
    as(who) {
      const user = w.users[who];
      if (!user) throw new Error(`no user ${who}`);
      return user.api;
    },
    backend: w.t.api,
    channel: (input) => backendChannel(w.t, input),
    send: (who, channelId, text = `from ${who}`) => restSend(w.users[who]!.api, channelId, { text }),
  };
}

/** A group: ann owner, bob member. */
export const group = (c: Cast, extra: Record<string, unknown> = {}) =>
  c.channel({ type: 'group', members: [{ userId: 'ann', role: 'owner' }, 'bob'], ...extra });
/** A public channel: ann owner, bob member. */
export const publicChannel = (c: Cast) =>
  c.channel({ type: 'public', name: 'news', members: [{ userId: 'ann', role: 'owner' }, 'bob'] });
/** A support conversation: gus the visitor, ann the agent. */
export const support = (c: Cast) =>
  c.channel({
    type: 'support',
    members: [
      { userId: 'gus', role: 'visitor' },
      { userId: 'ann', role: 'agent' },
    ],
  });
/** The direct channel of ann and bob (one per pair: created once, then found again). */
export async function direct(c: Cast): Promise<Channel> {
  const res = await c.backend.post<{ channel: Channel }>('/v1/channels', { type: 'direct', members: ['ann', 'bob'] });
  expectOk(res, 'direct');
  return res.body.channel;
}

/** Asserts a 2xx answer. */
export function expectOk(res: ApiResponse, what = ''): void {
  expect(res.status, `${what} ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(300);
}

/** Asserts the 404 of a channel that is not there (or may not be read). */
export const expectHidden = (res: ApiResponse) => expectError(res, 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
/** Asserts a 403 NATTER_AUTH_FORBIDDEN. */
export const expectForbidden = (res: ApiResponse) => expectError(res, 'NATTER_AUTH_FORBIDDEN');
