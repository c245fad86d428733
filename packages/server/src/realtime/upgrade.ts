/**
 * Authentication at the WebSocket upgrade. The user token comes as the `token` query parameter or
 * as a `Sec-WebSocket-Protocol` entry `bearer.<token>` (beside `natter.v1`), so browsers can send
 * it without putting it in URLs. A missing, expired, forged or other-tenant token, or an Origin the
 * tenant does not allow, is answered with an HTTP error and never upgraded.
 */

import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import { SUBPROTOCOL } from '@natter/protocol';
import { decodeJwt } from 'jose';
import { TokenBucket } from '../domain/token-bucket.js';
import { NatterError, toNatterError } from '../errors.js';
import { verifyUserToken } from '../services/auth.js';
import type { Connection } from './connection.js';
import type { GatewayContext } from './context.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal Server Error',
};

function tokenFrom(query: string, protocols: string[]): string | undefined {
  const fromProtocol = protocols.find((p) => p.startsWith('bearer.'));
  if (fromProtocol) return fromProtocol.slice('bearer.'.length);
  return new URLSearchParams(query).get('token') ?? undefined;
}

export function handleUpgrade(
  gw: GatewayContext,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
): void {
  // The request object is valid only until this function returns: read everything now.
  const key = req.getHeader('sec-websocket-key');
  const protocolHeader = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const origin = req.getHeader('origin');
  const query = req.getQuery() ?? '';
  const protocols = protocolHeader
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });

  const refuse = (err: NatterError) => {
    if (aborted) return;
    res.cork(() => {
      res
        .writeStatus(`${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}`)
        .writeHeader('content-type', 'application/json')
        .end(JSON.stringify({ error: err.toBody() }));
    });
  };

  (async () => {
    const token = tokenFrom(query, protocols);
    if (!token)
      throw new NatterError('NATTER_AUTH_MISSING', 'Send the user token as ?token= or as subprotocol bearer.<token>.');
    const actor = await verifyUserToken(gw.store, token);
    const tenant = await gw.store.platform.getTenant(actor.tenantId);
    if (!tenant) throw new NatterError('NATTER_AUTH_INVALID');
    const allowed = tenant.settings.allowedOrigins;
    if (allowed.length > 0 && !allowed.includes(origin)) {
      throw new NatterError(
        'NATTER_AUTH_ORIGIN_FORBIDDEN',
        `Origin ${origin || '(none)'} is not allowed for this tenant.`,
      );
    }
    const exp = decodeJwt(token).exp;
    const now = Date.now();
    const conn: Connection = {
      id: randomUUID(),
      tenantId: tenant.id,
      tenant,
      user: actor.user,
      expiresAt: typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY,
      bucket: new TokenBucket(gw.config.framesPerSecond, gw.config.framesPerSecond * 2, now),
      strikes: 0,
      ws: null,
      channels: new Set(),
      pending: new Map(),
      presence: new Set(),
      expiryTimer: null,
    };
    if (aborted) return;
    // Echo only our protocol name: never the token.
    const chosen = protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : '';
    res.cork(() => res.upgrade(conn, key, chosen, extensions, context));
  })().catch((err: unknown) => {
    const error = toNatterError(err);
    if (error.code === 'NATTER_INTERNAL') gw.log.error({ err }, 'upgrade failed');
    refuse(error);
  });
}
