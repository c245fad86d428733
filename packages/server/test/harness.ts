/**
 * Test harness: a real Natter server on a free port with a throw-away data directory, and a tiny
 * typed HTTP client. REST, realtime and SDK suites import it.
 *
 * @example
 * const h = await startTestServer({ NATTER_MAX_MESSAGE_LENGTH: '20' });
 * const acme = await createTenant(h);
 * await createUsers(acme, ['alice', 'bob']);
 * const alice = await userClient(acme, 'alice');
 * const res = await alice.api.post('/v1/channels', { type: 'group', members: ['bob'] });
 * // …
 * await h.close();
 *
 * Set `NATTER_TEST_LOG=debug` (or any log level) to see the server's logs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel } from '@natter/protocol';
import { loadConfig } from '../src/config.js';
import { type CreateServerOptions, createNatterServer, type NatterServer } from '../src/server.js';

/** How a request authenticates: an API key (`Basic id:secret`), a user token, or nothing. */
export type Auth = { basic: readonly [id: string, secret: string] } | { bearer: string } | null;

/**
 * Parsed JSON of an answer. Loosely typed on purpose: assertions walk it freely; pass a type
 * argument to the client's methods where a precise type helps.
 */
// biome-ignore lint/suspicious/noExplicitAny: test assertions navigate arbitrary JSON answers.
export type Json = any;

/** A response: status, headers, and `body` parsed as JSON (or the text when it is not JSON). */
export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

/** Options of {@link Client.request} for requests the verb shortcuts cannot make. */
export interface RawRequest {
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  /** Sent verbatim (invalid JSON, huge bodies, other media types). */
  raw?: string;
  /** Extra or overriding headers, e.g. `content-type`. */
  headers?: Record<string, string>;
}

/** A tiny HTTP client bound to a base URL and one set of credentials. */
export interface Client {
  get<T = Json>(path: string): Promise<ApiResponse<T>>;
  post<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  put<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  request<T = Json>(method: string, path: string, options?: RawRequest): Promise<ApiResponse<T>>;
}

/** The `Authorization` header value of `auth`, or undefined. */
export function authHeader(auth: Auth): string | undefined {
  if (auth === null) return undefined;
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return `Basic ${Buffer.from(`${auth.basic[0]}:${auth.basic[1]}`).toString('base64')}`;
}

/** A client for `baseUrl` sending `auth` (global fetch, keep-alive). */
export function createClient(baseUrl: string, auth: Auth): Client {
  async function request<T>(method: string, path: string, options: RawRequest = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    const authorization = authHeader(auth);
    if (authorization) headers.authorization = authorization;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers);
    const res = await fetch(new URL(path, baseUrl), { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  const verb =
    (method: string) =>
    <T>(path: string, body?: unknown) =>
      request<T>(method, path, body === undefined ? {} : { body });
  return {
    get: (path) => request('GET', path),
    post: verb('POST'),
    patch: verb('PATCH'),
    put: verb('PUT'),
    delete: verb('DELETE'),
    request,
  };
}

export interface TestServer {
  server: NatterServer;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Client with the platform-admin key. */
  admin: Client;
  /** The platform-admin key, as `[id, secret]`. */
  adminKey: readonly [string, string];
  /** A client for this server with other credentials. */
  api(auth: Auth): Client;
  /** Closes the server and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, port 0, with a fresh data directory under the OS temp dir, logs
 * silenced (unless `NATTER_TEST_LOG`) and rate limits practically off (set `NATTER_RATE_USER` /
 * `NATTER_RATE_TENANT` to test them). `env` adds or overrides `NATTER_*` variables; `options` are
 * passed to `createNatterServer` (e.g. a `now` clock or a `store`).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: CreateServerOptions = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'natter-test-'));
  const config = loadConfig({
    NATTER_HOST: '127.0.0.1',
    NATTER_PORT: '0',
    NATTER_DATA_DIR: dataDir,
    NATTER_LOG_LEVEL: process.env.NATTER_TEST_LOG ? process.env.NATTER_TEST_LOG : 'silent',
    // Rate limits off unless a test sets them: a bucket refilling with the wall clock would make
    // outcomes depend on how fast the machine runs the suite.
    NATTER_RATE_USER: '1000000',
    NATTER_RATE_TENANT: '10000000',
    ...env,
  });
  let server: NatterServer;
  try {
    server = await createNatterServer(config, options);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = await server.listen();
  if (!server.bootstrapKey) throw new Error('a fresh data directory must yield a bootstrap key');
  const adminKey = [server.bootstrapKey.id, server.bootstrapKey.secret] as const;
  let closed = false;
  return {
    server,
    url,
    admin: createClient(url, { basic: adminKey }),
    adminKey,
    api: (auth) => createClient(url, auth),
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tenant created through the admin API, with a client holding its first API key. */
export interface TestTenant {
  harness: TestServer;
  tenantId: string;
  /** Its first API key, as `[id, secret]`. */
  key: readonly [string, string];
  /** Client with the tenant API key (the tenant backend). */
  api: Client;
}

function expectStatus(res: ApiResponse, status: number, what: string): void {
  if (res.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
}

let tenantCounter = 0;

/** Creates a tenant (a unique name by default). */
export async function createTenant(h: TestServer, name?: string): Promise<TestTenant> {
  tenantCounter += 1;
  const res = await h.admin.post('/v1/admin/tenants', { name: name ?? `Tenant ${tenantCounter}` });
  expectStatus(res, 201, 'createTenant');
  const key = [res.body.apiKey.id as string, res.body.apiKey.secret as string] as const;
  return { harness: h, tenantId: res.body.tenant.id, key, api: h.api({ basic: key }) };
}

/** Creates users by id (name = id, role member unless given as `{ id, role }`). */
export async function createUsers(
  tenant: TestTenant,
  users: (string | { id: string; role?: 'admin' | 'moderator' | 'member' | 'guest'; name?: string })[],
): Promise<void> {
  const body = users.map((u) => (typeof u === 'string' ? { id: u, name: u } : u));
  const res = await tenant.api.post('/v1/users', { users: body });
  expectStatus(res, 200, 'createUsers');
}

/** A client acting as `userId`, with the token it sends. */
export interface TestUser {
  userId: string;
  token: string;
  api: Client;
}

/** Mints a token for an existing user and returns a client sending it. */
export async function userClient(tenant: TestTenant, userId: string, ttlSeconds?: number): Promise<TestUser> {
  const res = await tenant.api.post(
    `/v1/users/${encodeURIComponent(userId)}/tokens`,
    ttlSeconds === undefined ? undefined : { ttlSeconds },
  );
  expectStatus(res, 201, 'userClient');
  const token: string = res.body.token;
  return { userId, token, api: tenant.harness.api({ bearer: token }) };
}

/** Creates a channel with `client` (backend or user) and returns it; throws unless 201. */
export async function createChannel(client: Client, input: Record<string, unknown>): Promise<Channel> {
  const res = await client.post<{ channel: Channel }>('/v1/channels', input);
  expectStatus(res, 201, 'createChannel');
  return res.body.channel;
}
