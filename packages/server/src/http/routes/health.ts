/**
 * Liveness, readiness (the store and any engines answer) and Prometheus metrics.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../app.js';

export const healthRoutes: FastifyPluginAsync<HttpDeps> = async (app, { store, metrics, readyChecks = [] }) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], summary: 'The store and engines answer' } },
    async (request, reply) => {
      try {
        await store.ping();
        for (const check of readyChecks) await check();
        return { status: 'ready' };
      } catch (err) {
        request.log.warn({ err }, 'not ready');
        return reply.status(503).send({ status: 'unavailable' });
      }
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
};
