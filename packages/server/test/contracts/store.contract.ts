/**
 * The store contract: what every `Store` adapter must do, checked through the port and, where the
 * port cannot tell, through `StoreRaw`, a direct look at the engine's rows.
 *
 * An adapter's test file calls {@link runStoreContract} with a factory giving a fresh, empty store
 * per test. The suite is one file on purpose: it is the single definition of the port's behaviour.
 *
 * @example
 * runStoreContract({ name: 'sqlite', create: async () => ({ store, raw, reopen, cleanup }) });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventInput, event, type OutboxEvent } from '../../src/domain/events.js';
import {
  type AuditEntry,
  type Flag,
  type FlagInput,
  type Sanction,
  type Store,
  StoreConflictError,
  type TenantStore,
} from '../../src/ports/store.js';
import {
  at,
  channelInput,
  emits,
  failingEmit,
  messageInput,
  reaction,
  seedChannel,
  sendMany,
  tenantInput,
} from './fixtures.js';

/** The kinds of rows a store keeps per tenant, as the contract names them. */
export type StoreEntity =
  | 'users'
  | 'channels'
  | 'members'
  | 'messages'
  | 'reactions'
  | 'outbox'
  | 'apiKeys'
  | ModerationEntity;

/** The moderation records (bans and mutes, blocks, flags, audit log); checked by their own block. */
export type ModerationEntity = 'sanctions' | 'blocks' | 'flags' | 'audit';

export const MODERATION_ENTITIES: readonly ModerationEntity[] = ['sanctions', 'blocks', 'flags', 'audit'];

export const STORE_ENTITIES: readonly StoreEntity[] = [
  'users',
  'channels',
  'members',
  'messages',
  'reactions',
  'outbox',
  'apiKeys',
];

/** A direct view of the engine, bypassing the port, so the suite can check what was stored. */
export interface StoreRaw {
  /** Distinct tenant ids found on the rows of `entity` (null for platform API keys). */
  tenantIdsOf(entity: StoreEntity): Promise<(string | null)[]>;
  /** Number of rows of `entity` that carry `tenantId`. */
  countOf(entity: StoreEntity, tenantId: string): Promise<number>;
}

export interface StoreHarness {
  /** A fresh, empty store. */
  store: Store;
  raw: StoreRaw;
  /**
   * A second, independent store on the same storage (another connection, as another process
   * would open). When given, the suite checks that two handles interleaving writes stay correct.
   * The suite closes the stores it gets.
   */
  reopen?: () => Promise<Store>;
  /** Removes what `create` made (files, databases); called after the store is closed. */
  cleanup?: () => Promise<void>;
}

export interface StoreContractOptions {
  /** Adapter name, shown in test names. */
  name: string;
  create: () => Promise<StoreHarness>;
}

