/**
 * appendMessage on MongoDB: gap-free, duplicate-free sequence numbers per channel across nodes,
 * without transactions and without trusting `$inc` (FerretDB v1 loses concurrent increments).
 *
 * **A seq is taken by inserting the message.** The unique index `(tenantId, channelId, seq)` lets
 * exactly one insert have a given seq, on every node. A batch reads the channel's newest seq `h`
 * and inserts its messages as `h+1, h+2, ...` with one ordered `insertMany`; a duplicate-key
 * refusal means another node took that seq first, so the refused message and the ones after it
 * are numbered again from the new head. Since a message is only ever inserted at "newest + 1", no
 * gap can appear, and a failed or crashed append has taken nothing: there is no counter to give
 * back.
 *
 * **Idempotency is settled by the same insert.** `(tenantId, channelId, clientKey)` is unique, with
 * `clientKey` the (author, clientMsgId) pair. Before numbering, the batch looks the keys up (a
 * repeat returns the stored message with `created: false` and never calls `emit`); repeats inside
 * one batch share the first one's result; a key another node stored meanwhile makes the insert
 * fail on that index, and the stored message is returned. A refused insert consumes no seq, so
 * two racing retries never burn one, and no claim can go stale.
 *
 * **Group commit.** Appends of one channel queue up in the process and run one batch at a time
 * under the channel lock: concurrent sends of a node cost one read round and one insert per
 * batch, and a node never races itself for a seq.
 *
 * **Events.** `emit` runs on the message built in memory with its candidate seq, before the
 * insert (it runs again if the message is renumbered); an `emit` that throws fails that append
 * alone and takes no seq. Events go to the outbox after the insert, before the call resolves.
 */
import type { Message } from '@natter/protocol';
import type { EventInput } from '../../../domain/events.js';
import type { AppendResult, Emit, MessageInput } from '../../../ports/store.js';
import { lockKey, type MongoContext, type TenantCollections, type TenantScope } from './connection.js';
import { clientKeyOf, docKey, messageDoc, toMessage } from './documents.js';
import { duplicateAt, isDuplicateKey } from './errors.js';
import type { EventTicket } from './event-sequencer.js';
import { str, strOrNull } from './inputs.js';
import { headOf } from './message-store.js';

/** Appends per batch: bounds one insertMany and the time the channel lock is held. */
const MAX_BATCH = 256;
/** Renumbering rounds before giving up (another node winning every seq for that long). */
const MAX_ROUNDS = 100;

interface Item {
  input: CheckedInput;
  emit: Emit<Message> | undefined;
  ticket: EventTicket | null;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

interface Planned {
  item: Item;
  message: Message;
  events: readonly EventInput[];
  /** Appends with the same client key in the same batch: they get this one's message. */
  followers: Item[];
}

type CheckedInput = Omit<MessageInput, 'clientMsgId' | 'parentId'> & {
  clientMsgId: string | null;
  parentId: string | null;
};

interface ChannelQueue {
  items: Item[];
  running: boolean;
}

const queuesOf = new WeakMap<MongoContext, Map<string, ChannelQueue>>();

export function appendMessage(s: TenantScope, input: MessageInput, emit?: Emit<Message>): Promise<AppendResult> {
  const checked: CheckedInput = {
    ...input,
    id: str(input.id, 'id'),
    channelId: str(input.channelId, 'channelId'),
    clientMsgId: strOrNull(input.clientMsgId, 'clientMsgId'),
    authorId: strOrNull(input.authorId, 'authorId'),
    type: str(input.type, 'type') as MessageInput['type'],
    parentId: strOrNull(input.parentId, 'parentId'),
    createdAt: str(input.createdAt, 'createdAt'),
  };
  // Taken now, at the call, so the events keep call order (see EventSequencer).
  const ticket = emit ? s.ctx.sequencer(s.tenantId).reserve() : null;
  return new Promise<AppendResult>((resolve, reject) => {
    enqueue(s, { input: checked, emit, ticket, resolve, reject });
  });
}

function enqueue(s: TenantScope, item: Item): void {
  let queues = queuesOf.get(s.ctx);
  if (!queues) {
    queues = new Map();
    queuesOf.set(s.ctx, queues);
  }
  const name = lockKey.channel(s.tenantId, item.input.channelId);
  let q = queues.get(name);
  if (!q) {
    q = { items: [], running: false };
    queues.set(name, q);
  }
  q.items.push(item);
  if (q.running) return;
  q.running = true;
  const queue = q;
  const all = queues;
  // On the next turn, so that the appends of this turn form one batch.
  setImmediate(async () => {
    while (queue.items.length > 0) {
      const batch = queue.items.splice(0, MAX_BATCH);
      await s.ctx.locks
        .run(name, () => appendBatch(s, item.input.channelId, batch))
        .catch((err: unknown) => {
          for (const i of batch) fail(i, err);
        });
    }
    queue.running = false;
    all.delete(name);
  });
}

async function appendBatch(s: TenantScope, channelId: string, batch: Item[]): Promise<void> {
  const { ctx, tenantId } = s;
  const cols = await ctx.writable(tenantId);
  let pending = batch;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      const err = new Error(`channel ${channelId}: no free seq after ${MAX_ROUNDS} attempts`);
      for (const item of pending) fail(item, err);
      return;
    }
    pending = await appendRound(s, cols, channelId, pending);
  }
}

