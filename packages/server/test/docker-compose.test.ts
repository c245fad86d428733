/**
 * No Docker engine runs in CI, so the image and compose files are validated statically: every
 * variable they set is one the server knows, and the engine ports match scripts/engines.sh, which
 * the engine tests run against.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: plain JavaScript, no declarations
import { NODE_FLAGS } from '../../../bench/systems/natter.mjs';
import { CONFIG_VARS } from '../src/config.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
}
const compose = parse(read('docker/docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const engines = read('scripts/engines.sh');
const scriptPort = (name: string) => engines.match(new RegExp(`\\$\\{NATTER_${name}_PORT:-(\\d+)\\}`))?.[1];

describe('docker/docker-compose.yml', () => {
  const nodes = Object.entries(compose.services).filter(([name]) => name.startsWith('natter-'));

  it('runs two Natter nodes configured only with variables the server knows', () => {
    expect(nodes.map(([name]) => name)).toEqual(['natter-1', 'natter-2']);
    for (const [, service] of nodes) {
      for (const key of Object.keys(service.environment ?? {})) {
        expect(Object.hasOwn(CONFIG_VARS, key), `${key} is not a Natter variable`).toBe(true);
      }
    }
  });

  it('points the nodes at the engines on the same ports as scripts/engines.sh', () => {
    const env = nodes[0]?.[1].environment ?? {};
    expect(new URL(env.NATTER_REDIS_URL ?? '').port).toBe(scriptPort('REDIS'));
    expect(env.NATTER_KAFKA_BROKERS?.split(':')[1]).toBe(scriptPort('KAFKA'));
    expect(new URL(env.NATTER_ELASTICSEARCH_URL ?? '').port).toBe(scriptPort('ELASTICSEARCH'));
    expect(new URL(env.NATTER_MONGODB_URL ?? '').port).toBe(engines.match(/NATTER_MONGODB_PORT:-(\d+)/)?.[1]);
    expect(compose.services.redis?.command).toContain(scriptPort('REDIS'));
  });

  it('has nginx upstreams for exactly the Natter nodes, passing WebSocket upgrades', () => {
    const nginx = read('docker/nginx.conf');
    const upstreams = [...nginx.matchAll(/server (natter-\d+):8080/g)].map((m) => m[1]);
    expect(upstreams).toEqual(nodes.map(([name]) => name));
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
  });

  it('builds an image whose command is the built server entry point, with the flags of npm start', () => {
    const dockerfile = read('docker/Dockerfile');
    // The flags as the benchmark reads them from the root `npm start` script.
    const flags = NODE_FLAGS as string[];
    expect(flags).toContain('--max-semi-space-size=64');
    expect(flags).toContain('--heap-growing-percent=100');
    expect(flags).toContain('--v8-pool-size=1');
    expect(dockerfile).toContain(
      `CMD ${JSON.stringify(['node', ...flags, 'packages/server/dist/main.js']).replaceAll(',', ', ')}`,
    );
    const pkg = JSON.parse(read('packages/server/package.json')) as { scripts: { build: string } };
    expect(pkg.scripts.build).toContain('src/main.ts');
  });
});
