/**
 * Typing indicators: ephemeral, throttled, expiring on their own.
 *
 * A `typing.start` is broadcast at most once per {@link TYPING_THROTTLE_MS} per user and channel;
 * without a refresh the server broadcasts `typing.stop` after {@link TYPING_EXPIRE_MS} (or the
 * gateway's `typingExpireMs`).
 */
import type { GatewayContext } from './context.js';

export const TYPING_THROTTLE_MS = 2000;
export const TYPING_EXPIRE_MS = 6000;

interface TypingState {
  lastStart: number;
  timer: NodeJS.Timeout;
}

export class TypingTracker {
  private readonly states = new Map<string, TypingState>();

  constructor(private readonly gw: GatewayContext) {}

  start(tenantId: string, channelId: string, userId: string): void {
    const key = `${tenantId}/${channelId}/${userId}`;
    const now = Date.now();
    const state = this.states.get(key);
    if (state) clearTimeout(state.timer);
    const timer = setTimeout(
      () => this.stop(tenantId, channelId, userId),
      this.gw.config.typingExpireMs ?? TYPING_EXPIRE_MS,
    );
    timer.unref();
    if (state && now - state.lastStart < TYPING_THROTTLE_MS) {
      state.timer = timer;
      return;
    }
    this.states.set(key, { lastStart: now, timer });
    this.gw.bus.signal({ tenantId, channelId, event: 'typing.start', userId });
  }

  stop(tenantId: string, channelId: string, userId: string): void {
    const key = `${tenantId}/${channelId}/${userId}`;
    const state = this.states.get(key);
    if (!state) return;
    clearTimeout(state.timer);
    this.states.delete(key);
    this.gw.bus.signal({ tenantId, channelId, event: 'typing.stop', userId });
  }

  close(): void {
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.states.clear();
  }
}
