/**
 * Where the SDK writes what it does. Silent unless the application passes one (`console` works).
 */

/** A logger: any subset of `console`'s methods. */
export interface Logger {
  debug?(message: string, ...data: unknown[]): void;
  warn?(message: string, ...data: unknown[]): void;
  error?(message: string, ...data: unknown[]): void;
}
