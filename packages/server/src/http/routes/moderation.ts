/**
 * Moderation: bans and mutes, kicks, the caller's blocks, message flags, the moderation queue
 * and the audit log. Who may do what is decided by `services/moderation.ts`.
 *
 * @see docs/moderation.md
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SanctionKind } from '../../ports/store.js';
import { listAudit } from '../../services/audit.js';
import { block, impose, kick, lift, listBlocks, listSanctions, unblock } from '../../services/moderation.js';
import { flagMessage, moderationQueue, resolveFlag } from '../../services/moderation-queue.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import { Cursor, errorResponses, Id, Limit, Message, PageOf, PageQuery, security, Time } from '../schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Reason = Type.String({ minLength: 1, maxLength: 500 });

const Sanction = Type.Object({
  kind: Type.Union([Type.Literal('ban'), Type.Literal('mute')]),
  userId: Type.String(),
  channelId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
});

const Block = Type.Object({ userId: Type.String(), blockedUserId: Type.String(), createdAt: Type.String() });

const Flag = Type.Object({
  id: Type.String(),
  messageId: Type.String(),
  channelId: Type.String(),
  reporterId: Nullable(Type.String()),
  reason: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  createdAt: Type.String(),
  resolvedAt: Nullable(Type.String()),
  resolvedBy: Nullable(Type.String()),
  resolution: Nullable(Type.Union([Type.Literal('dismissed'), Type.Literal('message_deleted')])),
});

const AuditEntry = Type.Object({
  id: Type.String(),
  actorType: Type.Union([Type.Literal('user'), Type.Literal('server'), Type.Literal('platform')]),
  actorId: Nullable(Type.String()),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  before: Type.Unknown({ description: 'State before the action (JSON); null when there was none.' }),
  after: Type.Unknown({ description: 'State after the action (JSON); null when nothing remains.' }),
  at: Type.String(),
});

const ScopeQuery = Type.Object(
  { channelId: Type.Optional(Id) },
  { additionalProperties: false, description: 'channelId: the channel; absent for tenant-wide.' },
);
const ScopedPageQuery = Type.Object(
  { channelId: Type.Optional(Id), limit: Type.Optional(Limit), after: Type.Optional(Cursor) },
  { additionalProperties: false },
);

/** `after` and `channelId` only when given: the services take optional fields, not undefined. */
function paging(q: { limit?: number | undefined; after?: string | undefined }) {
  return { limit: q.limit ?? 50, ...(q.after ? { after: q.after } : {}) };
}

