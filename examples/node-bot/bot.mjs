/**
 * The bot: connects with the SDK, watches every channel it is a member of (checking for new ones
 * every `rescanMs`), and answers each new top-level message of someone else, showing "typing…"
 * first and marking the channel read. Its answers carry `custom.bot: true`; it ignores those.
 *
 * Uses only the public API of `@natter/client`.
 */
import { createClient } from '@natter/client';
import { answer } from './answer.mjs';

/**
 * @param {object} options
 * @param {string} options.url Natter base URL
 * @param {() => string | Promise<string>} options.getToken user token of the bot
 * @param {import('@natter/client').WebSocketConstructor} [options.WebSocket] `ws` in Node 20
 * @param {string[]} [options.channels] channel ids to watch besides the bot's own channels
 * @param {number} [options.typingMs] how long to "type" before answering @default 400
 * @param {number} [options.rescanMs] how often to look for new channels @default 30000
 * @param {Pick<Console, 'log' | 'error'>} [options.log] @default console
 * @returns {{ client: import('@natter/client').NatterClient, stop(): void }}
 */
export function startBot({
  url,
  getToken,
  WebSocket,
  channels = [],
  typingMs = 400,
  rescanMs = 30_000,
  log = console,
}) {
  const client = createClient({ url, getToken, ...(WebSocket ? { WebSocket } : {}) });

  client.on('state', ({ newState, code, reason }) => log.log(`[bot] ${newState}${code ? ` (${code} ${reason})` : ''}`));
  client.on('error', (err) => log.error(`[bot] ${err.code}: ${err.message}`));

  client.on('message.new', async ({ channelId, message }) => {
    const me = client.user?.id;
    if (message.authorId === me || message.parentId !== null || message.type !== 'regular' || !message.text) return;
    // Never answer a bot: two bots in one channel would talk forever.
    if (message.custom.bot === true) return;
    const text = answer(message.text, message.authorId ?? 'someone');
    if (text === null) return;
    const channel = client.channel(channelId);
    try {
      channel.typing();
      await new Promise((r) => setTimeout(r, typingMs));
      await channel.send({ text, custom: { bot: true } });
      await channel.markRead(message.seq);
    } catch (err) {
      log.error(`[bot] could not answer in ${channelId}: ${err.message}`);
    }
  });

  async function watchAll() {
    const ids = new Set(channels);
    let after;
    do {
      const page = await client.channels({ limit: 200, ...(after ? { after } : {}) });
      for (const { channel } of page.items) ids.add(channel.id);
      after = page.next;
    } while (after);
    for (const id of ids) {
      const channel = client.channel(id);
      if (channel.watched) continue;
      channel.watch().then(
        () => log.log(`[bot] watching ${id}`),
        (err) => log.error(`[bot] cannot watch ${id}: ${err.message}`),
      );
    }
  }

  const scan = () => watchAll().catch((err) => log.error(`[bot] channel scan failed: ${err.message}`));
  client.connect();
  scan();
  const timer = setInterval(scan, rescanMs);
  return {
    client,
    stop() {
      clearInterval(timer);
      client.disconnect();
    },
  };
}
