/**
 * The send queue: every message send goes through it, one at a time, in the order the application
 * called `send()`.
 *
 * - Made while disconnected, a send waits here and goes out after the next welcome.
 * - A send whose answer was lost (socket died, timeout) is sent again with the SAME `clientMsgId`:
 *   the server stores a message once per client message id and answers a repeat with the stored
 *   one, so each send lands exactly once and the order holds.
 * - An error the server calls retryable (`NATTER_RATE_LIMITED`, `NATTER_UNAVAILABLE`…) is retried
 *   a few times after `retryAfter` or a backoff; any other error rejects that send only.
 */
import type { Message as WireMessage } from '@natter/protocol';
import { type BackoffOptions, backoff } from './backoff.js';
import type { Connection, RequestPayload } from './connection.js';
import { isTransportError, type NatterClientError, toClientError } from './errors.js';

/** Retryable server errors tolerated per send before it is rejected. */
const MAX_SERVER_RETRIES = 5;

interface Item {
  payload: RequestPayload<'message.send'>;
  resolve(message: WireMessage): void;
  reject(error: NatterClientError): void;
  retries: number;
}

/** @internal */
export class SendQueue {
  private readonly items: Item[] = [];
  private running = false;

  constructor(
    private readonly conn: Connection,
    private readonly delays: BackoffOptions,
  ) {}

  /** Number of sends not yet stored. */
  get size(): number {
    return this.items.length;
  }

  /** Queues a send; resolves with the stored message. */
  push(payload: RequestPayload<'message.send'>): Promise<WireMessage> {
    return new Promise((resolve, reject) => {
      this.items.push({ payload, resolve, reject, retries: 0 });
      this.flush();
    });
  }

  /** Sends what is queued, if connected. Called on every welcome and every push. */
  flush(): void {
    if (this.running || this.items.length === 0 || this.conn.state !== 'connected') return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      this.flush();
    });
  }

  private async run(): Promise<void> {
    while (this.items.length > 0 && this.conn.state === 'connected') {
      const item = this.items[0] as Item;
      try {
        const { message } = await this.conn.request('message.send', item.payload);
        this.items.shift();
        item.resolve(message);
      } catch (err) {
        const error = toClientError(err);
        // Lost answer: loop, and send again (now, or after the next welcome) with the same id.
        if (isTransportError(error)) continue;
        if (!error.retryable || ++item.retries > MAX_SERVER_RETRIES) {
          this.items.shift();
          item.reject(error);
          continue;
        }
        const retryAfter = Number(error.details?.retryAfter);
        const wait = retryAfter > 0 ? retryAfter * 1000 : backoff(item.retries - 1, this.delays);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
