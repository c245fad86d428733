// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy placeholders are literally ${…} strings.
/**
 * Policies as JSON: the rule format shared by the default policy and tenant policies, its strict
 * validation, and the filling of `${user.…}` placeholders from the acting user.
 *
 * A rule is a CASL raw rule (`action`, `subject`, `conditions`, `fields`, `inverted`, `reason`)
 * plus `roles`, the tenant roles it applies to (all when left out). Validation accepts only the
 * subjects, actions, view fields and operators of `abilities-vocabulary.ts`; anything else is a
 * NATTER_REQUEST_INVALID naming the field. Placeholders are filled from the server's record of the
 * acting user, never from a request, and only with plain values, so no attribute can smuggle an
 * operator into a condition.
 *
 * @see docs/security.md#tenant-policies
 */
import type { User, UserRole } from '@natter/protocol';
import { invalid } from '../errors.js';
import {
  CHANNEL_PATCH_FIELDS,
  type FieldType,
  OPERATORS,
  PLACEHOLDER_PATTERN,
  SUBJECT_NAMES,
  SUBJECTS,
  type SubjectName,
  USER_ROLES,
} from './abilities-vocabulary.js';

/** One rule of a policy, as stored and as sent to `PUT /v1/policy`. */
export interface PolicyRule {
  action: string | string[];
  subject: string | string[];
  conditions?: Record<string, unknown>;
  fields?: string | string[];
  inverted?: boolean;
  /** Shown in the error message when this rule is what denies. */
  reason?: string;
  /** Tenant roles the rule applies to. @default every role */
  roles?: UserRole[];
}

export type PolicyMode = 'extend' | 'replace';

/** A tenant's policy as stored in its settings. */
export interface TenantPolicy {
  /** `extend`: the default rules, then these (later rules win). `replace`: these alone. */
  mode: PolicyMode;
  rules: PolicyRule[];
  /** New on every change: compiled policies and abilities are cached under it. */
  etag: string;
  updatedAt: string;
}

export const MAX_RULES = 200;
const MAX_CONDITIONS = 20;
const MAX_LIST = 100;
const MAX_STRING = 512;
const MAX_REASON = 200;
const RULE_KEYS = ['action', 'subject', 'conditions', 'fields', 'inverted', 'reason', 'roles'];
const CUSTOM_PATH = /^custom(\.[A-Za-z0-9_-]{1,64}){1,8}$/;
/** Reasons of the server's own final rules (moderation and channel state); tenants may not use them. */
export const INTERNAL_REASON_PREFIX = 'natter:';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(value: unknown, path: string, allowed: readonly string[]): string[] {
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.length === 0 || items.length > 20) {
    throw invalid(path, `must be a string or a list of 1 to 20 strings out of: ${allowed.join(', ')}`);
  }
  items.forEach((item, i) => {
    if (typeof item !== 'string' || !allowed.includes(item)) {
      throw invalid(Array.isArray(value) ? `${path}.${i}` : path, `is not one of: ${allowed.join(', ')}`);
    }
  });
  return [...new Set(items as string[])];
}

/** The type of `key` in every subject's view; refuses a field one of them lacks. */
function fieldType(subjects: SubjectName[], key: string, path: string): FieldType[] {
  return subjects.map((s) => {
    const fields: Record<string, FieldType> = SUBJECTS[s].fields;
    if (CUSTOM_PATH.test(key) && fields.custom) return { kind: 'custom' } as const;
    const type = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!type || type.kind === 'custom') {
      throw invalid(
        path,
        `is not a field of the ${s} view; allowed: ${Object.keys(fields).join(', ')} (custom data as custom.<key>)`,
      );
    }
    return type;
  });
}

