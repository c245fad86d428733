export { ERRORS, isErrorCode } from './errors.js';
export type { ErrorBody, ErrorCode, ErrorDetails } from './errors.js';
export { CHANNEL_TYPES, MEMBER_ROLES } from './models.js';
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
