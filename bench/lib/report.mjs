/**
 * Turns result rows into the markdown table, the ratios Natter/peer and the verdict against the
 * performance goals.
 */
/** A number for the tables: grouped thousands, at most `digits` decimals; '–' when missing. */
export const fmt = (v, digits = 0) => {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v === 'string') return v;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
};

/** Natter itself or one of its variants (`natter-workers`, `natter-redis`): never a peer. */
export const isNatter = (system) => system === 'natter' || system.startsWith('natter-');

/** The headline number of a row, how to read it, and whether higher is better. */
export function headline(row) {
  switch (row.workload) {
    case 'idle':
      return { value: row.rssPerConnKB, unit: 'KB RSS/conn', higherBetter: false };
    case 'storm':
      return { value: row.recoverAllS, unit: 's to recover all', higherBetter: false };
    case 'sends':
      return { value: row.ackedPerSec, unit: 'acked msg/s', higherBetter: true };
    default:
      return { value: row.deliveriesPerSec, unit: 'deliveries/s', higherBetter: true };
  }
}

/** Adds `ratio` (Natter ÷ this peer, headline) and `cpuRatio` (Natter ÷ peer CPU per 100k) to peer rows. */
export function addRatios(rows) {
  for (const row of rows) {
    if (isNatter(row.system) || row.status !== 'ok') continue;
    const n = rows.find(
      (r) => r.system === 'natter' && r.status === 'ok' && r.workload === row.workload && r.step === row.step,
    );
    if (!n) continue;
    const a = headline(n).value;
    const b = headline(row).value;
    row.ratio = a !== null && b ? Math.round((a / b) * 100) / 100 : null;
    row.cpuRatio = n.cpuPer100k && row.cpuPer100k ? Math.round((n.cpuPer100k / row.cpuPer100k) * 100) / 100 : null;
  }
}

