/**
 * Natter realtime client for the generator, written from docs/protocol.md on a raw WebSocket
 * client. `message.new` events and the replies to sends are read on a fast path straight from the
 * frame bytes (the server serializes `{"type":"event","event":"message.new","channelId":…,"seq":…}`
 * and `{"type":"reply","id":…,"result":{"message":{…,"seq":…` in that order); any other frame is
 * JSON-parsed.
 */

import { byteIndex, bytesIndex, channelReader, cursor, hasAt, markerReader, tsFromText, uintAt } from './marker.mjs';
import { WebSocketClient as WebSocket } from './rawws.mjs';

const PREFIX = Buffer.from('{"type":"event","event":"message.new","channelId":"');
const SEQ = Buffer.from(',"seq":');
// A reply to `message.send`: `{"type":"reply","id":…,"result":{"message":{"id":…,"channelId":…,"seq":…`.
const REPLY = Buffer.from('{"type":"reply","id":');
const SEQ_KEY = Buffer.from('"seq":');

const REQUEST_TIMEOUT_MS = 60000;

/**
 * Requests in flight of every client of this process, with their deadlines: one timer sweeps them
 * all, instead of a timer set and cleared per request (a large part of the closed loop's cost).
 */
const inFlight = new Set();
setInterval(() => {
  const now = Date.now();
  for (const pending of inFlight) {
    for (const [id, p] of pending) {
      if (p.deadline > now) continue;
      pending.delete(id);
      p.rej(new Error(`no reply within ${REQUEST_TIMEOUT_MS} ms`));
    }
  }
}, 1000).unref();

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

    inFlight.add(pending);
    /**
     * Sends `{"id":…` + `body` (the rest of a frame's JSON, from its first comma); answers the
     * reply's `result`, or with `seqOnly` just `{ seq }` read from the reply's bytes. Bounded: no
     * reply within REQUEST_TIMEOUT_MS fails it.
     */
    const request = (body, seqOnly = false) =>
      new Promise((res, rej) => {
        if (ws.readyState !== WebSocket.OPEN) {
          rej(new Error('not connected'));
          return;
        }
        const id = nextId++;
        pending.set(id, { res, rej, seqOnly, deadline: Date.now() + REQUEST_TIMEOUT_MS });
        ws.send(`{"id":${id}${body}`);
      });

    const client = {
      ws,
      async subscribe(channelId, since) {
        const frame = since === undefined ? { type: 'subscribe', channelId } : { type: 'subscribe', channelId, since };
        const r = await request(`,${JSON.stringify(frame).slice(1)}`);
        return {
          lastSeq: r.channel.lastSeq,
          recovery: r.recovery,
          messages: r.messages.map((m) => ({ seq: m.seq, ts: tsFromText(m.text) })),
        };
      },
      async send(channelId, text, clientMsgId) {
        return request(
          `,"type":"message.send","channelId":${JSON.stringify(channelId)},"text":${JSON.stringify(text)},"clientMsgId":${JSON.stringify(clientMsgId)}}`,
          true,
        );
      },
      close() {
        ws.close(1000);
      },
      drop() {
        ws.terminate();
      },
    };

    /** The reply to a send in `buf[start, end)`, read in place; false for any other frame. */
    const fastReply = (buf, start, end) => {
      const id = uintAt(buf, start + REPLY.length);
      const p = pending.get(id);
      if (p === undefined || !p.seqOnly) return false;
      const at = bytesIndex(buf, SEQ_KEY, cursor.end, end);
      if (at < 0) return false;
      pending.delete(id);
      p.res({ seq: uintAt(buf, at + SEQ_KEY.length) });
      return true;
    };

    /** A `message.new` event or a send's reply in `buf[start, end)`, read in place; false for any other frame. */
    const fast = (buf, start, end) => {
      // Events first: a broadcast delivers a million a second.
      if (!hasAt(buf, start, PREFIX, end)) return hasAt(buf, start, REPLY, end) && fastReply(buf, start, end);
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
        if (frame.type === 'reply') p.res(p.seqOnly ? { seq: frame.result.message.seq } : frame.result);
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
      inFlight.delete(pending);
      if (!welcomed)
        reject(new Error(`closed ${code} ${upgraded ? 'after the upgrade, before welcome' : 'before the upgrade'}`));
      else onClose?.(code);
    });
  });
}
