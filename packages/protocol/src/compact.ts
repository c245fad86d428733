/**
 * The compact form of a message, as event frames carry it (docs/protocol.md, "Compact messages").
 * A message event goes to every subscriber of the channel, so it is the frame a server sends most;
 * leaving out the fields that hold their default makes a typical text message's frame about a
 * third smaller. Replies and REST answers carry messages whole.
 */

import type { Message } from './models.js';

/**
 * A message with the fields at their default left out: `id`, `channelId`, `seq` and `createdAt`
 * are always there, in that order and first; `updatedAt` is left out when it equals `createdAt`,
 * every other field when it holds the value {@link expandMessage} puts back.
 */
export type CompactMessage = Pick<Message, 'id' | 'channelId' | 'seq' | 'createdAt'> &
  Partial<Omit<Message, 'id' | 'channelId' | 'seq' | 'createdAt'>>;

/** Leaves out the fields of `m` that hold their default. The result shares `m`'s nested values. */
export function compactMessage(m: Message): CompactMessage {
  // Built field by field in one order, so that compact messages of one shape share a hidden class
  // and serialize alike.
  const c: CompactMessage = { id: m.id, channelId: m.channelId, seq: m.seq, createdAt: m.createdAt };
  if (m.clientMsgId !== null) c.clientMsgId = m.clientMsgId;
  if (m.authorId !== null) c.authorId = m.authorId;
  if (m.type !== 'regular') c.type = m.type;
  if (m.text !== null) c.text = m.text;
  if (m.attachments.length > 0) c.attachments = m.attachments;
  if (!isEmpty(m.custom)) c.custom = m.custom;
  if (m.encrypted !== null) c.encrypted = m.encrypted;
  if (m.parentId !== null) c.parentId = m.parentId;
  if (m.replyCount !== 0) c.replyCount = m.replyCount;
  if (!isEmpty(m.reactionCounts)) c.reactionCounts = m.reactionCounts;
  if (m.updatedAt !== m.createdAt) c.updatedAt = m.updatedAt;
  if (m.editedAt !== null) c.editedAt = m.editedAt;
  if (m.deletedAt !== null) c.deletedAt = m.deletedAt;
  return c;
}

/**
 * The whole message from its compact form (a whole message passes through unchanged in content).
 * Lists and objects put back are new ones, never shared between messages.
 */
export function expandMessage(c: CompactMessage): Message {
  return {
    id: c.id,
    channelId: c.channelId,
    seq: c.seq,
    clientMsgId: c.clientMsgId ?? null,
    authorId: c.authorId ?? null,
    type: c.type ?? 'regular',
    text: c.text ?? null,
    attachments: c.attachments ?? [],
    custom: c.custom ?? {},
    encrypted: c.encrypted ?? null,
    parentId: c.parentId ?? null,
    replyCount: c.replyCount ?? 0,
    reactionCounts: c.reactionCounts ?? {},
    createdAt: c.createdAt,
    updatedAt: c.updatedAt ?? c.createdAt,
    editedAt: c.editedAt ?? null,
    deletedAt: c.deletedAt ?? null,
  };
}

function isEmpty(o: object): boolean {
  for (const key in o) if (Object.hasOwn(o, key)) return false;
  return true;
}
