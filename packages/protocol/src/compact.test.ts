import { describe, expect, it } from 'vitest';
import { type CompactMessage, compactMessage, expandMessage } from './compact.js';
import type { Message } from './models.js';

const plain: Message = {
  id: 'm1',
  channelId: 'general',
  seq: 7,
  clientMsgId: null,
  authorId: 'alice',
  type: 'regular',
  text: 'hello',
  attachments: [],
  custom: {},
  encrypted: null,
  parentId: null,
  replyCount: 0,
  reactionCounts: {},
  createdAt: '2026-12-05T10:00:00.000Z',
  updatedAt: '2026-12-05T10:00:00.000Z',
  editedAt: null,
  deletedAt: null,
};

const full: Message = {
  id: 'm2',
  channelId: 'general',
  seq: 8,
  clientMsgId: 'c-2',
  authorId: 'bob',
  type: 'system',
  text: 'bob joined',
  attachments: [{ type: 'image', url: 'https://example.com/a.png' }],
  custom: { priority: 1 },
  encrypted: { alg: 'x25519-xsalsa20-poly1305', ciphertext: 'AAAA' },
  parentId: 'm1',
  replyCount: 3,
  reactionCounts: { like: 2 },
  createdAt: '2026-12-05T10:00:00.000Z',
  updatedAt: '2026-12-05T10:05:00.000Z',
  editedAt: '2026-12-05T10:04:00.000Z',
  deletedAt: '2026-12-05T10:05:00.000Z',
};

describe('compact messages', () => {
  it('leave out every field at its default, keeping id, channelId, seq and createdAt first', () => {
    expect(JSON.stringify(compactMessage(plain))).toBe(
      '{"id":"m1","channelId":"general","seq":7,"createdAt":"2026-12-05T10:00:00.000Z","authorId":"alice","text":"hello"}',
    );
  });

  it('keep every field that differs from its default', () => {
    expect(compactMessage(full)).toEqual(full);
  });

  it('expand back to the same message, whichever fields were left out', () => {
    expect(expandMessage(compactMessage(plain))).toEqual(plain);
    expect(expandMessage(compactMessage(full))).toEqual(full);
    // A whole message is already valid compact input.
    expect(expandMessage(full)).toEqual(full);
  });

  it('expand with lists and objects of their own, never shared between messages', () => {
    const only: CompactMessage = { id: 'm3', channelId: 'c', seq: 1, createdAt: plain.createdAt };
    const a = expandMessage(only);
    const b = expandMessage(only);
    a.attachments.push({ type: 'file', url: 'https://example.com/f' });
    a.custom.x = 1;
    a.reactionCounts.like = 1;
    expect(b).toEqual({ ...plain, id: 'm3', channelId: 'c', seq: 1, authorId: null, text: null });
  });

  it('make a plain text message frame about a third smaller', () => {
    const text = 'x'.repeat(100);
    const whole = JSON.stringify({ ...plain, clientMsgId: '01JEXAMPLECLIENTMSGID00000', text });
    const compact = JSON.stringify(compactMessage({ ...plain, clientMsgId: '01JEXAMPLECLIENTMSGID00000', text }));
    expect(compact.length).toBeLessThan(whole.length * 0.7);
  });
});
