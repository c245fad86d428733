/**
 * REST calls with the user token (`Authorization: Bearer`). A 401 makes the token source fetch a
 * new token and the call is sent once more; error bodies become {@link NatterClientError}s.
 *
 * @see docs/rest.md
 */
import type { ErrorBody } from '@natter/protocol';
import type { TokenSource } from './auth.js';
import { fromBody, NatterClientError, toClientError, transportError } from './errors.js';

type Query = Record<string, string | number | undefined>;

/** @internal */
export interface RestOptions {
  /** Base URL of the server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  tokens: TokenSource;
  fetch: typeof fetch;
  /** Per-request timeout, ms. */
  timeout: number;
}

/** @internal A REST client bound to one server and one token source. */
export class Rest {
  constructor(private readonly options: RestOptions) {}

  /** Sends a request; resolves with the parsed JSON body (undefined for 204). */
  async request<T>(method: string, path: string, init: { query?: Query; body?: unknown } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        token = await this.options.tokens.get();
      } catch (err) {
        throw toClientError(err);
      }
      const res = await this.send(method, path, token, init);
      if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
      if (res.status === 401 && attempt === 0) {
        this.options.tokens.invalidate(token);
        continue;
      }
      throw await errorOf(res);
    }
  }

  /** True when the server refuses `token` (HTTP 401): used to explain a refused WebSocket upgrade. */
  async refuses(token: string): Promise<boolean> {
    try {
      return (await this.send('GET', '/v1/me', token, {})).status === 401;
    } catch {
      return false;
    }
  }

  private async send(method: string, path: string, token: string, init: { query?: Query; body?: unknown }) {
    const url = new URL(path, this.options.baseUrl);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    // Called detached: browsers refuse `fetch` invoked as a method of another object.
    const doFetch = this.options.fetch;
    try {
      return await doFetch(url, {
        method,
        headers,
        signal: AbortSignal.timeout(this.options.timeout),
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (err) {
      throw transportError((err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network', err);
    }
  }
}

async function errorOf(res: Response): Promise<NatterClientError> {
  const body = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
  if (body?.error?.code) return fromBody(body.error, res.status);
  // Not a Natter answer (a proxy's error page): classify by status.
  const retryable = res.status >= 500 || res.status === 429;
  return new NatterClientError(retryable ? 'NATTER_UNAVAILABLE' : 'NATTER_REQUEST_INVALID', `HTTP ${res.status}`, {
    retryable,
    status: res.status,
  });
}
