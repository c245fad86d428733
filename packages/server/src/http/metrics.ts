/**
 * Prometheus metrics (prom-client), on `/metrics`. One registry per server instance so tests can
 * run several servers in one process.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  messagesStored: Counter;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  instrument(app: FastifyInstance): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'natter_' });
  const messagesStored = new Counter({
    name: 'natter_messages_stored_total',
    help: 'Messages durably stored.',
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'natter_http_request_duration_seconds',
    help: 'REST request duration by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return {
    registry,
    messagesStored,
    httpDuration,
    instrument(app) {
      app.addHook('onResponse', async (request, reply) => {
        httpDuration.observe(
          { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
          reply.elapsedTime / 1000,
        );
      });
    },
  };
}
