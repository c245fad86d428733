#!/usr/bin/env node
/**
 * `npm run bench -- --suite realtime`: starts each system under test on loopback, drives the same
 * workloads against it from forked generator processes, and prints one markdown table. Results go
 * to bench/out/results-<timestamp>.json and (the latest table) bench/RESULTS.md.
 *
 * @see bench/README.md
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abTable, parseEnvList, roundOrder } from './lib/ab.mjs';
import { parseArgs } from './lib/cli.mjs';
import { summarizeProfile } from './lib/cpuprofile.mjs';
import { startGenerator } from './lib/generator.mjs';
import { calibrate, describeMachine } from './lib/machine.mjs';
import { addRatios, markdownTable, verdicts, verdictTable } from './lib/report.mjs';
import { serverFromRef } from './lib/server-src.mjs';
import { effectiveFdLimit, FD_LIMIT } from './lib/spawn.mjs';
import { centrifugo } from './systems/centrifugo.mjs';
import { natter, natterRedis, natterWorkers } from './systems/natter.mjs';
import { socketio } from './systems/socketio.mjs';
import { broadcast } from './workloads/broadcast.mjs';
import { idle } from './workloads/idle.mjs';
import { sends } from './workloads/sends.mjs';
import { small } from './workloads/small.mjs';
import { storm } from './workloads/storm.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const SYSTEMS = { natter, 'natter-workers': natterWorkers, 'natter-redis': natterRedis, socketio, centrifugo };
const WORKLOADS = { broadcast, small, idle, storm, sends };

const started = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);

/** Raises this process's fd limit (the generators inherit it); returns what servers will get. */
function raiseFdLimit(opts) {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`], { stdio: 'ignore' });
  } catch {
    // No CAP_SYS_RESOURCE: the hard limit stays; raise the soft limit to it.
    try {
      const hard = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' });
    } catch {}
  }
  const limit = effectiveFdLimit();
  const need =
    Math.max(opts.idle, opts['storm-clients'], opts['small-channels'] * opts['small-members'], opts['bc-subs']) + 200;
  if (limit && limit < need) {
    log(
      `warning: the hard file-descriptor limit is ${limit} and cannot be raised here (no CAP_SYS_RESOURCE); a workload needing ${need} sockets in one server will hit it. Run as a user who may raise it (ulimit -Hn) for --idle 20000.`,
    );
  }
  return limit;
}

/** Builds the server (turbo caches it); on failure the existing dist/ is used, if any. */
function buildServer() {
  log('building @natter/server (turbo, cached when unchanged)…');
  try {
    execFileSync('npx', ['turbo', 'run', 'build', '--filter=@natter/server...', '--output-logs=errors-only'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300000,
    });
  } catch (err) {
    log(
      `warning: the server build failed (${String(err.stderr ?? err.message)
        .trim()
        .split('\n')
        .slice(-2)
        .join(' ')}); using the existing packages/server/dist`,
    );
  }
}

/** Everything started and not yet stopped, so a signal can stop it before the harness exits. */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    log(`${signal}: stopping ${running.size} running part(s)…`);
    await Promise.allSettled([...running].map((stop) => stop()));
    process.exit(130);
  });
}

/** Starts `system`, prepares `plan`, starts generators, runs `fn`, and always cleans up. */
async function withSystem(system, opts, plan, fn, startOpts = {}) {
  const handle = await system.start({ ...opts, ...startOpts }, log);
  running.add(handle.stop);
  let gen = null;
  try {
    const prep = await system.prepare(handle, plan);
    gen = await startGenerator({ procs: opts['gen-procs'], addrs: opts.addrs, client: system.client, conn: prep.conn });
    running.add(gen.stop);
    return await fn({ handle, prep, gen });
  } finally {
    await gen?.stop();
    await handle.stop();
    running.delete(gen?.stop);
    running.delete(handle.stop);
    // Warnings and errors the server logged (log level warn) are kept for diagnosis.
    const out = handle.output?.().trim();
    if (out) {
      mkdirSync(join(HERE, 'out'), { recursive: true });
      writeFileSync(join(HERE, 'out', `${system.name}-last.log`), `${out}\n`);
    }
  }
}

function workload(name) {
  const wl = WORKLOADS[name];
  if (!wl) throw new Error(`unknown workload ${name}: use ${Object.keys(WORKLOADS).join(', ')}`);
  return wl;
}

/** Writes `data` to `--out`, or to bench/out/<prefix>-<timestamp>.json; returns the path. */
function writeOut(opts, prefix, data) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(join(HERE, 'out'), { recursive: true });
  const path = opts.out || join(HERE, 'out', `${prefix}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path.replace(`${ROOT}/`, '');
}

