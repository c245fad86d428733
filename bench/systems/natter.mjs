/**
 * Natter on its embedded defaults (SQLite store, in-process bus), started from the built server.
 * Setup goes through the public REST API exactly as the README's walk-through does.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectorUrl } from '../lib/gc.mjs';
import { http, pool } from '../lib/http.mjs';
import { freePort, spawnServer } from '../lib/spawn.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_MAIN = join(ROOT, 'packages', 'server', 'dist', 'main.js');

/** The Node flags of the root `npm start` script, which the Docker image's CMD repeats. */
export const NODE_FLAGS = startFlags(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start);

function startFlags(script) {
  const m = /\bnode((?:\s+--\S+)*)\s+packages\/server\/dist\/main\.js/.exec(script);
  if (!m) throw new Error(`the root start script does not run packages/server/dist/main.js: ${script}`);
  return m[1].trim().split(/\s+/).filter(Boolean);
}

export const natter = {
  name: 'natter',
  label: 'Natter',
  client: 'natter',
  durable: true,
  notes: 'embedded defaults: SQLite (WAL) store, in-process bus; every message persisted before fan-out',
  /** The server entry point: the working tree's build, or one built from a git ref by run.mjs. */
  main: DEFAULT_MAIN,
  /** Extra environment of a variant (see below). */
  env: {},
  /** Node/V8 flags after `npm start`'s (`--ab-node-flags`). */
  nodeFlags: [],

  async start({ profileDir, inspect } = {}) {
    const MAIN = natter.main;
    if (!existsSync(MAIN)) {
      throw new Error(`${MAIN} is missing: build it with npx turbo run build --filter=@natter/server...`);
    }
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'natter-bench-'));
    // Started the way `npm start` and the Docker image start it (docs/self-hosting.md, "Node flags").
    const nodeArgs = [...NODE_FLAGS, ...this.nodeFlags];
    if (profileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    if (inspect) nodeArgs.push('--inspect=127.0.0.1:0');
    const proc = await spawnServer('natter', process.execPath, [...nodeArgs, MAIN], {
      cwd: ROOT,
      env: {
        NATTER_HOST: '127.0.0.1',
        NATTER_PORT: String(port),
        NATTER_DATA_DIR: dataDir,
        NATTER_LOG_LEVEL: 'warn',
        // Load-test settings: the per-connection frame limit and the per-user / per-tenant write
        // limits would otherwise refuse the generator's traffic (they protect real deployments).
        NATTER_WS_FRAMES_PER_SECOND: '100000',
        NATTER_RATE_USER: '1000000',
        NATTER_RATE_TENANT: '10000000',
        ...this.env,
      },
      ready: (out) => /NATTER_ADMIN_KEY=\S+/.test(out) && (!inspect || inspectorUrl(out) !== null),
    });
    const adminKey = /NATTER_ADMIN_KEY=(\S+)/.exec(proc.output())[1];
    const url = `http://127.0.0.1:${port}`;
    return {
      pid: proc.pid,
      url,
      wsUrl: `ws://127.0.0.1:${port}/v1/realtime`,
      adminKey,
      inspector: inspect ? inspectorUrl(proc.output()) : null,
      output: () => proc.output(),
      async stop() {
        // SIGINT lets --cpu-prof write its profile; the server handles both signals gracefully.
        await proc.stop(profileDir ? 'SIGINT' : 'SIGTERM');
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },

  /**
   * Creates a tenant, `plan.users` users (u0…), a token each, and the plan's channels.
   * @param plan {{ users: number, channels: { id: string, members: number[], owners?: number[] }[] }}
   */
  async prepare(h, plan) {
    const { apiKey } = await http('POST', `${h.url}/v1/admin/tenants`, {
      auth: h.adminKey,
      body: { id: 'bench', name: 'Bench' },
    });
    const key = `${apiKey.id}:${apiKey.secret}`;
    const ids = Array.from({ length: plan.users }, (_, i) => `u${i}`);
    const batches = [];
    for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
    await pool(batches, 4, (batch) =>
      http('POST', `${h.url}/v1/users`, { auth: key, body: { users: batch.map((id) => ({ id })) } }),
    );
    const tokens = await pool(ids, 32, async (id) => {
      const res = await http('POST', `${h.url}/v1/users/${id}/tokens`, { auth: key, body: { ttlSeconds: 7200 } });
      return res.token;
    });
    await pool(plan.channels, 8, async (ch) => {
      const owners = new Set(ch.owners ?? []);
      const members = ch.members.map((i) => ({ userId: ids[i], role: owners.has(i) ? 'owner' : 'member' }));
      await http('POST', `${h.url}/v1/channels`, {
        auth: key,
        body: { id: ch.id, type: 'group', members: members.slice(0, 1000) },
      });
      for (let i = 1000; i < members.length; i += 1000) {
        await http('POST', `${h.url}/v1/channels/${ch.id}/members`, {
          auth: key,
          body: { members: members.slice(i, i + 1000) },
        });
      }
    });
    return { users: ids.map((id, i) => ({ id, token: tokens[i] })), conn: { url: h.wsUrl } };
  },
};

/**
 * Natter variants, started like `natter` (same build, same setup) with a few variables more.
 * Each is reported as a Natter row of its own; the goals are judged on `natter` (the defaults).
 */
function variant(name, label, notes, env) {
  return {
    ...natter,
    name,
    label,
    notes,
    env,
    get main() {
      return natter.main;
    },
  };
}

/** Both cores: NATTER_WORKERS=2 (docs/self-hosting.md, "Using every core"). */
export const natterWorkers = variant(
  'natter-workers',
  'Natter ×2 workers',
  'embedded defaults with NATTER_WORKERS=2: two worker processes share the port, a primary runs the outbox relay, search indexing, presence and rate limits',
  { NATTER_WORKERS: '2' },
);

/** Redis as the broker (events and signals on Redis Streams / pub-sub), store still SQLite. */
export const natterRedis = variant(
  'natter-redis',
  'Natter + Redis',
  'SQLite store with Redis as the bus, presence and rate limiter: what a node of a cluster does',
  { NATTER_REDIS_URL: process.env.NATTER_REDIS_URL || 'redis://127.0.0.1:6390' },
);
