/**
 * Messages: history, send (idempotent by client message id), edit, delete, threads, reactions.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { deleteMessage, editMessage, getMessage, history, react, sendMessage } from '../../services/messages.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import {
  EditMessageBody,
  errorResponses,
  Id,
  Limit,
  Message,
  SendMessageBody,
  Seq,
  security as schemaSecurity,
} from '../schemas.js';

const security = schemaSecurity.either;
const tags = ['messages'];
const MessageParams = Type.Object({ channelId: Id, messageId: Id });
const MessageBody = Type.Object({ message: Message });
const HistoryQuery = Type.Object(
  { before: Type.Optional(Seq), after: Type.Optional(Seq), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
const Messages = Type.Object({ messages: Type.Array(Message) });
const ReactionParams = Type.Object({ channelId: Id, messageId: Id, type: Type.String({ pattern: '^[^\\s]{1,64}$' }) });
const ReactionQuery = Type.Object({ userId: Type.Optional(Id) }, { additionalProperties: false });

export const messageRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, services, metrics }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (request: Parameters<typeof tenantContext>[2]) => tenantContext(store, services, request);

  app.get(
    '/channels/:channelId/messages',
    {
      schema: {
        tags,
        security,
        summary: 'History by sequence number: before or after a seq, ascending',
        params: Type.Object({ channelId: Id }),
        querystring: HistoryQuery,
        response: { 200: Messages, ...errorResponses },
      },
    },
    async (request) => ({ messages: await history(await ctx(request), request.params.channelId, request.query) }),
  );

  app.post(
    '/channels/:channelId/messages',
    {
      schema: {
        tags,
        security,
        summary:
          'Send a message. A retry with the same clientMsgId returns the stored message (200) instead of a new one (201).',
        params: Type.Object({ channelId: Id }),
        body: SendMessageBody,
        response: { 200: MessageBody, 201: MessageBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { message, created } = await sendMessage(await ctx(request), request.params.channelId, request.body);
      if (created) metrics.messagesStored.inc();
      return reply.status(created ? 201 : 200).send({ message });
    },
  );

  app.get(
    '/channels/:channelId/messages/:messageId',
    {
      schema: {
        tags,
        security,
        summary: 'Get a message',
        params: MessageParams,
        response: { 200: MessageBody, ...errorResponses },
      },
    },
    async (request) => ({
      message: await getMessage(await ctx(request), request.params.channelId, request.params.messageId),
    }),
  );

  app.patch(
    '/channels/:channelId/messages/:messageId',
    {
      schema: {
        tags,
        security,
        summary: 'Edit your message',
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: MessageBody, ...errorResponses },
      },
    },
    async (request) => ({
      message: await editMessage(await ctx(request), request.params.channelId, request.params.messageId, request.body),
    }),
  );

  app.delete(
    '/channels/:channelId/messages/:messageId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a message (soft: a tombstone keeps its seq)',
        params: MessageParams,
        response: { 200: MessageBody, ...errorResponses },
      },
    },
    async (request) => ({
      message: await deleteMessage(await ctx(request), request.params.channelId, request.params.messageId),
    }),
  );

  app.get(
    '/channels/:channelId/messages/:messageId/replies',
    {
      schema: {
        tags,
        security,
        summary: 'Thread replies, ascending by seq',
        params: MessageParams,
        querystring: HistoryQuery,
        response: { 200: Messages, ...errorResponses },
      },
    },
    async (request) => ({
      messages: await history(await ctx(request), request.params.channelId, {
        ...request.query,
        parentId: request.params.messageId,
      }),
    }),
  );

  app.put(
    '/channels/:channelId/messages/:messageId/reactions/:type',
    {
      schema: {
        tags,
        security,
        summary: 'Add a reaction (idempotent). The backend names the user with ?userId=.',
        params: ReactionParams,
        querystring: ReactionQuery,
        response: { 200: MessageBody, ...errorResponses },
      },
    },
    async (request) => {
      const { channelId, messageId, type } = request.params;
      return { message: await react(await ctx(request), channelId, messageId, type, true, request.query.userId) };
    },
  );

  app.delete(
    '/channels/:channelId/messages/:messageId/reactions/:type',
    {
      schema: {
        tags,
        security,
        summary: 'Remove a reaction',
        params: ReactionParams,
        querystring: ReactionQuery,
        response: { 200: MessageBody, ...errorResponses },
      },
    },
    async (request) => {
      const { channelId, messageId, type } = request.params;
      return { message: await react(await ctx(request), channelId, messageId, type, false, request.query.userId) };
    },
  );
};
