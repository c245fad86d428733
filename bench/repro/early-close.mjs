/**
 * Repro for a Natter realtime issue found by the benchmark: a few connections are closed with 1006
 * (no close frame) a few milliseconds after their `welcome` frame, while other connections are
 * still being opened. Seen reliably when the server runs under `node --cpu-prof` (about 2 of 20
 * connections) and rarely without it (about 1 in 1,000 at 1,000 parallel connects).
 *
 *   node bench/repro/early-close.mjs prof   # server under --cpu-prof
 *   node bench/repro/early-close.mjs        # plain server
 *
 * Prints every connection closed with a code other than 1000/1005 and the time since start (ms).
 *
 * Cause (found 2026-11-22): uWebSockets.js v20.30's `res.cork(() => res.upgrade(…))` after an
 * asynchronous step (our token check) can close the new socket when the cork ends: it reads the
 * HTTP state from memory that the upgrade reallocated in place (uNetworking/uWebSockets#1928,
 * fixed upstream by #1929, not in this build). Upgrading without the cork removes the early
 * closes (0 of 20, five runs, also under --cpu-prof) but makes uWS print a "writes must be made
 * from within a corked callback" warning on stderr for every upgrade, so the cork stays and
 * clients reconnect (docs/protocol.md, close code 1006).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { natter } from '../systems/natter.mjs';

const profileDir = process.argv[2] === 'prof' ? mkdtempSync(join(tmpdir(), 'early-close-')) : undefined;
const h = await natter.start({ profileDir });
let early = 0;
try {
  const prep = await natter.prepare(h, { users: 20, channels: [] });
  const t0 = Date.now();
  await Promise.all(
    prep.users.map(
      (u, i) =>
        new Promise((resolve) => {
          const ws = new WebSocket(prep.conn.url, ['natter.v1', `bearer.${u.token}`], {
            localAddress: `127.0.0.${2 + (i % 16)}`,
          });
          ws.on('error', (err) => console.log(u.id, 'error', err.message));
          ws.on('close', (code) => {
            if (code !== 1000 && code !== 1005) {
              early++;
              console.log(`${u.id} closed ${code} at ${Date.now() - t0} ms`);
            }
          });
          setTimeout(() => {
            ws.close();
            resolve();
          }, 2000);
        }),
    ),
  );
} finally {
  await h.stop();
}
console.log(`${early} of 20 connections closed early`);