function checkPlaceholder(type: FieldType, value: string, path: string): void {
  const match = PLACEHOLDER_PATTERN.exec(value);
  if (!match) throw invalid(path, 'is not a known placeholder; use ${user.id}, ${user.role} or ${user.custom.<key>}');
  const source = match[1] as string;
  const fits =
    type.kind === 'custom' ||
    (source === 'id' && type.kind === 'string') ||
    (source === 'role' && (type.kind === 'string' || (type.kind === 'enum' && type.values.includes('guest')))) ||
    (source.startsWith('custom') && type.kind !== 'enum');
  if (!fits) throw invalid(path, `cannot hold \${user.${source}}: the field is ${type.kind}`);
}

function checkValue(type: FieldType, value: unknown, path: string): void {
  if (typeof value === 'string' && value.includes('${')) {
    checkPlaceholder(type, value, path);
    return;
  }
  if (value === null) {
    if (type.kind === 'custom' || ('nullable' in type && type.nullable)) return;
    throw invalid(path, 'cannot be null: the field always has a value');
  }
  switch (type.kind) {
    case 'custom':
      if (typeof value === 'number' ? Number.isFinite(value) : typeof value === 'boolean') return;
      if (typeof value === 'string' && value.length <= MAX_STRING) return;
      throw invalid(path, `must be a string (up to ${MAX_STRING} characters), a number, a boolean or null`);
    case 'string':
      if (typeof value === 'string' && value.length <= MAX_STRING) return;
      throw invalid(path, `must be a string of up to ${MAX_STRING} characters`);
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return;
      throw invalid(path, 'must be a number');
    case 'boolean':
      if (typeof value === 'boolean') return;
      throw invalid(path, 'must be true or false');
    case 'enum':
      if (typeof value === 'string' && type.values.includes(value)) return;
      throw invalid(path, `must be one of: ${type.values.join(', ')}`);
  }
}

function checkOperand(types: FieldType[], op: string, operand: unknown, path: string): void {
  switch (op) {
    case '$exists':
      if (typeof operand !== 'boolean') throw invalid(path, 'must be true or false');
      return;
    case '$in':
    case '$nin':
      if (!Array.isArray(operand) || operand.length > MAX_LIST)
        throw invalid(path, `must be a list of up to ${MAX_LIST} values`);
      operand.forEach((v, i) => {
        for (const t of types) checkValue(t, v, `${path}.${i}`);
      });
      return;
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      for (const t of types) {
        if (t.kind !== 'number' && t.kind !== 'custom') throw invalid(path, `compares numbers; the field is ${t.kind}`);
        if (operand === null) throw invalid(path, 'must be a number');
        checkValue(t, operand, path);
      }
      return;
    default:
      for (const t of types) checkValue(t, operand, path);
  }
}

function checkConditions(subjects: SubjectName[], conditions: unknown, path: string): Record<string, unknown> {
  if (!isObject(conditions)) throw invalid(path, 'must be an object of view fields');
  const keys = Object.keys(conditions);
  if (keys.length > MAX_CONDITIONS) throw invalid(path, `may test at most ${MAX_CONDITIONS} fields`);
  for (const key of keys) {
    const at = `${path}.${key}`;
    if (key.startsWith('$'))
      throw invalid(
        at,
        `is not allowed: write conditions as { field: value } or { field: { operator: value } } with ${OPERATORS.join(' ')}`,
      );
    const types = fieldType(subjects, key, at);
    const value = conditions[key];
    if (!isObject(value)) {
      if (Array.isArray(value)) throw invalid(at, 'must be a value or an operator object; use $in for lists');
      for (const t of types) checkValue(t, value, at);
      continue;
    }
    const ops = Object.keys(value);
    if (ops.length === 0) throw invalid(at, 'needs at least one operator');
    for (const op of ops) {
      if (!(OPERATORS as readonly string[]).includes(op)) {
        throw invalid(`${at}.${op}`, `is not an allowed operator; allowed: ${OPERATORS.join(' ')}`);
      }
      checkOperand(types, op, value[op], `${at}.${op}`);
    }
  }
  return structuredClone(conditions);
}

