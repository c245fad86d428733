/**
 * Several real Natter server processes sharing one set of engines: the built server
 * (`node main.mjs`) spawned with its environment, as an operator runs it.
 *
 * The build: the server and the protocol are bundled from their current sources with tsup (as the
 * package's own build, without type declarations) into a directory of this run, next to this file
 * so that packages resolve from the workspace's node_modules. Why not `turbo run build` and
 * `packages/server/dist`: the declaration build takes minutes on a loaded machine, and its
 * `--clean` empties the shared `dist/` that other suites may be starting a server from; a private
 * bundle takes a second and is never changed under a running node.
 *
 * @example
 * const bundle = await buildServer();
 * const cluster = await startCluster(bundle, { engines: sharedEngines() });
 * const [a, b] = cluster.nodes; // a.url, b.url; cluster.admin creates tenants
 * await cluster.close();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '../harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const serverDir = join(here, '../..');
const protocolSrc = join(serverDir, '../protocol/src/index.ts');

/** Engine URLs handed to every node (unset ones mean the embedded default). */
export interface EngineUrls {
  mongodb: string;
  redis?: string;
  kafka?: string;
  elasticsearch?: string;
}

/** The shared engines of the test machine (`scripts/engines.sh`), as the other suites find them. */
export function sharedEngines(): EngineUrls {
  const env = process.env;
  return {
    mongodb: env.NATTER_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/',
    redis: env.NATTER_REDIS_URL ?? 'redis://127.0.0.1:6390',
    kafka: env.NATTER_KAFKA_BROKERS ?? '127.0.0.1:9092',
    // Optional: nodes index into SQLite files of their own without it.
    ...(env.NATTER_ELASTICSEARCH_URL ? { elasticsearch: env.NATTER_ELASTICSEARCH_URL } : {}),
  };
}

export interface ServerBundle {
  /** The entry to run with `node`. */
  main: string;
  remove(): Promise<void>;
}