/** One workload on one system, from start to stop; its rows. */
function runWorkload(system, wl, opts) {
  return withSystem(system, opts, wl.plan(opts), (ctx) => wl.run({ system, opts, log, ...ctx }), wl.startOpts);
}

async function runSuite(opts) {
  const rows = [];
  const unavailable = new Map();
  for (const wlName of opts.workloadList) {
    const wl = workload(wlName);
    for (const sysName of opts.systemList) {
      const system = SYSTEMS[sysName];
      if (!system) throw new Error(`unknown system ${sysName}: use ${Object.keys(SYSTEMS).join(', ')}`);
      const base = { workload: wl.name, title: wl.title, system: system.name, label: system.label };
      const skip =
        wl.skip?.(system) ?? (unavailable.has(sysName) ? `not available: ${unavailable.get(sysName)}` : null);
      if (skip) {
        log(`${wl.title} × ${system.label}: ${skip}`);
        rows.push({ ...base, status: 'n/a', reason: skip });
        continue;
      }
      log(`${wl.title} × ${system.label}`);
      try {
        const result = await runWorkload(system, wl, opts);
        for (const r of result) rows.push({ ...base, label: system.label, status: 'ok', ...r });
      } catch (err) {
        const reason = String(err.message ?? err)
          .split('\n')
          .slice(0, 3)
          .join(' ');
        log(`  ${system.label} failed: ${err.message}`);
        rows.push({ ...base, label: system.label, status: 'error', reason });
        // A peer that cannot be built or started is skipped for the rest of the run.
        if (
          !system.name.startsWith('natter') &&
          /go install|module proxy|list .* versions|not ready|exited|ENOENT/.test(reason)
        )
          unavailable.set(sysName, reason);
      }
    }
  }
  return rows;
}

