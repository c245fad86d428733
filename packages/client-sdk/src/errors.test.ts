import { describe, expect, it } from 'vitest';
import {
  fromBody,
  isTransportError,
  NatterClientError,
  toClientError,
  transportError,
  UnauthorizedError,
} from './errors.js';

describe('errors', () => {
  it('NatterClientError carries code, retryable, details and status', () => {
    const err = fromBody(
      { code: 'NATTER_RATE_LIMITED', message: 'slow down', retryable: true, details: { retryAfter: 2 } },
      429,
    );
    expect(err).toBeInstanceOf(NatterClientError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'NatterClientError',
      code: 'NATTER_RATE_LIMITED',
      message: 'slow down',
      retryable: true,
      status: 429,
    });
    expect(err.details).toEqual({ retryAfter: 2 });
  });

  it('transport errors are retryable NATTER_UNAVAILABLE with a reason', () => {
    const err = transportError('timeout');
    expect(err).toMatchObject({ code: 'NATTER_UNAVAILABLE', retryable: true, details: { reason: 'timeout' } });
    expect(isTransportError(err)).toBe(true);
    expect(isTransportError(fromBody({ code: 'NATTER_UNAVAILABLE', message: 'x', retryable: true }))).toBe(false);
  });

  it('anything thrown becomes a NatterClientError', () => {
    const own = new NatterClientError('NATTER_INTERNAL', 'x');
    expect(toClientError(own)).toBe(own);
    expect(toClientError(new TypeError('fetch failed'))).toMatchObject({
      code: 'NATTER_UNAVAILABLE',
      details: { reason: 'network' },
    });
    const unauthorized = toClientError(new UnauthorizedError('signed out'));
    expect(unauthorized).toMatchObject({ code: 'NATTER_AUTH_INVALID', message: 'signed out', retryable: false });
    expect(unauthorized.cause).toBeInstanceOf(UnauthorizedError);
  });
});
