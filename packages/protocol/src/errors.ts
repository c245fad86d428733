/**
 * The one registry of Natter error codes, shared by the server (HTTP + realtime) and the SDK.
 *
 * Every failure a client can see carries one of these codes. HTTP answers use `status`; realtime
 * error frames carry the same `code`. `retryable` tells a client whether sending the same request
 * again (with the same client message id) can succeed.
 *
 * @see docs/errors.md
 */
export const ERRORS = {
  // Requests that do not fit the schema.
  NATTER_REQUEST_INVALID: { status: 400, retryable: false, message: 'The request is invalid.' },
  NATTER_REQUEST_TOO_LARGE: { status: 413, retryable: false, message: 'The request body is too large.' },
  NATTER_REQUEST_UNSUPPORTED_MEDIA: {
    status: 415,
    retryable: false,
    message: 'Send the body as application/json.',
  },
  NATTER_ROUTE_NOT_FOUND: { status: 404, retryable: false, message: 'No such route.' },

  // Authentication.
  NATTER_AUTH_MISSING: { status: 401, retryable: false, message: 'Credentials are missing.' },
  NATTER_AUTH_INVALID: { status: 401, retryable: false, message: 'Credentials are invalid.' },
  NATTER_AUTH_EXPIRED: { status: 401, retryable: true, message: 'The token has expired; get a new one.' },
  NATTER_AUTH_FORBIDDEN: { status: 403, retryable: false, message: 'You may not do this.' },
  NATTER_AUTH_ORIGIN_FORBIDDEN: {
    status: 403,
    retryable: false,
    message: 'This origin is not allowed for the tenant.',
  },

  // Resources. A resource of another tenant answers exactly as one that does not exist.
  NATTER_TENANT_NOT_FOUND: { status: 404, retryable: false, message: 'No such tenant.' },
  NATTER_KEY_NOT_FOUND: { status: 404, retryable: false, message: 'No such API key.' },
  NATTER_USER_NOT_FOUND: { status: 404, retryable: false, message: 'No such user.' },
  NATTER_CHANNEL_NOT_FOUND: { status: 404, retryable: false, message: 'No such channel.' },
  NATTER_CHANNEL_EXISTS: { status: 409, retryable: false, message: 'A channel with this id exists.' },
  NATTER_CHANNEL_ENDED: { status: 409, retryable: false, message: 'The support conversation has ended.' },
  NATTER_CHANNEL_FROZEN: { status: 409, retryable: false, message: 'The channel is frozen.' },
  NATTER_CHANNEL_INVALID_MEMBERS: {
    status: 400,
    retryable: false,
    message: 'The members do not fit the channel type.',
  },
  NATTER_MEMBER_NOT_FOUND: { status: 404, retryable: false, message: 'No such member.' },
  NATTER_MESSAGE_NOT_FOUND: { status: 404, retryable: false, message: 'No such message.' },
  NATTER_MESSAGE_DELETED: { status: 409, retryable: false, message: 'The message was deleted.' },
  NATTER_MESSAGE_CLIENT_ID_CONFLICT: {
    status: 409,
    retryable: false,
    message: 'This client message id was used for a different message.',
  },

  // Moderation.
  NATTER_USER_BANNED: { status: 403, retryable: false, message: 'You are banned here.' },
  NATTER_USER_MUTED: { status: 403, retryable: false, message: 'You are muted here.' },
  NATTER_USER_BLOCKED: { status: 403, retryable: false, message: 'This user does not accept your messages.' },
  NATTER_SLOW_MODE: { status: 429, retryable: true, message: 'Slow mode: wait before sending again.' },

  // Limits.
  NATTER_RATE_LIMITED: { status: 429, retryable: true, message: 'Too many requests; slow down.' },

  // Realtime protocol.
  NATTER_FRAME_INVALID: { status: 400, retryable: false, message: 'The frame is invalid.' },
  NATTER_FRAME_UNKNOWN_TYPE: { status: 400, retryable: false, message: 'Unknown frame type.' },
  NATTER_NOT_SUBSCRIBED: { status: 409, retryable: false, message: 'Not subscribed to this channel.' },
  NATTER_RECOVERY_TOO_FAR: {
    status: 409,
    retryable: false,
    message: 'Too many messages were missed; refetch the history.',
  },

  // Server side.
  NATTER_UNAVAILABLE: { status: 503, retryable: true, message: 'The service is unavailable; retry.' },
  NATTER_INTERNAL: { status: 500, retryable: true, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

/** Every error code Natter can answer with. */
export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every HTTP error, and the `error` of every realtime error frame. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: ErrorDetails;
}

/** Machine-readable context: which field was wrong, what limit was hit, when to retry. */
export interface ErrorDetails {
  /** JSON pointer-ish path of the field at fault, e.g. `body.text`. */
  field?: string;
  /** Seconds to wait before retrying (with NATTER_RATE_LIMITED). */
  retryAfter?: number;
  [key: string]: unknown;
}

/** True when `code` is one of Natter's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}
