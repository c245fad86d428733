/**
 * e. Persisted sends: `send-clients` connections, each keeping `send-window` `message.send` frames
 * in flight (closed loop) for `send-duration` s; counts acknowledged messages per second. Clients do
 * not subscribe, so this measures the write path. Socket.IO's "store" is an in-memory array.
 */
import { cpuWindow } from '../lib/procstat.mjs';
import { cpuColumns, latencyColumns, mergeHists, round } from './common.mjs';

export const sends = {
  name: 'sends',
  title: 'e. persisted sends',
  skip: (system) =>
    system.name === 'centrifugo'
      ? 'n/a: Centrifugo has no message storage (publish is fire-and-forget into a memory history)'
      : null,

  plan(opts) {
    const k = opts['send-clients'];
    const channels = Array.from({ length: Math.ceil(k / 4) }, (_, c) => ({
      id: `w${c}`,
      members: Array.from({ length: Math.min(4, k - c * 4) }, (_, j) => c * 4 + j),
    }));
    return { users: k, channels };
  },

  async run({ system, handle, prep, gen, opts, log }) {
    const list = prep.users.map((user, i) => ({ user, channels: [`w${Math.floor(i / 4)}`] }));
    const c = await gen.connect(list, { subscribe: false });
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    const res = await gen.all({
      op: 'sends',
      window: opts['send-window'],
      duration: opts['send-duration'],
      size: opts['bc-size'],
    });
    const used = cpu.end();
    const acked = res.reduce((a, r) => a + r.acked, 0);
    const lat = mergeHists(res.map((r) => r.ack));
    const row = {
      step: `${c.ok} clients × window ${opts['send-window']}`,
      connections: c.ok,
      ackedPerSec: round(acked / used.wall),
      deliveriesPerSec: round(acked / used.wall),
      delivered: acked,
      ...latencyColumns(lat),
      ...cpuColumns(used, acked, handle.pid),
      durable: system.durable,
      extra: {
        sent: res.reduce((a, r) => a + r.sent, 0),
        errors: res.reduce((a, r) => a + r.errors, 0),
        error: res.find((r) => r.error)?.error ?? null,
      },
    };
    log(
      `  ${row.ackedPerSec} acked msg/s, ack p50 ${row.p50} ms p99 ${row.p99} ms, server ${row.serverCores} cores${row.extra.errors ? `, ${row.extra.errors} errors (${row.extra.error})` : ''}`,
    );
    return [row];
  },
};
