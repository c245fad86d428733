/**
 * The rate-limit port: token buckets by key. In-process by default; Redis-backed buckets are shared
 * by every node.
 *
 * Adapters: `adapters/rate-limit/memory.ts` (embedded default). Every adapter passes
 * `test/contracts/rate-limit.contract.ts`.
 */

export interface RateRule {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the largest burst. */
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until a token is available (0 when allowed). */
  retryAfter: number;
}

export interface RateLimiter {
  readonly name: string;
  /** Takes one token from the bucket `key`, created full on first use. */
  take(key: string, rule: RateRule): Promise<RateDecision>;
  close(): Promise<void>;
}
