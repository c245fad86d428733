/**
 * b. Many small channels: `small-channels` channels × `small-members` members, one connection per
 * member, each member sending `small-rate` messages/s to its channel (with acks) and receiving all.
 */
import { cpuWindow } from '../lib/procstat.mjs';
import { cpuColumns, drain, latencyColumns, mergeHists, round, sleep } from './common.mjs';

export const small = {
  name: 'small',
  title: 'b. many small channels',

  plan(opts) {
    const m = opts['small-members'];
    const channels = Array.from({ length: opts['small-channels'] }, (_, c) => ({
      id: `s${c}`,
      members: Array.from({ length: m }, (_, k) => c * m + k),
    }));
    return { users: channels.length * m, channels };
  },

  async run({ handle, prep, gen, opts, log }) {
    const m = opts['small-members'];
    const list = prep.users.map((user, i) => ({ user, channels: [`s${Math.floor(i / m)}`] }));
    const c = await gen.connect(list, { subscribe: true });
    log(
      `  ${c.ok}/${list.length} members connected and subscribed in ${c.ms} ms${c.failed ? ` (${c.failed} failed: ${c.errors.join('; ')})` : ''}`,
    );
    await sleep(500);
    // Every system first runs the same chatter unmeasured: the first second of a fresh process
    // (code not optimized yet, every channel and member read for the first time) is not what a
    // server that has been up for a while does (see bench/README, "Known effects").
    const warmup = opts['small-warmup'];
    if (warmup > 0) {
      const w = await gen.all({ op: 'chatter', rate: opts['small-rate'], duration: warmup, size: opts['bc-size'] });
      log(`  warm-up: ${w.reduce((a, r) => a + r.acked, 0)} messages in ${warmup} s, not measured`);
    }
    await gen.all({ op: 'measure-start' });
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    const duration = opts['small-duration'];
    const res = await gen.all({ op: 'chatter', rate: opts['small-rate'], duration, size: opts['bc-size'] });
    const acked = res.reduce((a, r) => a + r.acked, 0);
    await drain(gen, acked * m, { maxMs: 5000 });
    const used = cpu.end();
    const stops = await gen.all({ op: 'measure-stop' });
    const delivered = stops.reduce((a, s) => a + s.deliveries, 0);
    const lat = mergeHists(stops.map((s) => s.hist));
    const ack = mergeHists(res.map((r) => r.ack));
    const row = {
      step: `${opts['small-channels']}×${m}, ${opts['small-rate']} msg/s each${warmup > 0 ? `, after ${warmup} s warm-up` : ''}`,
      offeredPerSec: round(list.length * opts['small-rate'] * m),
      connections: c.ok,
      deliveriesPerSec: round(delivered / duration),
      delivered,
      expected: acked * m,
      deliveredPct: acked ? round((100 * delivered) / (acked * m), 2) : null,
      ...latencyColumns(lat),
      ...cpuColumns(used, delivered, handle.pid),
      extra: {
        sent: res.reduce((a, r) => a + r.sent, 0),
        acked,
        sendErrors: res.reduce((a, r) => a + r.errors, 0),
        sendError: res.find((r) => r.error)?.error ?? null,
        ackP50: ack.summary().p50,
        ackP99: ack.summary().p99,
        closes: stops.reduce((a, s) => a + s.closes, 0),
        gaps: stops.reduce((a, s) => a + s.gaps, 0),
      },
    };
    log(
      `  ${row.deliveriesPerSec} deliveries/s (${row.deliveredPct}%), p50 ${row.p50} ms p99 ${row.p99} ms, server ${row.serverCores} cores`,
    );
    return [row];
  },
};
