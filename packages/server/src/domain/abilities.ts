/**
 * Abilities: what one actor may do, as a CASL ability built from the default policy (or the
 * tenant's own, see `abilities-policy.ts`), the actor's tenant role and attributes, and the final
 * rules no policy overrides. Conditions are evaluated on subject views (`abilities-views.ts`).
 *
 * - A user gets the rules of the policy whose `roles` include their tenant role, placeholders
 *   filled from their record, then the final rules.
 * - The tenant backend may do anything in its tenant (`manage all`); services still refuse what
 *   makes no sense (writing to a frozen channel, a third member in a direct channel).
 * - A platform-admin key may do nothing with tenant data.
 *
 * Abilities are cached by what they are built from (tenant, policy etag, edit window, user id,
 * role and, when the policy reads them, custom attributes), so a policy change or a role change
 * gives a new ability on the next request or frame.
 *
 * @see docs/security.md
 */
import {
  createMongoAbility,
  type ForcedSubject,
  type MongoAbility,
  type RawRuleOf,
  subject as tag,
} from '@casl/ability';
import { type PackRule, packRules, permittedFieldsOf } from '@casl/ability/extra';
import type { User } from '@natter/protocol';
import { DEFAULT_RULES, FINAL_PRECEDENCE, type FinalReason, finalRules } from './abilities-defaults.js';
import {
  fillPlaceholders,
  NO_PLACEHOLDERS,
  type PlaceholderUse,
  type PolicyRule,
  placeholdersUsed,
  type TenantPolicy,
} from './abilities-policy.js';
import {
  type AbilityAction,
  CHANNEL_PATCH_FIELDS,
  type ChannelPatchField,
  type SubjectName,
} from './abilities-vocabulary.js';
import type { Actor } from './actor.js';

/** A view tagged with its subject name (see {@link asSubject}). */
export type TaggedView = object & ForcedSubject<SubjectName>;
/** The ability type: actions of the vocabulary on subject names or tagged views. */
export type AppAbility = MongoAbility<[AbilityAction | string, SubjectName | 'all' | TaggedView]>;
type Raw = RawRuleOf<AppAbility>;

/** A packed rule (CASL `packRules`), as sent to clients in `welcome` and `rules.updated`. */
export type PackedRule = PackRule<Raw>;

export interface AbilityInput {
  actor: Actor;
  /** The tenant's policy; absent or null: the default policy. */
  policy?: TenantPolicy | null | undefined;
  /** Seconds after sending during which authors may edit (0: no limit). @default 0 */
  editWindow?: number;
}

/** An ability with the key it is cached under and, lazily, its rules packed for a client. */
export interface ActorAbility {
  key: string;
  ability: AppAbility;
  /** The rules packed with CASL's `packRules`; placeholders are already filled. */
  readonly packed: PackedRule[];
}

function toRaw(rule: PolicyRule, user: User): Raw {
  const raw: Raw = { action: rule.action, subject: rule.subject as SubjectName | SubjectName[] };
  if (rule.conditions !== undefined) raw.conditions = fillPlaceholders(rule.conditions, user);
  if (rule.fields !== undefined) raw.fields = rule.fields;
  if (rule.inverted) raw.inverted = true;
  if (rule.reason !== undefined) raw.reason = rule.reason;
  return raw;
}

/** The raw rules of `user` under `policy`: policy rules for their role, then the final rules. */
export function userRules(user: User, policy: TenantPolicy | null | undefined, editWindow = 0): Raw[] {
  const source: readonly PolicyRule[] =
    policy?.mode === 'replace' ? policy.rules : policy ? [...DEFAULT_RULES, ...policy.rules] : DEFAULT_RULES;
  const rules: Raw[] = [];
  for (const rule of source) {
    if (rule.roles === undefined || rule.roles.includes(user.role)) rules.push(toRaw(rule, user));
  }
  rules.push(...(finalRules(editWindow) as Raw[]));
  return rules;
}

/** Builds the ability of `actor` (uncached; see {@link abilityFor}). */
export function buildAbility({ actor, policy, editWindow = 0 }: AbilityInput): AppAbility {
  switch (actor.kind) {
    case 'server':
      return createMongoAbility<AppAbility>([{ action: 'manage', subject: 'all' }]);
    case 'platform':
      return createMongoAbility<AppAbility>([]);
    case 'user':
      return createMongoAbility<AppAbility>(userRules(actor.user, policy, editWindow));
  }
}

