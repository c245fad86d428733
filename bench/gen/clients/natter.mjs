/**
 * Natter realtime client for the generator, written from docs/protocol.md with the plain `ws`
 * package. `message.new` events are read on a fast path straight from the frame bytes (the server
 * serializes `{"type":"event","event":"message.new","channelId":…,"seq":…}` in that order); any
 * other frame is JSON-parsed.
 */

import { byteIndex, channelReader, cursor, hasAt, markerReader, tsFromText, uintAt } from './marker.mjs';
import { WebSocketClient as WebSocket } from './rawws.mjs';

const PREFIX = Buffer.from('{"type":"event","event":"message.new","channelId":"');
const SEQ = Buffer.from(',"seq":');

const REQUEST_TIMEOUT_MS = 60000;

export function connect({ conn, user, localAddress, onMsg, onClose }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(conn.url, ['natter.v1', `bearer.${user.token}`], {
      localAddress,
      perMessageDeflate: false,
      handshakeTimeout: 60000,
    });
    const pending = new Map();
    const channelOf = channelReader();
    const tsOf = markerReader();
    let nextId = 1;
    let welcomed = false;
    let upgraded = false;
    ws.once('upgrade', () => {
      upgraded = true;
    });

    const request = (frame) =>
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
        ws.send(JSON.stringify({ id, ...frame }));
      });

    const client = {
      ws,
      async subscribe(channelId, since) {
        const r = await request(
          since === undefined ? { type: 'subscribe', channelId } : { type: 'subscribe', channelId, since },
        );
        return {
          lastSeq: r.channel.lastSeq,
          recovery: r.recovery,
          messages: r.messages.map((m) => ({ seq: m.seq, ts: tsFromText(m.text) })),
        };
      },
      async send(channelId, text, clientMsgId) {
        const r = await request({ type: 'message.send', channelId, text, clientMsgId });
        return { seq: r.message.seq };
      },
      close() {
        ws.close(1000);
      },
      drop() {
        ws.terminate();
      },
    };

    /** A `message.new` event in `buf[start, end)`, read in place; false for any other frame. */
    const fast = (buf, start, end) => {
      if (!hasAt(buf, start, PREFIX, end)) return false;
      const q = byteIndex(buf, 0x22, start + PREFIX.length, end);
      if (q < 0 || !hasAt(buf, q + 1, SEQ, end)) return false;
      const channelId = channelOf(buf, start + PREFIX.length, q);
      const seq = uintAt(buf, q + 1 + SEQ.length);
      onMsg(channelId, seq, tsOf(buf, cursor.end, end));
      return true;
    };
    ws.fastPath = fast; // the raw client calls it with the frame's bounds, without a Buffer per frame
    ws.on('message', (data) => {
      if (fast(data, 0, data.length)) return;
      let frame;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame.type === 'welcome') {
        welcomed = true;
        resolve(client);
      } else if (frame.type === 'reply' || frame.type === 'error') {
        const p = pending.get(frame.id);
        if (!p) return;
        pending.delete(frame.id);
        if (frame.type === 'reply') p.res(frame.result);
        else p.rej(new Error(`${frame.error.code}: ${frame.error.message}`));
      } else if (frame.type === 'event' && frame.event === 'message.new') {
        onMsg(frame.channelId, frame.seq, tsFromText(frame.data.message.text));
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!welcomed) reject(err);
      else if (process.env.BENCH_DEBUG) process.stderr.write(`[natter client ${user.id}] ${err.message}\n`);
    });
    ws.on('close', (code) => {
      for (const p of pending.values()) p.rej(new Error(`closed ${code}`));
      pending.clear();
      if (!welcomed)
        reject(new Error(`closed ${code} ${upgraded ? 'after the upgrade, before welcome' : 'before the upgrade'}`));
      else onClose?.(code);
    });
  });
}
