/**
 * The examples work as written: the node bot answers over a real server, and the vanilla-web
 * server serves the page and proxies REST and the realtime WebSocket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatterClient, WebSocketConstructor } from '@natter/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connected,
  createChannel,
  disconnectAll,
  freePort,
  sdkClient,
  startTestServer,
  type TestServer,
  type TestTenant,
  tenantWith,
  texts,
  userClient,
  waitFor,
} from './setup.js';

interface BotModule {
  startBot(options: {
    url: string;
    getToken: () => Promise<string>;
    WebSocket: WebSocketConstructor;
    typingMs?: number;
    log?: Pick<Console, 'log' | 'error'>;
  }): { client: NatterClient; stop(): void };
}

const example = (path: string) => fileURLToPath(new URL(`../../../examples/${path}`, import.meta.url));

let h: TestServer;
let tenant: TestTenant;

beforeAll(async () => {
  h = await startTestServer();
  tenant = await tenantWith(h, ['alice', 'natter-bot']);
});
afterAll(async () => {
  disconnectAll();
  await h.close();
});

describe('examples/node-bot', () => {
  it('watches its channels and answers messages, typing first', async () => {
    const alice = await userClient(tenant, 'alice');
    const id = (await createChannel(alice.api, { id: 'bot-room', type: 'group', members: ['natter-bot'] })).id;
    const { startBot } = (await import(example('node-bot/bot.mjs') as string)) as BotModule;
    const quiet = { log: () => {}, error: () => {} };
    const bot = startBot({
      url: h.url,
      getToken: async () => (await userClient(tenant, 'natter-bot')).token,
      WebSocket,
      typingMs: 50,
      log: quiet,
    });
    try {
      const me = await connected(tenant, 'alice');
      const room = me.channel(id);
      await room.watch();
      await waitFor(() => bot.client.channel(id).state.status === 'subscribed', 5000, 'bot watching');
      const typing: string[] = [];
      room.on('typing.start', ({ userId }) => typing.push(userId));
      await room.send('ping');
      await waitFor(() => texts(me, id).length === 2, 5000, 'bot answer');
      expect(texts(me, id)).toEqual(['ping', 'pong']);
      expect(room.state.messages[1]).toMatchObject({ authorId: 'natter-bot', custom: { bot: true } });
      expect(typing).toContain('natter-bot');
      await waitFor(
        () => room.state.reads['natter-bot'] === 1 || bot.client.channel(id).state.membership?.lastReadSeq === 1,
      );
      await room.send('hello');
      await waitFor(() => texts(me, id).length === 4);
      expect(texts(me, id)[3]).toMatch(/^Hello alice!/);
    } finally {
      bot.stop();
    }
  });
});

describe('examples/vanilla-web serve.mjs', () => {
  let child: ChildProcess;
  let origin: string;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [example('vanilla-web/serve.mjs')], {
      env: { ...process.env, NATTER_URL: h.url, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => child.stdout?.once('data', resolve));
  });
  afterAll(() => {
    child.kill();
  });

  it('serves the page and only the public folders', async () => {
    const root = await fetch(`${origin}/?token=t`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/examples/vanilla-web/?token=t');
    const page = await fetch(`${origin}/examples/vanilla-web/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('"@natter/client": "../../packages/client-sdk/dist/index.js"');
    expect(html).toContain('data-testid="message-input"');
    expect((await fetch(`${origin}/examples/vanilla-web/main.js`)).headers.get('content-type')).toBe('text/javascript');
    expect((await fetch(`${origin}/package.json`)).status).toBe(404);
    expect((await fetch(`${origin}/examples/vanilla-web/../../package.json`)).status).toBe(404);
  });

  it('proxies REST and the realtime WebSocket to the server (one origin for the page)', async () => {
    const alice = await userClient(tenant, 'alice');
    const id = (await createChannel(alice.api, { id: 'proxied', type: 'group', members: ['natter-bot'] })).id;
    const viaProxy = await sdkClient(tenant, 'alice', { url: origin });
    viaProxy.connect();
    await waitFor(() => viaProxy.state === 'connected', 5000, 'connected through the proxy');
    const page = await viaProxy.channels({ limit: 200 });
    expect(page.items.map((c) => c.channel.id)).toContain(id);
    await viaProxy.channel(id).watch();
    const other = await connected(tenant, 'natter-bot');
    await other.channel(id).send('through the proxy');
    await waitFor(() => texts(viaProxy, id).includes('through the proxy'));
  });
});
