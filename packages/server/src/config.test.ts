import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type ServerBundle } from '../test/multinode/cluster.js';
import { ConfigError, loadConfig } from './config.js';

/** The message of the ConfigError `loadConfig(env)` throws (fails when it throws none). */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('starts from the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: '.natter-data', workers: 1 });
    expect(config.engines).toMatchObject({ mongodbUrl: null, redisUrl: null, elasticsearchUrl: null });
  });

  it.each([
    ['NATTER_PORT', 'eighty', 'NATTER_PORT="eighty" is not allowed: use a whole number from 0 to 65535.'],
    ['NATTER_PORT', '70000', 'NATTER_PORT="70000" is not allowed: use a whole number from 0 to 65535.'],
    ['NATTER_LOG_LEVEL', 'loud', 'NATTER_LOG_LEVEL="loud" is not allowed: use one of'],
    ['NATTER_REDIS_URL', 'localhost:6379', 'NATTER_REDIS_URL="localhost:6379" is not allowed: use a URL starting with'],
    ['NATTER_KAFKA_BROKERS', 'kafka:9092,,bad host', 'NATTER_KAFKA_BROKERS has "bad host"'],
    ['NATTER_WORKERS', 'many', 'NATTER_WORKERS="many" is not allowed: use auto or a whole number from 1 to 64.'],
    ['NATTER_WORKERS', '0', 'NATTER_WORKERS="0" is not allowed'],
  ])('refuses %s=%s naming the variable and what is allowed', (name, value, message) => {
    expect(refusal({ [name]: value })).toContain(message);
  });

  it('takes NATTER_WORKERS=auto as one worker per core', () => {
    expect(loadConfig({ NATTER_WORKERS: 'auto' }).workers).toBe(Math.max(1, availableParallelism()));
    expect(loadConfig({ NATTER_WORKERS: '3' }).workers).toBe(3);
  });

  it('refuses several workers together with an engine, pointing at several nodes instead', () => {
    expect(refusal({ NATTER_WORKERS: '2', NATTER_REDIS_URL: 'redis://127.0.0.1:6379' })).toBe(
      'NATTER_WORKERS=2 works on the embedded store and bus only, not with NATTER_REDIS_URL: with engines, run several nodes instead (docs/self-hosting.md, "Using every core").',
    );
    expect(loadConfig({ NATTER_WORKERS: '1', NATTER_REDIS_URL: 'redis://127.0.0.1:6379' }).workers).toBe(1);
  });

  describe('NATTER_CONFIG_FILE', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'natter-config-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };

    it('reads the same keys from a JSON file; the environment wins', () => {
      const path = file('ok.json', JSON.stringify({ NATTER_PORT: 9000, NATTER_HOST: '0.0.0.0' }));
      expect(loadConfig({ NATTER_CONFIG_FILE: path })).toMatchObject({ port: 9000, host: '0.0.0.0' });
      expect(loadConfig({ NATTER_CONFIG_FILE: path, NATTER_PORT: '9100' })).toMatchObject({ port: 9100 });
    });

    it('validates values from the file like those from the environment', () => {
      const path = file('bad.json', JSON.stringify({ NATTER_PORT: 'x' }));
      expect(refusal({ NATTER_CONFIG_FILE: path })).toContain('NATTER_PORT="x" is not allowed');
    });

    it('refuses unknown keys, files that are not JSON objects, and missing files', () => {
      expect(refusal({ NATTER_CONFIG_FILE: file('typo.json', '{"NATTER_PROT": 1}') })).toContain(
        'has unknown key NATTER_PROT',
      );
      expect(refusal({ NATTER_CONFIG_FILE: file('array.json', '[]') })).toContain('must hold a JSON object');
      expect(refusal({ NATTER_CONFIG_FILE: join(dir, 'missing.json') })).toContain('could not be read as JSON');
    });
  });
});

describe('the server with a wrong value', () => {
  let bundle: ServerBundle;
  beforeAll(async () => {
    bundle = await buildServer();
  }, 120_000);
  afterAll(() => bundle?.remove());

  it('stops with exit code 78 and one line naming the variable, before touching the data directory', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'natter-config-')), 'data');
    const run = spawnSync(process.execPath, [bundle.main], {
      env: { PATH: process.env.PATH, NATTER_DATA_DIR: dataDir, NATTER_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toBe('natter: NATTER_PORT="eighty" is not allowed: use a whole number from 0 to 65535.\n');
    expect(run.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});
