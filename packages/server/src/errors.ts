/**
 * The server's error type. Every boundary (HTTP route, realtime frame handler) turns anything
 * thrown into a {@link NatterError} and answers with its code; codes live in `@natter/protocol`.
 *
 * @see docs/errors.md
 */
import { ERRORS, type ErrorBody, type ErrorCode, type ErrorDetails } from '@natter/protocol';

export class NatterError extends Error {
  override readonly name = 'NatterError';
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message ?? ERRORS[code].message, options);
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** An invalid field: the message names it. */
export function invalid(field: string, reason: string): NatterError {
  return new NatterError('NATTER_REQUEST_INVALID', `${field} ${reason}`, { field });
}

/** Converts anything thrown into a NatterError; unknown errors become NATTER_INTERNAL. */
export function toNatterError(err: unknown): NatterError {
  if (err instanceof NatterError) return err;
  return new NatterError('NATTER_INTERNAL', undefined, undefined, { cause: err });
}
