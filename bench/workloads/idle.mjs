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
    const c = await gen.connect(list, { subscribe: false, concurrency: 100 });
    log(`  ${c.ok}/${list.length} idle connections in ${c.ms} ms${c.failed ? ` (${c.failed} failed: ${c.errors.join('; ')})` : ''}`);
    await sleep(3000);
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    await sleep(opts['idle-window'] * 1000);
    const used = cpu.end();
    const after = rssBytes(handle.pid);
    const peeks = await gen.all({ op: 'peek' });
    const row = {
      step: `${c.ok} conns`,
      connections: c.ok,
      wallS: round(used.wall, 2),
      serverCpuS: round(used.server, 3),
      serverCores: round(used.server / used.wall, 4),
      genCpuS: round(used.generator, 2),
      genCores: round(used.generator / used.wall, 3),
      otherCores: used.other === null ? null : round(used.other / used.wall, 2),
      serverRssMB: round(after / 2 ** 20, 1),
      rssBeforeMB: round(before / 2 ** 20, 1),
      rssPerConnKB: c.ok ? round((after - before) / c.ok / 1024, 2) : null,
      extra: { alive: peeks.reduce((a, p) => a + p.alive, 0), connectMs: c.ms, retries: c.retries },
    };
    log(`  RSS ${row.rssBeforeMB} → ${row.serverRssMB} MB = ${row.rssPerConnKB} KB/conn; idle CPU ${row.serverCores} cores`);
    return [row];
  },
};
