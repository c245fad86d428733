/**
 * Private Redis and Kafka for the tests that break them (stop Kafka, flush Redis): started with
 * `scripts/engines.sh` on free ports and a run directory of their own, so the shared engines the
 * other suites use are never touched. `down()` stops them and removes the run directory.
 *
 * Kafka is stopped and restarted *with its data* (an outage, not a new cluster): engines.sh's
 * `down` deletes the data and `up` starts an empty broker, so the test stops the broker process
 * itself (SIGTERM, as `down` does) and later starts the same command line again in the same
 * directory, recording the new pid where engines.sh looks for it.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, until } from './cluster.js';

const script = fileURLToPath(new URL('../../../../scripts/engines.sh', import.meta.url));

export interface PrivateEngines {
  redisUrl: string;
  kafkaBrokers: string;
  /** The run directory (pids, logs, data). */
  run: string;
  /** FLUSHALL on the private Redis. */
  flushRedis(): Promise<void>;
  /** Stops the Kafka broker gracefully, keeping its data; resolves once the process is gone. */
  stopKafka(): Promise<void>;
  /** Starts the stopped broker again on its data; resolves once it says it started. */
  startKafka(timeoutMs?: number): Promise<void>;
  /** Whether Kafka was stopped by `stopKafka` and not started again. */
  readonly kafkaStopped: boolean;
  /** `engines.sh down` and removes the run directory. Safe to call twice. */
  down(): Promise<void>;
}

function engines(args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [script, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `engines.sh ${args.join(' ')} failed:\n${`${stdout}\n${stderr}`.trim().split('\n').slice(-50).join('\n')}`,
              { cause: err },
            ),
          );
        else resolve(stdout + stderr);
      },
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a private Redis and Kafka (Kafka takes ~20–40 s). Tried twice, on new ports and a new
 * run directory the second time (a port can be taken between choosing it and binding it).
 */
export async function startPrivateEngines(timeoutMs = 100_000): Promise<PrivateEngines> {
  try {
    return await startOnce(timeoutMs);
  } catch (err) {
    console.warn(`private engines: first start failed, trying again on other ports: ${String(err)}`);
    return startOnce(timeoutMs);
  }
}

async function startOnce(timeoutMs: number): Promise<PrivateEngines> {
  const run = await mkdtemp(join(tmpdir(), 'natter-mn-engines-'));
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [redisPort, kafkaPort, controllerPort] = [...ports] as [number, number, number];
  const env = {
    NATTER_ENGINES_RUN: run,
    NATTER_REDIS_PORT: String(redisPort),
    NATTER_KAFKA_PORT: String(kafkaPort),
    NATTER_KAFKA_CONTROLLER_PORT: String(controllerPort),
    NATTER_KAFKA_HEAP: '384m',
  };
  let downed = false;
  const down = async () => {
    if (downed) return;
    downed = true;
    await engines(['down', 'redis', 'kafka'], env, 90_000).catch(() => undefined);
    await rm(run, { recursive: true, force: true });
  };
  try {
    await engines(['up', 'redis', 'kafka'], env, timeoutMs);
  } catch (err) {
    await down();
    throw err;
  }

  const pidFile = join(run, 'pids/kafka.pid');
  const logFile = join(run, 'logs/kafka.log');
  let stopped: { argv: string[]; cwd: string } | null = null;

  return {
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    kafkaBrokers: `127.0.0.1:${kafkaPort}`,
    run,
    get kafkaStopped() {
      return stopped !== null;
    },
    async flushRedis() {
      const { Redis } = await import('ioredis');
      const client = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async stopKafka() {
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      const cwd = await readlink(`/proc/${pid}/cwd`);
      stopped = { argv, cwd };
      process.kill(pid, 'SIGTERM');
      await until('the private Kafka to stop', () => !alive(pid), 30_000, 200).catch(async (err: unknown) => {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
        await sleep(500);
        throw err;
      });
    },
    async startKafka(startTimeoutMs = 90_000) {
      if (!stopped) throw new Error('startKafka: Kafka was not stopped by stopKafka');
      const { argv, cwd } = stopped;
      const from = (await stat(logFile)).size;
      const log = openSync(logFile, 'a');
      try {
        const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: ['ignore', log, log] });
        child.unref();
        // Where engines.sh finds it: `down` stops it like the first one.
        await writeFile(pidFile, `${child.pid}\n`);
      } finally {
        closeSync(log);
      }
      stopped = null;
      await until(
        'the private Kafka to start again',
        async () => (await readFile(logFile)).subarray(from).toString().includes('Kafka Server started'),
        startTimeoutMs,
        250,
      );
    },
    down,
  };
}
