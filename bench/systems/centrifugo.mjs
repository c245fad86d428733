/**
 * Centrifugo v6 (memory engine), built from the Go module proxy on first use into
 * ${NATTER_BENCH_HOME:-~/.cache/natter-bench}/bin and never committed. Clients speak its JSON
 * protocol over raw WebSocket; broadcast publishes go through its HTTP API, as an app backend would.
 * Centrifugo stores nothing durably, so "persisted sends" is n/a for it.
 */
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnServer, waitFor } from '../lib/spawn.mjs';

const run = promisify(execFile);
const MODULE = 'github.com/centrifugal/centrifugo/v6';
export const CENTRIFUGO_NAMESPACE = 'chat';
/** Tried when the proxy's version list cannot be read. */
const FALLBACK_VERSION = 'v6.1.0';

const cacheDir = () => process.env.NATTER_BENCH_HOME || join(homedir(), '.cache', 'natter-bench');

/** Newest v6 release on the module proxy (no pre-releases). */
async function latestVersion() {
  const { stdout } = await run('go', ['list', '-m', '-versions', MODULE], { cwd: tmpdir(), timeout: 90000 });
  const versions = stdout
    .trim()
    .split(/\s+/)
    .slice(1)
    .filter((v) => /^v6\.\d+\.\d+$/.test(v));
  if (versions.length === 0) throw new Error(`no v6 release listed for ${MODULE}`);
  return versions.at(-1);
}

/** Returns the path of a centrifugo binary of the wanted version, building it if needed. */
export async function ensureCentrifugo(wanted, timeoutS, log) {
  const bin = join(cacheDir(), 'bin');
  const exe = join(bin, 'centrifugo');
  const stamp = join(bin, 'centrifugo.version');
  const cached = existsSync(exe) && existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : null;
  let version = wanted;
  if (wanted === 'latest') {
    try {
      version = await latestVersion();
    } catch (err) {
      const why = (err.stderr || err.message || '').trim().split('\n').slice(-2).join(' ');
      if (cached) {
        log(`centrifugo: could not list versions (${why}); using cached ${cached}`);
        return { exe, version: cached };
      }
      log(`centrifugo: could not list versions (${why}); trying ${FALLBACK_VERSION}`);
      try {
        return await ensureCentrifugo(FALLBACK_VERSION, timeoutS, log);
      } catch (err2) {
        throw new Error(`cannot list ${MODULE} versions on the Go module proxy (${why}); ${err2.message}`);
      }
    }
  }
  if (cached === version) return { exe, version };
  mkdirSync(bin, { recursive: true });
  log(`centrifugo: building ${MODULE}@${version} (go install, up to ${timeoutS}s; cached afterwards)…`);
  try {
    await run('go', ['install', `${MODULE}@${version}`], {
      cwd: tmpdir(),
      env: { ...process.env, GOBIN: bin, CGO_ENABLED: '0' },
      timeout: timeoutS * 1000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const why = (err.stderr || err.message || '').trim().split('\n').slice(-3).join(' ');
    throw new Error(`go install ${MODULE}@${version} failed: ${err.killed ? `timed out after ${timeoutS}s` : why}`);
  }
  writeFileSync(stamp, `${version}\n`);
  return { exe, version };
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** HS256 connection token with `sub` and `exp`, as the app backend mints it. */
export function centrifugoToken(secret, sub, ttlSeconds = 7200) {
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url({ sub, exp: Math.floor(Date.now() / 1000) + ttlSeconds });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export const centrifugo = {
  name: 'centrifugo',
  label: 'Centrifugo',
  client: 'centrifugo',
  durable: false,
  notes:
    'Centrifugo v6, memory engine, history_size 1000 + force_recovery in namespace "chat"; broadcast via HTTP API /api/publish; no storage',
  version: null,

  async start(opts, log) {
    const { exe, version } = await ensureCentrifugo(opts['centrifugo-version'], opts['centrifugo-build-timeout'], log);
    centrifugo.version = version;
    centrifugo.label = `Centrifugo ${version}`;
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'centrifugo-bench-'));
    const secret = randomBytes(32).toString('hex');
    const apiKey = randomBytes(16).toString('hex');
    // v6 configuration layout (sections client / channel / http_api / http_server / log).
    const config = {
      client: { token: { hmac_secret_key: secret }, allowed_origins: ['*'] },
      http_api: { key: apiKey },
      http_server: { address: '127.0.0.1', port },
      log: { level: 'error' },
      channel: {
        namespaces: [
          {
            name: CENTRIFUGO_NAMESPACE,
            allow_subscribe_for_client: true,
            allow_publish_for_subscriber: true,
            history_size: 1000,
            history_ttl: '600s',
            force_recovery: true,
          },
        ],
      },
    };
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    const proc = await spawnServer('centrifugo', exe, ['--config', file], {
      env: { CENTRIFUGO_HTTP_SERVER_PORT: String(port), CENTRIFUGO_HTTP_SERVER_ADDRESS: '127.0.0.1' },
      ready: () => true,
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.output().slice(-1500)}`);
          const res = await fetch(`${url}/api/info`, { method: 'POST', headers: { 'x-api-key': apiKey }, body: '{}' });
          return res.ok;
        },
        20000,
        'centrifugo /api/info',
      );
    } catch (err) {
      await proc.stop();
      throw new Error(`${err.message}\noutput: ${proc.output().slice(-1500)}`);
    }
    return {
      pid: proc.pid,
      url,
      secret,
      apiKey,
      async stop() {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },

  async prepare(h, plan) {
    const users = Array.from({ length: plan.users }, (_, i) => ({
      id: `u${i}`,
      token: centrifugoToken(h.secret, `u${i}`),
    }));
    const wsUrl = `${h.url.replace('http', 'ws')}/connection/websocket`;
    return { users, conn: { url: wsUrl, apiUrl: `${h.url}/api`, apiKey: h.apiKey, namespace: CENTRIFUGO_NAMESPACE } };
  },
};
