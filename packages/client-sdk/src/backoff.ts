/**
 * Reconnect delays: exponential backoff with full jitter, as centrifuge-js does it.
 *
 * Attempt `n` waits `minDelay + random(0, min(maxDelay, minDelay · 2ⁿ))`, capped at `maxDelay`, so
 * thousands of clients dropped by one server restart do not come back in lockstep.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */

/** Bounds of the reconnect delay, in milliseconds. */
export interface BackoffOptions {
  /** Smallest delay. @default 500 */
  minDelay: number;
  /** Largest delay. @default 20000 */
  maxDelay: number;
}

/** The default bounds: 500 ms to 20 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { minDelay: 500, maxDelay: 20_000 };

/**
 * Delay before reconnect attempt `attempt` (0-based), in milliseconds.
 *
 * @example backoff(0, DEFAULT_BACKOFF) // somewhere in [500, 1000)
 */
export function backoff(
  attempt: number,
  { minDelay, maxDelay }: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2^30 already exceeds any sensible maxDelay; the cap keeps the number finite.
  const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.min(maxDelay, minDelay + Math.floor(random() * ceiling));
}
