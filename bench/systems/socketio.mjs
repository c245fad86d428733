/**
 * The do-it-yourself peer: a Socket.IO 4 chat server (bench/peers/socketio-server.mjs) with rooms,
 * acks and an in-memory history per room. Nothing is persisted.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectorUrl } from '../lib/gc.mjs';
import { http } from '../lib/http.mjs';
import { freePort, spawnServer } from '../lib/spawn.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER = join(HERE, '..', 'peers', 'socketio-server.mjs');

export const socketio = {
  name: 'socketio',
  label: 'Socket.IO',
  client: 'socketio',
  durable: false,
  notes: 'Socket.IO 4.8, rooms + acks, in-memory history per room (NOT persisted: a restart loses everything)',

  async start({ inspect } = {}) {
    const port = await freePort();
    const secret = randomBytes(32).toString('hex');
    const proc = await spawnServer(
      'socketio',
      process.execPath,
      [...(inspect ? ['--inspect=127.0.0.1:0'] : []), SERVER],
      {
        env: { PORT: String(port), HOST: '127.0.0.1', TOKEN_SECRET: secret },
        ready: (out) => out.includes('listening') && (!inspect || inspectorUrl(out) !== null),
      },
    );
    return {
      pid: proc.pid,
      url: `http://127.0.0.1:${port}`,
      secret,
      inspector: inspect ? inspectorUrl(proc.output()) : null,
      stop: () => proc.stop(),
    };
  },

  async prepare(h, plan) {
    const ids = Array.from({ length: plan.users }, (_, i) => `u${i}`);
    // The app's backend would mint these; the peer verifies HMAC-SHA256 of the user id.
    const users = ids.map((id) => ({
      id,
      token: `${id}.${createHmac('sha256', h.secret).update(id).digest('base64url')}`,
    }));
    for (let i = 0; i < plan.channels.length; i += 500) {
      const channels = plan.channels
        .slice(i, i + 500)
        .map((ch) => ({ id: ch.id, members: ch.members.map((m) => ids[m]) }));
      await http('POST', `${h.url}/setup/channels`, { body: { channels }, headers: { 'x-setup-secret': h.secret } });
    }
    return { users, conn: { url: h.url } };
  },
};
