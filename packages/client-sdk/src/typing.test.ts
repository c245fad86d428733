import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TYPING_IDLE_MS, TYPING_THROTTLE_MS, TypingNotifier } from './typing.js';

describe('typing notifier (fake timers)', () => {
  let sent: string[];
  let notifier: TypingNotifier;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    notifier = new TypingNotifier((type) => sent.push(type));
  });
  afterEach(() => vi.useRealTimers());

  it('sends start at most once per throttle window while typing continues', () => {
    for (let i = 0; i < 10; i++) {
      notifier.typing();
      vi.advanceTimersByTime(250);
    }
    expect(sent).toEqual(['typing.start', 'typing.start']);
    expect(TYPING_THROTTLE_MS).toBe(2000);
  });

  it('stops by itself after the idle time', () => {
    notifier.typing();
    vi.advanceTimersByTime(TYPING_IDLE_MS - 1);
    expect(sent).toEqual(['typing.start']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['typing.start', 'typing.stop']);
  });

  it('stop() is immediate and a no-op when not typing', () => {
    notifier.stop();
    expect(sent).toEqual([]);
    notifier.typing();
    notifier.stop();
    notifier.stop();
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual(['typing.start', 'typing.stop']);
    notifier.typing();
    expect(sent.at(-1)).toBe('typing.start');
  });
});
