import type { Member } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import {
  addMessages,
  applyRead,
  type ChannelState,
  emptyChannel,
  mergeMessages,
  reduceEvent,
  replaceWithPage,
  updateMessage,
} from './channel-state.js';
import type { Message } from './types.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';

function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    channelId: 'c',
    seq,
    clientMsgId: null,
    authorId: 'bob',
    type: 'regular',
    text: `t${seq}`,
    attachments: [],
    custom: {},
    encrypted: null,
    parentId: null,
    replyCount: 0,
    reactionCounts: {},
    createdAt: T0,
    updatedAt: T0,
    editedAt: null,
    deletedAt: null,
    ...over,
  };
}

const member = (userId: string, lastReadSeq: number): Member => ({
  channelId: 'c',
  userId,
  role: 'member',
  lastReadSeq,
  lastReadAt: null,
  joinedAt: T0,
});

const stream = { me: 'alice', stream: true };
const seqs = (s: ChannelState) => s.messages.map((m) => m.seq);

describe('mergeMessages', () => {
  it('sorts by seq and dedupes by id', () => {
    const merged = mergeMessages([msg(3), msg(1)], [msg(2), msg(3), msg(1)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('keeps the newer copy and returns the same array when nothing changed', () => {
    const edited = msg(1, { text: 'edited', updatedAt: T1 });
    const list = mergeMessages([], [edited]);
    expect(mergeMessages(list, [msg(1)])).toBe(list);
    expect(mergeMessages(list, [edited])).toBe(list);
  });
});

describe('addMessages', () => {
  it('moves the recovery cursor and unread count only for the subscription stream', () => {
    let s = addMessages(emptyChannel('c'), [msg(1), msg(2)], { me: 'alice', stream: false });
    expect(s.lastSeq).toBe(0);
    expect(s.unreadCount).toBe(0);
    s = addMessages(s, [msg(2), msg(3), msg(4, { authorId: 'alice' })], stream);
    expect(seqs(s)).toEqual([1, 2, 3, 4]);
    expect(s.lastSeq).toBe(4);
    expect(s.unreadCount).toBe(1); // m3 only: m2 was known, m4 is mine
  });

  it('files replies by parent and counts them on a known parent', () => {
    let s = addMessages(emptyChannel('c'), [msg(1)], stream);
    s = addMessages(s, [msg(2, { parentId: 'm1' }), msg(2, { parentId: 'm1' })], stream);
    expect(seqs(s)).toEqual([1]);
    expect(s.replies.m1?.map((m) => m.seq)).toEqual([2]);
    expect(s.messages[0]?.replyCount).toBe(1);
    expect(s.lastSeq).toBe(2);
    expect(s.unreadCount).toBe(1); // replies are not unread
  });

  it('does not count replies twice when the parent comes in the same batch', () => {
    const s = addMessages(emptyChannel('c'), [msg(1, { replyCount: 1 }), msg(2, { parentId: 'm1' })], stream);
    expect(s.messages[0]?.replyCount).toBe(1);
  });
});

describe('replaceWithPage (too_far)', () => {
  it('replaces old messages with the page, keeping newer live ones', () => {
    let s = addMessages(emptyChannel('c'), [msg(1), msg(2)], stream);
    s = addMessages(s, [msg(60)], stream);
    s = replaceWithPage(s, [msg(57), msg(58), msg(59)], 'alice');
    expect(seqs(s)).toEqual([57, 58, 59, 60]);
    expect(s.loaded).toBe(true);
    expect(s.lastSeq).toBe(60);
  });
});

describe('reads and unread', () => {
  it('my read recomputes unread from local messages; others become receipts', () => {
    let s = replaceWithPage(emptyChannel('c'), [msg(1), msg(2), msg(3)], 'alice');
    s = applyRead(s, member('alice', 0), 'alice');
    expect(s.unreadCount).toBe(3);
    s = applyRead(s, member('alice', 2), 'alice');
    expect(s.unreadCount).toBe(1);
    expect(s.membership?.lastReadSeq).toBe(2);
    s = applyRead(s, member('bob', 3), 'alice');
    expect(s.reads).toEqual({ alice: 2, bob: 3 });
    expect(s.unreadCount).toBe(1);
  });

  it('a deleted unread message is no longer unread', () => {
    let s = addMessages(emptyChannel('c'), [msg(1), msg(2)], stream);
    expect(s.unreadCount).toBe(2);
    s = updateMessage(s, msg(2, { deletedAt: T1, updatedAt: T1, type: 'deleted' }), 'alice');
    expect(s.unreadCount).toBe(1);
    expect(s.messages[1]?.deletedAt).toBe(T1);
  });
});

describe('reduceEvent', () => {
  it('tracks typing users but never me', () => {
    let s = emptyChannel('c');
    s = reduceEvent(s, { event: 'typing.start', data: { userId: 'bob', channelId: 'c' } }, 'alice');
    s = reduceEvent(s, { event: 'typing.start', data: { userId: 'bob', channelId: 'c' } }, 'alice');
    s = reduceEvent(s, { event: 'typing.start', data: { userId: 'alice', channelId: 'c' } }, 'alice');
    expect(s.typing).toEqual(['bob']);
    s = reduceEvent(s, { event: 'typing.stop', data: { userId: 'bob', channelId: 'c' } }, 'alice');
    expect(s.typing).toEqual([]);
  });

  it('ignores updates of messages it does not hold', () => {
    const s = addMessages(emptyChannel('c'), [msg(5)], stream);
    const next = reduceEvent(
      s,
      { event: 'message.updated', data: { message: msg(1, { updatedAt: T1 }), channelId: 'c' } },
      'alice',
    );
    expect(next).toBe(s);
  });

  it('member events update receipts; subscription.ended unsubscribes', () => {
    let s = emptyChannel('c');
    s = reduceEvent(s, { event: 'member.added', data: { members: [member('carol', 0)], channelId: 'c' } }, 'alice');
    expect(s.reads).toEqual({ carol: 0 });
    s = reduceEvent(s, { event: 'member.removed', data: { userIds: ['carol'], channelId: 'c' } }, 'alice');
    expect(s.reads).toEqual({});
    s = { ...s, status: 'subscribed' };
    s = reduceEvent(
      s,
      { event: 'subscription.ended', data: { reason: 'NATTER_MEMBER_NOT_FOUND', channelId: 'c' } },
      'alice',
    );
    expect(s.status).toBe('unsubscribed');
  });
});
