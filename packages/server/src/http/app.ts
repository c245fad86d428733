/**
 * The REST application: fastify with Natter's validation, error shape, OpenAPI and routes.
 * Listening is the caller's business (see `server.ts`), so tests use `inject` or a real port.
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { NatterError, toNatterError } from '../errors.js';
import type { EventBus } from '../ports/bus.js';
import type { SearchIndex } from '../ports/search.js';
import type { Store } from '../ports/store.js';
import type { ServiceDeps } from '../services/context.js';
import { registerJsonParser } from './json-body.js';
import type { Metrics } from './metrics.js';
import { adminRoutes } from './routes/admin.js';
import { channelRoutes } from './routes/channels.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { moderationRoutes } from './routes/moderation.js';
import { policyRoutes } from './routes/policy.js';
import { searchRoutes } from './routes/search.js';
import { userRoutes } from './routes/users.js';
import { validationError, validatorCompiler } from './validation.js';

export interface HttpDeps {
  store: Store;
  /** For signals other nodes must hear (a tenant's deletion). */
  bus: EventBus;
  search: SearchIndex;
  services: ServiceDeps;
  metrics: Metrics;
  bodyLimit: number;
  loggerLevel: string;
  /** Extra readiness checks (engines), run by `/health/ready`. */
  readyChecks?: (() => Promise<void>)[];
}

/** fastify's own error codes that are the client's fault. */
const FASTIFY_CLIENT_ERRORS: Record<string, NatterError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: new NatterError('NATTER_REQUEST_TOO_LARGE'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new NatterError('NATTER_REQUEST_UNSUPPORTED_MEDIA'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: new NatterError(
    'NATTER_REQUEST_INVALID',
    'Content-Length does not match the body.',
  ),
  FST_ERR_CTP_EMPTY_JSON_BODY: new NatterError('NATTER_REQUEST_INVALID', 'body is empty; send a JSON object.', {
    field: 'body',
  }),
  FST_ERR_CTP_INVALID_JSON_BODY: new NatterError('NATTER_REQUEST_INVALID', 'body is not valid JSON.', {
    field: 'body',
  }),
};

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.loggerLevel },
    bodyLimit: deps.bodyLimit,
    // One log line per request only when debugging: at chat rates it would dominate the logs.
    logController: new LogController({
      disableRequestLogging: deps.loggerLevel !== 'debug' && deps.loggerLevel !== 'trace',
    }),
    schemaErrorFormatter: (errors, part) => validationError(part, errors),
    return503OnClosing: true,
    forceCloseConnections: true,
    // Ids may be 128 characters and reaction types 64 (URL-encoded, up to 12 bytes each): long
    // params must reach schema validation, which names the field, instead of the router's 414.
    routerOptions: { maxParamLength: 1024 },
    // The router's own refusals (a malformed %-escape, a param past the limit above) in Natter's shape.
    frameworkErrors: (err, _request, reply: FastifyReply) => {
      const error = new NatterError('NATTER_REQUEST_INVALID', `The URL is invalid (${err.code}).`, { field: 'params' });
      return reply.status(error.status).send({ error: error.toBody() });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  registerJsonParser(app);

  app.setErrorHandler((err: FastifyError | NatterError | Error, request, reply) => {
    let error: NatterError;
    if (err instanceof NatterError) error = err;
    else if ('code' in err && typeof err.code === 'string' && FASTIFY_CLIENT_ERRORS[err.code]) {
      error = FASTIFY_CLIENT_ERRORS[err.code] as NatterError;
    } else if (err instanceof SyntaxError || ('statusCode' in err && err.statusCode === 400)) {
      error = new NatterError('NATTER_REQUEST_INVALID', 'body is not valid JSON.', { field: 'body' });
    } else {
      error = toNatterError(err);
      request.log.error({ err }, 'unhandled error');
    }
    // Both 429s say when to come back, in the body and (for HTTP clients and proxies) the header.
    if (
      (error.code === 'NATTER_RATE_LIMITED' || error.code === 'NATTER_SLOW_MODE') &&
      error.details?.retryAfter !== undefined
    ) {
      void reply.header('retry-after', String(error.details.retryAfter));
    }
    return reply.status(error.status).send({ error: error.toBody() });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new NatterError('NATTER_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`);
    return reply.status(404).send({ error: error.toBody() });
  });

  // Browsers on any origin may call the API: credentials travel in the Authorization header,
  // never in cookies, so a cross-origin page can only use a token it was given.
  await app.register(cors, {
    origin: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after'],
    maxAge: 600,
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Natter REST API',
        version: '1',
        description: 'Chat as a service. See docs/rest.md for the walk-through.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'basic',
            description: 'API key id and secret (tenant backend or platform admin).',
          },
          userToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'User token minted by the tenant backend.',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  deps.metrics.instrument(app);
  await app.register(healthRoutes, deps);
  await app.register(adminRoutes, { prefix: '/v1/admin', ...deps });
  await app.register(userRoutes, { prefix: '/v1', ...deps });
  await app.register(channelRoutes, { prefix: '/v1', ...deps });
  await app.register(messageRoutes, { prefix: '/v1', ...deps });
  await app.register(searchRoutes, { prefix: '/v1', ...deps });
  await app.register(policyRoutes, { prefix: '/v1', ...deps });
  await app.register(moderationRoutes, { prefix: '/v1', ...deps });
  return app;
}
