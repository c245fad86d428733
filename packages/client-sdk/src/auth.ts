/**
 * The user token: fetched with the application's `getToken()` callback, cached, and fetched again
 * when the server says it expired or was refused. Concurrent callers share one `getToken()` call.
 */

/** Returns a user token; throw {@link UnauthorizedError} to stop the client retrying. */
export type GetToken = () => string | Promise<string>;

/** @internal Caches the token of a {@link GetToken} callback. */
export class TokenSource {
  private token: string | null = null;
  private inflight: Promise<string> | null = null;

  constructor(private readonly getToken: GetToken) {}

  /** The cached token, or a fresh one from `getToken()`. Rejects with what `getToken()` threw. */
  get(): Promise<string> {
    if (this.token !== null) return Promise.resolve(this.token);
    if (!this.inflight) {
      this.inflight = Promise.resolve()
        .then(this.getToken)
        .then((token) => {
          this.token = token;
          return token;
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  /** Forgets `token` (only if it is still the cached one), so the next `get()` asks again. */
  invalidate(token: string): void {
    if (this.token === token) this.token = null;
  }
}
