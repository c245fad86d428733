/**
 * Graceful stop on SIGTERM and SIGINT, the same for a single server, the primary of
 * `NATTER_WORKERS` and each worker: the first signal runs `close` once, then the process exits 0,
 * or 1 when closing failed.
 */
export interface StopLog {
  /** Told which signal started the stop. */
  stopping(signal: NodeJS.Signals): void;
  /** Told why closing failed, before exit code 1. */
  failed(err: unknown): void;
}

export function stopOnSignals(close: () => Promise<void>, log: StopLog): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.stopping(signal);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.failed(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
