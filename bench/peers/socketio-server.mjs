/**
 * The chat server a team would write itself with Socket.IO 4: one room per channel, `send` with an
 * ack carrying the stored message, and an in-memory history array per room so a client that
 * reconnects can `join` with `since` and get what it missed.
 *
 * NOT durable: history lives in this process only (capped at HISTORY_MAX per room) and is lost on
 * restart. Used by bench/run.mjs as the "DIY" peer; not part of Natter.
 *
 * Env: PORT, HOST, TOKEN_SECRET (tokens are `<userId>.<base64url HMAC-SHA256(userId)>`).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? '127.0.0.1';
const SECRET = process.env.TOKEN_SECRET ?? 'dev-secret';
const HISTORY_MAX = 1000;
const MAX_TEXT = 4000;

/** channelId → { members: Set<userId>, seq, history: message[] } */
const rooms = new Map();

function verify(token) {
  if (typeof token !== 'string') return null;
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const userId = token.slice(0, dot);
  const expected = createHmac('sha256', SECRET).update(userId).digest();
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null;
}

// Setup route standing in for the team's database of channels and members.
const httpServer = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/setup/channels' || req.headers['x-setup-secret'] !== SECRET) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    for (const ch of JSON.parse(body).channels) {
      const room = rooms.get(ch.id) ?? { members: new Set(), seq: 0, history: [] };
      for (const m of ch.members) room.members.add(m);
      rooms.set(ch.id, room);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});

const io = new Server(httpServer, { cors: { origin: '*' }, serveClient: false });

io.use((socket, next) => {
  const userId = verify(socket.handshake.auth?.token);
  if (!userId) return next(new Error('unauthorized'));
  socket.data.userId = userId;
  next();
});

const reply = (ack, value) => {
  if (typeof ack === 'function') ack(value);
};

io.on('connection', (socket) => {
  const { userId } = socket.data;

  socket.on('join', (req, ack) => {
    const room = rooms.get(req?.channelId);
    if (!room?.members.has(userId)) return reply(ack, { error: 'not_found' });
    socket.join(req.channelId);
    // Same tick as join: nothing can fall between the history read and live delivery.
    const since = Number.isInteger(req.since) ? req.since : null;
    let messages = [];
    let recovery = 'not_requested';
    if (since !== null) {
      const oldest = room.history.length ? room.history[0].seq : room.seq + 1;
      if (since + 1 < oldest) recovery = 'too_far';
      else {
        recovery = 'recovered';
        messages = room.history.slice(since + 1 - oldest);
      }
    }
    reply(ack, { lastSeq: room.seq, recovery, messages });
  });

  socket.on('leave', (req, ack) => {
    socket.leave(req?.channelId);
    reply(ack, {});
  });

  socket.on('send', (req, ack) => {
    const room = rooms.get(req?.channelId);
    if (!room?.members.has(userId)) return reply(ack, { error: 'not_found' });
    if (typeof req.text !== 'string' || req.text.length > MAX_TEXT) return reply(ack, { error: 'invalid_text' });
    const message = {
      id: randomUUID(),
      channelId: req.channelId,
      seq: ++room.seq,
      clientMsgId: typeof req.clientMsgId === 'string' ? req.clientMsgId : null,
      authorId: userId,
      text: req.text,
      createdAt: new Date().toISOString(),
    };
    room.history.push(message);
    if (room.history.length > HISTORY_MAX) room.history.shift();
    io.to(req.channelId).emit('message', message);
    reply(ack, { message });
  });
});

httpServer.listen(PORT, HOST, () => {
  process.stdout.write(`socket.io chat listening on http://${HOST}:${PORT}\n`);
});

const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
