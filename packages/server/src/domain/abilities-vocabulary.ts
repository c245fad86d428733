/**
 * The words of authorization: subjects, their actions, and the fields of the subject views that
 * rule conditions test. The default policy, tenant policies and their validation all use this one
 * list, so a rule can only name what the server really evaluates.
 *
 * @see docs/security.md (the view shapes are documented there for clients)
 */
import { CHANNEL_TYPES, MEMBER_ROLES, type UserRole } from '@natter/protocol';

export const USER_ROLES: readonly UserRole[] = ['admin', 'moderator', 'member', 'guest'];

/** How a view field may be tested. `custom` fields are reached with dotted paths (`custom.team`). */
export type FieldType =
  | { kind: 'string'; nullable?: boolean }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[]; nullable?: boolean }
  | { kind: 'custom' };

const str: FieldType = { kind: 'string' };
const nullableStr: FieldType = { kind: 'string', nullable: true };
const num: FieldType = { kind: 'number' };
const bool: FieldType = { kind: 'boolean' };
const custom: FieldType = { kind: 'custom' };
const channelType: FieldType = { kind: 'enum', values: CHANNEL_TYPES };
const memberRole: FieldType = { kind: 'enum', values: MEMBER_ROLES, nullable: true };

/** Moderation state of the actor in the channel (see `domain/restrictions.ts`). */
const restrictionFields = { banned: bool, muted: bool, blockedByPeer: bool } as const;

/**
 * Every subject: its actions and view fields. `isMember` / `memberRole` are always the ACTING
 * user's membership of the channel concerned; `isAuthor` and `targetIsSelf` compare with the
 * acting user too, so the default rules name no user and users of one role share one ability.
 */
export const SUBJECTS = {
  Channel: {
    actions: ['create', 'read', 'send', 'typing', 'markRead', 'update', 'delete', 'end', 'join', 'leave'],
    fields: {
      id: str,
      type: channelType,
      createdBy: nullableStr,
      frozen: bool,
      ended: bool,
      custom,
      isMember: bool,
      memberRole,
      ...restrictionFields,
      slowModeWait: num,
    },
  },
  Message: {
    actions: ['edit', 'delete', 'react'],
    fields: {
      id: str,
      channelId: str,
      channelType,
      authorId: nullableStr,
      /** The acting user wrote the message. */
      isAuthor: bool,
      type: { kind: 'enum', values: ['regular', 'system', 'deleted'] },
      parentId: nullableStr,
      ageSeconds: num,
      custom,
      frozen: bool,
      ended: bool,
      isMember: bool,
      memberRole,
      ...restrictionFields,
    },
  },
  Member: {
    actions: ['read', 'add', 'remove'],
    fields: { channelId: str, channelType, isMember: bool, memberRole, banned: bool },
  },
  Moderation: {
    actions: ['ban', 'mute', 'kick', 'flag', 'reviewFlags', 'readAudit'],
    fields: {
      scope: { kind: 'enum', values: ['tenant', 'channel'] },
      channelId: nullableStr,
      channelType: { kind: 'enum', values: CHANNEL_TYPES, nullable: true },
      isMember: bool,
      memberRole,
      targetId: nullableStr,
      /** The target is the acting user. */
      targetIsSelf: bool,
      targetRole: { kind: 'enum', values: USER_ROLES, nullable: true },
      /** The target's membership role in the channel (null: tenant-wide, or not a member). */
      targetMemberRole: memberRole,
      banned: bool,
    },
  },
} as const satisfies Record<string, { actions: readonly string[]; fields: Record<string, FieldType> }>;

export type SubjectName = keyof typeof SUBJECTS;
export const SUBJECT_NAMES = Object.keys(SUBJECTS) as SubjectName[];
export type SubjectAction<S extends SubjectName> = (typeof SUBJECTS)[S]['actions'][number];
export type AbilityAction = { [S in SubjectName]: SubjectAction<S> }[SubjectName] | 'manage' | 'sendSystem';

/** Fields of a channel PATCH that field-level rules decide about (`update` on `Channel`). */
export const CHANNEL_PATCH_FIELDS = ['name', 'custom', 'frozen', 'slowModeSeconds'] as const;
export type ChannelPatchField = (typeof CHANNEL_PATCH_FIELDS)[number];

/** Condition operators a tenant rule may use; anything else is refused. */
export const OPERATORS = ['$eq', '$ne', '$in', '$nin', '$lt', '$lte', '$gt', '$gte', '$exists'] as const;

/** Placeholders a tenant rule may use in condition values, filled from the acting user. */
export const PLACEHOLDER_PATTERN = /^\$\{user\.(id|role|custom(?:\.[A-Za-z0-9_-]{1,64}){1,8})\}$/;
