#!/usr/bin/env node
/**
 * Runs the bot from environment variables:
 *
 *   NATTER_URL       server base URL                         (default http://127.0.0.1:8080)
 *   NATTER_TOKEN     a user token for the bot, or:
 *   NATTER_API_KEY   a tenant API key "keyId:secret" — the bot upserts its user and mints its own
 *                    tokens (and new ones when they expire)
 *   NATTER_BOT_USER  the bot's user id with NATTER_API_KEY    (default natter-bot)
 *   NATTER_CHANNELS  comma-separated channel ids to watch besides the bot's own channels
 */
import { UnauthorizedError } from '@natter/client';
import WebSocket from 'ws';
import { startBot } from './bot.mjs';

const url = process.env.NATTER_URL ?? 'http://127.0.0.1:8080';
const staticToken = process.env.NATTER_TOKEN;
const apiKey = process.env.NATTER_API_KEY;
const botUser = process.env.NATTER_BOT_USER ?? 'natter-bot';

if (!staticToken && !apiKey) {
  console.error('Set NATTER_TOKEN (a user token) or NATTER_API_KEY (keyId:secret of a tenant API key).');
  process.exit(1);
}

/** Calls the REST API as the tenant backend. */
async function backend(method, path, body) {
  const res = await fetch(new URL(path, url), {
    method,
    headers: { authorization: `Basic ${Buffer.from(apiKey).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json();
  // A wrong key will not get better by retrying: stop the client.
  if (res.status === 401 || res.status === 403) throw new UnauthorizedError(json.error?.message ?? 'API key refused');
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${json.error?.code ?? ''}`);
  return json;
}

let usedStatic = false;
async function getToken() {
  if (staticToken) {
    // A fixed token cannot be renewed: the second ask means it was refused or expired.
    if (usedStatic)
      throw new UnauthorizedError('NATTER_TOKEN was refused or expired; use NATTER_API_KEY to mint tokens.');
    usedStatic = true;
    return staticToken;
  }
  return (await backend('POST', `/v1/users/${encodeURIComponent(botUser)}/tokens`)).token;
}

if (apiKey) await backend('POST', '/v1/users', { users: [{ id: botUser, name: 'Natter bot' }] });
const channels = (process.env.NATTER_CHANNELS ?? '').split(',').filter(Boolean);
const bot = startBot({ url, getToken, WebSocket, channels });
bot.client.on('state', ({ newState, reason }) => {
  if (newState === 'disconnected' && reason === 'unauthorized') process.exit(2);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    bot.stop();
    process.exit(0);
  });
}
