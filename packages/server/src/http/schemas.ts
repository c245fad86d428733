/**
 * Route schemas (TypeBox → JSON Schema). They validate requests (unknown fields, wrong types and
 * oversize strings are rejected, nothing is coerced in bodies), serialize responses, and generate
 * the OpenAPI document.
 */

import { CHANNEL_TYPES, MEMBER_ROLES } from '@natter/protocol';
import { type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** Tenant-chosen ids: letters, digits and `_-.:@`, 1–128 characters. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_\\-.:@]{1,128}$', minLength: 1, maxLength: 128 });
export const Time = Type.String({ format: 'date-time' });
export const Custom = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Custom data; bounded by NATTER_MAX_CUSTOM_BYTES.',
});
export const Seq = Type.Integer({ minimum: 0 });
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });
export const Cursor = Type.String({ maxLength: 512 });

export const UserRole = literals(['admin', 'moderator', 'member', 'guest'] as const);
export const ChannelType = literals(CHANNEL_TYPES);
export const MemberRole = literals(MEMBER_ROLES);

export const User = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  avatarUrl: Nullable(Type.String()),
  role: UserRole,
  custom: Custom,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const UserInput = Type.Object(
  {
    id: Id,
    name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    avatarUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048, format: 'uri' }))),
    role: Type.Optional(UserRole),
    custom: Type.Optional(Custom),
  },
  { additionalProperties: false },
);

export const Channel = Type.Object({
  id: Type.String(),
  type: ChannelType,
  name: Nullable(Type.String()),
  custom: Custom,
  createdBy: Nullable(Type.String()),
  lastSeq: Type.Integer(),
  lastMessageAt: Nullable(Type.String()),
  frozen: Type.Boolean(),
  slowModeSeconds: Type.Integer({ description: 'Seconds a member waits between two messages; 0: slow mode off.' }),
  endedAt: Nullable(Type.String()),
  memberCount: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const Member = Type.Object({
  channelId: Type.String(),
  userId: Type.String(),
  role: MemberRole,
  lastReadSeq: Type.Integer(),
  lastReadAt: Nullable(Type.String()),
  joinedAt: Type.String(),
});

export const Attachment = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64 }),
    url: Type.String({ maxLength: 2048, format: 'uri' }),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    mimeType: Type.Optional(Type.String({ maxLength: 128 })),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    width: Type.Optional(Type.Integer({ minimum: 0 })),
    height: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const Encrypted = Type.Object(
  {
    alg: Type.String({ minLength: 1, maxLength: 64 }),
    ciphertext: Type.String({ minLength: 1, maxLength: 131_072 }),
    nonce: Type.Optional(Type.String({ maxLength: 256 })),
    keyId: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const Message = Type.Object({
  id: Type.String(),
  channelId: Type.String(),
  seq: Type.Integer(),
  clientMsgId: Nullable(Type.String()),
  authorId: Nullable(Type.String()),
  type: literals(['regular', 'system', 'deleted'] as const),
  text: Nullable(Type.String()),
  attachments: Type.Array(Attachment),
  custom: Custom,
  encrypted: Nullable(Encrypted),
  parentId: Nullable(Type.String()),
  replyCount: Type.Integer(),
  reactionCounts: Type.Record(Type.String(), Type.Integer()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  editedAt: Nullable(Type.String()),
  deletedAt: Nullable(Type.String()),
});

/** Message text: the length limit (NATTER_MAX_MESSAGE_LENGTH) is checked by the pipeline. */
const Text = Type.String({ maxLength: 100_000 });

export const SendMessageBody = Type.Object(
  {
    text: Type.Optional(Text),
    attachments: Type.Optional(Type.Array(Attachment, { maxItems: 10 })),
    custom: Type.Optional(Custom),
    encrypted: Type.Optional(Encrypted),
    clientMsgId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    parentId: Type.Optional(Id),
    system: Type.Optional(Type.Boolean({ description: 'System message (tenant backend only).' })),
    userId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const EditMessageBody = Type.Object(
  {
    text: Type.Optional(Text),
    attachments: Type.Optional(Type.Array(Attachment, { maxItems: 10 })),
    custom: Type.Optional(Custom),
    encrypted: Type.Optional(Encrypted),
  },
  { additionalProperties: false },
);

export const MemberInput = Type.Union([
  Id,
  Type.Object({ userId: Id, role: Type.Optional(MemberRole) }, { additionalProperties: false }),
]);

const RateLimits = Type.Object(
  {
    userPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    tenantPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);

export const TenantSettings = Type.Object(
  {
    allowedOrigins: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 100 })),
    maxMessageLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    rateLimits: Type.Optional(RateLimits),
  },
  { additionalProperties: false },
);

export const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  settings: Type.Object({
    allowedOrigins: Type.Array(Type.String()),
    maxMessageLength: Type.Optional(Type.Integer()),
    rateLimits: Type.Optional(RateLimits),
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const ApiKey = Type.Object({
  id: Type.String(),
  tenantId: Nullable(Type.String()),
  createdAt: Type.String(),
  revokedAt: Nullable(Type.String()),
});

export const IssuedKey = Type.Object({
  id: Type.String(),
  secret: Type.String({ description: 'Shown once; store it now.' }),
  createdAt: Type.String(),
});

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    retryable: Type.Boolean(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next: Nullable(Type.String()) });
export const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), after: Type.Optional(Cursor) },
  { additionalProperties: false },
);

/** Error answers every authenticated route documents. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  429: ErrorResponse,
};

type SecurityRequirement = { [scheme: string]: string[] }[];
/** OpenAPI security requirements of the routes. */
export const security: Record<'apiKey' | 'userToken' | 'either', SecurityRequirement> = {
  apiKey: [{ apiKey: [] }],
  userToken: [{ userToken: [] }],
  either: [{ apiKey: [] }, { userToken: [] }],
};
