/**
 * Validation of client frames. Message bodies use the same schemas as REST, so a frame and a
 * request are held to the same rules (unknown fields rejected, no coercion).
 */

import type { ClientFrame, ClientFrameType } from '@natter/protocol';
import { CLIENT_FRAME_TYPES } from '@natter/protocol';
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { illFormedPath, mayHoldLoneSurrogate } from '../domain/unicode.js';
import { NatterError } from '../errors.js';
import { Attachment, Custom, Encrypted, Id, Seq } from '../http/schemas.js';
import { validationError } from '../http/validation.js';

const RequestId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const frame = <T extends ClientFrameType, P extends TProperties>(type: T, props: P) =>
  Type.Object({ id: RequestId, type: Type.Literal(type), ...props }, { additionalProperties: false });

const body = {
  text: Type.Optional(Type.String({ maxLength: 100_000 })),
  attachments: Type.Optional(Type.Array(Attachment, { maxItems: 10 })),
  custom: Type.Optional(Custom),
  encrypted: Type.Optional(Encrypted),
};
const channelId = { channelId: Id };
const message = { channelId: Id, messageId: Id };
const reaction = { ...message, reaction: Type.String({ pattern: '^[^\\s]{1,64}$' }) };
const userIds = { userIds: Type.Array(Id, { minItems: 1, maxItems: 200 }) };

const SCHEMAS: Record<ClientFrameType, TObject> = {
  subscribe: frame('subscribe', { ...channelId, since: Type.Optional(Seq) }),
  unsubscribe: frame('unsubscribe', channelId),
  'message.send': frame('message.send', {
    ...channelId,
    ...body,
    clientMsgId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    parentId: Type.Optional(Id),
  }),
  'message.edit': frame('message.edit', { ...message, ...body }),
  'message.delete': frame('message.delete', message),
  'reaction.add': frame('reaction.add', reaction),
  'reaction.remove': frame('reaction.remove', reaction),
  'typing.start': frame('typing.start', channelId),
  'typing.stop': frame('typing.stop', channelId),
  read: frame('read', { ...channelId, seq: Type.Optional(Seq) }),
  'presence.subscribe': frame('presence.subscribe', userIds),
  'presence.unsubscribe': frame('presence.unsubscribe', userIds),
  ping: frame('ping', {}),
};

const ajv = new Ajv.default({ coerceTypes: false, removeAdditional: false, strict: false });
addFormats.default(ajv);
const VALIDATORS = new Map<string, ValidateFunction>(
  CLIENT_FRAME_TYPES.map((type) => [type, ajv.compile(SCHEMAS[type])]),
);

/** The request id of a frame, when it has a usable one (so errors can name the request). */
export function requestIdOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const id = (value as { id?: unknown }).id;
  return Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : null;
}

/**
 * Parses and validates a text frame.
 * @throws NatterError NATTER_FRAME_INVALID / NATTER_FRAME_UNKNOWN_TYPE naming the field.
 */
export function parseFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new NatterError('NATTER_FRAME_INVALID', 'The frame is not valid JSON.', { field: 'frame' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NatterError('NATTER_FRAME_INVALID', 'The frame must be a JSON object.', { field: 'frame' });
  }
  const type = (value as { type?: unknown }).type;
  const validate = typeof type === 'string' ? VALIDATORS.get(type) : undefined;
  if (!validate) {
    throw new NatterError('NATTER_FRAME_UNKNOWN_TYPE', `Unknown frame type ${JSON.stringify(type)}.`, {
      field: 'type',
      allowed: CLIENT_FRAME_TYPES,
    });
  }
  if (!validate(value)) {
    const err = validationError('frame', validate.errors ?? []);
    throw new NatterError('NATTER_FRAME_INVALID', err.message, err.details);
  }
  // As for REST bodies (http/json-body.ts): text a store cannot keep verbatim is refused.
  const illFormed = mayHoldLoneSurrogate(text) ? illFormedPath(value) : null;
  if (illFormed !== null) {
    const field = `frame.${illFormed}`;
    throw new NatterError('NATTER_FRAME_INVALID', `${field} is not well-formed Unicode (a lone UTF-16 surrogate).`, {
      field,
    });
  }
  return value as ClientFrame;
}
