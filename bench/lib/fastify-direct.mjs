#!/usr/bin/env node
/**
 * The Natter server of `packages/server/dist` with fastify listening on its own Node HTTP server
 * instead of behind uWebSockets.js (the production setup, `src/http/uws-bridge.ts`). Only for
 * measuring what the bridge costs REST: `node bench/rest-sends.mjs --via fastify`. Configured from
 * the environment like `main.js`; prints the same two lines rest-sends.mjs reads.
 */
import { createNatterServer, loadConfig } from '../../packages/server/dist/index.js';

const config = loadConfig();
const server = await createNatterServer(config);
await server.http.listen({ host: config.host, port: config.port });
const { port } = server.http.server.address();
process.stdout.write(`Natter (fastify direct) is listening on http://${config.host}:${port}\n`);
if (server.bootstrapKey)
  process.stdout.write(`NATTER_ADMIN_KEY=${server.bootstrapKey.id}:${server.bootstrapKey.secret}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
