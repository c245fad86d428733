/**
 * The OpenAPI document: every route, with its security scheme, and the interactive docs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { ROUTES } from './routes.js';

interface Operation {
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  summary?: string;
}

let h: TestServer;
let doc: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

beforeAll(async () => {
  h = await startTestServer();
  const res = await h.api(null).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => h.close());

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const documented = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => HTTP_METHODS.has(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 with the two security schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(doc.components.securitySchemes.userToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('lists every route, and no route the tests do not know', () => {
    const expected = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented().sort()).toEqual(expected);
  });

  it.each(ROUTES.filter((r) => r.access !== 'public').map((r) => [r.method, r.path, r] as const))(
    '%s %s names its security scheme and documents its error answers',
    (method, path, route) => {
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op?.summary).toEqual(expect.any(String));
      const schemes = (op?.security ?? []).flatMap((s) => Object.keys(s));
      expect(schemes.length).toBeGreaterThan(0);
      for (const scheme of schemes) expect(doc.components.securitySchemes).toHaveProperty(scheme);
      if (route.access === 'platform') expect(schemes).toEqual(['apiKey']);
      for (const status of ['400', '401', '403', '404']) expect(op?.responses).toHaveProperty(status);
    },
  );

  it('user-token-only and API-key-only routes say so', () => {
    const schemesOf = (method: string, path: string) =>
      (doc.paths[path]?.[method]?.security ?? []).flatMap((s) => Object.keys(s));
    expect(schemesOf('get', '/v1/me')).toEqual(['userToken']);
    expect(schemesOf('post', '/v1/channels/{channelId}/read')).toEqual(['userToken']);
    expect(schemesOf('post', '/v1/users')).toEqual(['apiKey']);
    expect(schemesOf('post', '/v1/users/{userId}/tokens')).toEqual(['apiKey']);
    expect(schemesOf('post', '/v1/channels/{channelId}/messages').sort()).toEqual(['apiKey', 'userToken']);
  });

  it('serves the interactive docs at /docs', async () => {
    const res = await h.api(null).get('/docs/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });
});
