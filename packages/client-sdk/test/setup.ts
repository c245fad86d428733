/**
 * Integration helpers: a real Natter server in-process (REST harness from the server package),
 * and SDK clients connected to it over real sockets with the `ws` package.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientOptions, createClient as createNatterClient, type NatterClient } from '@natter/client';
import WebSocket from 'ws';
import { createNatterServer, loadConfig } from '../../server/src/index.js';
import {
  createClient as createHttpClient,
  createTenant,
  createUsers,
  type TestServer,
  type TestTenant,
  userClient,
} from '../../server/test/harness.js';

export type { TestServer, TestTenant } from '../../server/test/harness.js';
export { createChannel, createTenant, createUsers, startTestServer, userClient } from '../../server/test/harness.js';

/** Every `ws` socket the SDK opened, newest last: tests cut them to simulate network failures. */
export const sockets: TrackedWebSocket[] = [];

/** A simulated network partition: while `down`, new sockets fail to connect (port 1 refuses). */
export const network = { down: false };

/**
 * The `ws` class, recording its instances in {@link sockets}, failing while {@link network} is
 * down, and able to lose an answer: with `dropReplies > 0`, the next reply frame is swallowed and
 * the socket terminated, as if the network died after the server stored the request.
 */
export class TrackedWebSocket extends WebSocket {
  dropReplies = 0;

  constructor(url: string, protocols: string[]) {
    super(network.down ? 'ws://127.0.0.1:1/v1/realtime' : url, protocols);
    sockets.push(this);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && this.dropReplies > 0 && String(args[0]).startsWith('{"type":"reply"')) {
      this.dropReplies--;
      this.terminate();
      return false;
    }
    return super.emit(event, ...args);
  }
}

const socketsByClient = new WeakMap<NatterClient, TrackedWebSocket[]>();

/** The newest socket opened by `client`. */
export function socketOf(client: NatterClient): TrackedWebSocket {
  const socket = socketsByClient.get(client)?.at(-1);
  if (!socket) throw new Error('this client opened no socket');
  return socket;
}

/** A free TCP port on 127.0.0.1 (so a restarted server can come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A server on a given port and data directory that can be stopped and started again (same data,
 * same port): what the harness's `startTestServer` cannot do.
 */
export async function restartableServer(env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'natter-sdk-'));
  const port = await freePort();
  const config = loadConfig({
    NATTER_HOST: '127.0.0.1',
    NATTER_PORT: String(port),
    NATTER_DATA_DIR: dataDir,
    NATTER_LOG_LEVEL: process.env.NATTER_TEST_LOG ?? 'silent',
    ...env,
  });
  let server = await createNatterServer(config);
  const url = await server.listen();
  const adminKey = [server.bootstrapKey?.id ?? '', server.bootstrapKey?.secret ?? ''] as const;
  let running = true;
  const h: TestServer = {
    get server() {
      return server;
    },
    url,
    admin: createHttpClient(url, { basic: adminKey }),
    adminKey,
    api: (auth) => createHttpClient(url, auth),
    async close() {
      if (running) await server.close();
      running = false;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return {
    h,
    async stop() {
      await server.close();
      running = false;
    },
    async start() {
      server = await createNatterServer(config);
      await server.listen();
      running = true;
    },
  };
}

/** A tenant with users, each able to get an SDK client. */
export async function tenantWith(h: TestServer, userIds: string[]): Promise<TestTenant> {
  const tenant = await createTenant(h);
  await createUsers(tenant, userIds);
  return tenant;
}

const clients: NatterClient[] = [];

/** An SDK client for `userId` (tokens minted by the tenant backend), not yet connected. */
export async function sdkClient(
  tenant: TestTenant,
  userId: string,
  options: Partial<ClientOptions> = {},
): Promise<NatterClient> {
  const own: TrackedWebSocket[] = [];
  const client = createNatterClient({
    url: tenant.harness.url,
    getToken: async () => (await userClient(tenant, userId)).token,
    WebSocket: class extends TrackedWebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        own.push(this);
      }
    },
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
    timeout: 3000,
    ...options,
  });
  clients.push(client);
  socketsByClient.set(client, own);
  return client;
}

/** A connected SDK client. */
export async function connected(tenant: TestTenant, userId: string, options: Partial<ClientOptions> = {}) {
  const client = await sdkClient(tenant, userId, options);
  client.connect();
  await waitFor(() => client.state === 'connected');
  return client;
}

/** Disconnects every client made by {@link sdkClient} (call in afterEach/afterAll). */
export function disconnectAll(): void {
  for (const c of clients.splice(0)) c.disconnect();
}

/** Polls `check` until it returns truthy; fails with `what` after `timeout` ms. */
export async function waitFor<T>(check: () => T, timeout = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Texts of a channel's local messages, in order. */
export function texts(client: NatterClient, channelId: string): (string | null)[] {
  return (client.store.getSnapshot().channels[channelId]?.messages ?? []).map((m) => m.text);
}
