// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy placeholders are literally ${…} strings.
/**
 * Validation of tenant policy rules: only known subjects, actions, fields, operators and
 * placeholders; every refusal names the field. And the filling of placeholders.
 */
import type { User } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { NatterError } from '../errors.js';
import { fillPlaceholders, MAX_RULES, validateRule, validateRules } from './abilities-policy.js';

function refusal(rule: unknown): { field: unknown; message: string } {
  try {
    validateRule(rule, 'body.rules.0');
  } catch (err) {
    expect(err).toBeInstanceOf(NatterError);
    const e = err as NatterError;
    expect(e.code).toBe('NATTER_REQUEST_INVALID');
    return { field: e.details?.field, message: e.message };
  }
  throw new Error(`accepted ${JSON.stringify(rule)}`);
}

describe('validateRule', () => {
  it('accepts the rule format and returns a clean copy', () => {
    const rule = {
      action: ['send', 'typing'],
      subject: 'Channel',
      conditions: {
        type: { $in: ['group', 'support'] },
        isMember: true,
        memberRole: { $ne: null },
        'custom.team': '${user.custom.team}',
        slowModeWait: { $lte: 0 },
        createdBy: '${user.id}',
      },
      inverted: false,
      reason: 'Because.',
      roles: ['member', 'guest'],
    };
    expect(validateRule(rule, 'r')).toEqual({ ...rule, inverted: undefined });
    expect(validateRule({ action: 'update', subject: 'Channel', fields: ['name'] }, 'r')).toEqual({
      action: 'update',
      subject: 'Channel',
      fields: ['name'],
    });
    expect(validateRule({ action: 'manage', subject: ['Channel', 'Member'] }, 'r')).toEqual({
      action: 'manage',
      subject: ['Channel', 'Member'],
    });
    expect(
      validateRule({ action: 'ban', subject: 'Moderation', conditions: { targetRole: '${user.role}' } }, 'r')
        .conditions,
    ).toEqual({
      targetRole: '${user.role}',
    });
  });

  it.each([
    ['an unknown rule key', { action: 'read', subject: 'Channel', priority: 1 }, 'body.rules.0.priority'],
    ['an unknown subject', { action: 'read', subject: 'Tenant' }, 'body.rules.0.subject'],
    ['an unknown subject in a list', { action: 'read', subject: ['Channel', 'all'] }, 'body.rules.0.subject.1'],
    ['an unknown action', { action: 'launch', subject: 'Channel' }, 'body.rules.0.action'],
    ['an action one of the subjects lacks', { action: 'send', subject: ['Channel', 'Member'] }, 'body.rules.0.action'],
    ['the backend-only sendSystem', { action: 'sendSystem', subject: 'Channel' }, 'body.rules.0.action'],
    ['no action', { subject: 'Channel' }, 'body.rules.0.action'],
    [
      'an unknown view field',
      { action: 'read', subject: 'Channel', conditions: { tenantId: 't2' } },
      'body.rules.0.conditions.tenantId',
    ],
    [
      'a field of another subject',
      { action: 'read', subject: 'Channel', conditions: { authorId: 'x' } },
      'body.rules.0.conditions.authorId',
    ],
    [
      'custom data as a whole',
      { action: 'read', subject: 'Channel', conditions: { custom: {} } },
      'body.rules.0.conditions.custom',
    ],
    [
      'a top-level operator',
      { action: 'read', subject: 'Channel', conditions: { $or: [{ type: 'group' }] } },
      'body.rules.0.conditions.$or',
    ],
    [
      '$where',
      { action: 'read', subject: 'Channel', conditions: { type: { $where: 'true' } } },
      'body.rules.0.conditions.type.$where',
    ],
    [
      '$regex',
      { action: 'read', subject: 'Channel', conditions: { id: { $regex: '.*' } } },
      'body.rules.0.conditions.id.$regex',
    ],
    [
      '$elemMatch',
      { action: 'read', subject: 'Channel', conditions: { 'custom.tags': { $elemMatch: {} } } },
      'body.rules.0.conditions.custom.tags.$elemMatch',
    ],
    [
      'an empty operator object',
      { action: 'read', subject: 'Channel', conditions: { type: {} } },
      'body.rules.0.conditions.type',
    ],
    [
      'a list as a value',
      { action: 'read', subject: 'Channel', conditions: { type: ['group'] } },
      'body.rules.0.conditions.type',
    ],
    [
      'a string for a boolean field',
      { action: 'read', subject: 'Channel', conditions: { isMember: 'yes' } },
      'body.rules.0.conditions.isMember',
    ],
    [
      'an unknown channel type',
      { action: 'read', subject: 'Channel', conditions: { type: 'room' } },
      'body.rules.0.conditions.type',
    ],
    [
      'an unknown type in $in',
      { action: 'read', subject: 'Channel', conditions: { type: { $in: ['group', 'room'] } } },
      'body.rules.0.conditions.type.$in.1',
    ],
    [
      'null for a field that is never null',
      { action: 'read', subject: 'Channel', conditions: { type: null } },
      'body.rules.0.conditions.type',
    ],
    [
      '$gt on a string field',
      { action: 'read', subject: 'Channel', conditions: { id: { $gt: 'a' } } },
      'body.rules.0.conditions.id.$gt',
    ],
    [
      '$exists with a string',
      { action: 'read', subject: 'Channel', conditions: { 'custom.x': { $exists: 'yes' } } },
      'body.rules.0.conditions.custom.x.$exists',
    ],
    [
      'an object in custom data',
      { action: 'read', subject: 'Channel', conditions: { 'custom.x': { a: 1 } } },
      'body.rules.0.conditions.custom.x.a',
    ],
    [
      'an unknown placeholder',
      { action: 'read', subject: 'Channel', conditions: { createdBy: '${user.password}' } },
      'body.rules.0.conditions.createdBy',
    ],
    [
      'a placeholder from the request',
      { action: 'read', subject: 'Channel', conditions: { createdBy: '${request.body.userId}' } },
      'body.rules.0.conditions.createdBy',
    ],
    [
      'a placeholder inside a string',
      { action: 'read', subject: 'Channel', conditions: { id: 'team-${user.id}' } },
      'body.rules.0.conditions.id',
    ],
    [
      'a placeholder of the wrong type',
      { action: 'read', subject: 'Channel', conditions: { isMember: '${user.role}' } },
      'body.rules.0.conditions.isMember',
    ],
    ['fields on another action', { action: 'read', subject: 'Channel', fields: ['name'] }, 'body.rules.0.fields'],
    ['an unknown field name', { action: 'update', subject: 'Channel', fields: ['type'] }, 'body.rules.0.fields.0'],
    ['an unknown role', { action: 'read', subject: 'Channel', roles: ['owner'] }, 'body.rules.0.roles.0'],
    [
      'a reason of the server',
      { action: 'read', subject: 'Channel', inverted: true, reason: 'natter:muted' },
      'body.rules.0.reason',
    ],
    ['inverted that is not a boolean', { action: 'read', subject: 'Channel', inverted: 1 }, 'body.rules.0.inverted'],
  ])('refuses %s, naming the field', (_what, rule, field) => {
    expect(refusal(rule).field).toBe(field);
  });

  it('says what is allowed', () => {
    expect(refusal({ action: 'read', subject: 'Channel', conditions: { type: { $regex: 'x' } } }).message).toContain(
      '$eq $ne $in $nin $lt $lte $gt $gte $exists',
    );
    expect(refusal({ action: 'read', subject: 'Channel', conditions: { colour: 'red' } }).message).toContain(
      'custom.<key>',
    );
  });
});