export const moderationRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, services }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (request: Parameters<typeof tenantContext>[2]) => tenantContext(store, services, request);
  const tags = ['moderation'];

  const kinds: [SanctionKind, 'bans' | 'mutes', 'ban' | 'mute'][] = [
    ['ban', 'bans', 'ban'],
    ['mute', 'mutes', 'mute'],
  ];
  for (const [kind, path, noun] of kinds) {
    const Body = Type.Object({ [noun]: Sanction });
    app.post(
      `/moderation/${path}`,
      {
        schema: {
          tags,
          security: security.either,
          summary:
            kind === 'ban'
              ? 'Ban a user tenant-wide or from one channel (replaces an existing ban of that scope)'
              : 'Mute a user tenant-wide or in one channel (replaces an existing mute of that scope)',
          body: Type.Object(
            { userId: Id, channelId: Type.Optional(Id), expiresAt: Type.Optional(Time), reason: Type.Optional(Reason) },
            { additionalProperties: false },
          ),
          response: { 200: Body, 201: Body, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { sanction, created } = await impose(await ctx(request), kind, request.body);
        return reply.status(created ? 201 : 200).send({ [noun]: sanction });
      },
    );

    app.delete(
      `/moderation/${path}/:userId`,
      {
        schema: {
          tags,
          security: security.either,
          summary: `Lift a ${noun} (tenant-wide, or of the channel in ?channelId=); lifting none is not an error`,
          params: Type.Object({ userId: Id }),
          querystring: ScopeQuery,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await lift(await ctx(request), kind, request.params.userId, request.query.channelId ?? null);
        return reply.status(204).send(null);
      },
    );

    app.get(
      `/moderation/${path}`,
      {
        schema: {
          tags,
          security: security.either,
          summary: `${noun === 'ban' ? 'Bans' : 'Mutes'} in force, tenant-wide or of the channel in ?channelId=, by user id`,
          querystring: ScopedPageQuery,
          response: { 200: PageOf(Sanction), ...errorResponses },
        },
      },
      async (request) =>
        listSanctions(await ctx(request), kind, {
          channelId: request.query.channelId ?? null,
          ...paging(request.query),
        }),
    );
  }

  app.post(
    '/channels/:channelId/kick/:userId',
    {
      schema: {
        tags,
        security: security.either,
        summary: 'Remove a member from the channel, optionally banning them from it',
        params: Type.Object({ channelId: Id, userId: Id }),
        body: Type.Optional(
          Type.Object(
            { ban: Type.Optional(Type.Boolean()), expiresAt: Type.Optional(Time), reason: Type.Optional(Reason) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ removed: Type.Boolean(), ban: Nullable(Sanction) }), ...errorResponses },
      },
    },
    async (request) => kick(await ctx(request), request.params.channelId, request.params.userId, request.body ?? {}),
  );

  const blockTags = ['blocks'];
  const BlockBody = Type.Object({ block: Block });
  app.put(
    '/blocks/:userId',
    {
      schema: {
        tags: blockTags,
        security: security.userToken,
        summary: 'Block a user: no more direct messages from them (201 when new, 200 when already blocked)',
        params: Type.Object({ userId: Id }),
        response: { 200: BlockBody, 201: BlockBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await block(await ctx(request), request.params.userId);
      return reply.status(result.created ? 201 : 200).send({ block: result.block });
    },
  );

  app.delete(
    '/blocks/:userId',
    {
      schema: {
        tags: blockTags,
        security: security.userToken,
        summary: 'Unblock a user; unblocking one not blocked is not an error',
        params: Type.Object({ userId: Id }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await unblock(await ctx(request), request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/blocks',
    {
      schema: {
        tags: blockTags,
        security: security.userToken,
        summary: 'The users the caller blocks',
        querystring: PageQuery,
        response: { 200: PageOf(Block), ...errorResponses },
      },
    },
    async (request) => listBlocks(await ctx(request), paging(request.query)),
  );

  const FlagBody = Type.Object({ flag: Flag });
  app.post(
    '/channels/:channelId/messages/:messageId/flags',
    {
      schema: {
        tags,
        security: security.either,
        summary: 'Flag a message for the moderators (a repeat by the same reporter answers the open flag with 200)',
        params: Type.Object({ channelId: Id, messageId: Id }),
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: FlagBody, 201: FlagBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { channelId, messageId } = request.params;
      const { flag, created } = await flagMessage(await ctx(request), channelId, messageId, request.body.reason);
      return reply.status(created ? 201 : 200).send({ flag });
    },
  );

  app.get(
    '/moderation/queue',
    {
      schema: {
        tags,
        security: security.either,
        summary: 'Open flags with their messages, oldest first (channel managers pass ?channelId=)',
        querystring: ScopedPageQuery,
        response: { 200: PageOf(Type.Object({ flag: Flag, message: Nullable(Message) })), ...errorResponses },
      },
    },
    async (request) => {
      const { channelId } = request.query;
      return moderationQueue(await ctx(request), { ...(channelId ? { channelId } : {}), ...paging(request.query) });
    },
  );

  app.post(
    '/moderation/queue/:flagId/resolve',
    {
      schema: {
        tags,
        security: security.either,
        summary: 'Resolve a flag: dismiss it, or delete the message (which resolves all its open flags)',
        params: Type.Object({ flagId: Id }),
        body: Type.Object(
          { action: Type.Union([Type.Literal('dismiss'), Type.Literal('delete_message')]) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ flag: Flag, resolved: Type.Array(Flag) }), ...errorResponses },
      },
    },
    async (request) => resolveFlag(await ctx(request), request.params.flagId, request.body.action),
  );

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        security: security.either,
        summary: 'The audit log of moderation and admin actions, newest first (tenant backend and admins)',
        querystring: Type.Object(
          {
            action: Type.Optional(Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$', maxLength: 64 })),
            targetType: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$', maxLength: 32 })),
            targetId: Type.Optional(Id),
            limit: Type.Optional(Limit),
            after: Type.Optional(Cursor),
          },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(AuditEntry), ...errorResponses },
      },
    },
    async (request) => {
      const { action, targetType, targetId } = request.query;
      return listAudit(await ctx(request), {
        ...(action ? { action } : {}),
        ...(targetType ? { targetType } : {}),
        ...(targetId ? { targetId } : {}),
        ...paging(request.query),
      });
    },
  );
};
