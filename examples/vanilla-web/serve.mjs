#!/usr/bin/env node
/**
 * Serves the example and the SDK build, and proxies `/v1/*` (REST and the realtime WebSocket) to
 * the Natter server, so the page and the API share one origin (the server sends no CORS headers).
 *
 *   NATTER_URL  the Natter server (default http://127.0.0.1:8080)
 *   PORT        where to serve (default 5173; 0 picks a free port, printed on start)
 *
 * Then open http://127.0.0.1:5173/?token=<user token>
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const target = new URL(process.env.NATTER_URL ?? 'http://127.0.0.1:8080');
const port = Number(process.env.PORT ?? 5173);
/** Only these folders of the repository are served. */
const PUBLIC = ['/examples/vanilla-web/', '/packages/client-sdk/dist/'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  if (path.startsWith('/v1/') || path.startsWith('/health/')) {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('Natter server unreachable'));
    req.pipe(upstream);
    return;
  }
  if (path === '/') {
    res.writeHead(302, { location: `/examples/vanilla-web/${new URL(req.url ?? '/', 'http://x').search}` }).end();
    return;
  }
  const file = normalize(path.endsWith('/') ? `${path}index.html` : path);
  if (!PUBLIC.some((p) => file.startsWith(p))) return res.writeHead(404).end();
  try {
    if (!statSync(join(root, file)).isFile()) throw new Error('not a file');
  } catch {
    return res.writeHead(404).end();
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  createReadStream(join(root, file)).pipe(res);
});

// WebSocket upgrades: replay the request head to the server, then pipe bytes both ways.
server.on('upgrade', (req, socket, head) => {
  const upstream = connect(Number(target.port || 80), target.hostname, () => {
    const headers = Object.entries({ ...req.headers, host: target.host }).map(([k, v]) => `${k}: ${v}`);
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});

// PORT=0 picks a free port: the line below names the one actually bound (tests read it).
server.listen(port, () => {
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`vanilla-web on http://127.0.0.1:${bound}/?token=… → ${target.origin}`);
});
