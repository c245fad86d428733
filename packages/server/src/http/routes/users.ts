/**
 * Users (tenant backend), user tokens, the caller's own profile, and the tenant's own API keys.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NatterError } from '../../errors.js';
import { audit } from '../../services/audit.js';
import { issueKey, publicKey } from '../../services/tenants.js';
import { deleteUser, getUser, issueToken, listUsers, upsertUsers } from '../../services/users.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import {
  ApiKey,
  errorResponses,
  Id,
  IssuedKey,
  PageOf,
  PageQuery,
  security as schemaSecurity,
  User,
  UserInput,
} from '../schemas.js';

const UserParams = Type.Object({ userId: Id });
const security = schemaSecurity.apiKey;
const bothSecurity = schemaSecurity.either;

export const userRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, services }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (request: Parameters<typeof tenantContext>[2]) => tenantContext(store, services, request);
  const tags = ['users'];

  app.post(
    '/users',
    {
      schema: {
        tags,
        security,
        summary: 'Create or update users (fields left out keep their value)',
        body: Type.Object(
          { users: Type.Array(UserInput, { minItems: 1, maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ users: Type.Array(User) }), ...errorResponses },
      },
    },
    async (request) => ({ users: await upsertUsers(await ctx(request), request.body.users) }),
  );

  app.get(
    '/users',
    {
      schema: {
        tags,
        security,
        summary: 'List users',
        querystring: PageQuery,
        response: { 200: PageOf(User), ...errorResponses },
      },
    },
    async (request) =>
      listUsers(await ctx(request), {
        limit: request.query.limit ?? 50,
        ...(request.query.after ? { after: request.query.after } : {}),
      }),
  );

  app.get(
    '/users/:userId',
    {
      schema: {
        tags,
        security: bothSecurity,
        summary: 'Get a user',
        params: UserParams,
        response: { 200: Type.Object({ user: User }), ...errorResponses },
      },
    },
    async (request) => ({ user: await getUser(await ctx(request), request.params.userId) }),
  );

  app.delete(
    '/users/:userId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a user and their memberships (messages stay)',
        params: UserParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteUser(await ctx(request), request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/users/:userId/tokens',
    {
      schema: {
        tags,
        security,
        summary: 'Mint a user token (JWT) for a client',
        params: UserParams,
        body: Type.Optional(
          Type.Object(
            { ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 2_592_000 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 201: Type.Object({ token: Type.String(), expiresAt: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const c = await ctx(request);
      return reply.status(201).send(await issueToken(c, c.tenant, request.params.userId, request.body?.ttlSeconds));
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags,
        security: schemaSecurity.userToken,
        summary: 'The user of the token',
        response: { 200: Type.Object({ user: User }), ...errorResponses },
      },
    },
    async (request) => {
      const c = await ctx(request);
      if (c.actor.kind !== 'user') throw new NatterError('NATTER_AUTH_FORBIDDEN', '/v1/me needs a user token.');
      return { user: c.actor.user };
    },
  );

  const keyTags = ['api keys'];
  const backend = async (request: Parameters<typeof tenantContext>[2]) => {
    const c = await ctx(request);
    if (c.actor.kind !== 'server')
      throw new NatterError('NATTER_AUTH_FORBIDDEN', 'API keys are managed with an API key.');
    return c;
  };

  app.get(
    '/keys',
    {
      schema: {
        tags: keyTags,
        security,
        summary: "The tenant's API keys",
        response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...errorResponses },
      },
    },
    async (request) => ({
      items: (await store.platform.listApiKeys((await backend(request)).tenant.id)).map(publicKey),
    }),
  );

  app.post(
    '/keys',
    {
      schema: {
        tags: keyTags,
        security,
        summary: 'Issue a new API key (rotate: issue, deploy, revoke the old)',
        response: { 201: Type.Object({ apiKey: IssuedKey }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const c = await backend(request);
      const apiKey = await issueKey(store, c.tenant.id);
      await audit(c, {
        action: 'key.issue',
        targetType: 'apiKey',
        targetId: apiKey.id,
        before: null,
        after: { id: apiKey.id, createdAt: apiKey.createdAt },
      });
      return reply.status(201).send({ apiKey });
    },
  );

  app.delete(
    '/keys/:keyId',
    {
      schema: {
        tags: keyTags,
        security,
        summary: 'Revoke an API key',
        params: Type.Object({ keyId: Id }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const c = await backend(request);
      const before = await store.platform.getApiKey(request.params.keyId);
      if (!(await store.platform.revokeApiKey(c.tenant.id, request.params.keyId))) {
        throw new NatterError('NATTER_KEY_NOT_FOUND', undefined, { field: 'keyId' });
      }
      const after = await store.platform.getApiKey(request.params.keyId);
      await audit(c, {
        action: 'key.revoke',
        targetType: 'apiKey',
        targetId: request.params.keyId,
        before: before && publicKey(before),
        after: after && publicKey(after),
      });
      return reply.status(204).send(null);
    },
  );
};
