/**
 * `--ab REF` / `--ab-env K=V,…`: the same Natter workloads run on two servers in turns, so that a
 * change is judged against what it replaces under the same host speed (see bench/README, "A host
 * whose speed drifts"). Side A is the working tree's build; side B is the build of REF, or the
 * working tree again with B's extra environment. The rounds go A B, B A, A B…, so a host that
 * slows down or speeds up during the comparison weighs on both sides alike.
 */
import { fmt, headline } from './report.mjs';

/** `K=V,K2=V2` → `{ K: 'V', K2: 'V2' }`. */
export function parseEnvList(text) {
  const env = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--ab-env wants NAME=VALUE pairs separated by commas, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Which side runs first in round `i` (0-based): A B, then B A, and so on. */
export function roundOrder(i) {
  return i % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * The comparison table: one line per workload step, each side's runs in the order they ran and
 * their median, and the ratio of the medians (B ÷ A) for the headline, p99 and CPU per 100k. Each
 * run shows the host's speed just before it (`@` the calibration job's ms, lower is faster).
 * @param rows rows of both sides, each with `side` ('A' | 'B') and `round`
 * @param labels {{ A: string, B: string }}
 */
export function abTable(rows, labels) {
  const steps = [];
  for (const r of rows) {
    if (r.status !== 'ok') continue;
    const key = `${r.title} | ${r.step}`;
    if (!steps.includes(key)) steps.push(key);
  }
  const head = [
    'workload',
    'step',
    'side',
    'headline per run',
    'median',
    'p99 ms median',
    'srv CPU s/100k median',
    'busiest thread median (run+wait ms/s)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const ratios = [];
  for (const key of steps) {
    const [title, step] = key.split(' | ');
    const med = {};
    for (const side of ['A', 'B']) {
      const runs = rows.filter((r) => r.status === 'ok' && r.side === side && `${r.title} | ${r.step}` === key);
      if (runs.length === 0) continue;
      const h = headline(runs[0]);
      const m = {
        headline: median(runs.map((r) => headline(r).value)),
        p99: median(runs.map((r) => r.p99)),
        cpu: median(runs.map((r) => r.cpuPer100k)),
        run: median(runs.map((r) => r.busiestThread?.runMs)),
        wait: median(runs.map((r) => r.busiestThread?.waitMs)),
        unit: h.unit,
      };
      med[side] = m;
      lines.push(
        `| ${title} | ${step} | ${side}: ${labels[side]} | ${runs.map((r) => `${fmt(headline(r).value, h.higherBetter ? 0 : 2)}${r.hostMs ? ` @${r.hostMs}` : ''}`).join(', ')} | ${fmt(m.headline, h.higherBetter ? 0 : 2)} ${h.unit} | ${fmt(m.p99, 2)} | ${fmt(m.cpu, 2)} | ${m.run === null ? '–' : `${fmt(m.run)}+${fmt(m.wait)}`} |`,
      );
    }
    if (med.A && med.B) {
      const ratio = (b, a) => (a && b !== null ? `${(b / a).toFixed(3)}×` : '–');
      ratios.push(
        `- ${title}, ${step}: B ÷ A = ${ratio(med.B.headline, med.A.headline)} ${med.A.unit}, ${ratio(med.B.p99, med.A.p99)} p99, ${ratio(med.B.cpu, med.A.cpu)} CPU per 100k`,
      );
    }
  }
  return `${lines.join('\n')}\n\nMedians compared:\n${ratios.join('\n')}`;
}
