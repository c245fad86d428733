/**
 * Client of the Socket.IO peer (bench/peers/socketio-server.mjs) with socket.io-client 4, WebSocket
 * transport only (no long-polling start), no automatic reconnection (the workloads reconnect).
 */
import { io } from 'socket.io-client';
import { tsFromText } from './marker.mjs';

const REQUEST_TIMEOUT_MS = 60000;

export function connect({ conn, user, localAddress, onMsg, onClose }) {
  return new Promise((resolve, reject) => {
    const socket = io(conn.url, {
      transports: ['websocket'],
      auth: { token: user.token },
      reconnection: false,
      forceNew: true,
      localAddress,
      perMessageDeflate: false,
      timeout: 60000,
    });
    let connected = false;
    const client = {
      socket,
      async subscribe(channelId, since) {
        const r = await socket
          .timeout(REQUEST_TIMEOUT_MS)
          .emitWithAck('join', since === undefined ? { channelId } : { channelId, since });
        if (r.error) throw new Error(r.error);
        return {
          lastSeq: r.lastSeq,
          recovery: r.recovery,
          messages: r.messages.map((m) => ({ seq: m.seq, ts: tsFromText(m.text) })),
        };
      },
      async send(channelId, text, clientMsgId) {
        const r = await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck('send', { channelId, text, clientMsgId });
        if (r.error) throw new Error(r.error);
        return { seq: r.message.seq };
      },
      close() {
        socket.disconnect();
      },
      drop() {
        // Abrupt: kill the underlying WebSocket without a Socket.IO disconnect packet.
        socket.io.engine?.transport?.ws?.terminate?.();
        socket.io.engine?.close();
      },
    };
    socket.on('message', (m) => onMsg(m.channelId, m.seq, tsFromText(m.text)));
    socket.on('connect', () => {
      connected = true;
      resolve(client);
    });
    socket.on('connect_error', (err) => {
      if (!connected) reject(err);
    });
    socket.on('disconnect', (reason) => {
      if (connected) onClose?.(reason);
    });
  });
}
