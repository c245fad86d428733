/**
 * Outgoing typing indicators: `typing.start` at most once per {@link TYPING_THROTTLE_MS} while the
 * user keeps typing, and `typing.stop` after {@link TYPING_IDLE_MS} without a keystroke.
 */

/** Minimum gap between two `typing.start` frames (the server's own throttle). */
export const TYPING_THROTTLE_MS = 2000;
/** Quiet time after which typing stops on its own. */
export const TYPING_IDLE_MS = 3000;

/** @internal */
export class TypingNotifier {
  private lastStart = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (type: 'typing.start' | 'typing.stop') => void) {}

  /** A keystroke. */
  typing(): void {
    const now = Date.now();
    if (now - this.lastStart >= TYPING_THROTTLE_MS) {
      this.lastStart = now;
      this.send('typing.start');
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  /** Stops now (message sent, input cleared); no-op when not typing. */
  stop(): void {
    clearTimeout(this.timer);
    if (this.lastStart === 0) return;
    this.lastStart = 0;
    this.send('typing.stop');
  }
}