/** One numbering and insert of `items`. Settles what it can; returns the items to try again. */
async function appendRound(s: TenantScope, cols: TenantCollections, channelId: string, items: Item[]): Promise<Item[]> {
  const { tenantId } = s;
  const keyed = items.filter((i) => i.input.clientMsgId !== null).map((i) => clientKeyOfInput(i.input));
  const parentIds = [...new Set(items.map((i) => i.input.parentId).filter((p): p is string => p !== null))];
  const [channel, head, repeats, parents] = await Promise.all([
    cols.channels.findOne({ _id: docKey(tenantId, channelId) }, { projection: { slowModeSeconds: 1 } }),
    headOf(cols, tenantId, channelId),
    keyed.length === 0 ? [] : cols.messages.find({ tenantId, channelId, clientKey: { $in: keyed } }).toArray(),
    parentIds.length === 0
      ? []
      : cols.messages
          .find({ _id: { $in: parentIds.map((p) => docKey(tenantId, p)) } }, { projection: { id: 1, channelId: 1 } })
          .toArray(),
  ]);
  if (!channel) {
    const err = new Error(`channel ${channelId} not found`);
    for (const item of items) fail(item, err);
    return [];
  }
  const stored = new Map(repeats.map((d) => [d.clientKey, toMessage(d)]));
  const knownParents = new Set(parents.filter((p) => p.channelId === channelId).map((p) => p.id));

  const planned: Planned[] = [];
  const byKey = new Map<string, Planned>();
  let seq = head?.seq ?? 0;
  for (const item of items) {
    const key = clientKeyOfInput(item.input);
    if (item.input.clientMsgId !== null) {
      const repeat = stored.get(key);
      if (repeat) {
        settleRepeat(item, repeat);
        continue;
      }
      const first = byKey.get(key);
      if (first) {
        first.followers.push(item);
        continue;
      }
    }
    const parentId = item.input.parentId;
    if (parentId !== null && !knownParents.has(parentId)) {
      fail(item, new Error(`parent message ${parentId} not found in channel ${channelId}`));
      continue;
    }
    const message = build(item.input, seq + 1);
    let events: readonly EventInput[] = [];
    try {
      if (item.emit) events = item.emit(message);
    } catch (err) {
      fail(item, err);
      continue;
    }
    seq += 1;
    const p: Planned = { item, message, events, followers: [] };
    planned.push(p);
    if (item.input.clientMsgId !== null) byKey.set(key, p);
    // A later append of this batch may reply to it.
    knownParents.add(message.id);
  }
  if (planned.length === 0) return [];

  let inserted = planned.length;
  let refused: Planned | undefined;
  let failure: unknown = null;
  try {
    await cols.messages.insertMany(
      planned.map((p) => messageDoc(tenantId, p.message)),
      { ordered: true },
    );
  } catch (err) {
    const at = duplicateAt(err);
    if (at === null) {
      failure = err;
      inserted = await landedPrefix(cols, tenantId, planned);
    } else {
      inserted = at;
      refused = planned[at];
    }
  }
  const done = planned.slice(0, inserted);
  await afterInsert(s, cols, channelId, done, (channel.slowModeSeconds ?? 0) > 0);
  for (const p of done) settleCreated(p);

  const rest = planned.slice(inserted + (refused ? 1 : 0));
  if (failure !== null) {
    for (const p of rest) for (const i of [p.item, ...p.followers]) fail(i, failure);
    return [];
  }
  const again: Item[] = [];
  if (refused) again.push(...(await whyRefused(cols, tenantId, channelId, refused)));
  for (const p of rest) again.push(p.item, ...p.followers);
  return again;
}

/**
 * An insert refused as a duplicate: a repeat stored by another node (settled with that message),
 * an id that exists (failed), or a seq another node took (returned, to be numbered again).
 */