export function markdownTable(rows) {
  const head = [
    'workload',
    'step',
    'system',
    'conns',
    'headline',
    'delivered %',
    'p50 ms',
    'p99 ms',
    'p999 ms',
    'srv CPU s/100k',
    'srv cores',
    'busiest srv thread ms/s (run+wait)',
    'srv RSS MB',
    'RSS/conn KB',
    'gen cores',
    'other cores',
    'Natter÷peer (headline)',
    'Natter÷peer (CPU/100k)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.status !== 'ok') {
      lines.push(
        `| ${r.title} | ${r.step ?? '–'} | ${r.label} | – | **${r.status}**: ${String(r.reason).replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 160)} |${' – |'.repeat(head.length - 5)}`,
      );
      continue;
    }
    const h = headline(r);
    const headlineText =
      h.value === null
        ? '–'
        : `${fmt(h.value, h.higherBetter ? 0 : 2)} ${h.unit}${r.workload === 'storm' ? (r.noLoss ? ', no loss' : ', **LOSS**') : ''}${r.workload === 'sends' && !r.durable ? ' (in memory, not durable)' : ''}`;
    lines.push(
      `| ${[
        r.title,
        r.step,
        r.label,
        fmt(r.connections),
        headlineText,
        fmt(r.deliveredPct, 1),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        fmt(r.p999, 2),
        fmt(r.cpuPer100k, 2),
        fmt(r.serverCores, 2),
        r.busiestThread ? `${fmt(r.busiestThread.runMs)}+${fmt(r.busiestThread.waitMs)}` : '–',
        fmt(r.serverRssMB, 0),
        fmt(r.rssPerConnKB, 2),
        fmt(r.genCores, 2),
        fmt(r.otherCores, 2),
        isNatter(r.system) ? '–' : r.ratio !== undefined && r.ratio !== null ? `${fmt(r.ratio, 2)}×` : '–',
        isNatter(r.system) ? '–' : r.cpuRatio ? `${fmt(r.cpuRatio, 2)}×` : '–',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** Checks the goals (p99 for both fixed-load workloads); each verdict says pass / fail / n/a and why. */
export function verdicts(rows) {
  const ok = rows.filter((r) => r.status === 'ok');
  const peers = (wl) => ok.filter((r) => r.workload === wl && !isNatter(r.system));
  const nat = (wl) => ok.filter((r) => r.workload === wl && r.system === 'natter');
  const out = [];

  {
    const n = nat('broadcast');
    const p = peers('broadcast');
    const peak = (list) => Math.max(0, ...list.map((r) => r.deliveriesPerSec ?? 0));
    const perCpu = (list) => Math.max(0, ...list.filter((r) => r.cpuPer100k).map((r) => 1e5 / r.cpuPer100k));
    if (!n.length || !p.length)
      out.push({ goal: 'broadcast deliveries/s ≥ 2× best peer', verdict: 'n/a', why: 'Natter or every peer missing' });
    else {
      const np = peak(n);
      const bp = peak(p);
      const nc = perCpu(n);
      const bc = perCpu(p);
      const pass = np >= 2 * bp;
      out.push({
        goal: 'broadcast deliveries/s ≥ 2× best peer',
        verdict: pass ? 'pass' : 'fail',
        why: `peak observed ${Math.round(np)} vs best peer ${Math.round(bp)} (${(np / bp).toFixed(2)}×); deliveries per server CPU-second ${Math.round(nc)} vs best peer ${Math.round(bc)} (${(nc / bc).toFixed(2)}×). Offered load caps the observed rate: a system that keeps up at every step ties.`,
      });
    }
  }
  // Latency at the same offered load: broadcast at each rate, and the many small channels.
  for (const [wl, name] of [
    ['broadcast', 'broadcast'],
    ['small', 'small channels'],
  ]) {
    const n = nat(wl);
    const parts = [];
    let pass = n.length > 0;
    for (const r of n) {
      const same = peers(wl).filter((p) => p.step === r.step && p.p99 !== null && (p.deliveredPct ?? 0) >= 99);
      if (!same.length) continue;
      const best = same.reduce((a, b) => (a.p99 <= b.p99 ? a : b));
      if (r.p99 > best.p99) pass = false;
      parts.push(`${r.step}: ${r.p99} ms vs ${best.label} ${best.p99} ms`);
    }
    out.push({
      goal: `${name} p99 ≤ best peer at the same offered load`,
      verdict: parts.length ? (pass ? 'pass' : 'fail') : 'n/a',
      why: parts.join('; ') || (n.length ? 'no comparable step (peers below 99% delivered)' : 'not run'),
    });
  }
  {
    const n = nat('idle')[0];
    const p = peers('idle').filter((r) => r.rssPerConnKB > 0);
    if (!n || !p.length)
      out.push({
        goal: 'RSS per idle connection ≤ 1/3 of best peer',
        verdict: 'n/a',
        why: 'Natter or every peer missing',
      });
    else if (!(n.rssPerConnKB > 0))
      // The server's RSS fell (or did not move) while the connections opened: what the GC gave back
      // hid what they cost, which happens with few connections (--quick). No number to judge.
      out.push({
        goal: 'RSS per idle connection ≤ 1/3 of best peer',
        verdict: 'n/a',
        why: `Natter's RSS did not grow with its connections (${n.rssPerConnKB} KB/conn): too few connections to measure; run with more (--idle)`,
      });
    else {
      const best = p.reduce((a, b) => (a.rssPerConnKB <= b.rssPerConnKB ? a : b));
      out.push({
        goal: 'RSS per idle connection ≤ 1/3 of best peer',
        verdict: n.rssPerConnKB <= best.rssPerConnKB / 3 ? 'pass' : 'fail',
        why: `${n.rssPerConnKB} KB vs ${best.label} ${best.rssPerConnKB} KB (${(n.rssPerConnKB / best.rssPerConnKB).toFixed(2)}×; goal ≤ 0.33×)`,
      });
    }
  }
  {
    const n = nat('sends')[0];
    out.push(
      n
        ? {
            goal: 'persisted sends ≥ 20k msg/s (SQLite default)',
            verdict: n.ackedPerSec >= 20000 ? 'pass' : 'fail',
            why: `${n.ackedPerSec} acked msg/s, ack p99 ${n.p99} ms`,
          }
        : { goal: 'persisted sends ≥ 20k msg/s (SQLite default)', verdict: 'n/a', why: 'not run' },
    );
  }
  return out;
}

export function verdictTable(list) {
  return [
    '| goal | verdict | numbers |',
    '|---|---|---|',
    ...list.map((v) => `| ${v.goal} | **${v.verdict}** | ${v.why} |`),
  ].join('\n');
}