/** Bundles the server from its sources into a fresh directory (about a second). */
export async function buildServer(): Promise<ServerBundle> {
  const { build } = await import('tsup');
  const pkg = JSON.parse(await readFile(join(serverDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const external = Object.keys(pkg.dependencies)
    .filter((name) => name !== '@natter/protocol')
    .map((name) => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/|$)`));
  const outDir = join(here, `.bundle-${process.pid}-${randomBytes(3).toString('hex')}`);
  await build({
    entry: { main: join(serverDir, 'src/main.ts') },
    format: ['esm'],
    target: 'node20',
    outDir,
    external,
    // The protocol from its sources too, not from its (possibly stale) dist.
    noExternal: ['@natter/protocol'],
    esbuildOptions(options) {
      options.alias = { '@natter/protocol': protocolSrc };
    },
    tsconfig: join(serverDir, 'tsconfig.json'),
    config: false,
    dts: false,
    silent: true,
    // tsup names ESM output .js or .mjs after the "type" of the package.json in the working
    // directory: name it the same from the repository root and from packages/server.
    outExtension: () => ({ js: '.mjs' }),
  });
  return { main: join(outDir, 'main.mjs'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

/**
 * A free TCP port on 127.0.0.1, below Linux's ephemeral range (32768+): a port taken with
 * `listen(0)` and released can be handed to an outgoing connection before the engine or node that
 * is given it binds it, and this machine makes many connections.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs: number,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

/** Nodes still running: killed if the test process exits without stopping them (a crash, a timeout). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One `node main.mjs` process. */
export class NatterNode {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The platform admin key it printed on a first start, if it did. */
  adminKey: readonly [string, string] | null = null;
  /** Everything it wrote (stdout and stderr), for failure messages. */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private exitedWith: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** Set by crash() and stop(): an exit without it is the node's own doing. */
  private meantToExit = false;

  constructor(
    readonly id: string,
    readonly port: number,
    main: string,
    env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    const take = (chunk: Buffer) => {
      // Bounded: a node logging at warn for minutes must not grow without end.
      this.output = (this.output + chunk.toString()).slice(-200_000);
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.exitedWith = { code, signal };
        resolve(this.exitedWith);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitedWith === null;
  }

  /** Resolves once it listens (and parses the admin key it printed, if any). */
  async ready(timeoutMs = 60_000): Promise<void> {
    await until(
      `${this.id} to listen`,
      () => {
        if (!this.alive)
          throw new Error(`${this.id} exited (${JSON.stringify(this.exitedWith)}):\n${this.output.slice(-3000)}`);
        return this.output.includes('Natter is listening on');
      },
      timeoutMs,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- ${this.id} output ---\n${this.output.slice(-3000)}`);
    });
    // The key is printed right after the listening line, in the same write.
    const key = /NATTER_ADMIN_KEY=([^:\s]+):(\S+)/.exec(this.output);
    if (key) this.adminKey = [key[1]!, key[2]!];
  }

  /** Why it exited although nobody stopped it (with its last output), or null. */
  unexpectedExit(): string | null {
    if (this.alive || this.meantToExit) return null;
    return `${this.id} exited by itself (${JSON.stringify(this.exitedWith)}):\n${this.output.slice(-4000)}`;
  }

  /** `kill -9`: no shutdown at all. */
  async crash(): Promise<void> {
    this.meantToExit = true;
    if (!this.alive) return;
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.meantToExit = true;
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.alive && this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface Cluster {
  nodes: NatterNode[];
  /** A client with the platform admin key (printed by the first node), against the first node. */
  admin: Client;
  /** The MongoDB database the nodes share. */
  dbName: string;
  /** Throws, with their output, if nodes exited without being stopped or crashed by the test. */
  checkNodes(): void;
  /** Stops every node still running and drops the database. Safe to call twice. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  engines: EngineUrls;
  /** Node ids, started in this order. @default ['node-a', 'node-b'] */
  nodeIds?: string[];
  /** Extra NATTER_* variables for every node. */
  env?: Record<string, string>;
}

/**
 * Starts nodes one after the other on one fresh MongoDB database (the first one creates the
 * platform key; the others find it and print none). On failure, stops what it started.
 */
export async function startCluster(bundle: ServerBundle, options: ClusterOptions): Promise<Cluster> {
  const { engines } = options;
  const dbName = `natter_mn_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const mongoUrl = withDatabase(engines.mongodb, dbName);
  const nodes: NatterNode[] = [];
  const dataDirs: string[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await Promise.allSettled(dataDirs.map((d) => rm(d, { recursive: true, force: true })));
    await dropDatabase(engines.mongodb, dbName).catch(() => undefined);
  };
  try {
    for (const id of options.nodeIds ?? ['node-a', 'node-b']) {
      const dataDir = await mkdtemp(join(tmpdir(), `natter-mn-${id}-`));
      dataDirs.push(dataDir);
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        NATTER_HOST: '127.0.0.1',
        NATTER_PORT: String(port),
        NATTER_NODE_ID: id,
        NATTER_DATA_DIR: dataDir,
        NATTER_LOG_LEVEL: process.env.NATTER_TEST_LOG ?? 'warn',
        NATTER_MONGODB_URL: mongoUrl,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        ...(engines.redis ? { NATTER_REDIS_URL: engines.redis } : {}),
        ...(engines.kafka ? { NATTER_KAFKA_BROKERS: engines.kafka } : {}),
        ...(engines.elasticsearch ? { NATTER_ELASTICSEARCH_URL: engines.elasticsearch } : {}),
        ...options.env,
      };
      const node = new NatterNode(id, port, bundle.main, env);
      nodes.push(node);
      await node.ready();
    }
    const key = nodes[0]?.adminKey;
    if (!key) throw new Error(`the first node printed no NATTER_ADMIN_KEY:\n${nodes[0]?.output.slice(-2000)}`);
    const checkNodes = () => {
      const exits = nodes.map((n) => n.unexpectedExit()).filter((e) => e !== null);
      if (exits.length > 0) throw new Error(exits.join('\n\n'));
    };
    return { nodes, admin: createClient(nodes[0]!.url, { basic: key }), dbName, checkNodes, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function withDatabase(url: string, dbName: string): string {
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  return u.toString();
}

async function dropDatabase(url: string, dbName: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close().catch(() => undefined);
  }
}