describe('validateRules', () => {
  it(`takes a list of at most ${MAX_RULES} rules`, () => {
    expect(validateRules([])).toEqual([]);
    expect(() => validateRules({})).toThrow(/body.rules must be a list/);
    expect(() => validateRules(Array(MAX_RULES + 1).fill({ action: 'read', subject: 'Channel' }))).toThrow(NatterError);
    try {
      validateRules([
        { action: 'read', subject: 'Channel' },
        { action: 'read', subject: 'Nope' },
      ]);
    } catch (err) {
      expect((err as NatterError).details?.field).toBe('body.rules.1.subject');
    }
  });
});

describe('fillPlaceholders', () => {
  const user: User = {
    id: 'ann',
    name: null,
    avatarUrl: null,
    role: 'member',
    custom: { team: 'red', level: 3, nested: { op: { $ne: null } }, list: ['a'] },
    createdAt: '',
    updatedAt: '',
  };

  it('fills from the stored user; anything but a plain value becomes null', () => {
    expect(
      fillPlaceholders(
        {
          authorId: '${user.id}',
          targetRole: { $in: ['${user.role}', 'guest'] },
          'custom.team': '${user.custom.team}',
          'custom.level': { $lte: '${user.custom.level}' },
          'custom.a': '${user.custom.nested.op}',
          'custom.b': '${user.custom.list}',
          'custom.c': '${user.custom.missing}',
          'custom.d': 'plain ${text}',
        },
        user,
      ),
    ).toEqual({
      authorId: 'ann',
      targetRole: { $in: ['member', 'guest'] },
      'custom.team': 'red',
      'custom.level': { $lte: 3 },
      'custom.a': null,
      'custom.b': null,
      'custom.c': null,
      'custom.d': 'plain ${text}',
    });
  });
});
