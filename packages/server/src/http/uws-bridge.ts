/**
 * Serves the fastify application through uWebSockets.js, so REST and realtime share one origin
 * and port. Each HTTP request is read from uWS (headers, body up to the body limit) and handed to
 * fastify's in-process `inject`, whose response is written back. Bodies over the limit are refused
 * while streaming, before they are buffered.
 *
 * The cost of this bridge against fastify listening itself is measured in bench/README.md.
 */

import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { FastifyInstance } from 'fastify';
import { NatterError } from '../errors.js';

/** Response headers uWS writes itself, or that make no sense once re-framed. */
const SKIP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

const tooLarge = JSON.stringify({ error: new NatterError('NATTER_REQUEST_TOO_LARGE').toBody() });
const unavailable = JSON.stringify({
  error: new NatterError('NATTER_UNAVAILABLE', 'The server is shutting down; retry on a new connection.').toBody(),
});

export interface Bridge {
  /**
   * Stops handing requests to fastify: from now on every request (also on kept-alive connections,
   * which outlive the listen socket) is answered 503 with `connection: close`. Resolves when every
   * request handed over before has been answered.
   */
  drain(): Promise<void>;
}

export function mountFastify(app: TemplatedApp, fastify: FastifyInstance, options: { bodyLimit: number }): Bridge {
  const inflight = new Set<Promise<unknown>>();
  let draining = false;
  app.any('/*', (res, req) => {
    if (draining) {
      res.cork(() => {
        res
          .writeStatus('503 Service Unavailable')
          .writeHeader('content-type', 'application/json')
          .end(unavailable, true);
      });
      return;
    }
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const query = req.getQuery();
    const url = query ? `${req.getUrl()}?${query}` : req.getUrl();
    const headers: Record<string, string> = {};
    req.forEach((key, value) => {
      headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
    });
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
    let done = false;
    res.onAborted(() => {
      done = true;
    });

    const respond = (body: Buffer | undefined) => {
      const request = fastify
        .inject({ method: method as 'GET', url, headers, remoteAddress, ...(body ? { payload: body } : {}) })
        .then((r) => {
          if (done) return;
          done = true;
          res.cork(() => {
            res.writeStatus(`${r.statusCode} ${r.statusMessage || 'OK'}`);
            for (const [name, value] of Object.entries(r.headers)) {
              if (value === undefined || SKIP_HEADERS.has(name)) continue;
              for (const v of Array.isArray(value) ? value : [value]) res.writeHeader(name, String(v));
            }
            if (method === 'HEAD') res.endWithoutBody(r.rawPayload.length);
            else res.end(r.rawPayload);
          });
        })
        .catch((err: unknown) => {
          fastify.log.error({ err }, 'bridge: inject failed');
          if (done) return;
          done = true;
          res.cork(() => res.writeStatus('500 Internal Server Error').end());
        })
        .finally(() => inflight.delete(request));
      inflight.add(request);
    };

    if (
      method === 'GET' ||
      method === 'HEAD' ||
      method === 'OPTIONS' ||
      (headers['content-length'] === '0' && !headers['transfer-encoding'])
    ) {
      respond(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > options.bodyLimit) {
        done = true;
        refuse(res);
        return;
      }
      // The chunk is only valid during this call: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) respond(Buffer.concat(chunks, size));
    });
  });
  return {
    async drain() {
      draining = true;
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}

function refuse(res: HttpResponse): void {
  res.cork(() => {
    res.writeStatus('413 Payload Too Large').writeHeader('content-type', 'application/json').end(tooLarge, true);
  });
}
