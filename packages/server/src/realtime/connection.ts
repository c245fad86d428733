/**
 * Per-connection state, attached to the uWS socket as its user data at upgrade.
 */

import type { WebSocket } from 'uWebSockets.js';
import type { User } from '@natter/protocol';
import type { TokenBucket } from '../domain/token-bucket.js';
import type { TenantRecord } from '../ports/store.js';

export interface Connection {
  readonly id: string;
  readonly tenantId: string;
  /** The tenant as it was at connect (settings such as rate limits apply from the next connect). */
  readonly tenant: TenantRecord;
  /** Refreshed when a `user.updated` event names this user. */
  user: User;
  /** Token expiry, ms since epoch. */
  readonly expiresAt: number;
  readonly bucket: TokenBucket;
  /** Frames refused by the rate limit since the last accepted one. */
  strikes: number;
  /** The socket; null until `open` and after `close`. */
  ws: WebSocket<Connection> | null;
  /** Channel ids this connection receives events of. */
  readonly channels: Set<string>;
  /** Channel ids being subscribed (history being read): events are buffered here meanwhile. */
  readonly pending: Map<string, BufferedFrame[]>;
  /** Users whose presence this connection follows. */
  readonly presence: Set<string>;
  expiryTimer: NodeJS.Timeout | null;
}

/** An event frame held back while its channel's history is read. */
export interface BufferedFrame {
  frame: string;
  /** Sequence number, for message.new. */
  seq?: number;
}

/** uWS topic names. Ids never contain '/', so tenants' topics cannot collide. */
export const topics = {
  channel: (tenantId: string, channelId: string) => `c/${tenantId}/${channelId}`,
  presence: (tenantId: string, userId: string) => `p/${tenantId}/${userId}`,
};
