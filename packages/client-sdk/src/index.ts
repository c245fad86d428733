/**
 * `@natter/client`: the Natter SDK for browsers and Node.
 *
 * @example
 * import { createClient } from '@natter/client';
 * const client = createClient({ url: 'https://chat.example.com', getToken });
 * client.connect();
 *
 * @see docs/sdk/README.md
 */

export type {
  Attachment,
  EncryptedEnvelope,
  ErrorCode,
  ErrorDetails,
  Member,
  MemberRole,
  PresenceState,
  Reaction,
  UserRole,
} from '@natter/protocol';
export type { GetToken } from './auth.js';
export type { BackoffOptions } from './backoff.js';
export { backoff, DEFAULT_BACKOFF } from './backoff.js';
export type { ChannelEventName, HistoryQuery } from './channel.js';
export { ChannelHandle } from './channel.js';
export type { ChannelState, PendingMessage } from './channel-state.js';
export { SubscriptionState } from './channel-state.js';
export type { ClientOptions, NatterClient } from './client.js';
export { createClient } from './client.js';
export type { StateChange, WebSocketConstructor, WebSocketLike } from './connection.js';
export { ConnectionState } from './connection.js';
export type { NatterClientErrorOptions, TransportReason } from './errors.js';
export { NatterClientError, UnauthorizedError } from './errors.js';
export type { Logger } from './logger.js';
export type { ReadableStore } from './store.js';
export type {
  Channel,
  ChannelSummary,
  ClientEvents,
  ClientSnapshot,
  CustomChannelData,
  CustomMessageData,
  CustomUserData,
  Message,
  MessageInput,
  Page,
  ServerEvents,
  User,
} from './types.js';
export { TYPING_IDLE_MS, TYPING_THROTTLE_MS } from './typing.js';
