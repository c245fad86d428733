/**
 * Command-line options of `npm run bench`. Every scale knob has a default that keeps the whole
 * realtime suite under ten minutes on a 2-core machine.
 */
export const DEFAULTS = {
  suite: 'realtime',
  systems: 'natter,socketio,centrifugo',
  workloads: 'broadcast,small,idle,storm,sends',
  'gen-procs': 2,
  addrs: 16, // source addresses 127.0.0.2 … 127.0.0.(addrs+1)
  // a. broadcast
  'bc-subs': 1000,
  'bc-rates': '200,500,1000,2000',
  'bc-duration': 8,
  'bc-size': 100,
  // b. many small channels
  'small-channels': 1000,
  'small-members': 5,
  'small-rate': 0.2, // messages per second per member
  'small-duration': 15,
  'small-warmup': 5, // seconds of the same chatter, not measured, before the measured part
  // c. idle connections
  idle: 10000,
  'idle-window': 10,
  // d. reconnect storm
  'storm-clients': 5000,
  'storm-channel-size': 100,
  'storm-missed': 20,
  // e. persisted sends
  'send-clients': 100,
  'send-window': 8,
  'send-duration': 30,
  // misc
  'centrifugo-version': 'latest',
  'centrifugo-build-timeout': 480,
  profile: '',
  'no-build': false,
  'server-ref': '',
  ab: '',
  'ab-env': '',
  'ab-node-flags': '',
  runs: 3,
  priority: 0,
  out: '',
  'no-results-md': false,
  report: '',
};

const HELP = `npm run bench -- --suite realtime [options]

  --systems LIST         natter,socketio,centrifugo (default), also natter-workers (NATTER_WORKERS=2)
                         and natter-redis (Redis bus: NATTER_REDIS_URL, else
                         the Redis of npm run engines:up, redis://127.0.0.1:6390)
  --workloads LIST       broadcast,small,idle,storm,sends (default: all)
  --gen-procs N          load-generator processes (default 2)
  --addrs N              client source addresses 127.0.0.2… (default 16)
  --bc-subs N --bc-rates R1,R2 --bc-duration S --bc-size BYTES
  --small-channels N --small-members N --small-rate MSG_PER_S_PER_MEMBER --small-duration S
  --small-warmup S       unmeasured chatter before the measured part (default 5; 0: none)
  --idle N --idle-window S
  --storm-clients N --storm-channel-size N --storm-missed N
  --send-clients N --send-window N --send-duration S
  --centrifugo-version vX.Y.Z|latest   --centrifugo-build-timeout S
  --no-build             use packages/server/dist as it is (default: turbo build first, cached)
  --server-ref REF       benchmark the server of a commit instead of the working tree (built once
                         from git archive into ~/.cache/natter-bench/src-<sha>)
  --ab REF               compare: run the chosen workloads on Natter only, the working tree's build
                         (A) and REF's (B) in turns (A B, B A, …), and print each side's runs, their
                         medians and B ÷ A; nothing is written to RESULTS.md
  --ab-env K=V,…         the environment of side B (with --ab: on REF's build; without: on the
                         working tree's, to compare a setting)
  --ab-node-flags FLAGS  Node/V8 flags (space-separated) that side B's server gets after npm start's,
                         e.g. --ab-node-flags --single-threaded-gc
  --runs N               rounds of --ab / --ab-env (default 3)
  --priority N           run servers and generators at nice -N (e.g. 10) on a shared, busy machine
  --profile [LIST]       afterwards, rerun these Natter workloads under node --cpu-prof and list
                         the top self-time functions (default list: sends,broadcast)
  --quick                small scale, for a smoke test (about 2 minutes)
  --no-results-md        do not rewrite bench/RESULTS.md
  --report FILE          run nothing: print the table and goals of a saved run (bench/out/results-*.json)
                         with the current report code, and rewrite bench/RESULTS.md from it
`;

const QUICK = {
  'bc-subs': 200,
  'bc-rates': '100,300',
  'bc-duration': 3,
  'small-channels': 100,
  'small-duration': 5,
  'small-warmup': 1,
  idle: 1000,
  'idle-window': 3,
  'storm-clients': 500,
  'storm-missed': 5,
  'send-clients': 20,
  'send-duration': 3,
};

export function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  const given = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg} (see --help)`);
    let [key, value] = arg.slice(2).split(/=(.*)/s, 2);
    if (key === 'profile' && value === undefined) {
      const next = argv[i + 1];
      given.profile = next && !next.startsWith('--') ? argv[++i] : 'sends,broadcast';
      continue;
    }
    if (key === 'quick') {
      given.quick = true;
      continue;
    }
    if (!(key in DEFAULTS)) throw new Error(`unknown option --${key} (see --help)`);
    if (value === undefined) {
      if (typeof DEFAULTS[key] === 'boolean') value = 'true';
      else value = argv[++i];
    }
    if (value === undefined) throw new Error(`--${key} needs a value`);
    given[key] =
      typeof DEFAULTS[key] === 'number'
        ? Number(value)
        : typeof DEFAULTS[key] === 'boolean'
          ? value !== 'false'
          : value;
    if (typeof DEFAULTS[key] === 'number' && !Number.isFinite(given[key])) throw new Error(`--${key} must be a number`);
  }
  if (given.quick) Object.assign(opts, QUICK);
  Object.assign(opts, given);
  delete opts.quick;
  opts.quickMode = Boolean(given.quick);
  if (opts.suite !== 'realtime') throw new Error(`unknown suite ${opts.suite}: only "realtime" exists`);
  opts.systemList = opts.systems
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  opts.workloadList = opts.workloads
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  opts.rates = String(opts['bc-rates'])
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  return opts;
}
