#!/usr/bin/env node
/**
 * REST send throughput: C concurrent keep-alive clients, each a user with its own token, send
 * messages through `POST /v1/channels/:id/messages` for a fixed duration. Prints messages/s and
 * latency percentiles, then reads every channel's history back and checks that each acknowledged
 * message is stored exactly once and that sequence numbers have no gaps.
 *
 * Usage (see bench/README.md):
 *   npx turbo run build --filter=@natter/server...
 *   node bench/rest-sends.mjs --duration 10 --concurrency 64 --channels 50
 *
 * With NATTER_URL and NATTER_ADMIN_KEY=id:secret it uses that server; otherwise it starts
 * `packages/server/dist/main.js` with a temporary data directory and reads the admin key from its
 * first-start output. HTTP goes through Node's global fetch (undici inside, keep-alive pooling).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    channels: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '2' },
    text: { type: 'string', default: '64' },
    via: { type: 'string', default: 'uws' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'node bench/rest-sends.mjs [--duration s] [--concurrency n] [--channels n] [--warmup s] [--text bytes] [--via uws|fastify]',
  );
  process.exit(0);
}
const DURATION = Number(args.duration) * 1000;
const CONCURRENCY = Number(args.concurrency);
const CHANNELS = Number(args.channels);
const WARMUP = Number(args.warmup) * 1000;
const TEXT = 'x'.repeat(Number(args.text));

// ---------------------------------------------------------------------------------------------
// The server: given, or started here.

async function startServer() {
  // --via fastify: fastify on its own HTTP server, to measure what the uWS bridge costs.
  const entry = args.via === 'fastify' ? './lib/fastify-direct.mjs' : '../packages/server/dist/main.js';
  const main = fileURLToPath(new URL(entry, import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), 'natter-bench-'));
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      NATTER_HOST: '127.0.0.1',
      NATTER_PORT: '0',
      NATTER_DATA_DIR: dataDir,
      NATTER_LOG_LEVEL: 'warn',
      // Measure the pipeline, not the rate limiter.
      NATTER_RATE_USER: '1000000',
      NATTER_RATE_TENANT: '10000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const found = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /NATTER_ADMIN_KEY=(\S+)/.exec(out)?.[1];
      if (url && key) {
        clearTimeout(timer);
        resolve({ url, key });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  child.stdout.resume();
  return {
    ...found,
    pid: child.pid,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds used so far by process `pid` (Linux /proc), or null where that is not readable. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal client.

function client(base, authorization) {
  return async (method, path, body) => {
    const headers = { authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}
const basic = (key) => `Basic ${Buffer.from(key).toString('base64')}`;

async function must(promise, status, what) {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// ---------------------------------------------------------------------------------------------
// Setup: a tenant, one user per client, N group channels every user belongs to.

async function setup(url, adminKey) {
  const admin = client(url, basic(adminKey));
  let created = await admin('POST', '/v1/admin/tenants', {
    name: `bench ${new Date().toISOString()}`,
    settings: { rateLimits: { userPerSecond: 100_000, tenantPerSecond: 1_000_000 } },
  });
  if (created.status === 400) created = await admin('POST', '/v1/admin/tenants', { name: `bench ${Date.now()}` });
  if (created.status !== 201) throw new Error(`create tenant: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  const { tenant, apiKey } = created.body;
  const backend = client(url, basic(`${apiKey.id}:${apiKey.secret}`));
  const userIds = Array.from({ length: CONCURRENCY }, (_, i) => `u${i}`);
  for (let i = 0; i < userIds.length; i += 100) {
    await must(
      backend('POST', '/v1/users', { users: userIds.slice(i, i + 100).map((id) => ({ id })) }),
      200,
      'create users',
    );
  }
  const channelIds = [];
  for (let i = 0; i < CHANNELS; i++) {
    const body = await must(
      backend('POST', '/v1/channels', { id: `c${i}`, type: 'group', members: userIds }),
      201,
      'create channel',
    );
    channelIds.push(body.channel.id);
  }
  const tokens = [];
  for (const id of userIds)
    tokens.push((await must(backend('POST', `/v1/users/${id}/tokens`, {}), 201, 'mint token')).token);
  return { tenantId: tenant.id, backend, admin, userIds, channelIds, tokens };
}

// ---------------------------------------------------------------------------------------------
// The measured loop.

async function run(url, world, serverPid) {
  const acked = new Map(); // clientMsgId -> channelId
  const latencies = [];
  const failures = new Map(); // status/code -> count
  let measuring = false;
  let stop = false;
  let measuredSends = 0;
  let measureStart = 0;
  let measureEnd = 0;

  const worker = async (i) => {
    const send = client(url, `Bearer ${world.tokens[i]}`);
    let n = 0;
    while (!stop) {
      const channelId = world.channelIds[(i + n) % world.channelIds.length];
      const clientMsgId = `w${i}-${n++}`;
      const t0 = performance.now();
      let res;
      try {
        res = await send('POST', `/v1/channels/${channelId}/messages`, { text: TEXT, clientMsgId });
      } catch (err) {
        failures.set(err.cause?.code ?? err.message, (failures.get(err.cause?.code ?? err.message) ?? 0) + 1);
        continue;
      }
      const ms = performance.now() - t0;
      if (res.status === 201) {
        acked.set(clientMsgId, channelId);
        if (measuring) {
          latencies.push(ms);
          measuredSends++;
        }
      } else {
        const key = `${res.status} ${res.body?.error?.code ?? ''}`;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  };

  const workers = Array.from({ length: CONCURRENCY }, (_, i) => worker(i));
  await new Promise((r) => setTimeout(r, WARMUP));
  measuring = true;
  measureStart = performance.now();
  const cpuBefore = process.cpuUsage();
  const serverCpuBefore = serverPid ? cpuSeconds(serverPid) : null;
  await new Promise((r) => setTimeout(r, DURATION));
  measuring = false;
  measureEnd = performance.now();
  const clientCpu = process.cpuUsage(cpuBefore);
  const serverCpuAfter = serverPid ? cpuSeconds(serverPid) : null;
  const serverCpu = serverCpuBefore === null || serverCpuAfter === null ? null : serverCpuAfter - serverCpuBefore;
  stop = true;
  await Promise.all(workers);
  return {
    acked,
    latencies,
    failures,
    measuredSends,
    seconds: (measureEnd - measureStart) / 1000,
    clientCpu,
    serverCpu,
  };
}

// ---------------------------------------------------------------------------------------------
// Verification: every acknowledged message stored once, seqs 1..lastSeq with no gap.

async function verify(world, acked) {
  const seen = new Set();
  let stored = 0;
  const problems = [];
  for (const channelId of world.channelIds) {
    let after = 0;
    let expectSeq = 1;
    for (;;) {
      const { messages } = await must(
        world.backend('GET', `/v1/channels/${channelId}/messages?after=${after}&limit=200`),
        200,
        'history',
      );
      if (messages.length === 0) break;
      for (const m of messages) {
        if (m.seq !== expectSeq) problems.push(`${channelId}: seq ${m.seq} where ${expectSeq} was expected`);
        expectSeq = m.seq + 1;
        const key = m.clientMsgId;
        if (seen.has(key)) problems.push(`${channelId}: ${key} stored twice`);
        seen.add(key);
        if (acked.get(key) !== channelId) problems.push(`${channelId}: ${key} was not acknowledged for this channel`);
        stored++;
      }
      after = messages.at(-1).seq;
    }
    const { channel } = await must(world.backend('GET', `/v1/channels/${channelId}`), 200, 'channel');
    if (channel.lastSeq !== expectSeq - 1)
      problems.push(`${channelId}: lastSeq ${channel.lastSeq}, history ends at ${expectSeq - 1}`);
  }
  let missing = 0;
  for (const key of acked.keys()) {
    if (seen.has(key)) continue;
    missing++;
    problems.push(`${key} acknowledged but not in history`);
  }
  return { stored, problems, missing };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  let server = null;
  let url = process.env.NATTER_URL;
  let adminKey = process.env.NATTER_ADMIN_KEY;
  if (!url || !adminKey) {
    server = await startServer();
    ({ url, key: adminKey } = server);
  }
  try {
    console.log(`server ${url}${server ? ` (started here, pid ${server.pid})` : ''}`);
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
    console.log(`setup: ${CONCURRENCY} users/clients, ${CHANNELS} group channels, ${TEXT.length}-byte texts`);
    const world = await setup(url, adminKey);
    console.log(`running: ${WARMUP / 1000} s warm-up, then ${DURATION / 1000} s measured …`);
    const result = await run(url, world, server?.pid);
    const sorted = Float64Array.from(result.latencies).sort();
    const { stored, problems, missing } = await verify(world, result.acked);
    const rate = result.measuredSends / result.seconds;
    const summary = {
      concurrency: CONCURRENCY,
      channels: CHANNELS,
      durationSeconds: Number(result.seconds.toFixed(2)),
      messagesPerSecond: Math.round(rate),
      latencyMs: {
        p50: Number(percentile(sorted, 50).toFixed(2)),
        p90: Number(percentile(sorted, 90).toFixed(2)),
        p99: Number(percentile(sorted, 99).toFixed(2)),
        max: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
      },
      acknowledged: result.acked.size,
      verifiedInHistory: stored,
      lost: missing,
      errors: Object.fromEntries(result.failures),
      clientCpuPercent: Math.round(((result.clientCpu.user + result.clientCpu.system) / 1e6 / result.seconds) * 100),
      serverCpuPercent: result.serverCpu === null ? null : Math.round((result.serverCpu / result.seconds) * 100),
    };
    console.log(`\nmessages/s  ${summary.messagesPerSecond}`);
    console.log(
      `latency ms  p50 ${summary.latencyMs.p50}  p90 ${summary.latencyMs.p90}  p99 ${summary.latencyMs.p99}  max ${summary.latencyMs.max}`,
    );
    console.log(
      `verified    ${stored} of ${result.acked.size} acknowledged messages in history, seqs gap-free: ${problems.length === 0 ? 'yes' : 'NO'}`,
    );
    if (result.failures.size > 0) console.log(`errors      ${JSON.stringify(summary.errors)}`);
    console.log(`client CPU  ${summary.clientCpuPercent}% of one core (the load generator shares the machine)`);
    if (summary.serverCpuPercent !== null) console.log(`server CPU  ${summary.serverCpuPercent}% of one core`);
    console.log(
      `load avg    ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (other processes compete for the same cores when this is above ~2)`,
    );
    console.log(`\n${JSON.stringify(summary)}`);
    if (problems.length > 0) {
      console.error(`\n${problems.length} problems, first ones:\n  ${problems.slice(0, 10).join('\n  ')}`);
      process.exitCode = 1;
    }
    await world.admin('DELETE', `/v1/admin/tenants/${world.tenantId}`);
  } finally {
    await server?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
