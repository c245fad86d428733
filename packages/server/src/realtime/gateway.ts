/**
 * The realtime gateway on uWebSockets.js: accepts authenticated WebSockets at `/v1/realtime`,
 * parses and dispatches frames, and fans out bus events to subscribers.
 *
 * Guarantees: per-channel order (events leave a node's outbox in order, a per-channel reorder
 * buffer restores seq order between nodes, and uWS preserves per-socket order); acks only after storage (handlers await the store); recovery by sequence on subscribe;
 * bounded per-connection buffers (slow consumers are closed with 4008); frame size and rate limits.
 *
 * @see docs/protocol.md
 */

import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { CloseCode, PROTOCOL_VERSION, REALTIME_PATH } from '@natter/protocol';
import type { OutboxEvent } from '../domain/events.js';
import { NatterError, toNatterError } from '../errors.js';
import type { TenantRecord } from '../ports/store.js';
import type { Connection } from './connection.js';
import { type GatewayContext, sendFrame } from './context.js';
import { EventDedupe } from './dedupe.js';
import { handleEvent, handleSignal, refreshTenantRules, updateRules, welcomeRules } from './fanout.js';
import { parseFrame, requestIdOf } from './frame-schemas.js';
import { dispatch, type HandlerContext } from './handlers.js';
import { ConnectionRegistry } from './registry.js';
import { ReorderBuffers } from './reorder.js';
import { SlowConsumerSweep } from './slow-consumers.js';
import { TypingTracker } from './typing.js';
import { handleUpgrade } from './upgrade.js';

export interface Gateway {
  /** Live connections on this node. */
  readonly connections: number;
  /** Closes every connection with `code` (default 1001 going away). */
  closeAll(code?: number, reason?: string): void;
  close(): Promise<void>;
}

/**
 * Bytes a connection may queue beyond the soft limit (at least the soft limit again) before uWS
 * drops it: room for 250 ms of a 32 MB/s flood between sweeps.
 */
