/**
 * Test data for the store contract: inputs with sensible defaults, a fixed clock, and the
 * `emit` callbacks the services would pass.
 */
import type { Channel, Member, MemberRole, Message, Reaction, User } from '@natter/protocol';
import { type EventInput, event } from '../../src/domain/events.js';
import type { ChannelInput, MessageInput, TenantRecord, TenantStore } from '../../src/ports/store.js';

const EPOCH = Date.parse('2025-01-01T00:00:00.000Z');

/** A fixed, readable timestamp: `at(90)` is 90 seconds after 2025-01-01T00:00:00Z. */
export function at(seconds: number): string {
  return new Date(EPOCH + seconds * 1000).toISOString();
}

let counter = 0;
/** A message id unique within the test run, sortable by creation. */
export function nextMessageId(): string {
  counter += 1;
  return `msg_${String(counter).padStart(8, '0')}`;
}

export function tenantInput(id: string): Omit<TenantRecord, 'createdAt' | 'updatedAt'> {
  return {
    id,
    name: `Tenant ${id}`,
    settings: { allowedOrigins: [] },
    signingSecret: `secret-${id}`,
  };
}

export function channelInput(id: string, memberIds: string[], overrides: Partial<ChannelInput> = {}): ChannelInput {
  return {
    id,
    type: 'group',
    name: `Channel ${id}`,
    createdBy: memberIds[0] ?? null,
    members: memberIds.map((userId, i): { userId: string; role: MemberRole } => ({
      userId,
      role: i === 0 ? 'owner' : 'member',
    })),
    ...overrides,
  };
}

export function messageInput(
  channelId: string,
  authorId: string | null,
  overrides: Partial<MessageInput> = {},
): MessageInput {
  return {
    id: nextMessageId(),
    channelId,
    authorId,
    type: authorId === null ? 'system' : 'regular',
    text: 'hello',
    createdAt: at(0),
    ...overrides,
  };
}

export function reaction(messageId: string, userId: string, type: string): Reaction {
  return { messageId, userId, type, createdAt: at(1) };
}

/** Creates users and a channel with them as members, the usual start of a test. */
export async function seedChannel(
  t: TenantStore,
  channelId: string,
  memberIds: string[],
  overrides: Partial<ChannelInput> = {},
): Promise<Channel> {
  await t.upsertUsers(memberIds.map((id) => ({ id, name: id.toUpperCase() })));
  return t.createChannel(channelInput(channelId, memberIds, overrides), at(0));
}

/** Appends `n` messages from `authorId`, one second apart starting at `from` seconds. */
export async function sendMany(
  t: TenantStore,
  channelId: string,
  authorId: string | null,
  n: number,
  from = 1,
): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const { message } = await t.appendMessage(
      messageInput(channelId, authorId, { text: `m${i + 1}`, createdAt: at(from + i) }),
    );
    out.push(message);
  }
  return out;
}

/** The `emit` callbacks services pass, one per write. */
export const emits = {
  messageNew: (message: Message): EventInput[] => [event('message.new', message.channelId, { message })],
  messageUpdated: (message: Message): EventInput[] => [event('message.updated', message.channelId, { message })],
  messageDeleted: (message: Message): EventInput[] => [event('message.deleted', message.channelId, { message })],
  channelCreated: (channel: Channel): EventInput[] => [event('channel.created', channel.id, { channel })],
  channelUpdated: (channel: Channel): EventInput[] => [event('channel.updated', channel.id, { channel })],
  channelDeleted: (channel: Channel): EventInput[] => [event('channel.deleted', channel.id, { channel })],
  reactionAdded: (r: { message: Message; reaction: Reaction }): EventInput[] => [
    event('reaction.added', r.message.channelId, r),
  ],
  reactionRemoved: (r: { message: Message; reaction: Reaction }): EventInput[] => [
    event('reaction.removed', r.message.channelId, r),
  ],
  readUpdated: (member: Member): EventInput[] => [event('read.updated', member.channelId, { member })],
  usersUpdated: (users: User[]): EventInput[] => [event('user.updated', null, { users })],
  userDeleted: (user: User): EventInput[] => [event('user.deleted', null, { user })],
};

/** An `emit` that fails, to prove a write and its events are one atomic unit. */
export function failingEmit(): never {
  throw new Error('emit failed on purpose');
}
