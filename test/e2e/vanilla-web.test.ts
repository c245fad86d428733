/**
 * End to end, as a user would run the examples: a real Natter server (in-process), the node bot
 * (`examples/node-bot`, in-process, on the SDK's sources), and the vanilla-web page
 * (`examples/vanilla-web`, served by its own `serve.mjs`, on the SDK's ESM build) in headless
 * Chromium. Alice types in the page; the bot answers; both the page and the server's history
 * must show the conversation in order.
 *
 * Needs Debian's `chromium` (`apt-get install -y chromium`): without it this test fails.
 * The screenshot lands in `test/e2e/artifacts/vanilla-web.png`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatterClient, WebSocketConstructor } from '@natter/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import {
  createChannel,
  createTenant,
  createUsers,
  startTestServer,
  type TestServer,
  type TestTenant,
  type TestUser,
  userClient,
} from '../../packages/server/test/harness.js';
import { launchChromium } from './browser.js';
import { ensureSdkBuild } from './sdk-build.js';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const SCREENSHOT = repo('test/e2e/artifacts/vanilla-web.png');
const CHANNEL = 'e2e-room';

/** The part of `examples/node-bot/bot.mjs` this test uses (the module is plain JS). */
interface BotModule {
  startBot(options: {
    url: string;
    getToken: () => Promise<string>;
    WebSocket: WebSocketConstructor;
    typingMs?: number;
    log?: Pick<Console, 'log' | 'error'>;
  }): { client: NatterClient; stop(): void };
}

/** What the page shows for one message. */
interface Shown {
  seq: string;
  author: string;
  pending: string;
  text: string;
}

let h: TestServer | undefined;
let tenant: TestTenant;
let alice: TestUser;
let bot: ReturnType<BotModule['startBot']> | undefined;
let web: ChildProcess | undefined;
let origin: string;
let browser: Browser | undefined;
let page: Page;
/** Bot log and browser console, printed when a step fails. */
const logs: string[] = [];

/** Spawns `serve.mjs` on a free port in front of `natterUrl`; resolves with its origin. */
function serveVanillaWeb(natterUrl: string, timeoutMs = 10_000): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [repo('examples/vanilla-web/serve.mjs')], {
    env: { ...process.env, NATTER_URL: natterUrl, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`examples/vanilla-web/serve.mjs ${why}. Output:\n${output}`));
    };
    const timer = setTimeout(() => fail(`printed no address within ${timeoutMs} ms`), timeoutMs);
    child.on('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      const port = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1];
      if (!port) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, origin: `http://127.0.0.1:${port}` });
    });
  });
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves when `done()` holds; rejects after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `step`; on failure adds what the bot and the browser logged to the error. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const tail = logs.slice(-30).join('\n') || '(nothing logged)';
    throw new Error(`${what}: ${(err as Error).message}\n--- bot and browser logs ---\n${tail}`, { cause: err });
  }
}

async function shownMessages(): Promise<Shown[]> {
  return page.$$eval('[data-testid=messages] > li[data-testid=message]', (items) =>
    items.map((li) => ({
      seq: li.getAttribute('data-seq') ?? '',
      author: li.getAttribute('data-author') ?? '',
      pending: li.getAttribute('data-pending') ?? '',
      text: li.querySelector('[data-testid=message-text]')?.textContent ?? '',
    })),
  );
}

/** Waits until the page shows `count` stored (not pending) messages. */
async function waitForStored(count: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelectorAll('li[data-testid=message][data-pending=false]').length >= n,
    count,
    { timeout: 10_000 },
  );
}

/**
 * Set when the setup failed: the test rethrows it, so a missing browser or a broken build is a
 * failed test (vitest would otherwise report the test as skipped under a failed suite).
 */
let setupError: unknown;

beforeAll(async () => {
  try {
    await setUp();
  } catch (err) {
    setupError = err;
  }
}, 240_000);