async function whyRefused(cols: TenantCollections, tenantId: string, channelId: string, p: Planned): Promise<Item[]> {
  const all = [p.item, ...p.followers];
  if (p.message.clientMsgId !== null) {
    const other = await cols.messages.findOne({ tenantId, channelId, clientKey: clientKeyOfInput(p.item.input) });
    if (other) {
      for (const i of all) settleRepeat(i, toMessage(other));
      return [];
    }
  }
  if (await cols.messages.findOne({ _id: docKey(tenantId, p.message.id) }, { projection: { _id: 1 } })) {
    const err = new Error(`message ${p.message.id} exists`);
    for (const i of all) fail(i, err);
    return [];
  }
  return all;
}

/** After an insert of unknown outcome: how many of `planned` (a prefix, the insert is ordered) landed. */
async function landedPrefix(cols: TenantCollections, tenantId: string, planned: Planned[]): Promise<number> {
  try {
    const found = await cols.messages
      .find({ _id: { $in: planned.map((p) => docKey(tenantId, p.message.id)) } }, { projection: { _id: 1 } })
      .toArray();
    const ids = new Set(found.map((d) => d._id));
    const n = planned.findIndex((p) => !ids.has(docKey(tenantId, p.message.id)));
    return n === -1 ? planned.length : n;
  } catch {
    return 0;
  }
}

/**
 * Bumps the parents' reply counts (under each parent's lock: on FerretDB an update rewrites the
 * whole document), the channel's activity time and, in slow mode, the authors' last-sent marks.
 * The messages are stored already, so a failure here is reported, not thrown: the counts lag, the
 * messages and their events stand.
 */
async function afterInsert(
  s: TenantScope,
  cols: TenantCollections,
  channelId: string,
  done: Planned[],
  slowMode: boolean,
): Promise<void> {
  if (done.length === 0) return;
  const { ctx, tenantId } = s;
  const replies = new Map<string, number>();
  const sent = new Map<string, string>();
  let newest = '';
  for (const { message } of done) {
    if (message.parentId !== null) replies.set(message.parentId, (replies.get(message.parentId) ?? 0) + 1);
    if (message.createdAt > newest) newest = message.createdAt;
    const author = message.authorId;
    if (slowMode && author !== null && message.createdAt > (sent.get(author) ?? ''))
      sent.set(author, message.createdAt);
  }
  const mark = (userId: string, at: string) =>
    cols.slowModeMarks.updateOne(
      { _id: docKey(tenantId, channelId, userId) },
      { $max: { lastSentAt: at }, $setOnInsert: { tenantId, channelId, userId } },
      { upsert: true },
    );
  const results = await Promise.allSettled([
    cols.channels.updateOne({ _id: docKey(tenantId, channelId) }, { $max: { activityAt: newest } }),
    ...[...replies].map(([parentId, n]) =>
      ctx.locks.run(lockKey.message(tenantId, parentId), () =>
        cols.messages.updateOne({ _id: docKey(tenantId, parentId) }, { $inc: { replyCount: n } }),
      ),
    ),
    // Two nodes creating one mark at once: the losing upsert fails once and is retried.
    ...[...sent].map(([userId, at]) =>
      mark(userId, at).catch((err: unknown) => (isDuplicateKey(err) ? mark(userId, at) : Promise.reject(err))),
    ),
  ]);
  for (const r of results) if (r.status === 'rejected') ctx.options.onError?.(r.reason);
}

function build(input: CheckedInput, seq: number): Message {
  return {
    id: input.id,
    channelId: input.channelId,
    seq,
    clientMsgId: input.clientMsgId,
    authorId: input.authorId,
    type: input.type,
    text: input.text ?? null,
    attachments: input.attachments ?? [],
    custom: input.custom ?? {},
    encrypted: input.encrypted ?? null,
    parentId: input.parentId,
    replyCount: 0,
    reactionCounts: {},
    createdAt: input.createdAt,
    updatedAt: input.createdAt,
    editedAt: null,
    deletedAt: null,
  };
}

function clientKeyOfInput(input: CheckedInput): string {
  return clientKeyOf(input.id, input.authorId, input.clientMsgId);
}

function settleCreated(p: Planned): void {
  const { item, message, events } = p;
  const result: AppendResult = { message, created: true };
  if (item.ticket) item.ticket.commit(events).then(() => item.resolve(result), item.reject);
  else item.resolve(result);
  for (const f of p.followers) settleRepeat(f, message);
}

function settleRepeat(item: Item, message: Message): void {
  item.ticket?.cancel();
  item.resolve({ message, created: false });
}

function fail(item: Item, err: unknown): void {
  item.ticket?.cancel();
  item.reject(err);
}
