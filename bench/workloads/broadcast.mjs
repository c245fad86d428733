/**
 * a. Broadcast: one channel, `bc-subs` subscribers, one publisher at fixed offered rates (stepped).
 * Natter and Socket.IO publish over their realtime connection with acks (Natter persists each
 * message first); Centrifugo publishes through its HTTP API as an app backend would.
 */
import { cpuWindow } from '../lib/procstat.mjs';
import { cpuColumns, drain, latencyColumns, mergeHists, round, sleep } from './common.mjs';

export const broadcast = {
  name: 'broadcast',
  title: 'a. broadcast',

  plan(opts) {
    const subs = opts['bc-subs'];
    return {
      users: subs + 1,
      channels: [{ id: 'b0', members: Array.from({ length: subs + 1 }, (_, i) => i), owners: [0] }],
    };
  },

  async run({ system, handle, prep, gen, opts, log, rates = opts.rates }) {
    const subs = opts['bc-subs'];
    const via = system.name === 'centrifugo' ? 'http' : 'client';
    if (via === 'client') {
      const r = await gen.call(0, {
        op: 'connect',
        list: [{ user: prep.users[0], channels: [], addr: '127.0.0.2' }],
        concurrency: 1,
      });
      if (r.failed) throw new Error(`publisher did not connect: ${r.errors.join('; ')}`);
    }
    const list = prep.users.slice(1).map((user) => ({ user, channels: ['b0'] }));
    const c = await gen.connect(list, { subscribe: true });
    log(
      `  ${c.ok}/${subs} subscribers connected in ${c.ms} ms${c.failed ? ` (${c.failed} failed: ${c.errors.join('; ')})` : ''}`,
    );
    const rows = [];
    for (const rate of rates) {
      await sleep(500);
      const pids = { server: handle.pid, generator: gen.pids };
      await gen.all({ op: 'measure-start' });
      const cpu = cpuWindow(pids);
      const pub = await gen.call(0, {
        op: 'publish',
        rate,
        duration: opts['bc-duration'],
        size: opts['bc-size'],
        channel: 'b0',
        via,
      });
      // Offered, not acked: a send whose ack is still pending at the end may well be delivered.
      const expected = pub.sent * c.ok;
      await drain(gen, expected, { maxMs: 10000 });
      const used = cpu.end();
      const stops = await gen.all({ op: 'measure-stop' });
      const delivered = stops.reduce((a, s) => a + s.deliveries, 0);
      const lastUs = Math.max(...stops.map((s) => s.lastUs));
      const spanS = Math.max(opts['bc-duration'], (lastUs - pub.startUs) / 1e6);
      const lat = mergeHists(stops.map((s) => s.hist));
      const ack = mergeHists([pub.ack]);
      const closes = stops.reduce((a, s) => a + s.closes, 0);
      const gaps = stops.reduce((a, s) => a + s.gaps, 0);
      const row = {
        step: `${rate} msg/s`,
        offeredPerSec: rate * c.ok,
        connections: c.ok + (via === 'client' ? 1 : 0),
        deliveriesPerSec: round(delivered / spanS),
        delivered,
        expected,
        deliveredPct: expected ? round((100 * delivered) / expected, 2) : null,
        ...latencyColumns(lat),
        ...cpuColumns(used, delivered, handle.pid),
        extra: {
          published: pub.sent,
          acked: pub.acked,
          publishErrors: pub.errors,
          publishError: pub.error,
          skipped: pub.skipped,
          ackP50: ack.summary().p50,
          ackP99: ack.summary().p99,
          closes,
          gaps,
        },
      };
      rows.push(row);
      log(
        `  ${rate} msg/s: ${row.deliveriesPerSec} deliveries/s (${row.deliveredPct}% of ${expected}), p50 ${row.p50} ms p99 ${row.p99} ms, server ${row.serverCores} cores, gen ${row.genCores} cores${closes ? `, ${closes} closed` : ''}${pub.errors ? `, ${pub.errors} publish errors (${pub.error})` : ''}`,
      );
      if (delivered === 0) {
        log('  nothing was delivered (publisher or subscribers gone): skipping higher rates');
        break;
      }
      if (closes > c.ok / 2) {
        log('  more than half the subscribers were disconnected: skipping higher rates');
        break;
      }
    }
    return rows;
  },
};
