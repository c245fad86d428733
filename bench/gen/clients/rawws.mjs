/**
 * A minimal WebSocket client (RFC 6455) for the load generator, with the subset of the `ws`
 * package's API the bench clients use (`on`/`once`, `send`, `close`, `terminate`, `readyState`).
 *
 * Why not `ws`: in the broadcast workload the generator receives a million frames a second on the
 * same two cores as the server, and `ws` costs about 1.2 µs of generator CPU per frame (a stream
 * per socket, a Buffer and an event per message). This client parses the frames of each TCP chunk
 * in place and hands each payload over as a view of the chunk, which costs a fraction of that, so
 * the generator stops being what limits the measured rate. Every WebSocket system in the suite
 * (Natter, Centrifugo) is driven through it; Socket.IO keeps its own client.
 *
 * What it does not do, because no system under test needs it: extensions (permessage-deflate),
 * binary messages (delivered like text), TLS.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Mask keys come from one random pool, refilled when used up. */
const maskPool = Buffer.alloc(4096);
let maskPos = maskPool.length;
function nextMask() {
  if (maskPos + 4 > maskPool.length) {
    randomFillSync(maskPool);
    maskPos = 0;
  }
  maskPos += 4;
  return maskPool.subarray(maskPos - 4, maskPos);
}

/** A client frame: FIN, `opcode`, masked `payload`. */
function frame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = nextMask();
  mask.copy(out, head);
  const at = head + 4;
  for (let i = 0; i < n; i++) out[at + i] = payload[i] ^ mask[i & 3];
  return out;
}

