/**
 * Shared setup of the moderation suites: a tenant with a cast (plain members, a channel owner, a
 * tenant moderator and a tenant admin), REST shortcuts and the audit reader.
 */
import type { Channel, Message } from '@natter/protocol';
import { expect } from 'vitest';
import type { Client, Json, TestServer } from '../harness.js';
import { backendChannel, restSend, type World, world } from '../realtime/helpers.js';

/** ann, bob, cat: members; owen: owner of `group`; dan: in no channel; mod: tenant moderator; boss: tenant admin. */
export const CAST = [
  'ann',
  'bob',
  'cat',
  'owen',
  'dan',
  { id: 'mod', role: 'moderator' as const },
  { id: 'boss', role: 'admin' as const },
];

export interface Stage extends World {
  /** A group owned by owen with ann, bob and cat as members. */
  group: Channel;
  /** A public channel (owen owns it) with ann as a member. */
  lobby: Channel;
  /** The REST client of a cast member. */
  as(userId: string): Client;
}

export async function stage(h: TestServer): Promise<Stage> {
  const w = await world(h, CAST);
  const group = await backendChannel(w.t, {
    type: 'group',
    name: 'Group',
    members: [{ userId: 'owen', role: 'owner' }, 'ann', 'bob', 'cat'],
  });
  const lobby = await backendChannel(w.t, {
    type: 'public',
    name: 'Lobby',
    members: [{ userId: 'owen', role: 'owner' }, 'ann'],
  });
  return {
    ...w,
    group,
    lobby,
    as(userId) {
      const user = w.users[userId];
      if (!user) throw new Error(`no user ${userId}`);
      return user.api;
    },
  };
}

/** Sends as `client` and returns the message; throws unless stored. */
export function send(client: Client, channelId: string, text = 'hi'): Promise<Message> {
  return restSend(client, channelId, { text });
}

/** POST and expect `status`; returns the body. */
export async function ok(promise: Promise<{ status: number; body: Json }>, status = 200): Promise<Json> {
  const res = await promise;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** The tenant's audit entries of `action` (newest first), read with the tenant API key. */
export async function auditOf(s: Stage, action: string, targetId?: string): Promise<Json[]> {
  const query = new URLSearchParams({ action, limit: '200', ...(targetId ? { targetId } : {}) });
  const res = await s.t.api.get(`/v1/audit?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
}

/** An ISO time `ms` from now. */
export function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** Polls `check` until it returns true (or fails after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