/** Registers the store contract suite (vitest) for one adapter. */
export function runStoreContract(opts: StoreContractOptions): void {
  describe(`store contract: ${opts.name}`, () => {
    let h: StoreHarness;
    let opened: Store[] = [];
    let store: Store;
    let t: TenantStore;

    beforeEach(async () => {
      h = await opts.create();
      store = h.store;
      await store.platform.createTenant(tenantInput('A'));
      t = store.tenant('A');
    });

    afterEach(async () => {
      for (const s of opened) await s.close();
      opened = [];
      await store.close();
      await h.cleanup?.();
    });

    async function counts(tenantId: string): Promise<Record<StoreEntity, number>> {
      const out = {} as Record<StoreEntity, number>;
      for (const e of STORE_ENTITIES) out[e] = await h.raw.countOf(e, tenantId);
      return out;
    }

    const pendingTypes = async () => (await store.outbox.pending(1000)).map((e) => e.type);
    const pendingIds = async () => (await store.outbox.pending(1000)).map((e) => e.id);

    describe('platform', () => {
      it('creates, reads, updates and deletes tenants', async () => {
        const created = await store.platform.createTenant(tenantInput('T1'));
        expect(created).toMatchObject({ ...tenantInput('T1') });
        expect(Date.parse(created.createdAt)).not.toBeNaN();
        expect(created.updatedAt).toBe(created.createdAt);
        expect(await store.platform.getTenant('T1')).toEqual(created);

        const updated = await store.platform.updateTenant('T1', { name: 'Renamed' });
        expect(updated).toMatchObject({ name: 'Renamed', settings: { allowedOrigins: [] } });
        expect(updated?.createdAt).toBe(created.createdAt);
        const settings = { allowedOrigins: ['https://a.example'], maxMessageLength: 10 };
        await store.platform.updateTenant('T1', { settings });
        expect(await store.platform.getTenant('T1')).toMatchObject({ name: 'Renamed', settings });
        expect(await store.platform.updateTenant('nope', { name: 'x' })).toBeNull();

        expect(await store.platform.deleteTenant('T1')).toBe(true);
        expect(await store.platform.getTenant('T1')).toBeNull();
        expect(await store.platform.deleteTenant('T1')).toBe(false);
      });

      it('rejects a duplicate tenant id with StoreConflictError', async () => {
        const err = await store.platform.createTenant(tenantInput('A')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreConflictError);
        expect(err).toMatchObject({ entity: 'tenant', id: 'A' });
        expect((await store.platform.getTenant('A'))?.name).toBe('Tenant A');
      });

      it('lists tenants by id, page by page', async () => {
        for (const id of ['T4', 'T2', 'T3', 'T1']) await store.platform.createTenant(tenantInput(id));
        // Tenant A sorts before T*.
        const p1 = await store.platform.listTenants({ limit: 2 });
        expect(p1.items.map((x) => x.id)).toEqual(['A', 'T1']);
        expect(p1.next).not.toBeNull();
        const p2 = await store.platform.listTenants({ limit: 2, after: p1.next ?? '' });
        expect(p2.items.map((x) => x.id)).toEqual(['T2', 'T3']);
        const p3 = await store.platform.listTenants({ limit: 2, after: p2.next ?? '' });
        expect(p3.items.map((x) => x.id)).toEqual(['T4']);
        expect(p3.next).toBeNull();
        const all = await store.platform.listTenants({ limit: 5 });
        expect(all.items).toHaveLength(5);
        expect(all.next).toBeNull();
      });

      it('creates, lists and revokes API keys, platform keys included', async () => {
        const sleep = () => new Promise((r) => setTimeout(r, 5));
        const k1 = await store.platform.createApiKey({ id: 'k1', tenantId: 'A', secretHash: 'h1' });
        await sleep();
        const k2 = await store.platform.createApiKey({ id: 'k2', tenantId: 'A', secretHash: 'h2' });
        const pk = await store.platform.createApiKey({ id: 'pk', tenantId: null, secretHash: 'hp' });
        expect(k1).toMatchObject({ id: 'k1', tenantId: 'A', secretHash: 'h1', revokedAt: null });
        expect(await store.platform.getApiKey('pk')).toEqual(pk);
        expect(await store.platform.getApiKey('missing')).toBeNull();

        expect((await store.platform.listApiKeys('A')).map((k) => k.id)).toEqual(['k2', 'k1']);
        expect((await store.platform.listApiKeys(null)).map((k) => k.id)).toEqual(['pk']);
        expect(await store.platform.listApiKeys('B')).toEqual([]);

        const dup = await store.platform
          .createApiKey({ id: 'k1', tenantId: 'A', secretHash: 'x' })
          .catch((e: unknown) => e);
        expect(dup).toBeInstanceOf(StoreConflictError);
        expect(dup).toMatchObject({ entity: 'apiKey', id: 'k1' });

        // A key is revoked only through the tenant that owns it.
        expect(await store.platform.revokeApiKey('B', 'k1')).toBe(false);
        expect(await store.platform.revokeApiKey(null, 'k1')).toBe(false);
        expect(await store.platform.revokeApiKey('A', 'pk')).toBe(false);
        expect(await store.platform.revokeApiKey('A', 'missing')).toBe(false);
        expect(await store.platform.revokeApiKey('A', 'k1')).toBe(true);
        expect(await store.platform.revokeApiKey(null, 'pk')).toBe(true);
        expect((await store.platform.getApiKey('k1'))?.revokedAt).toEqual(expect.any(String));
        expect((await store.platform.getApiKey('k2'))?.revokedAt).toBeNull();
        expect((await store.platform.getApiKey('pk'))?.revokedAt).toEqual(expect.any(String));
        expect(k2.revokedAt).toBeNull();
      });
    });

    describe('users', () => {
      it('creates with defaults, then a partial upsert keeps the fields left out', async () => {
        const [created] = await t.upsertUsers([{ id: 'u1', name: 'Ann', role: 'admin', custom: { a: 1 } }]);
        expect(created).toMatchObject({ id: 'u1', name: 'Ann', avatarUrl: null, role: 'admin', custom: { a: 1 } });
        const [plain] = await t.upsertUsers([{ id: 'u2' }]);
        expect(plain).toMatchObject({ name: null, avatarUrl: null, role: 'member', custom: {} });

        const [updated] = await t.upsertUsers([{ id: 'u1', avatarUrl: 'https://x/a.png' }]);
        expect(updated).toMatchObject({ name: 'Ann', role: 'admin', custom: { a: 1 }, avatarUrl: 'https://x/a.png' });
        expect(updated?.createdAt).toBe(created?.createdAt);
        expect(await t.getUser('u1')).toEqual(updated);

        // An explicit null clears; undefined keeps.
        await t.upsertUsers([{ id: 'u1', name: null, custom: { b: 2 } }]);
        expect(await t.getUser('u1')).toMatchObject({ name: null, avatarUrl: 'https://x/a.png', custom: { b: 2 } });
      });

      it('emits user events with what was written', async () => {
        const users = await t.upsertUsers([{ id: 'u1', name: 'Ann' }], emits.usersUpdated);
        const [e] = await store.outbox.pending(10);
        expect(e).toMatchObject({ type: 'user.updated', tenantId: 'A', channelId: null, payload: { users } });
      });

      it('reads one, several and pages of users', async () => {
        await t.upsertUsers(['u3', 'u1', 'u5', 'u2', 'u4'].map((id) => ({ id })));
        expect(await t.getUser('nope')).toBeNull();
        const some = await t.getUsers(['u2', 'nope', 'u4']);
        expect(some.map((u) => u.id).sort()).toEqual(['u2', 'u4']);
        expect(await t.getUsers([])).toEqual([]);

        const p1 = await t.listUsers({ limit: 2 });
        expect(p1.items.map((u) => u.id)).toEqual(['u1', 'u2']);
        const p2 = await t.listUsers({ limit: 2, after: p1.next ?? '' });
        expect(p2.items.map((u) => u.id)).toEqual(['u3', 'u4']);
        const p3 = await t.listUsers({ limit: 2, after: p2.next ?? '' });
        expect(p3).toEqual({ items: [expect.objectContaining({ id: 'u5' })], next: null });
        expect((await t.listUsers({ limit: 5 })).next).toBeNull();
      });

      it('deletes a user and their memberships; their messages stay', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await seedChannel(t, 'c2', ['u1', 'u3']);
        const { message } = await t.appendMessage(messageInput('c1', 'u1'));

        expect(await t.deleteUser('u1', emits.userDeleted)).toBe(true);
        expect(await t.getUser('u1')).toBeNull();
        expect(await t.getMember('c1', 'u1')).toBeNull();
        expect(await t.getMember('c2', 'u1')).toBeNull();
        expect(await t.getMember('c1', 'u2')).not.toBeNull();
        expect((await t.getChannel('c1'))?.memberCount).toBe(1);
        expect((await t.getChannel('c2'))?.memberCount).toBe(1);
        expect((await t.listMyChannels('u1', { limit: 10 })).items).toEqual([]);
        expect((await t.getMessage(message.id))?.authorId).toBe('u1');
        expect(await pendingTypes()).toEqual(['user.deleted']);
        expect(await t.deleteUser('u1', emits.userDeleted)).toBe(false);
        expect(await pendingTypes()).toEqual(['user.deleted']);
      });
    });

    describe('channels', () => {
      it('creates a channel with its members', async () => {
        await t.upsertUsers([{ id: 'u1' }, { id: 'u2' }]);
        const input = channelInput('c1', ['u1', 'u2'], { custom: { topic: 'x' } });
        const channel = await t.createChannel(input, at(5));
        expect(channel).toEqual({
          id: 'c1',
          type: 'group',
          name: 'Channel c1',
          custom: { topic: 'x' },
          createdBy: 'u1',
          lastSeq: 0,
          lastMessageAt: null,
          frozen: false,
          slowModeSeconds: 0,
          endedAt: null,
          memberCount: 2,
          createdAt: at(5),
          updatedAt: at(5),
        });
        expect(await t.getChannel('c1')).toEqual(channel);
        expect(await t.getChannel('nope')).toBeNull();
        expect(await t.getMember('c1', 'u1')).toEqual({
          channelId: 'c1',
          userId: 'u1',
          role: 'owner',
          lastReadSeq: 0,
          lastReadAt: null,
          joinedAt: at(5),
        });
        expect((await t.getMember('c1', 'u2'))?.role).toBe('member');
      });

      it('reads a channel with a membership as getChannel and getMember do (where supported)', async (ctx) => {
        if (!t.getChannelWithMember) return ctx.skip();
        await seedChannel(t, 'c1', ['u1', 'u2'], { custom: { topic: 'x' } });
        await t.appendMessage(messageInput('c1', 'u1'));
        await t.markRead('c1', 'u2', 1, at(6));
        for (const userId of ['u1', 'u2', 'u3']) {
          expect(await t.getChannelWithMember('c1', userId)).toEqual({
            channel: await t.getChannel('c1'),
            member: await t.getMember('c1', userId),
          });
        }
        expect((await t.getChannelWithMember('c1', 'u2'))?.member?.lastReadSeq).toBe(1);
        expect((await t.getChannelWithMember('c1', 'u3'))?.member).toBeNull();
        expect(await t.getChannelWithMember('nope', 'u1')).toBeNull();
        // Another tenant's channel of the same id is not this tenant's.
        await store.platform.createTenant(tenantInput('B'));
        await seedChannel(store.tenant('B'), 'b1', ['u1']);
        expect(await t.getChannelWithMember('b1', 'u1')).toBeNull();
      });

      it('rejects an existing channel id and keeps the original', async () => {
        await seedChannel(t, 'c1', ['u1']);
        const err = await t
          .createChannel(channelInput('c1', ['u2'], { name: 'other' }), at(1))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreConflictError);
        expect(err).toMatchObject({ entity: 'channel', id: 'c1' });
        expect((await t.getChannel('c1'))?.name).toBe('Channel c1');
        expect(await t.getMember('c1', 'u2')).toBeNull();
      });

      it('keeps one direct channel per key', async () => {
        const direct = await seedChannel(t, 'd1', ['u1', 'u2'], { type: 'direct', directKey: 'u1|u2' });
        expect(await t.findDirectChannel('u1|u2')).toEqual(direct);
        expect(await t.findDirectChannel('u1|u3')).toBeNull();
        const err = await t
          .createChannel(channelInput('d2', ['u1', 'u2'], { type: 'direct', directKey: 'u1|u2' }), at(1))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreConflictError);
        expect(await t.getChannel('d2')).toBeNull();
        // Channels without a key do not collide with each other.
        await seedChannel(t, 'g1', ['u1']);
        await seedChannel(t, 'g2', ['u1']);
      });

      it('updates name, custom, frozen and endedAt', async () => {
        await seedChannel(t, 'c1', ['u1'], { custom: { a: 1, b: 2 } });
        const updated = await t.updateChannel(
          'c1',
          { frozen: true, endedAt: at(9), custom: { c: 3 } },
          emits.channelUpdated,
        );
        expect(updated).toMatchObject({ frozen: true, endedAt: at(9), custom: { c: 3 }, name: 'Channel c1' });
        expect(await t.getChannel('c1')).toEqual(updated);
        const reopened = await t.updateChannel('c1', { frozen: false, endedAt: null, name: null });
        expect(reopened).toMatchObject({ frozen: false, endedAt: null, name: null, custom: { c: 3 } });
        expect(await t.updateChannel('nope', { frozen: true }, emits.channelUpdated)).toBeNull();
        expect(await pendingTypes()).toEqual(['channel.updated']);
      });

      it('lists public channels by id, page by page', async () => {
        for (const id of ['p3', 'p1', 'p2']) await seedChannel(t, id, ['u1'], { type: 'public' });
        await seedChannel(t, 'g0', ['u1']);
        const p1 = await t.listPublicChannels({ limit: 2 });
        expect(p1.items.map((c) => c.id)).toEqual(['p1', 'p2']);
        const p2 = await t.listPublicChannels({ limit: 2, after: p1.next ?? '' });
        expect(p2.items.map((c) => c.id)).toEqual(['p3']);
        expect(p2.next).toBeNull();
      });

      it('deletes a channel with its members, messages and reactions only', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await seedChannel(t, 'c2', ['u1', 'u2']);
        for (const c of ['c1', 'c2']) {
          const [m1] = await sendMany(t, c, 'u1', 3);
          await t.addReaction(reaction(m1?.id ?? '', 'u2', 'like'));
        }
        const before = await counts('A');
        expect(before).toMatchObject({ channels: 2, members: 4, messages: 6, reactions: 2 });

        expect(await t.deleteChannel('c1', emits.channelDeleted)).toBe(true);
        expect(await counts('A')).toMatchObject({ channels: 1, members: 2, messages: 3, reactions: 1 });
        expect(await t.getChannel('c1')).toBeNull();
        expect(await t.getMember('c1', 'u1')).toBeNull();
        expect(await t.listMessages('c1', { limit: 10, includeReplies: true })).toEqual([]);
        expect(await t.listMessages('c2', { limit: 10 })).toHaveLength(3);
        expect(await t.deleteChannel('c1')).toBe(false);
        expect(await pendingTypes()).toEqual(['channel.deleted']);
      });
    });

    describe('members', () => {
      it('adds members idempotently: existing ones keep role and joinedAt', async () => {
        await seedChannel(t, 'c1', ['u1']);
        const added = await t.addMembers(
          'c1',
          [
            { userId: 'u1', role: 'moderator' },
            { userId: 'u2', role: 'member' },
          ],
          at(7),
        );
        expect(added).toEqual([
          { channelId: 'c1', userId: 'u2', role: 'member', lastReadSeq: 0, lastReadAt: null, joinedAt: at(7) },
        ]);
        expect(await t.getMember('c1', 'u1')).toMatchObject({ role: 'owner', joinedAt: at(0) });
        expect((await t.getChannel('c1'))?.memberCount).toBe(2);
        expect(await t.addMembers('c1', [{ userId: 'u2', role: 'owner' }], at(8))).toEqual([]);
        expect(await t.getMember('c1', 'u2')).toMatchObject({ role: 'member', joinedAt: at(7) });
        expect((await t.getChannel('c1'))?.memberCount).toBe(2);
      });

      it('removes members and reports only those removed', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2', 'u3']);
        const removed = await t.removeMembers('c1', ['u2', 'nope', 'u3'], (ids) => [
          { type: 'member.removed', channelId: 'c1', payload: { channel: channelStub('c1'), userIds: ids } },
        ]);
        expect(removed.sort()).toEqual(['u2', 'u3']);
        expect(await t.getMember('c1', 'u2')).toBeNull();
        expect((await t.getChannel('c1'))?.memberCount).toBe(1);
        expect(await t.removeMembers('c1', ['u2'])).toEqual([]);
        const events = await store.outbox.pending(10);
        expect(events).toHaveLength(1);
        expect(events[0]?.payload).toMatchObject({ userIds: expect.arrayContaining(['u2', 'u3']) });
      });

      it('lists members by user id, page by page', async () => {
        await seedChannel(t, 'c1', ['u3', 'u1', 'u2']);
        await seedChannel(t, 'c2', ['u0']);
        const p1 = await t.listMembers('c1', { limit: 2 });
        expect(p1.items.map((m) => m.userId)).toEqual(['u1', 'u2']);
        const p2 = await t.listMembers('c1', { limit: 2, after: p1.next ?? '' });
        expect(p2).toEqual({ items: [expect.objectContaining({ userId: 'u3', channelId: 'c1' })], next: null });
      });

      it('markRead raises the mark but never lowers it', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await sendMany(t, 'c1', 'u2', 5);
        expect(await t.markRead('c1', 'u1', 3, at(10), emits.readUpdated)).toMatchObject({
          lastReadSeq: 3,
          lastReadAt: at(10),
        });
        expect(await t.markRead('c1', 'u1', 1, at(11), emits.readUpdated)).toMatchObject({
          lastReadSeq: 3,
          lastReadAt: at(10),
        });
        expect(await t.markRead('c1', 'u1', 3, at(12), emits.readUpdated)).toMatchObject({
          lastReadSeq: 3,
          lastReadAt: at(10),
        });
        expect(await t.getMember('c1', 'u1')).toMatchObject({ lastReadSeq: 3, lastReadAt: at(10) });
        // Never past the newest message: that would hide messages not sent yet.
        expect(await t.markRead('c1', 'u1', 99, at(13), emits.readUpdated)).toMatchObject({ lastReadSeq: 5 });
        expect(await t.markRead('c1', 'nope', 2, at(14), emits.readUpdated)).toBeNull();
        expect(await pendingTypes()).toEqual(['read.updated', 'read.updated']);
      });
    });

    describe('messages', () => {
      beforeEach(async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
      });

      it('numbers messages from 1 with no gap and stores every field', async () => {
        const input = messageInput('c1', 'u1', {
          clientMsgId: 'cm-1',
          text: 'hi',
          attachments: [{ type: 'image', url: 'https://x/i.png', width: 10 }],
          custom: { k: 'v' },
          encrypted: { alg: 'x', ciphertext: 'abc' },
          createdAt: at(3),
        });
        const { message, created } = await t.appendMessage(input);
        expect(created).toBe(true);
        expect(message).toEqual({
          id: input.id,
          channelId: 'c1',
          seq: 1,
          clientMsgId: 'cm-1',
          authorId: 'u1',
          type: 'regular',
          text: 'hi',
          attachments: [{ type: 'image', url: 'https://x/i.png', width: 10 }],
          custom: { k: 'v' },
          encrypted: { alg: 'x', ciphertext: 'abc' },
          parentId: null,
          replyCount: 0,
          reactionCounts: {},
          createdAt: at(3),
          updatedAt: at(3),
          editedAt: null,
          deletedAt: null,
        });
        expect(await t.getMessage(input.id)).toEqual(message);
        const rest = await sendMany(t, 'c1', null, 4, 4);
        expect(rest.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
        expect(rest[0]).toMatchObject({
          authorId: null,
          clientMsgId: null,
          encrypted: null,
          attachments: [],
          custom: {},
        });
        expect(await t.getChannel('c1')).toMatchObject({ lastSeq: 5, lastMessageAt: at(7) });
        expect(await t.getMessage('nope')).toBeNull();
      });

      it('rejects a message to a missing channel and stores nothing', async () => {
        await expect(t.appendMessage(messageInput('nope', 'u1'), emits.messageNew)).rejects.toThrow();
        expect(await h.raw.countOf('messages', 'A')).toBe(0);
        expect(await store.outbox.pending(10)).toEqual([]);
      });

      it('gives 200 concurrent appends the seqs 1..200 exactly', async () => {
        const results = await Promise.all(Array.from({ length: 200 }, () => t.appendMessage(messageInput('c1', 'u1'))));
        expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(range(1, 200));
        const stored = await t.listMessages('c1', { limit: 500 });
        expect(stored.map((m) => m.seq)).toEqual(range(1, 200));
        expect((await t.getChannel('c1'))?.lastSeq).toBe(200);
      });

      it('keeps seqs gap-free with two handles on the same storage', async (ctx) => {
        if (!h.reopen) return ctx.skip();
        const second = await h.reopen();
        opened.push(second);
        const t2 = second.tenant('A');
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            (i % 2 ? t2 : t).appendMessage(messageInput('c1', i % 2 ? 'u2' : 'u1')),
          ),
        );
        expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(range(1, 200));
        for (const handle of [t, t2]) {
          expect((await handle.listMessages('c1', { limit: 500 })).map((m) => m.seq)).toEqual(range(1, 200));
          expect((await handle.getChannel('c1'))?.lastSeq).toBe(200);
        }
        // The same clientMsgId through both handles is still one message.
        const [a, b] = await Promise.all([
          t.appendMessage(messageInput('c1', 'u1', { clientMsgId: 'dup' })),
          t2.appendMessage(messageInput('c1', 'u1', { clientMsgId: 'dup' })),
        ]);
        expect(a?.message.id).toBe(b?.message.id);
        expect([a?.created, b?.created].sort()).toEqual([false, true]);
      });

      it('returns the stored message for a repeated clientMsgId, with one event', async () => {
        const first = await t.appendMessage(
          messageInput('c1', 'u1', { clientMsgId: 'x', text: 'one' }),
          emits.messageNew,
        );
        const again = await t.appendMessage(
          messageInput('c1', 'u1', { clientMsgId: 'x', text: 'two' }),
          emits.messageNew,
        );
        expect(first.created).toBe(true);
        expect(again).toEqual({ message: first.message, created: false });

        const concurrent = await Promise.all(
          [1, 2, 3].map(() => t.appendMessage(messageInput('c1', 'u1', { clientMsgId: 'y' }), emits.messageNew)),
        );
        expect(new Set(concurrent.map((r) => r.message.id)).size).toBe(1);
        expect(new Set(concurrent.map((r) => r.message.seq))).toEqual(new Set([2]));
        expect(concurrent.filter((r) => r.created)).toHaveLength(1);

        // The key is per author: another author's identical clientMsgId is another message.
        const other = await t.appendMessage(messageInput('c1', 'u2', { clientMsgId: 'x' }), emits.messageNew);
        expect(other).toMatchObject({ created: true, message: { seq: 3, authorId: 'u2' } });
        // A system message (no author) is one message per clientMsgId all the same.
        const system = await t.appendMessage(messageInput('c1', null, { clientMsgId: 'x' }), emits.messageNew);
        const systemAgain = await t.appendMessage(messageInput('c1', null, { clientMsgId: 'x' }), emits.messageNew);
        expect(system).toMatchObject({ created: true, message: { seq: 4, authorId: null } });
        expect(systemAgain).toEqual({ message: system.message, created: false });

        expect(await h.raw.countOf('messages', 'A')).toBe(4);
        const events = await store.outbox.pending(10);
        expect(events.map((e) => e.type)).toEqual(['message.new', 'message.new', 'message.new', 'message.new']);
        expect(events.map((e) => (e.payload as { message: { seq: number } }).message.seq)).toEqual([1, 2, 3, 4]);
      });

      it('pages history before, after and from the newest', async () => {
        await sendMany(t, 'c1', 'u1', 10);
        const seqs = async (q: Parameters<TenantStore['listMessages']>[1]) =>
          (await t.listMessages('c1', q)).map((m) => m.seq);
        expect(await seqs({ limit: 3 })).toEqual([8, 9, 10]);
        expect(await seqs({ limit: 3, before: 8 })).toEqual([5, 6, 7]);
        expect(await seqs({ limit: 3, before: 2 })).toEqual([1]);
        expect(await seqs({ limit: 3, before: 1 })).toEqual([]);
        expect(await seqs({ limit: 2, after: 7 })).toEqual([8, 9]);
        expect(await seqs({ limit: 3, after: 0 })).toEqual([1, 2, 3]);
        expect(await seqs({ limit: 3, after: 10 })).toEqual([]);
        expect(await seqs({ limit: 50 })).toEqual(range(1, 10));
        expect(await t.listMessages('nope', { limit: 5 })).toEqual([]);
      });

      it('threads replies under their parent', async () => {
        const [parent] = await sendMany(t, 'c1', 'u1', 1);
        const pid = parent?.id ?? '';
        const r1 = await t.appendMessage(messageInput('c1', 'u2', { parentId: pid }));
        await sendMany(t, 'c1', 'u1', 1, 10);
        const r2 = await t.appendMessage(messageInput('c1', 'u1', { parentId: pid, clientMsgId: 'r2' }));
        expect([r1.message.seq, r2.message.seq]).toEqual([2, 4]);
        expect(r1.message.parentId).toBe(pid);
        expect((await t.getMessage(pid))?.replyCount).toBe(2);
        // A repeated reply is the stored one: the parent does not count it twice.
        const again = await t.appendMessage(messageInput('c1', 'u1', { parentId: pid, clientMsgId: 'r2' }));
        expect(again).toEqual({ message: r2.message, created: false });
        expect((await t.getMessage(pid))?.replyCount).toBe(2);

        expect((await t.listMessages('c1', { limit: 10 })).map((m) => m.seq)).toEqual([1, 3]);
        expect((await t.listMessages('c1', { limit: 10, parentId: pid })).map((m) => m.seq)).toEqual([2, 4]);
        expect((await t.listMessages('c1', { limit: 1, parentId: pid })).map((m) => m.seq)).toEqual([4]);
        expect((await t.listMessages('c1', { limit: 10, includeReplies: true })).map((m) => m.seq)).toEqual([
          1, 2, 3, 4,
        ]);
      });

      it('rejects a reply whose parent is not in the channel, without using a seq', async () => {
        await seedChannel(t, 'c2', ['u1']);
        const [elsewhere] = await sendMany(t, 'c2', 'u1', 1);
        await expect(t.appendMessage(messageInput('c1', 'u1', { parentId: elsewhere?.id ?? '' }))).rejects.toThrow();
        await expect(t.appendMessage(messageInput('c1', 'u1', { parentId: 'nope' }))).rejects.toThrow();
        expect((await t.getChannel('c1'))?.lastSeq).toBe(0);
        expect((await sendMany(t, 'c1', 'u1', 1))[0]?.seq).toBe(1);
        expect((await t.getMessage(elsewhere?.id ?? ''))?.replyCount).toBe(0);
      });

      it('edits a message and marks it edited', async () => {
        const { message } = await t.appendMessage(messageInput('c1', 'u1', { custom: { keep: true } }));
        const edited = await t.updateMessage(message.id, { text: 'fixed', updatedAt: at(50) }, emits.messageUpdated);
        expect(edited).toEqual({ ...message, text: 'fixed', updatedAt: at(50), editedAt: at(50) });
        expect(await t.getMessage(message.id)).toEqual(edited);
        expect(await t.updateMessage('nope', { text: 'x', updatedAt: at(51) })).toBeNull();
        expect(await pendingTypes()).toEqual(['message.updated']);
      });

      it('soft-deletes into a tombstone that keeps its seq and drops the body', async () => {
        const [, m2] = await sendMany(t, 'c1', 'u1', 3);
        const id = m2?.id ?? '';
        await t.updateMessage(id, {
          attachments: [{ type: 'file', url: 'u' }],
          custom: { a: 1 },
          encrypted: { alg: 'a', ciphertext: 'c' },
          updatedAt: at(20),
        });
        const tomb = await t.deleteMessage(id, at(30), emits.messageDeleted);
        expect(tomb).toMatchObject({
          id,
          seq: 2,
          type: 'deleted',
          text: null,
          attachments: [],
          custom: {},
          encrypted: null,
          deletedAt: at(30),
        });
        expect(await t.getMessage(id)).toEqual(tomb);
        expect((await t.listMessages('c1', { limit: 10 })).map((m) => [m.seq, m.type])).toEqual([
          [1, 'regular'],
          [2, 'deleted'],
          [3, 'regular'],
        ]);
        // Deleting again changes nothing; a tombstone cannot be edited back to life.
        expect(await t.deleteMessage(id, at(40), emits.messageDeleted)).toEqual(tomb);
        expect(await t.updateMessage(id, { text: 'back', updatedAt: at(41) })).toBeNull();
        expect((await t.getMessage(id))?.text).toBeNull();
        expect(await t.deleteMessage('nope', at(42))).toBeNull();
        expect(await pendingTypes()).toEqual(['message.deleted']);
      });

      it('adds and removes reactions and keeps the counts', async () => {
        const { message } = await t.appendMessage(messageInput('c1', 'u1'));
        const add = (u: string, type: string) => t.addReaction(reaction(message.id, u, type), emits.reactionAdded);
        expect(await add('u1', 'like')).toMatchObject({ added: true, message: { reactionCounts: { like: 1 } } });
        expect(await add('u1', 'like')).toMatchObject({ added: false, message: { reactionCounts: { like: 1 } } });
        await add('u2', 'like');
        const r = await add('u2', 'heart');
        expect(r?.message.reactionCounts).toEqual({ like: 2, heart: 1 });
        expect((await t.getMessage(message.id))?.reactionCounts).toEqual({ like: 2, heart: 1 });
        expect(await h.raw.countOf('reactions', 'A')).toBe(3);

        const remove = (u: string, type: string) => t.removeReaction(message.id, u, type, emits.reactionRemoved);
        expect(await remove('u1', 'like')).toMatchObject({
          removed: true,
          message: { reactionCounts: { like: 1, heart: 1 } },
        });
        expect(await remove('u1', 'like')).toMatchObject({ removed: false });
        const last = await remove('u2', 'heart');
        expect(last?.message.reactionCounts).toEqual({ like: 1 });
        expect((await t.getMessage(message.id))?.reactionCounts).toEqual({ like: 1 });
        expect(await t.addReaction(reaction('nope', 'u1', 'like'))).toBeNull();
        expect(await t.removeReaction('nope', 'u1', 'like')).toBeNull();

        const events = await store.outbox.pending(20);
        expect(events.map((e) => e.type)).toEqual([
          'reaction.added',
          'reaction.added',
          'reaction.added',
          'reaction.removed',
          'reaction.removed',
        ]);
        expect(events[3]?.payload).toMatchObject({ reaction: { userId: 'u1', type: 'like', createdAt: at(1) } });
      });
    });

    describe('my channels', () => {
      it('counts unread messages of others after the read mark and shows the last message', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await seedChannel(t, 'c2', ['u1', 'u2']);
        await seedChannel(t, 'c3', ['u1']);
        await seedChannel(t, 'other', ['u2']);

        // c1: 4 from u2 (seq 1-4), u1 read up to 1; then own message, a reply, a system message,
        // and a deleted one: unread = seq 2,3,4 + system = 4.
        const c1 = await sendMany(t, 'c1', 'u2', 4, 100);
        await t.markRead('c1', 'u1', 1, at(105));
        await sendMany(t, 'c1', 'u1', 1, 106);
        await t.appendMessage(messageInput('c1', 'u2', { parentId: c1[0]?.id ?? '', createdAt: at(107) }));
        await sendMany(t, 'c1', null, 1, 108);
        const [gone] = await sendMany(t, 'c1', 'u2', 1, 109);
        await t.deleteMessage(gone?.id ?? '', at(110));
        // c2: newest activity, nothing unread once read.
        await sendMany(t, 'c2', 'u2', 2, 200);
        await t.markRead('c2', 'u1', 2, at(203));
        // A reply is the newest in c2 but not its "last message".
        const c2top = (await t.listMessages('c2', { limit: 1 }))[0];
        await t.appendMessage(messageInput('c2', 'u2', { parentId: c2top?.id ?? '', createdAt: at(300) }));

        const page = await t.listMyChannels('u1', { limit: 10 });
        expect(page.next).toBeNull();
        expect(page.items.map((i) => i.channel.id)).toEqual(['c2', 'c1', 'c3']);
        const [i2, i1, i3] = page.items;
        expect(i1).toMatchObject({ unreadCount: 4, membership: { userId: 'u1', lastReadSeq: 1, role: 'owner' } });
        expect(i1?.lastMessage).toMatchObject({ seq: 8, type: 'deleted' });
        expect(i1?.channel).toEqual(await t.getChannel('c1'));
        expect(i2).toMatchObject({ unreadCount: 0, lastMessage: { seq: 2, parentId: null } });
        expect(i3).toMatchObject({ unreadCount: 0, lastMessage: null, channel: { memberCount: 1 } });

        const seen: string[] = [];
        let after: string | undefined;
        do {
          const p = await t.listMyChannels('u1', { limit: 1, ...(after === undefined ? {} : { after }) });
          expect(p.items.length).toBeLessThanOrEqual(1);
          seen.push(...p.items.map((i) => i.channel.id));
          after = p.next ?? undefined;
        } while (after !== undefined);
        expect(seen).toEqual(['c2', 'c1', 'c3']);
      });
    });

    describe('outbox', () => {
      it('stores each write with its events, in order, built from what was written', async () => {
        await t.upsertUsers([{ id: 'u1' }, { id: 'u2' }]);
        const channel = await t.createChannel(channelInput('c1', ['u1', 'u2']), at(0), emits.channelCreated);
        let seen: unknown;
        const { message } = await t.appendMessage(messageInput('c1', 'u1'), (m) => {
          seen = m;
          return emits.messageNew(m);
        });
        expect(seen).toEqual(message);
        await t.addReaction(reaction(message.id, 'u2', 'like'), emits.reactionAdded);
        await t.markRead('c1', 'u2', 1, at(2), emits.readUpdated);
        const added = await t.addMembers('c1', [{ userId: 'u3', role: 'member' }], at(3), (members) => [
          { type: 'member.added', channelId: 'c1', payload: { channel, members } },
        ]);

        const events = await store.outbox.pending(100);
        expect(events.map((e) => e.type)).toEqual([
          'channel.created',
          'message.new',
          'reaction.added',
          'read.updated',
          'member.added',
        ]);
        const ids = events.map((e) => e.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(5);
        for (const e of events) {
          expect(e).toMatchObject({ tenantId: 'A', channelId: 'c1' });
          expect(Date.parse(e.createdAt)).not.toBeNaN();
        }
        expect(events[0]?.payload).toEqual({ channel });
        expect(events[1]?.payload).toEqual({ message });
        expect(events[4]?.payload).toEqual({ channel, members: added });
      });

      it('stores nothing of a write whose emit throws', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        const { message } = await t.appendMessage(messageInput('c1', 'u1'));

        await expect(t.appendMessage(messageInput('c1', 'u1', { clientMsgId: 'k' }), failingEmit)).rejects.toThrow(
          'on purpose',
        );
        await expect(
          t.appendMessage(messageInput('c1', 'u1', { parentId: message.id }), failingEmit),
        ).rejects.toThrow();
        await expect(t.createChannel(channelInput('c2', ['u1']), at(1), failingEmit)).rejects.toThrow();
        await expect(t.addReaction(reaction(message.id, 'u2', 'like'), failingEmit)).rejects.toThrow();
        await expect(t.updateMessage(message.id, { text: 'x', updatedAt: at(2) }, failingEmit)).rejects.toThrow();
        await expect(t.deleteMessage(message.id, at(2), failingEmit)).rejects.toThrow();
        await expect(t.addMembers('c1', [{ userId: 'u3', role: 'member' }], at(2), failingEmit)).rejects.toThrow();
        await expect(t.upsertUsers([{ id: 'u9' }], failingEmit)).rejects.toThrow();
        await expect(t.deleteChannel('c1', failingEmit)).rejects.toThrow();

        expect(await counts('A')).toMatchObject({
          messages: 1,
          channels: 1,
          members: 2,
          reactions: 0,
          users: 2,
          outbox: 0,
        });
        expect(await t.getChannel('c1')).toMatchObject({ lastSeq: 1, memberCount: 2 });
        expect(await t.getMessage(message.id)).toEqual(message);
        expect(await t.getUser('u9')).toBeNull();
        // The failed append did not consume a seq, and the clientMsgId is still free.
        const next = await t.appendMessage(messageInput('c1', 'u1', { clientMsgId: 'k' }));
        expect(next).toMatchObject({ created: true, message: { seq: 2 } });
      });

      it('rolls back only the failing write among concurrent ones', async () => {
        await seedChannel(t, 'c1', ['u1']);
        const results = await Promise.allSettled([
          t.appendMessage(messageInput('c1', 'u1', { text: 'a' }), emits.messageNew),
          t.appendMessage(messageInput('c1', 'u1', { text: 'boom' }), failingEmit),
          t.appendMessage(messageInput('nope', 'u1'), emits.messageNew),
          t.appendMessage(messageInput('c1', 'u1', { text: 'b' }), emits.messageNew),
          t.upsertUsers([{ id: 'u7' }], failingEmit),
          t.upsertUsers([{ id: 'u8' }], emits.usersUpdated),
        ]);
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'fulfilled',
          'rejected',
          'fulfilled',
        ]);
        expect((await t.listMessages('c1', { limit: 10 })).map((m) => [m.seq, m.text])).toEqual([
          [1, 'a'],
          [2, 'b'],
        ]);
        expect(await t.getUser('u7')).toBeNull();
        expect(await t.getUser('u8')).not.toBeNull();
        expect(await pendingTypes()).toEqual(['message.new', 'message.new', 'user.updated']);
      });

      /** Channel c1 with five messages in it: five `message.new` events in the outbox. */
      async function fiveMessages(): Promise<void> {
        await seedChannel(t, 'c1', ['u1']);
        for (let i = 0; i < 5; i++) await t.appendMessage(messageInput('c1', 'u1'), emits.messageNew);
      }
      /** A cutoff after every event written so far. */
      const future = () => new Date(Date.now() + 60_000).toISOString();

      it('hands out pending events, marks them published and prunes old ones', async () => {
        await fiveMessages();
        const all = await store.outbox.pending(100);
        expect(all).toHaveLength(5);
        const ids = all.map((e) => e.id);
        expect((await store.outbox.pending(2)).map((e) => e.id)).toEqual(ids.slice(0, 2));
        expect((await store.outbox.pending(2, ids[1])).map((e) => e.id)).toEqual(ids.slice(2, 4));

        await store.outbox.markPublished(ids.slice(0, 3));
        await store.outbox.markPublished([]);
        expect(await pendingIds()).toEqual(ids.slice(3));

        expect(await store.outbox.prune('2000-01-01T00:00:00.000Z')).toBe(0);
        expect(await store.outbox.prune(future())).toBe(3);
        expect(await h.raw.countOf('outbox', 'A')).toBe(2);
        expect(await pendingIds()).toEqual(ids.slice(3));

        // Ids keep increasing after pruning: consumers drop redeliveries by id.
        await store.outbox.markPublished(ids.slice(3));
        await store.outbox.prune(future());
        await t.appendMessage(messageInput('c1', 'u1'), emits.messageNew);
        const [fresh] = await store.outbox.pending(10);
        expect(fresh?.id).toBeGreaterThan(Math.max(...ids));
      });

      it('prunes published events a limited number at a time, never unpublished ones', async () => {
        await fiveMessages();
        const ids = await pendingIds();
        await store.outbox.markPublished(ids.slice(0, 4));
        expect(await store.outbox.prune('2000-01-01T00:00:00.000Z', 3)).toBe(0);
        expect(await store.outbox.prune(future(), 3)).toBe(3);
        expect(await h.raw.countOf('outbox', 'A')).toBe(2);
        expect(await store.outbox.prune(future(), 3)).toBe(1);
        expect(await store.outbox.prune(future(), 3)).toBe(0);
        expect(await pendingIds()).toEqual([ids[4]]);
      });

      it('marks any ids published, not only the oldest pending', async () => {
        await fiveMessages();
        const ids = await pendingIds();
        await store.outbox.markPublished([ids[1], ids[3]] as number[]);
        expect(await pendingIds()).toEqual([ids[0], ids[2], ids[4]]);
        await store.outbox.markPublished([ids[0]] as number[]);
        expect(await pendingIds()).toEqual([ids[2], ids[4]]);
        expect(await store.outbox.prune(future())).toBe(3);
        expect(await pendingIds()).toEqual([ids[2], ids[4]]);
        expect(await h.raw.countOf('outbox', 'A')).toBe(2);
      });
    });

    describe('tenant isolation', () => {
      /** The same ids in every tenant: user u1/u2, channel c1, message m-1. */
      async function populate(tenantId: string, text: string): Promise<TenantStore> {
        const ts = store.tenant(tenantId);
        await ts.upsertUsers([{ id: 'u1', name: `${text} one` }, { id: 'u2' }], emits.usersUpdated);
        await ts.createChannel(channelInput('c1', ['u1', 'u2']), at(0), emits.channelCreated);
        await ts.appendMessage(messageInput('c1', 'u1', { id: 'm-1', text, clientMsgId: 'cm' }), emits.messageNew);
        await ts.addReaction(reaction('m-1', 'u2', 'like'), emits.reactionAdded);
        await ts.markRead('c1', 'u2', 1, at(5), emits.readUpdated);
        await store.platform.createApiKey({ id: `key-${tenantId}`, tenantId, secretHash: 'h' });
        return ts;
      }

      it('writes every row with its tenant id and never reads across tenants', async () => {
        await store.platform.createTenant(tenantInput('B'));
        const b = await populate('B', 'from B');
        const bCounts = await counts('B');
        for (const e of STORE_ENTITIES) expect(bCounts[e], e).toBeGreaterThan(0);
        expect(await counts('A')).toEqual(Object.fromEntries(STORE_ENTITIES.map((e) => [e, 0])));

        const a = await populate('A', 'from A');
        expect(await counts('B')).toEqual(bCounts);
        expect(await counts('A')).toEqual(bCounts);
        for (const e of STORE_ENTITIES) {
          expect((await h.raw.tenantIdsOf(e)).sort(), e).toEqual(['A', 'B']);
        }

        // The same clientMsgId in B is B's own message: A's write did not dedupe against it.
        expect((await b.getMessage('m-1'))?.text).toBe('from B');
        expect((await a.getMessage('m-1'))?.text).toBe('from A');
        expect((await b.getUser('u1'))?.name).toBe('from B one');
        expect((await b.getChannel('c1'))?.lastSeq).toBe(1);
        expect((await b.getMessage('m-1'))?.reactionCounts).toEqual({ like: 1 });
        expect((await b.listMembers('c1', { limit: 10 })).items).toHaveLength(2);
        expect((await b.listMessages('c1', { limit: 10 })).map((m) => m.text)).toEqual(['from B']);
        // Reads through A find A's rows although B's, with the same ids, were written first.
        expect((await a.getUser('u1'))?.name).toBe('from A one');
        expect((await a.getUsers(['u1'])).map((u) => u.name)).toEqual(['from A one']);
        expect((await a.listUsers({ limit: 10 })).items.map((u) => u.name)).toEqual(['from A one', null]);
        expect((await a.listMessages('c1', { limit: 10 })).map((m) => m.text)).toEqual(['from A']);

        // Records only A has are invisible, and untouchable, through B.
        const onlyA = await a.appendMessage(messageInput('c1', 'u1', { text: 'only A' }));
        await a.upsertUsers([{ id: 'ua' }]);
        await a.createChannel(channelInput('ca', ['ua'], { type: 'public', directKey: 'ua|ub' }), at(1));
        expect((await b.listMessages('c1', { limit: 10 })).map((m) => m.text)).toEqual(['from B']);
        expect(await b.getMessage(onlyA.message.id)).toBeNull();
        expect(await b.getUser('ua')).toBeNull();
        expect((await b.getUsers(['ua', 'u1'])).map((u) => u.name)).toEqual(['from B one']);
        expect((await b.listUsers({ limit: 10 })).items.map((u) => u.id)).toEqual(['u1', 'u2']);
        expect(await b.getChannel('ca')).toBeNull();
        expect(await b.findDirectChannel('ua|ub')).toBeNull();
        expect(await b.getMember('ca', 'ua')).toBeNull();
        expect((await b.listMembers('ca', { limit: 10 })).items).toEqual([]);
        expect((await b.listPublicChannels({ limit: 10 })).items).toEqual([]);
        expect((await b.listMyChannels('ua', { limit: 10 })).items).toEqual([]);
        expect(await b.updateMessage(onlyA.message.id, { text: 'x', updatedAt: at(9) })).toBeNull();
        expect(await b.deleteMessage(onlyA.message.id, at(9))).toBeNull();
        expect(await b.addReaction(reaction(onlyA.message.id, 'u1', 'x'))).toBeNull();
        expect(await b.updateChannel('ca', { frozen: true })).toBeNull();
        expect(await b.markRead('ca', 'ua', 1, at(9))).toBeNull();
        expect(await b.removeMembers('ca', ['ua'])).toEqual([]);
        expect(await b.deleteUser('ua')).toBe(false);
        expect(await b.deleteChannel('ca')).toBe(false);
        expect(await a.getMessage(onlyA.message.id)).toEqual(onlyA.message);
        expect(await a.getChannel('ca')).toMatchObject({ frozen: false, memberCount: 1 });
        const bMine = await b.listMyChannels('u2', { limit: 10 });
        expect(bMine.items[0]).toMatchObject({ unreadCount: 0, lastMessage: { text: 'from B' } });
        expect((await a.listMyChannels('u2', { limit: 10 })).items[0]?.unreadCount).toBe(1);

        const events = await store.outbox.pending(100);
        expect(events.filter((e) => e.tenantId === 'A')).toHaveLength(5);
        const aMessage = events.find(
          (e): e is Extract<OutboxEvent, { type: 'message.new' }> => e.type === 'message.new' && e.tenantId === 'A',
        );
        expect(aMessage?.payload.message.text).toBe('from A');

        // Writes through A never touch B's rows.
        await a.deleteUser('u2');
        await a.removeMembers('c1', ['u1']);
        await a.deleteMessage('m-1', at(9));
        expect((await b.getMessage('m-1'))?.type).toBe('regular');
        expect(await b.getMember('c1', 'u2')).not.toBeNull();
        expect(await b.getUser('u2')).not.toBeNull();
        expect(await b.deleteChannel('nope')).toBe(false);
        await b.deleteChannel('c1');
        expect(await a.getChannel('c1')).not.toBeNull();
        expect(await b.getChannel('c1')).toBeNull();
      });

      it('deleteTenant removes every row of that tenant and nothing else', async () => {
        await store.platform.createTenant(tenantInput('B'));
        await populate('A', 'from A');
        await populate('B', 'from B');
        const bCounts = await counts('B');

        expect(await store.platform.deleteTenant('A')).toBe(true);
        expect(await counts('A')).toEqual(Object.fromEntries(STORE_ENTITIES.map((e) => [e, 0])));
        expect(await counts('B')).toEqual(bCounts);
        for (const e of STORE_ENTITIES) expect(await h.raw.tenantIdsOf(e), e).toEqual(['B']);
        expect(await store.platform.getTenant('A')).toBeNull();
        expect(await store.platform.getApiKey('key-A')).toBeNull();
        expect(await store.platform.getApiKey('key-B')).not.toBeNull();
        expect(await store.tenant('A').getMessage('m-1')).toBeNull();
        expect((await store.tenant('B').getMessage('m-1'))?.text).toBe('from B');
      });
    });

    it('answers ping and closes idempotently', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(store.name).toEqual(expect.any(String));
      await store.close();
      await store.close();
    });

    describe('message scans', () => {
      it('scans every message of the tenant by id, replies and tombstones included, page by page', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await seedChannel(t, 'c2', ['u1']);
        // Appended out of id order, across channels, so neither seq nor channel order passes.
        for (const [id, channelId] of [
          ['scan-4', 'c1'],
          ['scan-1', 'c2'],
          ['scan-3', 'c1'],
        ] as const) {
          await t.appendMessage(messageInput(channelId, 'u1', { id, text: id }));
        }
        await t.appendMessage(messageInput('c1', 'u2', { id: 'scan-2', parentId: 'scan-4' }));
        await t.appendMessage(messageInput('c2', 'u1', { id: 'scan-5', encrypted: { alg: 'x', ciphertext: 'y' } }));
        await t.deleteMessage('scan-3', at(5));
        await store.platform.createTenant(tenantInput('B'));
        const b = store.tenant('B');
        await seedChannel(b, 'c1', ['u1']);
        await b.appendMessage(messageInput('c1', 'u1', { id: 'scan-0' }));
        await b.appendMessage(messageInput('c1', 'u1', { id: 'scan-35' }));

        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await t.scanMessages({ limit: 2, ...(after ? { after } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((m) => m.id));
          after = page.next ?? undefined;
          pages++;
        } while (after && pages < 10);
        expect(seen).toEqual(['scan-1', 'scan-2', 'scan-3', 'scan-4', 'scan-5']);
        expect(pages).toBe(3);

        const all = (await t.scanMessages({ limit: 10 })).items;
        expect(all.find((m) => m.id === 'scan-2')).toMatchObject({ parentId: 'scan-4', channelId: 'c1' });
        expect(all.find((m) => m.id === 'scan-3')).toMatchObject({ deletedAt: at(5), text: null });
        expect(all.find((m) => m.id === 'scan-5')?.encrypted).toEqual({ alg: 'x', ciphertext: 'y' });
        expect(all.find((m) => m.id === 'scan-4')).toEqual(await t.getMessage('scan-4'));
        expect(await t.scanMessages({ limit: 10, after: 'scan-5' })).toEqual({ items: [], next: null });
        expect((await b.scanMessages({ limit: 10 })).items.map((m) => m.id)).toEqual(['scan-0', 'scan-35']);
      });

      it('counts every message of the tenant, replies and tombstones included', async () => {
        expect(await t.countMessages()).toBe(0);
        await seedChannel(t, 'c1', ['u1']);
        const [parent] = await sendMany(t, 'c1', 'u1', 3);
        await t.appendMessage(messageInput('c1', 'u1', { parentId: parent?.id ?? '' }));
        await t.deleteMessage(parent?.id ?? '', at(9));
        await store.platform.createTenant(tenantInput('B'));
        await seedChannel(store.tenant('B'), 'c1', ['u1']);
        await sendMany(store.tenant('B'), 'c1', 'u1', 2);
        expect(await t.countMessages()).toBe(4);
        expect(await store.tenant('B').countMessages()).toBe(2);
        expect(await store.tenant('nobody').countMessages()).toBe(0);
      });
    });
    describe('moderation records', () => {
      const ban = (userId: string, channelId: string | null, overrides: Partial<Sanction> = {}): Sanction => ({
        kind: 'ban',
        userId,
        channelId,
        reason: 'spam',
        createdBy: 'mod',
        createdAt: at(1),
        expiresAt: null,
        ...overrides,
      });
      const mute = (userId: string, channelId: string | null, overrides: Partial<Sanction> = {}): Sanction =>
        ban(userId, channelId, { kind: 'mute', ...overrides });
      const flagInput = (id: string, messageId: string, reporterId: string | null, channelId = 'c1'): FlagInput => ({
        id,
        messageId,
        channelId,
        reporterId,
        reason: `reason ${id}`,
        createdAt: at(2),
      });
      const auditEntry = (id: string, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
        id,
        actorType: 'user',
        actorId: 'mod',
        action: 'user.ban',
        targetType: 'user',
        targetId: 'u2',
        before: null,
        after: { kind: 'ban', nested: { list: [1, 'two', null], flag: true } },
        at: at(3),
        ...overrides,
      });
      const moderationCounts = async (tenantId: string) =>
        Object.fromEntries(
          await Promise.all(MODERATION_ENTITIES.map(async (e) => [e, await h.raw.countOf(e, tenantId)])),
        );

      it('stores bans and mutes per kind, user and scope; a new one replaces the old and returns it', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        const first = await t.putSanction(ban('u2', null), (c) => [
          event('moderation.banned', null, { sanction: c.sanction }),
        ]);
        expect(first).toEqual({ sanction: ban('u2', null), previous: null });
        expect((await t.putSanction(ban('u2', 'c1'))).previous).toBeNull();
        expect((await t.putSanction(mute('u2', null))).previous).toBeNull();
        const replaced = await t.putSanction(ban('u2', null, { reason: 'again', expiresAt: at(100) }));
        expect(replaced).toEqual({
          sanction: ban('u2', null, { reason: 'again', expiresAt: at(100) }),
          previous: ban('u2', null),
        });
        expect(await h.raw.countOf('sanctions', 'A')).toBe(3);

        expect(await t.activeSanctions('u2', 'c1', at(50))).toEqual(
          expect.arrayContaining([
            ban('u2', null, { reason: 'again', expiresAt: at(100) }),
            ban('u2', 'c1'),
            mute('u2', null),
          ]),
        );
        expect(await t.activeSanctions('u2', 'c1', at(50))).toHaveLength(3);
        // Tenant-wide only, another channel's scope, and the expiry (exclusive).
        expect(await t.activeSanctions('u2', null, at(50))).toHaveLength(2);
        expect(await t.activeSanctions('u2', 'other', at(50))).toHaveLength(2);
        const atExpiry = await t.activeSanctions('u2', 'c1', at(100));
        expect(atExpiry).toHaveLength(2);
        expect(atExpiry).toEqual(expect.arrayContaining([ban('u2', 'c1'), mute('u2', null)]));
        expect(await t.activeSanctions('u1', 'c1', at(50))).toEqual([]);

        const removed = await t.removeSanction('ban', 'u2', 'c1', (s) => [
          event('moderation.unbanned', s.channelId, { sanction: s }),
        ]);
        expect(removed).toEqual(ban('u2', 'c1'));
        expect(await t.removeSanction('ban', 'u2', 'c1')).toBeNull();
        expect(await t.removeSanction('mute', 'u2', 'c1')).toBeNull();
        expect((await t.activeSanctions('u2', 'c1', at(50))).map((x) => [x.kind, x.channelId])).toEqual(
          expect.arrayContaining([
            ['ban', null],
            ['mute', null],
          ]),
        );
        expect(await pendingTypes()).toEqual(['moderation.banned', 'moderation.unbanned']);
      });

      it('lists the sanctions of one scope in force, by user id, page by page', async () => {
        await seedChannel(t, 'c1', ['u1']);
        for (const u of ['u4', 'u1', 'u3', 'u2']) await t.putSanction(ban(u, null));
        await t.putSanction(ban('u5', null, { expiresAt: at(10) }));
        await t.putSanction(ban('u0', 'c1'));
        await t.putSanction(mute('u0', null));
        const p1 = await t.listSanctions({ kind: 'ban', channelId: null, at: at(20), limit: 3 });
        expect(p1.items.map((x) => x.userId)).toEqual(['u1', 'u2', 'u3']);
        const p2 = await t.listSanctions({ kind: 'ban', channelId: null, at: at(20), limit: 3, after: p1.next ?? '' });
        expect(p2).toEqual({ items: [ban('u4', null)], next: null });
        expect(
          (await t.listSanctions({ kind: 'ban', channelId: null, at: at(5), limit: 10 })).items.map((x) => x.userId),
        ).toContain('u5');
        expect((await t.listSanctions({ kind: 'ban', channelId: 'c1', at: at(5), limit: 10 })).items).toEqual([
          ban('u0', 'c1'),
        ]);
        expect((await t.listSanctions({ kind: 'mute', channelId: null, at: at(5), limit: 10 })).items).toEqual([
          mute('u0', null),
        ]);
      });

      it("removes a channel's sanctions and flags with the channel; a soft delete keeps flags", async () => {
        await seedChannel(t, 'c1', ['u1', 'u2']);
        await seedChannel(t, 'c2', ['u1', 'u2']);
        const [m1] = await sendMany(t, 'c1', 'u2', 1);
        const [m2] = await sendMany(t, 'c2', 'u2', 1);
        await t.putSanction(ban('u2', 'c1'));
        await t.putSanction(ban('u2', 'c2'));
        await t.putSanction(mute('u2', null));
        await t.addFlag(flagInput('f1', m1?.id ?? '', 'u1', 'c1'));
        await t.addFlag(flagInput('f2', m2?.id ?? '', 'u1', 'c2'));
        await t.deleteMessage(m2?.id ?? '', at(9));
        expect((await t.getFlag('f2'))?.status).toBe('open');

        await t.deleteChannel('c1');
        expect(await t.getFlag('f1')).toBeNull();
        expect(await t.getFlag('f2')).not.toBeNull();
        expect((await t.activeSanctions('u2', 'c1', at(5))).map((x) => [x.kind, x.channelId])).toEqual([
          ['mute', null],
        ]);
        expect(await t.activeSanctions('u2', 'c2', at(5))).toHaveLength(2);
        expect(await moderationCounts('A')).toMatchObject({ sanctions: 2, flags: 1 });
      });

      it('stores blocks idempotently, per direction, and lists them page by page', async () => {
        const first = await t.putBlock({ userId: 'u1', blockedUserId: 'u3', createdAt: at(1) });
        expect(first).toEqual({ block: { userId: 'u1', blockedUserId: 'u3', createdAt: at(1) }, created: true });
        expect(await t.putBlock({ userId: 'u1', blockedUserId: 'u3', createdAt: at(7) })).toEqual({
          ...first,
          created: false,
        });
        await t.putBlock({ userId: 'u1', blockedUserId: 'u2', createdAt: at(2) });
        await t.putBlock({ userId: 'u2', blockedUserId: 'u1', createdAt: at(3) });
        expect(await t.getBlock('u1', 'u3')).toEqual(first.block);
        expect(await t.getBlock('u3', 'u1')).toBeNull();
        const p1 = await t.listBlocks('u1', { limit: 1 });
        expect(p1.items.map((b) => b.blockedUserId)).toEqual(['u2']);
        const p2 = await t.listBlocks('u1', { limit: 1, after: p1.next ?? '' });
        expect(p2).toEqual({ items: [first.block], next: null });
        expect(await t.removeBlock('u1', 'u3')).toEqual(first.block);
        expect(await t.removeBlock('u1', 'u3')).toBeNull();
        expect(await t.getBlock('u1', 'u3')).toBeNull();
        expect(await t.getBlock('u2', 'u1')).not.toBeNull();
        expect(await h.raw.countOf('blocks', 'A')).toBe(2);
      });

      it('keeps one open flag per message and reporter, lists the queue oldest first and resolves only open flags', async () => {
        await seedChannel(t, 'c1', ['u1', 'u2', 'u3']);
        await seedChannel(t, 'c2', ['u1']);
        const [m1, m2] = await sendMany(t, 'c1', 'u2', 2);
        const [m3] = await sendMany(t, 'c2', 'u1', 1);
        const flagged = (f: Flag): EventInput[] => [event('message.flagged', f.channelId, { flag: f })];
        const f1 = await t.addFlag(flagInput('f1', m1?.id ?? '', 'u1'), flagged);
        expect(f1).toEqual({
          created: true,
          flag: {
            ...flagInput('f1', m1?.id ?? '', 'u1'),
            status: 'open',
            resolvedAt: null,
            resolvedBy: null,
            resolution: null,
          },
        });
        // The same reporter again: the open flag, no event. The backend (null) is one reporter too.
        expect(await t.addFlag(flagInput('f1b', m1?.id ?? '', 'u1'), flagged)).toEqual({ ...f1, created: false });
        await t.addFlag(flagInput('f2', m1?.id ?? '', 'u3'), flagged);
        await t.addFlag(flagInput('f3', m2?.id ?? '', null), flagged);
        expect((await t.addFlag(flagInput('f3b', m2?.id ?? '', null), flagged)).flag.id).toBe('f3');
        await t.addFlag(flagInput('f4', m3?.id ?? '', null, 'c2'), flagged);
        expect(await t.getFlag('f1')).toEqual(f1.flag);
        expect(await t.getFlag('f1b')).toBeNull();

        const q1 = await t.listFlags({ status: 'open', limit: 2 });
        expect(q1.items.map((f) => f.id)).toEqual(['f1', 'f2']);
        const q2 = await t.listFlags({ status: 'open', limit: 2, after: q1.next ?? '' });
        expect(q2).toMatchObject({ items: [{ id: 'f3' }, { id: 'f4' }], next: null });
        expect((await t.listFlags({ channelId: 'c2', limit: 10 })).items.map((f) => f.id)).toEqual(['f4']);
        expect((await t.listFlags({ messageId: m1?.id ?? '', limit: 10 })).items.map((f) => f.id)).toEqual([
          'f1',
          'f2',
        ]);

        const by = { resolution: 'message_deleted' as const, resolvedBy: 'mod', resolvedAt: at(30) };
        const resolved = await t.resolveFlags(['f1', 'f2', 'f2', 'nope'], by, (flags) => [
          event('flag.resolved', 'c1', { flags }),
        ]);
        expect(resolved).toEqual([
          { ...f1.flag, status: 'resolved', ...by },
          expect.objectContaining({ id: 'f2', status: 'resolved', ...by }),
        ]);
        expect(await t.getFlag('f1')).toEqual(resolved[0]);
        // Already resolved: nothing changes, nothing is emitted.
        expect(await t.resolveFlags(['f1'], { ...by, resolution: 'dismissed' })).toEqual([]);
        expect((await t.getFlag('f1'))?.resolution).toBe('message_deleted');
        expect((await t.listFlags({ status: 'open', limit: 10 })).items.map((f) => f.id)).toEqual(['f3', 'f4']);
        expect((await t.listFlags({ status: 'resolved', limit: 10 })).items.map((f) => f.id)).toEqual(['f1', 'f2']);
        expect((await t.listFlags({ limit: 10 })).items).toHaveLength(4);
        // Once resolved, the same reporter may flag the message again.
        expect((await t.addFlag(flagInput('f5', m1?.id ?? '', 'u1'))).created).toBe(true);
        expect(await pendingTypes()).toEqual([
          'message.flagged',
          'message.flagged',
          'message.flagged',
          'message.flagged',
          'flag.resolved',
        ]);
      });

      it('appends audit entries with their JSON states and lists them newest first, filtered, page by page', async () => {
        expect(await t.appendAudit(auditEntry('au_1'))).toEqual(auditEntry('au_1'));
        await t.appendAudit(auditEntry('au_2', { action: 'user.unban', before: { kind: 'ban' }, after: null }));
        await t.appendAudit(
          auditEntry('au_3', {
            action: 'channel.freeze',
            targetType: 'channel',
            targetId: 'c1',
            actorType: 'server',
            actorId: null,
          }),
        );
        await t.appendAudit(
          auditEntry('au_4', {
            action: 'key.issue',
            targetType: 'apiKey',
            targetId: 'k1',
            actorType: 'platform',
            actorId: null,
          }),
        );

        const p1 = await t.listAudit({ limit: 3 });
        expect(p1.items.map((e) => e.id)).toEqual(['au_4', 'au_3', 'au_2']);
        const p2 = await t.listAudit({ limit: 3, after: p1.next ?? '' });
        expect(p2).toEqual({ items: [auditEntry('au_1')], next: null });
        expect(p1.items[1]).toEqual(
          auditEntry('au_3', {
            action: 'channel.freeze',
            targetType: 'channel',
            targetId: 'c1',
            actorType: 'server',
            actorId: null,
          }),
        );
        expect(p1.items[2]).toMatchObject({ before: { kind: 'ban' }, after: null });

        expect((await t.listAudit({ action: 'user.unban', limit: 10 })).items.map((e) => e.id)).toEqual(['au_2']);
        expect((await t.listAudit({ targetId: 'u2', limit: 10 })).items.map((e) => e.id)).toEqual(['au_2', 'au_1']);
        expect(
          (await t.listAudit({ targetType: 'channel', targetId: 'c1', limit: 10 })).items.map((e) => e.id),
        ).toEqual(['au_3']);
        expect((await t.listAudit({ targetType: 'user', targetId: 'c1', limit: 10 })).items).toEqual([]);
        expect((await t.listAudit({ action: 'user.ban', targetId: 'u2', limit: 1 })).items.map((e) => e.id)).toEqual([
          'au_1',
        ]);
        expect(await h.raw.countOf('audit', 'A')).toBe(4);
      });

      it('stores slow mode on the channel (0 by default) and finds when an author last sent under it', async () => {
        const channel = await seedChannel(t, 'c1', ['u1', 'u2']);
        expect(channel.slowModeSeconds).toBe(0);
        const updated = await t.updateChannel('c1', { slowModeSeconds: 30 });
        expect(updated?.slowModeSeconds).toBe(30);
        expect(await t.getChannel('c1')).toMatchObject({ slowModeSeconds: 30 });
        expect((await t.updateChannel('c1', { name: 'x' }))?.slowModeSeconds).toBe(30);
        expect((await t.listMyChannels('u1', { limit: 5 })).items[0]?.channel.slowModeSeconds).toBe(30);

        expect(await t.lastMessageAtBy('c1', 'u1')).toBeNull();
        await seedChannel(t, 'c2', ['u1']);
        await t.updateChannel('c2', { slowModeSeconds: 5 });
        const [first] = await sendMany(t, 'c1', 'u1', 2, 10);
        await sendMany(t, 'c1', 'u2', 1, 40);
        await sendMany(t, 'c2', 'u1', 1, 50);
        await t.appendMessage(messageInput('c1', null, { createdAt: at(60) }));
        expect(await t.lastMessageAtBy('c1', 'u1')).toBe(at(11));
        // Replies and tombstones count: they were sent.
        await t.appendMessage(messageInput('c1', 'u1', { parentId: first?.id ?? '', createdAt: at(20) }));
        expect(await t.lastMessageAtBy('c1', 'u1')).toBe(at(20));
        await t.appendMessage(messageInput('c1', 'u1', { createdAt: at(21) }));
        const [latest] = await t.listMessages('c1', { limit: 1, includeReplies: true });
        await t.deleteMessage(latest?.id ?? '', at(70));
        expect(await t.lastMessageAtBy('c1', 'u1')).toBe(at(21));
        expect(await t.lastMessageAtBy('c1', 'u2')).toBe(at(40));
        expect(await t.lastMessageAtBy('c2', 'u1')).toBe(at(50));
        expect(await t.lastMessageAtBy('c1', 'nobody')).toBeNull();
        // The latest time wins, whatever the order of appends.
        await t.appendMessage(messageInput('c1', 'u2', { createdAt: at(35) }));
        expect(await t.lastMessageAtBy('c1', 'u2')).toBe(at(40));
        // Slow mode off and on again: times sent under it before still count.
        await t.updateChannel('c1', { slowModeSeconds: 0 });
        await t.updateChannel('c1', { slowModeSeconds: 10 });
        expect(await t.lastMessageAtBy('c1', 'u2')).toBe(at(40));
      });

      it('keeps moderation records to their tenant, and deleteTenant removes them', async () => {
        await store.platform.createTenant(tenantInput('B'));
        /** The same ids in every tenant. */
        async function populate(tenantId: string, reason: string): Promise<TenantStore> {
          const ts = store.tenant(tenantId);
          await seedChannel(ts, 'c1', ['u1', 'u2']);
          await ts.updateChannel('c1', { slowModeSeconds: 60 });
          await ts.appendMessage(messageInput('c1', 'u2', { id: 'm-1', createdAt: at(5) }));
          await ts.putSanction(ban('u2', null, { reason }));
          await ts.putSanction(mute('u2', 'c1', { reason }));
          await ts.putBlock({ userId: 'u1', blockedUserId: 'u2', createdAt: at(1) });
          await ts.addFlag({ ...flagInput('f-1', 'm-1', 'u1'), reason });
          await ts.appendAudit(auditEntry('au-1', { after: reason }));
          return ts;
        }
        const b = await populate('B', 'from B');
        const bCounts = await moderationCounts('B');
        for (const e of MODERATION_ENTITIES) expect(bCounts[e], e).toBeGreaterThan(0);
        expect(await moderationCounts('A')).toEqual(Object.fromEntries(MODERATION_ENTITIES.map((e) => [e, 0])));
        // Nothing of B is visible through A before A has its own.
        expect(await t.activeSanctions('u2', 'c1', at(5))).toEqual([]);
        expect(await t.getBlock('u1', 'u2')).toBeNull();
        expect(await t.getFlag('f-1')).toBeNull();
        expect((await t.listAudit({ limit: 10 })).items).toEqual([]);
        expect(await t.lastMessageAtBy('c1', 'u2')).toBeNull();

        const a = await populate('A', 'from A');
        expect(await moderationCounts('A')).toEqual(bCounts);
        for (const e of MODERATION_ENTITIES) expect((await h.raw.tenantIdsOf(e)).sort(), e).toEqual(['A', 'B']);
        expect((await b.activeSanctions('u2', 'c1', at(9))).map((x) => x.reason)).toEqual(['from B', 'from B']);
        expect((await b.getFlag('f-1'))?.reason).toBe('from B');
        expect((await b.listAudit({ limit: 10 })).items.map((e) => e.after)).toEqual(['from B']);
        expect(
          (await b.listSanctions({ kind: 'ban', channelId: null, at: at(9), limit: 10 })).items.map((x) => x.reason),
        ).toEqual(['from B']);

        // Records only A has are invisible, and untouchable, through B.
        await a.putSanction(ban('ua', null));
        await a.putBlock({ userId: 'u1', blockedUserId: 'ua', createdAt: at(1) });
        await a.appendMessage(messageInput('c1', 'u1', { id: 'm-a', createdAt: at(6) }));
        await a.addFlag(flagInput('f-a', 'm-a', 'u2'));
        expect(await b.activeSanctions('ua', null, at(9))).toEqual([]);
        expect(await b.removeSanction('ban', 'ua', null)).toBeNull();
        expect(await b.getBlock('u1', 'ua')).toBeNull();
        expect(await b.removeBlock('u1', 'ua')).toBeNull();
        expect((await b.listBlocks('u1', { limit: 10 })).items.map((x) => x.blockedUserId)).toEqual(['u2']);
        expect(await b.getFlag('f-a')).toBeNull();
        expect(await b.resolveFlags(['f-a'], { resolution: 'dismissed', resolvedBy: null, resolvedAt: at(9) })).toEqual(
          [],
        );
        expect((await b.listFlags({ limit: 10 })).items.map((f) => f.id)).toEqual(['f-1']);
        expect(await b.lastMessageAtBy('c1', 'u1')).toBeNull();
        expect(await a.lastMessageAtBy('c1', 'u1')).toBe(at(6));
        expect(await a.getFlag('f-a')).toMatchObject({ status: 'open' });
        expect(await a.activeSanctions('ua', null, at(9))).toHaveLength(1);

        // Writes through B never touch A's rows.
        await b.removeSanction('ban', 'u2', null);
        await b.removeBlock('u1', 'u2');
        await b.resolveFlags(['f-1'], { resolution: 'dismissed', resolvedBy: null, resolvedAt: at(9) });
        await b.putSanction(ban('u2', null, { reason: 'B again' }));
        await b.putBlock({ userId: 'u2', blockedUserId: 'u1', createdAt: at(2) });
        expect((await a.activeSanctions('u2', null, at(9))).map((x) => x.reason)).toEqual(['from A']);
        expect(await a.getBlock('u1', 'u2')).not.toBeNull();
        expect((await a.getFlag('f-1'))?.status).toBe('open');

        const before = await moderationCounts('B');
        expect(await store.platform.deleteTenant('A')).toBe(true);
        expect(await moderationCounts('A')).toEqual(Object.fromEntries(MODERATION_ENTITIES.map((e) => [e, 0])));
        expect(await moderationCounts('B')).toEqual(before);
        for (const e of MODERATION_ENTITIES) expect(await h.raw.tenantIdsOf(e), e).toEqual(['B']);
      });
    });
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A channel shape for event payloads built by hand in tests. */
function channelStub(id: string) {
  return {
    id,
    type: 'group' as const,
    name: null,
    custom: {},
    createdBy: null,
    lastSeq: 0,
    lastMessageAt: null,
    frozen: false,
    slowModeSeconds: 0,
    endedAt: null,
    memberCount: 0,
    createdAt: at(0),
    updatedAt: at(0),
  };
}
