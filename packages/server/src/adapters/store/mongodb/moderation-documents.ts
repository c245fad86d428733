/**
 * Moderation documents (bans and mutes, blocks, flags, audit log) and their mapping to the port's
 * records. Same conventions as documents.ts: `tenantId` on every document, string `_id` keys
 * that start with the tenant id, user-supplied JSON stored as text.
 */
import type {
  AuditActorType,
  AuditEntry,
  Block,
  Flag,
  FlagResolution,
  FlagStatus,
  Sanction,
  SanctionKind,
} from '../../../ports/store.js';
import { docKey } from './documents.js';

export interface SanctionDoc {
  /** (tenant, kind, scope, user); the scope is the channel id or null (tenant-wide). */
  _id: string;
  tenantId: string;
  kind: SanctionKind;
  userId: string;
  channelId: string | null;
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface BlockDoc {
  _id: string;
  tenantId: string;
  userId: string;
  blockedUserId: string;
  createdAt: string;
}

export interface FlagDoc {
  _id: string;
  tenantId: string;
  id: string;
  messageId: string;
  channelId: string;
  reporterId: string | null;
  reason: string;
  status: FlagStatus;
  /**
   * Unique per tenant: `[messageId, reporterId]` while open, `#<flag id>` once resolved, so there
   * is one open flag per (message, reporter) without a partial index (FerretDB v1 has none).
   */
  openKey: string;
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: FlagResolution | null;
}

export interface AuditDoc {
  _id: string;
  tenantId: string;
  id: string;
  actorType: AuditActorType;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  /** JSON text of the state (the JSON `null` when there is none). */
  before: string;
  after: string;
  at: string;
}

/** When `userId` last sent in `channelId` while the channel was in slow mode. */
export interface SlowModeMarkDoc {
  _id: string;
  tenantId: string;
  channelId: string;
  userId: string;
  lastSentAt: string;
}

export function sanctionKey(tenantId: string, kind: SanctionKind, channelId: string | null, userId: string): string {
  return JSON.stringify([tenantId, kind, channelId, userId]);
}

export function sanctionDoc(tenantId: string, s: Sanction): SanctionDoc {
  return { _id: sanctionKey(tenantId, s.kind, s.channelId, s.userId), tenantId, ...s };
}

export function toSanction(d: SanctionDoc): Sanction {
  return {
    kind: d.kind,
    userId: d.userId,
    channelId: d.channelId,
    reason: d.reason,
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
  };
}

export function blockKey(tenantId: string, userId: string, blockedUserId: string): string {
  return docKey(tenantId, userId, blockedUserId);
}

export function toBlock(d: BlockDoc): Block {
  return { userId: d.userId, blockedUserId: d.blockedUserId, createdAt: d.createdAt };
}

export function openKeyOf(messageId: string, reporterId: string | null): string {
  return JSON.stringify([messageId, reporterId]);
}

export function flagDoc(tenantId: string, f: Flag): FlagDoc {
  return {
    _id: docKey(tenantId, f.id),
    tenantId,
    ...f,
    openKey: f.status === 'open' ? openKeyOf(f.messageId, f.reporterId) : `#${f.id}`,
  };
}

export function toFlag(d: FlagDoc): Flag {
  return {
    id: d.id,
    messageId: d.messageId,
    channelId: d.channelId,
    reporterId: d.reporterId,
    reason: d.reason,
    status: d.status,
    createdAt: d.createdAt,
    resolvedAt: d.resolvedAt,
    resolvedBy: d.resolvedBy,
    resolution: d.resolution,
  };
}

/** JSON text of a state; `undefined` (no state) is stored as null, as the SQLite store does. */
export function stateJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function toAudit(d: AuditDoc): AuditEntry {
  return {
    id: d.id,
    actorType: d.actorType,
    actorId: d.actorId,
    action: d.action,
    targetType: d.targetType,
    targetId: d.targetId,
    before: JSON.parse(d.before) as unknown,
    after: JSON.parse(d.after) as unknown,
    at: d.at,
  };
}