const HARD_LIMIT_HEADROOM = 8 * 1024 * 1024;
/** How often slow consumers are looked for. */
const SWEEP_MS = 250;
/** Sweeps per rolling pass over every connection (every connection is asked every 5 s at least). */
const SWEEP_SLICES = 20;
/** How far past maxFrameBytes a frame is still read (to be refused with 1009) rather than dropped. */
const FRAME_CEILING_HEADROOM = 1024 * 1024;
/** Refused frames in a row after which a connection is closed with 4029. */
const MAX_STRIKES = 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createGateway(
  app: TemplatedApp,
  options: Omit<GatewayContext, 'app' | 'registry' | 'dedupe' | 'reorder' | 'slowConsumers'>,
): Gateway {
  const reorder = new ReorderBuffers<OutboxEvent>();
  // A channel nobody on this node subscribes to any more needs no order kept.
  const registry = new ConnectionRegistry((topic) => reorder.forget(topic));
  const gw: GatewayContext = {
    ...options,
    app,
    registry,
    dedupe: new EventDedupe(),
    reorder,
    slowConsumers: new SlowConsumerSweep(registry, SWEEP_SLICES),
  };
  const { config, log } = gw;
  const typing = new TypingTracker(gw);

  /**
   * Each tenant's last read, shared by the frames that arrive while it is in flight. A settled read
   * stays until the next frame replaces it rather than being deleted: a set and a delete on every
   * frame made V8 rebuild the map's table each time, and rebuilt tables outlive young-generation
   * collections (see `queuedReplies` in context.ts). One entry per tenant that has had
   * connections on this node, dropped when a read finds the tenant gone.
   */
  const tenantReads = new Map<string, { read: Promise<TenantRecord | null>; settled: boolean }>();
  const readTenant = (tenantId: string): Promise<TenantRecord | null> => {
    const held = tenantReads.get(tenantId);
    if (held && !held.settled) return held.read;
    const entry = { read: gw.store.platform.getTenant(tenantId), settled: false };
    entry.read.then(
      (tenant) => {
        entry.settled = true;
        if (tenant === null && tenantReads.get(tenantId) === entry) tenantReads.delete(tenantId);
      },
      () => {
        entry.settled = true;
      },
    );
    tenantReads.set(tenantId, entry);
    return entry.read;
  };

  /**
   * The context of one frame. The tenant is read again for every frame, as REST reads it for every
   * request (the SQLite store answers from memory until anything changes), so a policy change
   * applies to live connections at once, on every node; when it
   * changed this connection's rules, `rules.updated` goes out before the frame is answered.
   */
  const contextFor = async (conn: Connection): Promise<HandlerContext> => {
    const tenant = await readTenant(conn.tenantId);
    if (!tenant) throw new NatterError('NATTER_AUTH_INVALID', 'The tenant of this connection no longer exists.');
    updateRules(gw, conn, tenant);
    return {
      gw,
      conn,
      typing,
      ctx: {
        actor: { kind: 'user', tenantId: conn.tenantId, user: conn.user },
        tenant,
        db: gw.store.tenant(conn.tenantId),
        deps: gw.services,
      },
    };
  };

  function onMessage(ws: WebSocket<Connection>, data: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData();
    // Its reply goes into its queue.
    gw.slowConsumers.touched(conn);
    let requestId: number | null = null;
    if (data.byteLength > config.maxFrameBytes) {
      ws.end(CloseCode.FRAME_TOO_LARGE, 'frame too large');
      return;
    }
    try {
      if (!conn.bucket.take(Date.now())) {
        if (++conn.strikes >= MAX_STRIKES) {
          ws.end(CloseCode.RATE_LIMITED, 'rate limit exceeded');
          return;
        }
        throw new NatterError('NATTER_RATE_LIMITED', `At most ${config.framesPerSecond} frames per second.`, {
          retryAfter: conn.bucket.retryAfter(),
        });
      }
      conn.strikes = 0;
      if (isBinary)
        throw new NatterError('NATTER_FRAME_INVALID', 'Binary frames are not supported; send JSON text.', {
          field: 'frame',
        });
      // The ArrayBuffer is only valid during this call: decode it now.
      const text = utf8.decode(data);
      const frame = parseFrame(text);
      requestId = frame.id;
      contextFor(conn)
        .then((h) => dispatch(h, frame))
        .catch((err: unknown) => replyError(conn, frame.id, err));
    } catch (err) {
      // Name the request whenever it has a readable id, refused for its rate too: the client's
      // pending request must be answered (at most MAX_STRIKES such parses before 4029).
      if (requestId === null && err instanceof NatterError) {
        try {
          requestId = requestIdOf(JSON.parse(utf8.decode(data)));
        } catch {}
      }
      replyError(conn, requestId, err);
    }
  }

  function replyError(conn: Connection, id: number | null, err: unknown): void {
    const error = toNatterError(err);
    if (error.code === 'NATTER_INTERNAL') log.error({ err, connectionId: conn.id }, 'frame handler failed');
    sendFrame(conn, { type: 'error', id, error: error.toBody() });
  }

  function onOpen(ws: WebSocket<Connection>): void {
    const conn = ws.getUserData();
    conn.ws = ws;
    registry.add(conn);
    const untilExpiry = conn.expiresAt - Date.now();
    if (Number.isFinite(untilExpiry)) {
      // setTimeout holds at most ~24.8 days; tokens live 30 days at most.
      conn.expiryTimer = setTimeout(
        () => conn.ws?.end(CloseCode.TOKEN_EXPIRED, 'token expired'),
        Math.min(untilExpiry, 2 ** 31 - 1),
      );
      conn.expiryTimer.unref();
    }
    // Not from inside `open`: it runs in the cork of the asynchronous upgrade, and a send there can
    // make uWS drop the new socket (1006) when the cork ends (uNetworking/uWebSockets#1928, fixed
    // upstream by #1929). A microtask still runs before any frame of the client is read.
    queueMicrotask(() =>
      sendFrame(conn, {
        type: 'welcome',
        v: PROTOCOL_VERSION,
        connectionId: conn.id,
        user: conn.user,
        idleTimeout: config.idleTimeout,
        limits: {
          maxFrameBytes: config.maxFrameBytes,
          framesPerSecond: config.framesPerSecond,
          replayMax: config.replayMax,
        },
        rules: welcomeRules(gw, conn),
      }),
    );
    gw.presence.connect(conn.tenantId, conn.user.id, conn.id).then(
      (cameOnline) => {
        if (cameOnline)
          gw.bus.signal({ tenantId: conn.tenantId, event: 'presence.changed', userId: conn.user.id, online: true });
      },
      (err: unknown) => log.warn({ err }, 'presence connect failed'),
    );
  }

  function onClose(ws: WebSocket<Connection>): void {
    const conn = ws.getUserData();
    conn.ws = null;
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    registry.remove(conn);
    gw.presence.disconnect(conn.tenantId, conn.user.id, conn.id).then(
      (wentOffline) => {
        if (wentOffline)
          gw.bus.signal({ tenantId: conn.tenantId, event: 'presence.changed', userId: conn.user.id, online: false });
      },
      (err: unknown) => log.warn({ err }, 'presence disconnect failed'),
    );
  }

  app.ws<Connection>(REALTIME_PATH, {
    // uWS drops a socket whose frame exceeds this without a close frame (1006): let frames up to a
    // ceiling through so that onMessage can close with the documented 1009.
    maxPayloadLength: Math.max(config.maxFrameBytes * 2, config.maxFrameBytes + FRAME_CEILING_HEADROOM),
    idleTimeout: config.idleTimeout,
    sendPingsAutomatically: true,
    // Hard stop, a memory ceiling only: beyond it uWS drops the socket itself, with no close frame
    // (1006). It must sit well above the soft limit: uWS refuses to queue even the 4008 close frame
    // past it, and a flood crosses a narrow band (it was 2x) long before the next sweep.
    maxBackpressure: config.maxBufferedBytes + Math.max(config.maxBufferedBytes, HARD_LIMIT_HEADROOM),
    closeOnBackpressureLimit: 1,
    upgrade: (res, req, context) => handleUpgrade(gw, res, req, context),
    open: onOpen,
    message: onMessage,
    close: onClose,
  });

  const unsubscribeBus = gw.bus.subscribe((event) => handleEvent(gw, event));
  const unsubscribeSignals = gw.bus.onSignal((signal) => handleSignal(gw, signal));
  // A policy changed through this node: its connections get their new rules now (other nodes'
  // connections get them with their next frame).
  const unsubscribePolicies = gw.services.policies.onChange((tenantId) => {
    refreshTenantRules(gw, tenantId).catch((err: unknown) => log.warn({ err, tenantId }, 'rules refresh failed'));
  });

  // Soft limit: a connection that cannot keep up gets a clear close code and recovers by seq.
  // The sweep must find it before the hard stop (see maxBackpressure), or the 4008 is lost.
  // Only the connections that may have been sent something are asked (see slow-consumers.ts).
  const sweep = setInterval(() => {
    gw.slowConsumers.sweep((conn) => {
      if (conn.ws && conn.ws.getBufferedAmount() > config.maxBufferedBytes) {
        log.info({ connectionId: conn.id }, 'closing slow consumer');
        conn.ws.end(CloseCode.SLOW_CONSUMER, 'slow consumer');
      }
    });
  }, SWEEP_MS);
  sweep.unref();

  const gateway: Gateway = {
    get connections() {
      return registry.size;
    },
    closeAll(code = CloseCode.GOING_AWAY, reason = 'server shutting down') {
      for (const conn of [...registry.all()]) conn.ws?.end(code, reason);
    },
    async close() {
      clearInterval(sweep);
      unsubscribeBus();
      unsubscribeSignals();
      unsubscribePolicies();
      typing.close();
      gateway.closeAll();
      reorder.close();
    },
  };
  return gateway;
}
