/**
 * Channels, members, read receipts and the caller's channel list.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  addMembers,
  createChannel,
  deleteChannel,
  endChannel,
  getChannel,
  listMembers,
  listMyChannels,
  markRead,
  removeMember,
  updateChannel,
} from '../../services/channels.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import {
  Channel,
  ChannelType,
  Cursor,
  Custom,
  errorResponses,
  Id,
  Limit,
  Member,
  MemberInput,
  Message,
  PageOf,
  PageQuery,
  Seq,
  security as schemaSecurity,
} from '../schemas.js';

const ChannelParams = Type.Object({ channelId: Id });
const security = schemaSecurity.either;
const tags = ['channels'];
const ChannelBody = Type.Object({ channel: Channel });

export const channelRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, services }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (request: Parameters<typeof tenantContext>[2]) => tenantContext(store, services, request);

  app.post(
    '/channels',
    {
      schema: {
        tags,
        security,
        summary: 'Create a channel (a direct channel of an existing pair is returned with 200)',
        body: Type.Object(
          {
            id: Type.Optional(Id),
            type: ChannelType,
            name: Type.Optional(Type.String({ maxLength: 200 })),
            custom: Type.Optional(Custom),
            members: Type.Optional(Type.Array(MemberInput, { maxItems: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ChannelBody, 201: ChannelBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { channel, created } = await createChannel(await ctx(request), request.body);
      return reply.status(created ? 201 : 200).send({ channel });
    },
  );

  app.get(
    '/channels',
    {
      schema: {
        tags,
        security,
        summary: "The caller's channels with unread counts and last message",
        querystring: Type.Object(
          { limit: Type.Optional(Limit), after: Type.Optional(Cursor), userId: Type.Optional(Id) },
          { additionalProperties: false },
        ),
        response: {
          200: PageOf(
            Type.Object({
              channel: Channel,
              membership: Member,
              unreadCount: Type.Integer(),
              lastMessage: Type.Union([Message, Type.Null()]),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, after, userId } = request.query;
      return listMyChannels(await ctx(request), {
        limit: limit ?? 50,
        ...(after ? { after } : {}),
        ...(userId ? { userId } : {}),
      });
    },
  );

  app.get(
    '/channels/:channelId',
    {
      schema: {
        tags,
        security,
        summary: 'Get a channel',
        params: ChannelParams,
        response: { 200: ChannelBody, ...errorResponses },
      },
    },
    async (request) => ({ channel: await getChannel(await ctx(request), request.params.channelId) }),
  );

  app.patch(
    '/channels/:channelId',
    {
      schema: {
        tags,
        security,
        summary: 'Update name, custom data, freeze/unfreeze, or set slow mode',
        params: ChannelParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
            custom: Type.Optional(Custom),
            frozen: Type.Optional(Type.Boolean()),
            slowModeSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 21_600,
                description: 'Slow mode interval (0: off, at most 6 hours).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: ChannelBody, ...errorResponses },
      },
    },
    async (request) => ({ channel: await updateChannel(await ctx(request), request.params.channelId, request.body) }),
  );

  app.delete(
    '/channels/:channelId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a channel with its messages',
        params: ChannelParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteChannel(await ctx(request), request.params.channelId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/channels/:channelId/end',
    {
      schema: {
        tags,
        security,
        summary: 'End a support conversation',
        params: ChannelParams,
        response: { 200: ChannelBody, ...errorResponses },
      },
    },
    async (request) => ({ channel: await endChannel(await ctx(request), request.params.channelId) }),
  );

  app.get(
    '/channels/:channelId/members',
    {
      schema: {
        tags,
        security,
        summary: 'List members',
        params: ChannelParams,
        querystring: PageQuery,
        response: { 200: PageOf(Member), ...errorResponses },
      },
    },
    async (request) =>
      listMembers(await ctx(request), request.params.channelId, {
        limit: request.query.limit ?? 50,
        ...(request.query.after ? { after: request.query.after } : {}),
      }),
  );

  app.post(
    '/channels/:channelId/members',
    {
      schema: {
        tags,
        security,
        summary: 'Add members (or join a public channel by adding yourself)',
        params: ChannelParams,
        body: Type.Object(
          { members: Type.Array(MemberInput, { minItems: 1, maxItems: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ added: Type.Array(Member) }), ...errorResponses },
      },
    },
    async (request) => {
      const members = request.body.members.map((m) => (typeof m === 'string' ? { userId: m } : m));
      return { added: await addMembers(await ctx(request), request.params.channelId, members) };
    },
  );

  app.delete(
    '/channels/:channelId/members/:userId',
    {
      schema: {
        tags,
        security,
        summary: 'Remove a member (or leave)',
        params: Type.Object({ channelId: Id, userId: Id }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await removeMember(await ctx(request), request.params.channelId, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/channels/:channelId/read',
    {
      schema: {
        tags,
        security: schemaSecurity.userToken,
        summary: 'Mark read up to a sequence number (default: the newest message)',
        params: ChannelParams,
        body: Type.Optional(Type.Object({ seq: Type.Optional(Seq) }, { additionalProperties: false })),
        response: { 200: Type.Object({ member: Member }), ...errorResponses },
      },
    },
    async (request) => ({ member: await markRead(await ctx(request), request.params.channelId, request.body?.seq) }),
  );
};