/** Reruns one Natter workload under node --cpu-prof and summarizes the profile. */
async function runProfile(opts, wlName) {
  const wl = WORKLOADS[wlName];
  if (!wl) throw new Error(`unknown workload ${wlName} for --profile`);
  const dir = mkdtempSync(join(tmpdir(), 'natter-prof-'));
  const rate = Math.max(...opts.rates);
  const what = wl.name === 'broadcast' ? `${wl.title} at ${rate} msg/s` : wl.title;
  log(`profile: Natter ${what} under node --cpu-prof`);
  try {
    const rows = await withSystem(
      natter,
      opts,
      wl.plan(opts),
      (ctx) => wl.run({ system: natter, opts, log, rates: [rate], ...ctx }),
      { profileDir: dir },
    );
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const out = join(HERE, 'out', `natter-${wl.name}.cpuprofile`);
    copyFileSync(join(dir, file), out);
    // Sources of the server that ran (the working tree, or the --server-ref copy).
    const serverRoot = join(dirname(natter.main), '..', '..', '..');
    const summary = summarizeProfile(out, {
      root: serverRoot,
      srcDir: join(serverRoot, 'packages', 'server', 'src'),
      top: 12,
    });
    return { workload: wl.name, what, row: rows[0] ?? null, file: out.replace(`${ROOT}/`, ''), ...summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function profileRow(t, i) {
  const code = t.code ? `\`${t.code.replaceAll('|', '\\|').replaceAll('`', "'")}\`` : '–';
  return `| ${i + 1} | \`${t.fn}\` | ${t.selfMs} | ${t.pct} | ${t.where} | ${t.src ?? '–'} | ${code} |`;
}

function profileTable(p) {
  const lines = [
    `Natter ${p.what}, ${p.totalMs} ms sampled (${p.file}; includes start-up and REST setup); buckets: ${Object.entries(
      p.buckets,
    )
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
    '',
    '| # | function | self ms | self % | where (bundle) | source (by name) | bundle line |',
    '|---|---|---|---|---|---|---|',
    ...p.top.map((t, i) => profileRow(t, i)),
    '',
    "Top functions in Natter's own code (packages/server):",
    '',
    '| # | function | self ms | self % | where (bundle) | source (by name) | bundle line |',
    '|---|---|---|---|---|---|---|',
    ...p.own.map((t, i) => profileRow(t, i)),
  ];
  return lines.join('\n');
}

function generatorShare(rows, nproc) {
  const ok = rows.filter((r) => r.status === 'ok' && r.wallS);
  const gen = ok.reduce((a, r) => a + (r.genCpuS ?? 0), 0);
  const srv = ok.reduce((a, r) => a + (r.serverCpuS ?? 0), 0);
  const wall = ok.reduce((a, r) => a + r.wallS, 0);
  const peak = ok.reduce((a, r) => Math.max(a, r.genCores ?? 0), 0);
  return {
    generatorCpuS: Math.round(gen * 10) / 10,
    serverCpuS: Math.round(srv * 10) / 10,
    measuredWallS: Math.round(wall * 10) / 10,
    generatorCores: wall ? Math.round((gen / wall) * 100) / 100 : null,
    generatorShareOfMachine: wall ? Math.round((gen / (wall * nproc)) * 1000) / 10 : null,
    generatorShareOfBusy: gen + srv ? Math.round((gen / (gen + srv)) * 1000) / 10 : null,
    peakGeneratorCores: peak,
    otherCores: wall
      ? Math.round((ok.reduce((a, r) => a + (r.otherCores ?? 0) * r.wallS, 0) / wall) * 100) / 100
      : null,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.report) {
    render(JSON.parse(readFileSync(opts.report, 'utf8')), !opts['no-results-md']);
    return;
  }
  if (opts.priority) process.env.BENCH_PRIORITY = String(opts.priority);
  const machine = describeMachine();
  machine.fdLimit = raiseFdLimit(opts);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  log(`${command}  (${machine.nproc} cores, node ${machine.node}, kernel ${machine.kernel})`);
  if (opts.ab || opts['ab-env'] || opts['ab-node-flags']) {
    await runAb(opts, machine, command);
    return;
  }
  let serverSource = 'working tree (packages/server/dist)';
  if (opts.systemList.some((s) => s.startsWith('natter'))) {
    if (opts['server-ref']) {
      const built = serverFromRef(ROOT, opts['server-ref'], log);
      natter.main = built.main;
      serverSource = `commit ${built.sha.slice(0, 12)} (--server-ref ${opts['server-ref']}), built in ${built.dir}`;
    } else if (!opts['no-build']) buildServer();
  }
  log(`Natter server: ${serverSource}`);
  machine.calibration = { before: await calibrate(), after: null };
  log(`host speed: ${speed(machine.calibration.before)}`);
  const rows = await runSuite(opts);
  const profiles = [];
  for (const wlName of opts.profile ? opts.profile.split(',').filter(Boolean) : []) {
    try {
      profiles.push(await runProfile(opts, wlName.trim()));
    } catch (err) {
      log(`profile of ${wlName} failed: ${err.message}`);
    }
  }
  machine.calibration.after = await calibrate();
  log(`host speed after the suite: ${speed(machine.calibration.after)}`);
  addRatios(rows);
  const share = generatorShare(rows, Number(machine.nproc) || 1);
  const result = {
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    command,
    machine,
    options: opts,
    systems: Object.fromEntries(
      opts.systemList.map((s) => [
        s,
        { label: SYSTEMS[s].label, notes: SYSTEMS[s].notes, durable: SYSTEMS[s].durable },
      ]),
    ),
    serverSource,
    rows,
    generator: share,
    verdicts: verdicts(rows),
    profiles,
  };
  log(`wrote ${writeOut(opts, 'results', result)} (suite took ${result.durationS} s)`);
  render(result, !opts['no-results-md']);
}

/**
 * `--ab REF` / `--ab-env`: Natter's workloads on two servers in turns (see lib/ab.mjs); prints the
 * comparison and writes bench/out/ab-<timestamp>.json.
 */
async function runAb(opts, machine, command) {
  const treeMain = natter.main;
  if (!opts['no-build']) buildServer();
  const envB = parseEnvList(opts['ab-env']);
  const flagsB = opts['ab-node-flags'].split(/\s+/).filter(Boolean);
  const sides = {
    A: { main: treeMain, env: {}, nodeFlags: [], label: 'working tree' },
    B: { main: treeMain, env: envB, nodeFlags: flagsB, label: 'working tree' },
  };
  if (opts.ab) {
    const built = serverFromRef(ROOT, opts.ab, log);
    sides.B.main = built.main;
    sides.B.label = `${opts.ab} (${built.sha.slice(0, 12)})`;
  }
  if (Object.keys(envB).length > 0) sides.B.label += ` with ${opts['ab-env']}`;
  if (flagsB.length > 0) sides.B.label += ` with node ${flagsB.join(' ')}`;
  if (!opts.ab && Object.keys(envB).length === 0 && flagsB.length === 0) {
    throw new Error('--ab-env needs at least one NAME=VALUE (or --ab-node-flags some flags)');
  }
  log(`A: ${sides.A.label}; B: ${sides.B.label}; ${opts.runs} rounds`);
  machine.calibration = { before: await calibrate(), after: null };
  log(`host speed: ${speed(machine.calibration.before)}`);
  const rows = [];
  try {
    for (let i = 0; i < opts.runs; i++) {
      for (const side of roundOrder(i)) {
        natter.main = sides[side].main;
        const system = {
          ...natter,
          env: { ...natter.env, ...sides[side].env },
          nodeFlags: [...natter.nodeFlags, ...sides[side].nodeFlags],
        };
        for (const wlName of opts.workloadList) {
          const wl = workload(wlName);
          if (wl.skip?.(system)) continue;
          // The host's speed just before each run, beside its result (see "A host whose speed drifts").
          const hostMs = (await calibrate()).cpuMs;
          log(
            `round ${i + 1}/${opts.runs}, ${side} (${sides[side].label}): ${wl.title} (host: JavaScript job ${hostMs} ms)`,
          );
          const result = await runWorkload(system, wl, opts);
          for (const r of result) {
            rows.push({
              workload: wl.name,
              title: wl.title,
              system: 'natter',
              label: sides[side].label,
              side,
              round: i + 1,
              hostMs,
              status: 'ok',
              ...r,
            });
          }
        }
      }
    }
  } finally {
    natter.main = treeMain;
  }
  machine.calibration.after = await calibrate();
  log(`host speed after: ${speed(machine.calibration.after)}`);
  const labels = { A: sides.A.label, B: sides.B.label };
  log(`wrote ${writeOut(opts, 'ab', { command, machine, options: opts, labels, rows })}`);
  process.stdout.write(
    `\n${abTable(rows, labels)}\n\nHost speed before: ${speed(machine.calibration.before)}; after: ${speed(machine.calibration.after)}.\n`,
  );
}

/** The calibration jobs' times, for the log and RESULTS.md. */
function speed(c) {
  return c
    ? `JavaScript job ${c.cpuMs} ms alone, ${c.cpuAllCoresMs} ms on every core at once; loopback round trips ${c.loopbackMs} ms`
    : 'not measured';
}

/**
 * Prints the table, the generator's share and the goals, and (unless told not to) writes
 * bench/RESULTS.md. `--report <results.json>` calls it on a saved run, so a change to the report
 * applies to numbers already measured.
 */
function render(result, writeResultsMd) {
  const { rows, machine, command, serverSource, generator: share, profiles } = result;
  const verdict = verdicts(rows);
  const profileText = profiles.map((p) => `### ${p.what}\n\n${profileTable(p)}\n`).join('\n');
  const table = markdownTable(rows);
  const shareLine = `Generator CPU: ${share.generatorCpuS} s over ${share.measuredWallS} s of measurement = ${share.generatorCores} cores on average (${share.generatorShareOfMachine}% of the machine, ${share.generatorShareOfBusy}% of generator+server CPU); peak ${share.peakGeneratorCores} cores in one step. Other processes on the machine used ${share.otherCores} cores on average during the measurements ("other cores" column): numbers taken while that is high are noisy.`;
  const notes = Object.values(result.systems)
    .map((s) => `- **${s.label}**: ${s.notes}`)
    .join('\n');
  process.stdout.write(
    `\n${table}\n\n${shareLine}\n\n${verdictTable(verdict)}\n${profileText ? `\n## Natter CPU profiles\n\n${profileText}` : ''}`,
  );
  if (!writeResultsMd) return;
  const md = `# Realtime benchmark: latest results

Produced by \`bench/run.mjs\`; do not edit by hand (rerun instead). How to read it: \`bench/README.md\`.

- Command: \`${command}\`
- Date: ${result.startedAt}, suite took ${result.durationS} s
- Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.os}, kernel ${machine.kernel}, Node ${machine.node}${machine.go ? `, ${machine.go}` : ''}, fd limit ${machine.fdLimit}
- Natter server: ${serverSource}${
    machine.calibration
      ? `\n- Host speed (\`calibrate()\` in \`bench/lib/machine.mjs\`, lower is faster; see bench/README, "Known effects"): before the suite ${speed(machine.calibration.before)}; after it ${speed(machine.calibration.after)}`
      : ''
  }
- Everything (servers and generators) ran on this one machine over loopback${result.options.priority ? `, at nice -${result.options.priority}` : ''}.

\`free -h\`:

\`\`\`
${machine.free}
\`\`\`

## Systems

${notes}

## Results

${table}

${shareLine}

## Goals

${verdictTable(verdict)}
${profileText ? `\n## Natter CPU profiles\n\n${profileText}` : ''}`;
  writeFileSync(join(HERE, 'RESULTS.md'), md);
  log('wrote bench/RESULTS.md');
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  process.exit(1);
});