/**
 * Abilities kept (least recently used goes first). One is about 20 KB (rules, CASL's index and
 * matchers, the packed rules) and a miss costs about 0.1 ms (building, and compiling conditions
 * on first use), more than the rest of a send. The default rules name no user, so the users of
 * one role share one ability and a few entries serve a whole tenant; only a policy with
 * `${user.id}` or `${user.custom…}` placeholders gives each user (or each set of attributes) their
 * own. Idle connections do not fill it ({@link packedRulesFor}).
 */
const CACHE_SIZE = 5000;
const cache = new Map<string, ActorAbility>();
const placeholderUse = new WeakMap<TenantPolicy, PlaceholderUse>();

/** The cache key of an ability: everything it is built from. */
export function abilityKey({ actor, policy, editWindow = 0 }: AbilityInput): string {
  if (actor.kind !== 'user') return actor.kind === 'server' ? `server\u0000${actor.tenantId}` : 'platform';
  let uses = policy ? placeholderUse.get(policy) : NO_PLACEHOLDERS;
  if (uses === undefined && policy) {
    uses = placeholdersUsed(policy.rules);
    placeholderUse.set(policy, uses);
  }
  const { user } = actor;
  return [
    actor.tenantId,
    policy?.etag ?? 'default',
    editWindow,
    uses?.id ? user.id : '',
    user.role,
    uses?.custom ? JSON.stringify(user.custom) : '',
  ].join('\u0000');
}

/** The ability of an actor, from a small cache keyed by {@link abilityKey}. */
export function abilityFor(input: AbilityInput): ActorAbility {
  const key = abilityKey(input);
  const hit = cache.get(key);
  if (hit) {
    // Least recently used goes first: re-insert on every hit.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const ability = buildAbility(input);
  let packed: PackedRule[] | undefined;
  const entry: ActorAbility = {
    key,
    ability,
    get packed() {
      packed ??= packRules(ability.rules as Raw[]);
      return packed;
    },
  };
  cache.set(key, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return entry;
}

/**
 * The key and packed rules of an actor's ability, without keeping a newly built ability in the
 * cache: a realtime connection's `welcome` needs its rules once, and thousands of idle
 * connections must not fill the cache (or memory) with abilities nobody asks about again.
 */
export function packedRulesFor(input: AbilityInput): { key: string; packed: PackedRule[] } {
  const key = abilityKey(input);
  const hit = cache.get(key);
  if (hit) return { key, packed: hit.packed };
  return { key, packed: packRules(buildAbility(input).rules as Raw[]) };
}

/** What the rules say about one action on one view. */
export interface Judgement {
  /** Allowed by the policy alone (before the final rules). */
  base: boolean;
  /** The policy rule's reason when it denies (tenant rules may give one). */
  baseReason: string | null;
  /** Final rules that deny, in {@link FINAL_PRECEDENCE} order; empty when none does. */
  final: FinalReason[];
  /** `ability.can(...)`: allowed by the policy and no final rule denies. */
  allowed: boolean;
}

const isFinal = (reason: string | undefined): boolean => reason?.startsWith('natter:') ?? false;

/**
 * Judges `action` on `view` as CASL does (the last matching rule wins), telling the policy's own
 * answer apart from the final rules', so a denial can say why: 404 for what may not be read at all,
 * NATTER_USER_MUTED for a muted member who could otherwise send.
 */
export function judge(
  ability: AppAbility,
  action: string,
  subject: SubjectName,
  view: object,
  field?: string,
): Judgement {
  const final = new Set<FinalReason>();
  let base = false;
  let baseReason: string | null = null;
  for (const rule of ability.rulesFor(action, subject, field)) {
    if (!rule.matchesConditions(view as TaggedView)) continue;
    if (isFinal(rule.reason)) {
      final.add((rule.reason as string).slice('natter:'.length) as FinalReason);
      continue;
    }
    base = !rule.inverted;
    baseReason = rule.inverted ? (rule.reason ?? null) : null;
    break;
  }
  const ordered = FINAL_PRECEDENCE.filter((r) => final.has(r));
  return { base, baseReason, final: ordered, allowed: base && ordered.length === 0 };
}

/** Tags a view with its subject name for `ability.can`. */
export function asSubject(subject: SubjectName, view: object): TaggedView {
  return tag(subject, { ...view });
}

/** The fields of a channel PATCH the ability permits on `view` (`update` on `Channel`). */
export function permittedChannelFields(ability: AppAbility, view: object): ChannelPatchField[] {
  const fields = permittedFieldsOf(ability, 'update', asSubject('Channel', view), {
    fieldsFrom: (rule) => rule.fields ?? [...CHANNEL_PATCH_FIELDS],
  });
  return CHANNEL_PATCH_FIELDS.filter((f) => fields.includes(f));
}
