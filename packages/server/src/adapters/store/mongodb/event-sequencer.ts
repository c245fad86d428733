/**
 * Orders one tenant's outbox events by call, as the SQLite store does by running writes in the
 * order they were requested.
 *
 * Writes of a tenant that take an `emit` reserve a ticket when they are called. They finish in
 * any order (they touch different documents), but their events are handed to the outbox writer
 * in ticket order: a write that finished early waits for the earlier tickets to commit their
 * events or to be cancelled. So a caller firing two writes without awaiting sees their events in
 * call order. Writes never wait on a ticket while holding a lock, so this cannot deadlock; a slow
 * write delays the acknowledgement of later writes of the same tenant only.
 */
import type { EventInput } from '../../../domain/events.js';
import type { OutboxWriter } from './outbox-writer.js';

/** A place in a tenant's event order. Settle it exactly once; later calls are no-ops. */
export interface EventTicket {
  /** Queues the events (none: just frees the place). Resolves once they are in the outbox. */
  commit(events: readonly EventInput[]): Promise<void>;
  /** Frees the place without events (the write failed or changed nothing). */
  cancel(): void;
}

interface Slot {
  state: 'pending' | 'ready' | 'empty';
  events: readonly EventInput[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class EventSequencer {
  private readonly slots: Slot[] = [];

  constructor(
    private readonly writer: OutboxWriter,
    readonly tenantId: string,
    /** Called when no ticket is outstanding, so the owner can drop this sequencer. */
    private readonly onIdle: () => void,
  ) {}

  reserve(): EventTicket {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const slot: Slot = { state: 'pending', events: [], resolve, reject };
    this.slots.push(slot);
    return {
      commit: (events) => {
        if (slot.state === 'pending') {
          slot.state = events.length > 0 ? 'ready' : 'empty';
          slot.events = events;
          if (events.length === 0) resolve();
          this.release();
        }
        return done;
      },
      cancel: () => {
        if (slot.state !== 'pending') return;
        slot.state = 'empty';
        resolve();
        this.release();
      },
    };
  }

  /** Hands the settled prefix of the queue to the writer, in order. */
  private release(): void {
    for (let head = this.slots[0]; head && head.state !== 'pending'; head = this.slots[0]) {
      this.slots.shift();
      if (head.state === 'ready') this.writer.submit(this.tenantId, head.events).then(head.resolve, head.reject);
    }
    if (this.slots.length === 0) this.onIdle();
  }
}
