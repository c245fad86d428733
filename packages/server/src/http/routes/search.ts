/**
 * Message search over the channels the caller may read.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SearchIndex } from '../../ports/search.js';
import { searchMessages } from '../../services/search.js';
import type { HttpDeps } from '../app.js';
import { tenantContext } from '../request-context.js';
import { errorResponses, Id, Message, security } from '../schemas.js';

export const searchRoutes: FastifyPluginAsync<HttpDeps & { search: SearchIndex }> = async (
  fastify,
  { store, services, search },
) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/search',
    {
      schema: {
        tags: ['search'],
        security: security.either,
        summary: 'Full-text search of messages in the channels the caller may read',
        description:
          'The index follows the store from the event bus: a message is searchable shortly after it is stored, under load up to `NATTER_SEARCH_BATCH_MS` (default 20 ms) later. Encrypted messages are never indexed.',
        querystring: Type.Object(
          {
            q: Type.String({ minLength: 1, maxLength: 256 }),
            channelId: Type.Optional(Id),
            userId: Type.Optional(Id),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            results: Type.Array(Type.Object({ message: Message, highlight: Type.String() })),
            total: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { q, channelId, userId, limit, offset } = request.query;
      return searchMessages(await tenantContext(store, services, request), search, {
        q,
        limit: limit ?? 20,
        offset: offset ?? 0,
        ...(channelId !== undefined ? { channelId } : {}),
        ...(userId !== undefined ? { userId } : {}),
      });
    },
  );
};
