/**
 * The README's curl walk-through, run as written against a freshly started server on the embedded
 * defaults: the script is read from README.md, and only the values a reader pastes by hand (the
 * admin key printed on first start, the tenant key from step 1, the URL) are filled in. Then the
 * SDK's quick start (packages/client-sdk/README.md), which continues from the walk-through, runs
 * as a file of its own against the SDK's build.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, freePort, NatterNode, type ServerBundle } from './multinode/cluster.js';

const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url);
const readme = new URL('README.md', repo);

/** The first ```sh block after the "## Walk-through" heading. */
async function walkthroughScript(): Promise<string> {
  const text = await readFile(readme, 'utf8');
  const section = text.slice(text.indexOf('## Walk-through'));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md: no ```sh block under "## Walk-through"');
  return match[1];
}

/** Runs a piece of the script with bash (`set -e`), with `vars` defined first. */
async function bash(script: string, vars: Record<string, string>): Promise<string> {
  const prelude = Object.entries(vars)
    .map(([k, v]) => `${k}='${v}'`)
    .join('\n');
  const { stdout } = await run('bash', ['-ec', `${prelude}\n${script}`], { timeout: 30_000 });
  return stdout;
}

describe('README walk-through (a fresh server on the embedded defaults)', () => {
  let bundle: ServerBundle;
  let node: NatterNode;
  let dataDir: string;

  beforeAll(async () => {
    bundle = await buildServer();
    dataDir = await mkdtemp(join(tmpdir(), 'natter-readme-'));
    const env: Record<string, string> = {};
    // As on a fresh machine: no engine URLs, nothing of the test run's NATTER_* settings.
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('NATTER_')) env[k] = v;
    const port = await freePort();
    node = new NatterNode('readme', port, bundle.main, {
      ...env,
      NATTER_DATA_DIR: dataDir,
      NATTER_PORT: String(port),
      NATTER_LOG_LEVEL: 'warn',
    });
    await node.ready();
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await bundle?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('works as written: tenant → users → token → channel → send (retry-safe) → history', async () => {
    expect(node.adminKey, 'the first start prints the platform admin key').not.toBeNull();
    const [keyId, keySecret] = node.adminKey as readonly [string, string];
    const script = await walkthroughScript();

    // The reader pastes values at three lines; everything else runs verbatim.
    const lines = script.split('\n');
    const at = (prefix: string) => {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i < 0) throw new Error(`README walk-through: no line starting with ${prefix}`);
      return i;
    };
    const adminLine = at('ADMIN=');
    const urlLine = at('URL=');
    const keyLine = at('KEY=');
    const body = (from: number, to: number) =>
      lines
        .slice(from, to)
        .filter((_, i) => ![adminLine, urlLine, keyLine].includes(i + from))
        .join('\n');
    const vars = { ADMIN: `${keyId}:${keySecret}`, URL: node.url };

    // Steps before the tenant key is known: create the tenant, read its key from the answer.
    const created = JSON.parse(await bash(body(0, keyLine), vars)) as {
      tenant: { id: string };
      apiKey: { id: string; secret: string };
    };
    expect(created.tenant.id).toBe('acme');

    // The rest, with the key a reader would paste.
    const rest = body(keyLine + 1, lines.length);
    const restVars = { ...vars, KEY: `${created.apiKey.id}:${created.apiKey.secret}` };
    const out = await bash(rest, restVars);
    expect(out).not.toContain('"error"');
    // The last answer is the history: exactly one message, seq 1, from alice.
    const history = JSON.parse(out.slice(out.lastIndexOf('{"messages"'))) as {
      messages: { seq: number; text: string; authorId: string }[];
    };
    expect(history.messages.map((m) => [m.seq, m.text, m.authorId])).toEqual([[1, 'Hello, Bob!', 'alice']]);

    // Step 5 again (a retry with the same clientMsgId), then step 6: still one message.
    const step = (n: number) => lines.findIndex((l) => l.startsWith(`# ${n}.`));
    const tokenStep = lines.slice(step(3), step(4)).join('\n');
    const again = await bash(`${tokenStep}\n${lines.slice(step(5)).join('\n')}`, restVars);
    const after = JSON.parse(again.slice(again.lastIndexOf('{"messages"'))) as typeof history;
    expect(after.messages.map((m) => m.seq)).toEqual([1]);

    // The SDK quick start, saved as quickstart.mjs (in the repository, where `@natter/client`
    // resolves to the workspace package) and run with alice's token, as its README says.
    // test/e2e is outside this package's TypeScript project (and module type): imported at run time.
    const sdkBuild = new URL('test/e2e/sdk-build.ts', repo).href;
    const { ensureSdkBuild } = (await import(sdkBuild)) as { ensureSdkBuild(): Promise<boolean> };
    await ensureSdkBuild();
    const sdkReadme = await readFile(new URL('packages/client-sdk/README.md', repo), 'utf8');
    const code = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(sdkReadme)?.[1];
    if (!code) throw new Error('packages/client-sdk/README.md: no ```js block under "## Quick start"');
    const file = new URL(`.quickstart-${process.pid}.mjs`, repo);
    await writeFile(file, code);
    try {
      const token = (await bash(`${tokenStep}\nprintf %s "$TOKEN"`, restVars)).trim();
      const { stdout } = await run(process.execPath, [file.pathname], {
        env: { ...process.env, NATTER_URL: node.url, NATTER_TOKEN: token },
        timeout: 30_000,
      });
      expect(stdout).toContain('connection: connected');
      expect(stdout).toContain("history: [ 'Hello, Bob!' ]");
      expect(stdout).toContain('stored as seq 2');
    } finally {
      await rm(file, { force: true });
    }
  }, 180_000);
});