async function setUp(): Promise<void> {
  // Browser first: without it nothing else is worth starting, and the error says how to fix it.
  browser = await launchChromium();
  await ensureSdkBuild();

  h = await startTestServer();
  tenant = await createTenant(h);
  await createUsers(tenant, ['alice', 'bot']);
  alice = await userClient(tenant, 'alice');
  await createChannel(alice.api, { id: CHANNEL, name: 'E2E room', type: 'group', members: ['bot'] });

  const { startBot } = (await import(repo('examples/node-bot/bot.mjs'))) as BotModule;
  bot = startBot({
    url: h.url,
    getToken: async () => (await userClient(tenant, 'bot')).token,
    WebSocket,
    log: { log: (line: string) => logs.push(line), error: (line: string) => logs.push(line) },
  });
  const botChannel = bot.client.channel(CHANNEL);
  await step('the bot watches the channel', () => until(() => botChannel.state.status === 'subscribed', 10_000));

  ({ child: web, origin } = await serveVanillaWeb(h.url));

  const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  page.on('console', (msg) => logs.push(`[browser ${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => logs.push(`[browser pageerror] ${err.message}`));
}

afterAll(async () => {
  // Each independently: one failing to close must not leave the others running.
  const closing = [browser?.close(), web && stop(web), (async () => bot?.stop())()];
  await Promise.allSettled(closing);
  await h?.close();
}, 30_000);

describe('examples/vanilla-web in Chromium with examples/node-bot', () => {
  it('alice chats from the page, the bot answers, the server keeps both in order', async () => {
    if (setupError) throw setupError;
    onTestFinished(async ({ task }) => {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      const shot = page.screenshot({ path: SCREENSHOT, timeout: 5000 });
      // After a failure the picture shows where the page stood, but must not hide the real error.
      if (task.result?.state === 'fail') await shot.catch(() => {});
      else await shot;
    });
    const query = new URLSearchParams({ token: alice.token, url: origin, channel: CHANNEL });
    // `/` redirects to the example, keeping the query string, as its README says to open it.
    await page.goto(`${origin}/?${query}`);

    await step('the page connects', () => page.locator('[data-testid=status][data-state=connected]').waitFor());
    await step('the channel opens', () =>
      page.locator('[data-testid=channel-title]', { hasText: 'E2E room' }).waitFor(),
    );
    expect(await page.evaluate(() => (window as unknown as { natter: NatterClient }).natter.state)).toBe('connected');

    // First message: typed, sent with the button.
    await page.locator('[data-testid=message-input]').fill('ping');
    await page.locator('[data-testid=send]').click();
    await step('the bot answers "pong" in the page', () =>
      page
        .locator('li[data-testid=message][data-author=bot] [data-testid=message-text]', { hasText: 'pong' })
        .waitFor(),
    );
    await step('both messages are stored', () => waitForStored(2));

    // Second message: sent with Enter, echoed by the bot.
    await page.locator('[data-testid=message-input]').fill('Greetings from Chromium');
    await page.locator('[data-testid=message-input]').press('Enter');
    await step('the bot echoes the second message', () => waitForStored(4));

    expect(await shownMessages()).toEqual([
      { seq: '1', author: 'alice', pending: 'false', text: 'ping' },
      { seq: '2', author: 'bot', pending: 'false', text: 'pong' },
      { seq: '3', author: 'alice', pending: 'false', text: 'Greetings from Chromium' },
      { seq: '4', author: 'bot', pending: 'false', text: 'You said: "Greetings from Chromium"' },
    ]);
    await expect(page.locator('[data-testid=message-input]').inputValue()).resolves.toBe('');
    await expect(page.locator('[data-testid=error]').isHidden()).resolves.toBe(true);
    expect(logs.filter((line) => line.startsWith('[browser pageerror]'))).toEqual([]);

    // The server's history, over REST, has the same conversation in the same order.
    const history = await alice.api.get(`/v1/channels/${CHANNEL}/messages`);
    expect(history.status).toBe(200);
    expect(
      history.body.messages.map((m: { seq: number; authorId: string; text: string }) => [m.seq, m.authorId, m.text]),
    ).toEqual([
      [1, 'alice', 'ping'],
      [2, 'bot', 'pong'],
      [3, 'alice', 'Greetings from Chromium'],
      [4, 'bot', 'You said: "Greetings from Chromium"'],
    ]);
    expect(history.body.messages[1].custom).toEqual({ bot: true });
  }, 60_000);
});
