/**
 * The resources as the SDK hands them out: the wire models of `@natter/protocol` with their
 * `custom` fields typed by the interfaces below, which applications extend by module augmentation.
 *
 * @example
 * declare module '@natter/client' {
 *   interface CustomMessageData { priority?: number }
 * }
 * // message.custom.priority is now `number | undefined`, and send({ custom: { priority: 'x' } }) fails to compile.
 *
 * @see docs/sdk/README.md#custom-fields
 */
import type {
  Attachment,
  CompactMessage,
  EncryptedEnvelope,
  EventData,
  EventName,
  Channel as WireChannel,
  ChannelSummary as WireChannelSummary,
  Message as WireMessage,
  User as WireUser,
} from '@natter/protocol';
import type { ChannelState } from './channel-state.js';
import type { ConnectionState, StateChange } from './connection.js';
import type { NatterClientError } from './errors.js';

// Empty on purpose: applications add their fields by module augmentation.
/** Custom fields of messages. Augment it to type `message.custom`. @see docs/sdk/README.md#custom-fields */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by applications
export interface CustomMessageData {}
/** Custom fields of users. Augment it to type `user.custom`. @see docs/sdk/README.md#custom-fields */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by applications
export interface CustomUserData {}
/** Custom fields of channels. Augment it to type `channel.custom`. @see docs/sdk/README.md#custom-fields */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by applications
export interface CustomChannelData {}

/** Declared fields win; undeclared keys stay allowed, as the server stores any JSON object. */
type Custom<T> = T & Record<string, unknown>;

/** A stored message (`custom` typed by {@link CustomMessageData}). */
export interface Message extends Omit<WireMessage, 'custom'> {
  custom: Custom<CustomMessageData>;
}

/** A user (`custom` typed by {@link CustomUserData}). */
export interface User extends Omit<WireUser, 'custom'> {
  custom: Custom<CustomUserData>;
}

/** A channel (`custom` typed by {@link CustomChannelData}). */
export interface Channel extends Omit<WireChannel, 'custom'> {
  custom: Custom<CustomChannelData>;
}

/** One entry of {@link NatterClient.channels}: a channel, my membership and my unread count. */
export interface ChannelSummary extends Omit<WireChannelSummary, 'channel' | 'lastMessage'> {
  channel: Channel;
  lastMessage: Message | null;
}

/**
 * What {@link ChannelHandle.send} accepts besides a plain string. At least one of `text`,
 * `attachments` or `encrypted` is required by the server.
 */
export interface MessageInput {
  text?: string;
  attachments?: Attachment[];
  custom?: Custom<CustomMessageData>;
  /** End-to-end encrypted body; cannot be combined with `text` or `attachments`. */
  encrypted?: EncryptedEnvelope;
}

/** A page of a paginated REST listing; pass `next` as `after` to get the following page. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

// Events carry messages in compact form; the SDK hands them out whole.
type Augmented<T> = T extends WireMessage | CompactMessage
  ? Message
  : T extends WireChannel
    ? Channel
    : T extends WireUser
      ? User
      : T;

/**
 * Payload of every server event, keyed by event name: the protocol's event data with the custom
 * fields typed, plus the `channelId` for channel events.
 */
export type ServerEvents = {
  [K in EventName]: { [P in keyof EventData[K]]: Augmented<EventData[K][P]> } & (K extends 'presence.changed'
    ? unknown
    : { channelId: string });
};

/**
 * Every event of {@link NatterClient.on}: connection `state` changes, `error`s that belong to no
 * call (a failed resubscribe, a `getToken()` failure), and every server event.
 */
export type ClientEvents = ServerEvents & {
  state: StateChange;
  error: NatterClientError;
};

/** What `client.store.getSnapshot()` returns. Immutable: every change makes a new object. */
export interface ClientSnapshot {
  readonly state: ConnectionState;
  /** The connected user (from the welcome frame), or null before the first welcome. */
  readonly user: User | null;
  /** Channels the client knows: watched ones, and those listed by `channels()`. */
  readonly channels: Readonly<Record<string, ChannelState>>;
  /** Online state of users followed with `subscribePresence()` (or a channel's `watchPresence()`). */
  readonly presence: Readonly<Record<string, boolean>>;
}
