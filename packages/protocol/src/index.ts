export type { CompactMessage } from './compact.js';
export { compactMessage, expandMessage } from './compact.js';
export type { ErrorBody, ErrorCode, ErrorDetails } from './errors.js';
export { ERRORS, isErrorCode } from './errors.js';
export type {
  ClientFrame,
  ClientFrameType,
  EventData,
  EventFrame,
  EventName,
  MessageBody,
  PresenceState,
  ReplyResults,
  ServerFrame,
  SubscribeResult,
} from './frames.js';
export { CLIENT_FRAME_TYPES, CloseCode, PROTOCOL_VERSION, REALTIME_PATH, SUBPROTOCOL } from './frames.js';
export type {
  Attachment,
  Channel,
  ChannelSummary,
  ChannelType,
  CustomData,
  EncryptedEnvelope,
  Member,
  MemberRole,
  Message,
  MessageType,
  Reaction,
  User,
  UserRole,
} from './models.js';
export { CHANNEL_TYPES, MEMBER_ROLES } from './models.js';
