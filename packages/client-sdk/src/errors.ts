/**
 * The SDK's one error class, and the marker error a `getToken()` callback throws to stop retries.
 *
 * Every failure the SDK reports — an HTTP error, a realtime error frame, a timeout, a lost
 * connection — is a {@link NatterClientError} carrying a protocol error code. Transport failures
 * use `NATTER_UNAVAILABLE` (retryable) with `details.reason` saying what happened.
 *
 * @see docs/sdk/README.md#errors
 */
import type { ErrorBody, ErrorCode, ErrorDetails } from '@natter/protocol';

/** Options of {@link NatterClientError}. */
export interface NatterClientErrorOptions {
  /** Whether the same request may succeed when sent again. @default false */
  retryable?: boolean;
  details?: ErrorDetails;
  /** HTTP status, for errors of REST calls. */
  status?: number;
  cause?: unknown;
}

/**
 * An error of a Natter call.
 *
 * @example
 * try { await channel.send('hi') } catch (err) {
 *   if (err instanceof NatterClientError && err.code === 'NATTER_CHANNEL_FROZEN') showFrozenBanner();
 * }
 */
export class NatterClientError extends Error {
  override readonly name = 'NatterClientError';
  /** The protocol error code, e.g. `NATTER_CHANNEL_NOT_FOUND`. */
  readonly code: ErrorCode;
  /** Whether sending the same request again can succeed. */
  readonly retryable: boolean;
  /** Machine-readable context: the field at fault, `retryAfter` seconds, `reason` of transport errors. */
  readonly details: ErrorDetails | undefined;
  /** HTTP status for REST calls; undefined for realtime and transport errors. */
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: NatterClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    this.status = options.status;
  }
}

/**
 * Throw this from the `getToken()` callback when the user cannot get a token (signed out,
 * banned): the client stops reconnecting and goes `disconnected` with reason `unauthorized`.
 * Any other error thrown by `getToken()` is treated as temporary and retried with backoff.
 *
 * @example
 * createClient({ url, getToken: async () => {
 *   const res = await fetch('/api/natter-token');
 *   if (res.status === 401) throw new UnauthorizedError('signed out');
 *   return (await res.json()).token;
 * } });
 */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** Why a transport error happened (`details.reason` of a `NATTER_UNAVAILABLE` from the SDK). */
export type TransportReason = 'offline' | 'disconnected' | 'timeout' | 'network';

/** @internal A transport failure: retryable, with `details.reason`. */
export function transportError(reason: TransportReason, cause?: unknown): NatterClientError {
  const text = {
    offline: 'Not connected.',
    disconnected: 'The connection closed before the answer came.',
    timeout: 'The request timed out.',
    network: 'The server could not be reached.',
  }[reason];
  return new NatterClientError('NATTER_UNAVAILABLE', text, { retryable: true, details: { reason }, cause });
}

/** @internal True for SDK-side transport failures (the request may or may not have been applied). */
export function isTransportError(err: unknown): boolean {
  return (
    err instanceof NatterClientError && err.code === 'NATTER_UNAVAILABLE' && typeof err.details?.reason === 'string'
  );
}

/** @internal An error body from the server (HTTP body `error` or realtime error frame). */
export function fromBody(body: ErrorBody, status?: number): NatterClientError {
  return new NatterClientError(body.code, body.message, {
    retryable: body.retryable,
    ...(body.details ? { details: body.details } : {}),
    ...(status !== undefined ? { status } : {}),
  });
}

/** @internal True when `err` is an {@link UnauthorizedError}, also across bundle copies. */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof UnauthorizedError || (err instanceof Error && err.name === 'UnauthorizedError');
}

/** @internal Anything thrown, as a NatterClientError (unknown errors count as network failures). */
export function toClientError(err: unknown): NatterClientError {
  if (err instanceof NatterClientError) return err;
  if (isUnauthorized(err)) {
    return new NatterClientError('NATTER_AUTH_INVALID', (err as Error).message || 'Unauthorized.', { cause: err });
  }
  return transportError('network', err);
}
