/**
 * c. Idle connections: `idle` authenticated connections doing nothing. Server RSS per connection is
 * (VmRSS after − VmRSS before) / connections; CPU is measured over `idle-window` seconds of idling.
 */

import { forceGc } from '../lib/gc.mjs';
import { cpuWindow, rssBytes } from '../lib/procstat.mjs';
import { round, sleep } from './common.mjs';

export const idle = {
  name: 'idle',
  title: 'c. idle connections',

  /** Node servers get an inspector so each RSS reading follows a full GC. */
  startOpts: { inspect: true },

  plan(opts) {
    return { users: opts.idle, channels: [] };
  },

  async run({ handle, prep, gen, opts, log }) {
    // The setup (REST calls, token minting) leaves garbage that V8 collects whenever it likes; a
    // full GC (through the inspector, for Node servers) and settling before each reading keep that
    // out of the connections' cost. Readings are the median of 5 samples.
    const reading = async () => {
      if (handle.inspector) await forceGc(handle.inspector);
      await sleep(SETTLE_MS);
      return medianRss(handle.pid);
    };
    const before = await reading();
    const list = prep.users.map((user) => ({ user, channels: [] }));
    const half = Math.floor(list.length / 2);
    const c1 = await gen.connect(list.slice(0, half), { subscribe: false, concurrency: 100 });
    const middle = await reading();
    const c2 = await gen.connect(list.slice(half), { subscribe: false, concurrency: 100 });
    const ok = c1.ok + c2.ok;
    log(
      `  ${ok}/${list.length} idle connections in ${c1.ms + c2.ms} ms${c1.failed + c2.failed ? ` (${c1.failed + c2.failed} failed: ${[...c1.errors, ...c2.errors].slice(0, 2).join('; ')})` : ''}`,
    );
    await sleep(SETTLE_MS);
    const cpu = cpuWindow({ server: handle.pid, generator: gen.pids });
    await sleep(opts['idle-window'] * 1000);
    const used = cpu.end();
    const after = await reading();
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
      // Headline: the whole delta over all connections; the halves show how steady it is.
      rssPerConnKB: ok ? round((after - before) / ok / 1024, 2) : null,
      rssPerConnFirstHalfKB: c1.ok ? round((middle - before) / c1.ok / 1024, 2) : null,
      rssPerConnSecondHalfKB: c2.ok ? round((after - middle) / c2.ok / 1024, 2) : null,
      extra: {
        gcBeforeReadings: Boolean(handle.inspector),
        alive: peeks.reduce((a, p) => a + p.alive, 0),
        connectMs: c1.ms + c2.ms,
        retries: c1.retries + c2.retries,
        healed: c1.healed + c2.healed,
        rssMiddleMB: round(middle / 2 ** 20, 1),
      },
    };
    log(
      `  RSS ${row.rssBeforeMB} → ${row.extra.rssMiddleMB} → ${row.serverRssMB} MB: ${row.rssPerConnKB} KB/conn (halves: ${row.rssPerConnFirstHalfKB}, ${row.rssPerConnSecondHalfKB}); idle CPU ${row.serverCores} cores`,
    );
    return [row];
  },
};

const SETTLE_MS = 4000;

async function medianRss(pid) {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssBytes(pid) ?? 0);
    await sleep(200);
  }
  return samples.sort((a, b) => a - b)[2];
}
