/**
 * Centrifugo client over raw WebSocket, JSON protocol (client protocol v2): `connect` command with
 * the JWT, `subscribe` (with `recover`/`offset`/`epoch` to recover), publications pushed as
 * `{"push":{"channel":…,"pub":{"data":…,"offset":…}}}`. Several replies may share one WebSocket
 * frame, separated by newlines. Server pings are empty objects `{}`; the client answers `{}`.
 */

import { byteIndex, bytesIndex, channelReader, hasAt, markerReader, tsFromText, uintAt } from './marker.mjs';
import { WebSocketClient as WebSocket } from './rawws.mjs';

const PUSH = Buffer.from('{"push":{"channel":"');
const OFFSET = Buffer.from('"offset":');

const REQUEST_TIMEOUT_MS = 60000;

/**
 * Channel → the epoch of its history stream, as the last subscribe reply gave it. An epoch is the
 * channel's (not a connection's), so a client that reconnects recovers with what any client of
 * this process saw.
 */
const epochs = new Map();

export function connect({ conn, user, localAddress, onMsg, onClose }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(conn.url, { localAddress, perMessageDeflate: false, handshakeTimeout: 60000 });
    const pending = new Map();
    const channelOf = channelReader();
    const tsOf = markerReader();
    let nextId = 1;
    let ready = false;
    const full = (channel) => `${conn.namespace}:${channel}`;
    const shortNames = new Map();
    const short = (channel) => {
      let name = shortNames.get(channel);
      if (name === undefined) {
        name = channel.slice(conn.namespace.length + 1);
        shortNames.set(channel, name);
      }
      return name;
    };

    const request = (cmd) =>
      new Promise((res, rej) => {
        if (ws.readyState !== WebSocket.OPEN) {
          rej(new Error('not connected'));
          return;
        }
        const id = nextId++;
        // Bounded: a request without an answer fails after REQUEST_TIMEOUT_MS.
        const timer = setTimeout(() => {
          pending.delete(id);
          rej(new Error(`no reply within ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, {
          res: (v) => {
            clearTimeout(timer);
            res(v);
          },
          rej: (e) => {
            clearTimeout(timer);
            rej(e);
          },
        });
        ws.send(JSON.stringify({ id, ...cmd }));
      });

    const client = {
      ws,
      async subscribe(channelId, since) {
        const sub = { channel: full(channelId) };
        if (since !== undefined && epochs.has(channelId))
          Object.assign(sub, { recover: true, offset: since, epoch: epochs.get(channelId) });
        const r = await request({ subscribe: sub });
        if (r.epoch) epochs.set(channelId, r.epoch);
        const messages = (r.publications ?? []).map((p) => ({ seq: p.offset ?? 0, ts: tsFromText(p.data?.text) }));
        const recovery = since === undefined ? 'not_requested' : r.recovered ? 'recovered' : 'too_far';
        return { lastSeq: messages.length ? messages.at(-1).seq : (r.offset ?? 0), recovery, messages };
      },
      async send(channelId, text) {
        await request({ publish: { channel: full(channelId), data: { text } } });
        return { seq: null };
      },
      close() {
        ws.close(1000);
      },
      drop() {
        ws.terminate();
      },
    };

    const onSegment = (buf, start, end) => {
      if (end - start === 2 && buf[start] === 0x7b && buf[start + 1] === 0x7d) {
        ws.send('{}'); // pong
        return;
      }
      if (end - start > PUSH.length && hasAt(buf, start, PUSH)) {
        const q = byteIndex(buf, 0x22, start + PUSH.length, end);
        const o = q > 0 ? bytesIndex(buf, OFFSET, q, end) : -1;
        if (o > 0) {
          const channel = channelOf(buf, start + PUSH.length, q);
          const ts = tsOf(buf, start, end);
          onMsg(short(channel), uintAt(buf, o + OFFSET.length), ts);
          return;
        }
      }
      let reply;
      try {
        reply = JSON.parse(buf.toString('utf8', start, end));
      } catch {
        return;
      }
      if (reply.id) {
        const p = pending.get(reply.id);
        if (!p) return;
        pending.delete(reply.id);
        if (reply.error) p.rej(new Error(`centrifugo ${reply.error.code}: ${reply.error.message}`));
        else p.res(reply.connect ?? reply.subscribe ?? reply.publish ?? reply);
      } else if (reply.push?.pub) {
        onMsg(short(reply.push.channel), reply.push.pub.offset ?? 0, tsFromText(reply.push.pub.data?.text));
      }
    };

    ws.on('open', () => {
      request({ connect: { token: user.token, name: 'natter-bench' } }).then(
        () => {
          ready = true;
          resolve(client);
        },
        (err) => {
          reject(err);
          ws.terminate();
        },
      );
    });
    ws.on('message', (data) => {
      let start = 0;
      while (start < data.length) {
        let end = data.indexOf(0x0a, start); // memchr: frames hold many replies
        if (end < 0) end = data.length;
        if (end > start) onSegment(data, start, end);
        start = end + 1;
      }
    });
    ws.on('error', (err) => {
      if (!ready) reject(err);
    });
    ws.on('close', (code) => {
      for (const p of pending.values()) p.rej(new Error(`closed ${code}`));
      pending.clear();
      if (!ready) reject(new Error(`closed ${code} before connect reply`));
      else onClose?.(code);
    });
  });
}