/** Validates one rule; returns a clean copy (known keys only, lists deduplicated). */
export function validateRule(raw: unknown, path: string): PolicyRule {
  if (!isObject(raw)) throw invalid(path, 'must be an object');
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.includes(key))
      throw invalid(`${path}.${key}`, `is not a known field; allowed: ${RULE_KEYS.join(', ')}`);
  }
  const subjects = list(raw.subject, `${path}.subject`, SUBJECT_NAMES) as SubjectName[];
  const common = SUBJECTS[subjects[0] as SubjectName].actions.filter((a: string) =>
    subjects.every((s) => (SUBJECTS[s].actions as readonly string[]).includes(a)),
  );
  const actions = list(raw.action, `${path}.action`, ['manage', ...common]);
  const rule: PolicyRule = {
    action: actions.length === 1 ? (actions[0] as string) : actions,
    subject: subjects.length === 1 ? (subjects[0] as string) : subjects,
  };
  if (raw.fields !== undefined) {
    if (subjects.length !== 1 || subjects[0] !== 'Channel' || actions.length !== 1 || actions[0] !== 'update') {
      throw invalid(`${path}.fields`, 'applies only to action update on subject Channel');
    }
    rule.fields = list(raw.fields, `${path}.fields`, CHANNEL_PATCH_FIELDS);
  }
  if (raw.conditions !== undefined) rule.conditions = checkConditions(subjects, raw.conditions, `${path}.conditions`);
  if (raw.inverted !== undefined) {
    if (typeof raw.inverted !== 'boolean') throw invalid(`${path}.inverted`, 'must be true or false');
    if (raw.inverted) rule.inverted = true;
  }
  if (raw.reason !== undefined) {
    if (typeof raw.reason !== 'string' || raw.reason.length === 0 || raw.reason.length > MAX_REASON) {
      throw invalid(`${path}.reason`, `must be a string of 1 to ${MAX_REASON} characters`);
    }
    if (raw.reason.startsWith(INTERNAL_REASON_PREFIX))
      throw invalid(`${path}.reason`, `may not start with ${INTERNAL_REASON_PREFIX}`);
    rule.reason = raw.reason;
  }
  if (raw.roles !== undefined) rule.roles = list(raw.roles, `${path}.roles`, USER_ROLES) as UserRole[];
  return rule;
}

/** Validates a tenant's rules (`PUT /v1/policy`); the errors name the field, e.g. `body.rules.2.conditions.type`. */
export function validateRules(rules: unknown, path = 'body.rules'): PolicyRule[] {
  if (!Array.isArray(rules) || rules.length > MAX_RULES)
    throw invalid(path, `must be a list of up to ${MAX_RULES} rules`);
  return rules.map((rule, i) => validateRule(rule, `${path}.${i}`));
}

/** Which of the acting user's own attributes rules read through placeholders (`${user.role}` aside). */
export interface PlaceholderUse {
  /** `${user.id}` */
  id: boolean;
  /** `${user.custom.<key>}` */
  custom: boolean;
}

export const NO_PLACEHOLDERS: PlaceholderUse = Object.freeze({ id: false, custom: false });

export function placeholdersUsed(rules: readonly PolicyRule[]): PlaceholderUse {
  const texts = rules.flatMap((r) => (r.conditions === undefined ? [] : [JSON.stringify(r.conditions)]));
  return {
    id: texts.some((t) => t.includes('${user.id}')),
    custom: texts.some((t) => t.includes('${user.custom')),
  };
}

function placeholderValue(user: User, source: string): unknown {
  if (source === 'id') return user.id;
  if (source === 'role') return user.role;
  let value: unknown = user.custom;
  for (const key of source.split('.').slice(1))
    value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  // Only plain values: an object here could carry an operator into the condition.
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** Conditions with every placeholder replaced by the acting user's value (missing custom data: null). */
export function fillPlaceholders(conditions: Record<string, unknown>, user: User): Record<string, unknown> {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const match = PLACEHOLDER_PATTERN.exec(value);
      return match ? placeholderValue(user, match[1] as string) : value;
    }
    if (Array.isArray(value)) return value.map(fill);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(conditions) as Record<string, unknown>;
}
