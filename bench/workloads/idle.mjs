/**
 * c. Idle connections: `idle` authenticated connections doing nothing. Server RSS per connection is
 * (VmRSS after − VmRSS before) / connections; CPU is measured over `idle-window` seconds of idling.
 */
import { cpuWindow, rssBytes } from '../lib/procstat.mjs';
import { round, sleep } from './common.mjs';

export const idle = {
  name: 'idle',
  title: 'c. idle connections',

  plan(opts) {
    return { users: opts.idle, channels: [] };
  },

  async run({ handle, prep, gen, opts, log }) {
    await sleep(1500);
    const before = rssBytes(handle.pid);
    const list = prep.users.map((user) => ({ user, channels: [] }));
    // Two halves: the first also fills heap pages the setup left free, so the second half's
    // growth is the marginal cost per connection (the headline); the whole delta is kept too.
    const half = Math.floor(list.length / 2);
    const c1 = await gen.connect(list.slice(0, half), { subscribe: false, concurrency: 100 });
    await sleep(2000);
    const middle = rssBytes(handle.pid);
    const c2 = await gen.connect(list.slice(half), { subscribe: false, concurrency: 100 });
    const ok = c1.ok + c2.ok;
    log(`  ${ok}/${list.length} idle connections in ${c1.ms + c2.ms} ms${c1.failed + c2.failed ? ` (${c1.failed + c2.failed} failed: ${[...c1.errors, ...c2.errors].slice(0, 2).join('; ')})` : ''}`);
    await sleep(3000);
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    await sleep(opts['idle-window'] * 1000);
    const used = cpu.end();
    const after = rssBytes(handle.pid);
    const peeks = await gen.all({ op: 'peek' });
    const row = {
      step: `${ok} conns`,
      connections: ok,
      wallS: round(used.wall, 2),
      serverCpuS: round(used.server, 3),
      serverCores: round(used.server / used.wall, 4),
      genCpuS: round(used.generator, 2),
      genCores: round(used.generator / used.wall, 3),
      otherCores: used.other === null ? null : round(used.other / used.wall, 2),
      serverRssMB: round(after / 2 ** 20, 1),
      rssBeforeMB: round(before / 2 ** 20, 1),
      rssPerConnKB: c2.ok ? round((after - middle) / c2.ok / 1024, 2) : null,
      rssPerConnAllKB: ok ? round((after - before) / ok / 1024, 2) : null,
      extra: { alive: peeks.reduce((a, p) => a + p.alive, 0), connectMs: c1.ms + c2.ms, retries: c1.retries + c2.retries, healed: c1.healed + c2.healed, rssMiddleMB: round(middle / 2 ** 20, 1) },
    };
    log(`  RSS ${row.rssBeforeMB} → ${row.extra.rssMiddleMB} → ${row.serverRssMB} MB: ${row.rssPerConnKB} KB/conn (second half), ${row.rssPerConnAllKB} KB/conn (all); idle CPU ${row.serverCores} cores`);
    return [row];
  },
};
