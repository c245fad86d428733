/**
 * Assertions shared by the REST suites: the error shape every failure answers with.
 */
import { ERRORS, type ErrorCode } from '@natter/protocol';
import { expect } from 'vitest';
import type { ApiResponse } from '../harness.js';

/** A stack frame or a source path, which an answer must never show. */
const STACK_TRACE = /\bat .+:\d+:\d+|\.(ts|js):\d+|node_modules|\/src\//;

/**
 * Asserts `res` is the error `code` with its registered status and retryability, the documented
 * shape `{ error: { code, message, retryable, details? } }`, no stack trace, and (when given)
 * `details.field`.
 */
export function expectError(res: ApiResponse, code: ErrorCode, field?: string): void {
  const where = `${res.status} ${JSON.stringify(res.body)}`;
  expect(res.headers.get('content-type'), where).toMatch(/^application\/json/);
  expect({ status: res.status, code: res.body?.error?.code }, where).toEqual({ status: ERRORS[code].status, code });
  expect(Object.keys(res.body)).toEqual(['error']);
  const { error } = res.body;
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.retryable).toBe(ERRORS[code].retryable);
  for (const key of Object.keys(error)) expect(['code', 'message', 'retryable', 'details']).toContain(key);
  expect(JSON.stringify(res.body)).not.toMatch(STACK_TRACE);
  if (field !== undefined) expect(error.details?.field, where).toBe(field);
}

/** `{ status, code }` of a response, for comparing two answers. */
export function outcome(res: ApiResponse): { status: number; code: string | undefined } {
  return { status: res.status, code: res.body?.error?.code };
}
