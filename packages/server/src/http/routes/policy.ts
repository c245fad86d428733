/**
 * The tenant's authorization policy: read it, replace or extend the default rules, or go back to
 * them. Tenant backend (API key) only.
 *
 * @see docs/security.md#tenant-policies
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { MAX_RULES } from '../../domain/abilities-policy.js';
import { OPERATORS, SUBJECT_NAMES } from '../../domain/abilities-vocabulary.js';
import { deletePolicy, getPolicy, putPolicy } from '../../services/policy.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import { errorResponses, security as schemaSecurity, UserRole } from '../schemas.js';

const security = schemaSecurity.apiKey;
const tags = ['policy'];
const Strings = (description: string) => Type.Union([Type.String(), Type.Array(Type.String())], { description });

const Rule = Type.Object(
  {
    action: Strings('An action of the subject(s), or manage (any action).'),
    subject: Strings(`One or more of ${SUBJECT_NAMES.join(', ')}.`),
    conditions: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: `View fields (custom data as custom.<key>) to values or operators (${OPERATORS.join(' ')}); values may be \${user.id}, \${user.role} or \${user.custom.<key>}.`,
      }),
    ),
    fields: Type.Optional(Strings('Only with update on Channel: name, custom, frozen, slowModeSeconds.')),
    inverted: Type.Optional(Type.Boolean({ description: 'A rule that forbids.' })),
    reason: Type.Optional(Type.String({ maxLength: 200, description: 'Shown when this rule denies.' })),
    roles: Type.Optional(Type.Array(UserRole, { description: 'Tenant roles the rule applies to; all when left out.' })),
  },
  { additionalProperties: false },
);

const Policy = Type.Object({
  mode: Type.Union([Type.Literal('default'), Type.Literal('extend'), Type.Literal('replace')]),
  rules: Type.Array(Rule),
  etag: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.Union([Type.String(), Type.Null()]),
});

export const policyRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, services }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (request: Parameters<typeof tenantContext>[2]) => tenantContext(store, services, request);

  app.get(
    '/policy',
    {
      schema: {
        tags,
        security,
        summary: "The tenant's authorization policy, and the default rules it extends or replaces",
        response: { 200: Type.Object({ policy: Policy, defaultRules: Type.Array(Rule) }), ...errorResponses },
      },
    },
    async (request) => getPolicy(await ctx(request)),
  );

  app.put(
    '/policy',
    {
      schema: {
        tags,
        security,
        summary: 'Set the policy: extend the default rules (later rules win) or replace them',
        body: Type.Object(
          {
            mode: Type.Union([Type.Literal('extend'), Type.Literal('replace')]),
            rules: Type.Array(Rule, { maxItems: MAX_RULES }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ policy: Policy }), ...errorResponses },
      },
    },
    async (request) => ({ policy: await putPolicy(await ctx(request), store, services.policies, request.body) }),
  );

  app.delete(
    '/policy',
    {
      schema: {
        tags,
        security,
        summary: 'Go back to the default policy',
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deletePolicy(await ctx(request), store, services.policies);
      return reply.status(204).send(null);
    },
  );
};