export class RawWebSocket extends EventEmitter {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  /**
   * @param {string} url ws://host:port/path
   * @param {string[] | {localAddress?: string, handshakeTimeout?: number}} [protocols]
   * @param {{localAddress?: string, handshakeTimeout?: number}} [options]
   */
  constructor(url, protocols, options) {
    super();
    if (!Array.isArray(protocols)) {
      options = protocols;
      protocols = [];
    }
    options ??= {};
    this.readyState = CONNECTING;
    this.socket = null;
    this.rest = null; // chunks holding the start of an incomplete frame
    this.restBytes = 0;
    this.restNeed = 0;
    this.fragments = null; // payloads of a fragmented message so far
    this.closeCode = 1006;
    this.onMessage = null;
    /** Set by a client: `(buf, start, end) => boolean`, true when it consumed the frame. */
    this.fastPath = null;
    const u = new URL(url);
    const key = randomFillSync(Buffer.alloc(16)).toString('base64');
    const headers = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
    };
    if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(', ');
    const req = http.request({
      host: u.hostname,
      port: u.port || 80,
      path: `${u.pathname}${u.search}`,
      headers,
      localAddress: options.localAddress,
      agent: false,
    });
    if (options.handshakeTimeout) {
      req.setTimeout(options.handshakeTimeout, () => req.destroy(new Error('opening handshake has timed out')));
    }
    req.on('response', (res) => {
      this.readyState = CLOSED;
      if (this.listenerCount('unexpected-response') > 0) this.emit('unexpected-response', req, res);
      else this.emit('error', new Error(`Unexpected server response: ${res.statusCode}`));
      res.resume();
      this.emit('close', 1006);
    });
    req.on('error', (err) => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = CLOSED;
      this.emit('error', err);
      this.emit('close', 1006);
    });
    req.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        this.readyState = CLOSED;
        this.emit('error', new Error('invalid Sec-WebSocket-Accept header'));
        this.emit('close', 1006);
        return;
      }
      req.setTimeout(0);
      this.socket = socket;
      this.readyState = OPEN;
      socket.setNoDelay(true);
      socket.on('data', (chunk) => this.onData(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        this.readyState = CLOSED;
        this.emit('close', this.closeCode);
      });
      this.emit('upgrade', res);
      this.emit('open');
      if (head.length > 0) this.onData(head);
    });
    req.end();
  }

  /** A 'message' listener is called directly, not through `emit` (one listener per socket here). */
  on(event, listener) {
    if (event === 'message' && this.onMessage === null) {
      this.onMessage = listener;
      return this;
    }
    return super.on(event, listener);
  }

  onData(chunk) {
    let buf = chunk;
    if (this.rest) {
      // A frame split across chunks: gather chunks until it is whole, then join them once (joining
      // per chunk would copy a large frame over and over).
      this.rest.push(chunk);
      this.restBytes += chunk.length;
      if (this.restBytes < this.restNeed) return;
      buf = Buffer.concat(this.rest, this.restBytes);
      this.rest = null;
    }
    const len = buf.length;
    let pos = 0;
    while (len - pos >= 2) {
      const b0 = buf[pos];
      const b1 = buf[pos + 1];
      let n = b1 & 0x7f;
      let at = pos + 2;
      if (n === 126) {
        if (len - pos < 4) break;
        n = buf.readUInt16BE(pos + 2);
        at = pos + 4;
      } else if (n === 127) {
        if (len - pos < 10) break;
        n = Number(buf.readBigUInt64BE(pos + 2));
        at = pos + 10;
      }
      if (b1 & 0x80) at += 4; // servers do not mask; skip a key if one came anyway
      if (at + n > len) {
        this.keep(buf, pos, at + n - pos);
        return;
      }
      pos = at + n;
      // A complete text frame the client can read in place: no Buffer is made for it.
      if (b0 === 0x81 && this.fastPath !== null && this.fastPath(buf, at, pos)) continue;
      this.onFrame(b0 & 0x80, b0 & 0x0f, buf.subarray(at, pos));
      if (this.readyState === CLOSED) return;
    }
    // Not even a whole header: wait for the rest of it (the loop above then knows the frame's size).
    if (pos < len) this.keep(buf, pos, len - pos < 2 ? 2 : (buf[pos + 1] & 0x7f) === 126 ? 4 : 10);
  }

  /** Keeps `buf[pos…]`, the start of a frame of `need` bytes (header included). */
  keep(buf, pos, need) {
    this.rest = [buf.subarray(pos)];
    this.restBytes = buf.length - pos;
    this.restNeed = need;
  }

  onFrame(fin, opcode, payload) {
    switch (opcode) {
      case 0x0: // continuation
        if (!this.fragments) return;
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.deliver(whole, false);
        }
        return;
      case 0x1:
      case 0x2:
        if (fin) this.deliver(payload, opcode === 0x2);
        else this.fragments = [Buffer.from(payload)];
        return;
      case 0x8: // close
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (this.readyState === OPEN) {
          this.readyState = CLOSING;
          this.socket.write(frame(0x8, payload.subarray(0, 2)));
        }
        this.socket.end();
        return;
      case 0x9: // ping
        if (this.readyState === OPEN) this.socket.write(frame(0xa, payload));
        return;
      default: // pong and reserved opcodes
        return;
    }
  }

  deliver(payload, binary) {
    if (this.onMessage) this.onMessage(payload, binary);
    else this.emit('message', payload, binary);
  }

  /** Sends a text message; like `ws`, a send on a socket that is not open is dropped (`cb` gets the error). */
  send(data, cb) {
    if (this.readyState !== OPEN) {
      cb?.(new Error('WebSocket is not open'));
      return;
    }
    this.socket.write(frame(0x1, Buffer.from(data)), cb);
  }

  /** Starts the closing handshake; the socket closes when the server answers (or ends it). */
  close(code = 1000) {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.socket.write(frame(0x8, body));
    // A server that never answers the close does not keep the socket open for long.
    setTimeout(() => this.socket?.destroy(), 5000).unref();
  }

  /** Drops the connection without a closing handshake (the server sees 1006). */
  terminate() {
    if (this.socket) this.socket.destroy();
    else if (this.readyState === CONNECTING) this.readyState = CLOSED;
  }
}

/**
 * The WebSocket class the bench clients use: this one, or the `ws` package with
 * `BENCH_WS_CLIENT=ws` (to check that a cheaper generator does not change a result).
 */
export const WebSocketClient = process.env.BENCH_WS_CLIENT === 'ws' ? (await import('ws')).default : RawWebSocket;
