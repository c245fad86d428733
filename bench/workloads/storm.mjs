/**
 * d. Reconnect storm: `storm-clients` subscribers in channels of `storm-channel-size`; all drop at
 * once, `storm-missed` messages per channel are published while they are away, then all reconnect
 * at once and resubscribe with `since` (Centrifugo: recover + offset + epoch). Measures the time
 * until the last client has recovered, then verifies with one more live message per channel that
 * every client holds every seq exactly once.
 */
import { Histogram } from '../lib/hist.mjs';
import { cpuWindow } from '../lib/procstat.mjs';
import { cpuColumns, drain, round, sleep } from './common.mjs';

export const storm = {
  name: 'storm',
  title: 'd. reconnect storm',

  plan(opts) {
    const n = opts['storm-clients'];
    const size = opts['storm-channel-size'];
    const count = Math.ceil(n / size);
    const pub = n; // the publisher is the last user, owner of every channel
    const channels = Array.from({ length: count }, (_, k) => ({
      id: `r${k}`,
      members: [...Array.from({ length: Math.min(size, n - k * size) }, (_, j) => k * size + j), pub],
      owners: [pub],
    }));
    return { users: n + 1, channels };
  },

  async run({ system, handle, prep, gen, opts, log }) {
    const n = opts['storm-clients'];
    const size = opts['storm-channel-size'];
    const channels = Array.from({ length: Math.ceil(n / size) }, (_, k) => `r${k}`);
    const via = system.name === 'centrifugo' ? 'http' : 'client';
    if (via === 'client') {
      const r = await gen.call(0, {
        op: 'connect',
        list: [{ user: prep.users[n], channels: [], addr: '127.0.0.2' }],
        concurrency: 1,
      });
      if (r.failed) throw new Error(`publisher did not connect: ${r.errors.join('; ')}`);
    }
    const list = prep.users.slice(0, n).map((user, i) => ({ user, channels: [`r${Math.floor(i / size)}`] }));
    const c = await gen.connect(list, { subscribe: true });
    log(`  ${c.ok}/${n} subscribers connected in ${c.ms} ms`);
    const burst = async (perChannel) => {
      const r = await gen.call(0, { op: 'burst', channels, perChannel, size: opts['bc-size'], via });
      if (r.errors) log(`  publisher: ${r.errors} of ${r.sent} sends failed (${r.error})`);
      if (process.env.BENCH_DEBUG) log(`  burst ${perChannel}: ${JSON.stringify(r)}`);
      return r;
    };
    // Two live messages first; wait until they arrived, so every client's `since` is 2.
    await gen.all({ op: 'measure-start' });
    await burst(2);
    await drain(gen, 2 * c.ok, { maxMs: 15000 });
    await gen.all({ op: 'measure-stop' });
    await gen.all({ op: 'drop' });
    const _missed = await burst(opts['storm-missed']);
    await sleep(300);
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    const rec = await gen.all({ op: 'reconnect', concurrency: 100000 });
    const used = cpu.end();
    const t0 = Math.min(...rec.map((r) => r.t0));
    const lastDone = Math.max(...rec.map((r) => r.lastDoneUs));
    const times = new Histogram();
    for (const r of rec) times.merge(Histogram.from(r.times));
    const recovered = rec.reduce((a, r) => a + r.recoveredMessages, 0);
    const after = await burst(1);
    await sleep(1000);
    const ver = await gen.all({ op: 'verify', finalSeq: after.lastSeq });
    const behind = ver.reduce((a, v) => a + v.behind, 0);
    const gaps = ver.reduce((a, v) => a + v.gaps, 0);
    const dupes = ver.reduce((a, v) => a + v.dupes, 0);
    const ok = rec.reduce((a, r) => a + r.ok, 0);
    const failed = rec.reduce((a, r) => a + r.failed, 0);
    const expectedRecovered = c.ok * opts['storm-missed'];
    const lost = behind + gaps + failed + (recovered < expectedRecovered ? 1 : 0);
    const allS = (lastDone - t0) / 1e6;
    const ts = times.summary();
    const row = {
      step: `${c.ok} clients, ${opts['storm-missed']} missed/channel`,
      connections: c.ok,
      recoverAllS: round(allS, 2),
      p50: ts.p50,
      p99: ts.p99,
      p999: ts.p999,
      max: ts.max,
      deliveriesPerSec: round(recovered / allS),
      delivered: recovered,
      expected: expectedRecovered,
      deliveredPct: expectedRecovered ? round((100 * recovered) / expectedRecovered, 2) : null,
      noLoss: lost === 0 && dupes === 0,
      ...cpuColumns(used, recovered, handle.pid),
      extra: {
        reconnected: ok,
        failed,
        retries: rec.reduce((a, r) => a + r.retries, 0),
        tooFar: rec.reduce((a, r) => a + r.tooFar, 0),
        behind,
        gaps,
        dupes,
        error: rec.find((r) => r.error)?.error ?? null,
      },
    };
    log(
      `  all ${ok} recovered in ${row.recoverAllS} s (per client p50 ${ts.p50} ms, p99 ${ts.p99} ms); recovered ${recovered}/${expectedRecovered} msgs; behind ${behind}, gaps ${gaps}, dupes ${dupes}, failed ${failed} → ${row.noLoss ? 'no loss' : 'LOSS'}`,
    );
    return [row];
  },
};
