/**
 * Drops events this node has already fanned out. The bus delivers at least once (a relay that
 * crashed before marking events published, or two nodes' relays racing, publish again).
 *
 * Exact ids, not "highest id seen": with several nodes on one store, an event can become visible
 * in the outbox after one with a higher id (its node allocated the id first, stored it later), and
 * it must still be delivered. The newest `capacity` ids are remembered; a repeat arriving after
 * that many newer events is delivered again, which clients absorb (they key messages by id).
 *
 * Every event passes through here, so its cost must not depend on how many came before. The ids
 * sit in a set per channel, and the order in which to forget them in a ring of fixed arrays
 * allocated once, so forgetting the oldest is one array read. (It used to be one set of
 * `channel#id` strings, the oldest found with `values().next()`. A JavaScript set keeps deleted
 * entries in its table until it is rebuilt, and iteration walks past them, so once the set was
 * full every event paid for all the deletions since the last rebuild: 8 µs per event at 120,000
 * events, 88 µs at 280,000. In the persisted-sends benchmark run for 30 s instead of 10, that
 * took a server from 12,726 to 9,524 acked msg/s. It also kept a string per event alive for
 * 100,000 events, each promoted out of V8's young generation.)
 */
interface Channel {
  /** The key the channel is filed under (kept, so that the ring holds no string per event). */
  readonly key: string;
  readonly ids: Set<number>;
}

export class EventDedupe {
  /** The remembered ids of each channel. */
  private readonly channels = new Map<string, Channel>();
  /**
   * The remembered (channel, id) pairs; {@link head} is the next slot to fill, which holds the
   * oldest pair once the ring has gone round (an empty slot: it has not).
   */
  private readonly ringChannels: (Channel | undefined)[];
  private readonly ringIds: Float64Array;
  private head = 0;

  constructor(private readonly capacity = 100_000) {
    this.ringChannels = new Array(capacity).fill(undefined);
    this.ringIds = new Float64Array(capacity);
  }

  /** True when this event id is new for its channel (and records it). */
  fresh(channelKey: string, id: number): boolean {
    let channel = this.channels.get(channelKey);
    if (channel?.ids.has(id)) return false;
    if (this.ringChannels[this.head] !== undefined) {
      // The oldest may be this channel's last id, and the channel go with it.
      this.forgetOldest();
      channel = this.channels.get(channelKey);
    }
    if (!channel) {
      channel = { key: channelKey, ids: new Set() };
      this.channels.set(channelKey, channel);
    }
    channel.ids.add(id);
    this.ringChannels[this.head] = channel;
    this.ringIds[this.head] = id;
    this.head = (this.head + 1) % this.capacity;
    return true;
  }

  /** Channels with remembered ids (a channel whose ids were all forgotten is dropped). */
  get channelCount(): number {
    return this.channels.size;
  }

  private forgetOldest(): void {
    const channel = this.ringChannels[this.head] as Channel;
    channel.ids.delete(this.ringIds[this.head] as number);
    // Every id of a channel has its slot, so a channel is dropped exactly when its last slot is.
    if (channel.ids.size === 0) this.channels.delete(channel.key);
  }
}
