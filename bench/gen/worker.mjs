/**
 * One load-generator process (forked by bench/lib/generator.mjs). Holds a share of the clients of
 * one system and runs the operations the parent asks for over IPC; every reply carries the
 * request's `rid`. Loops are bounded by the durations the parent passes.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Histogram, nowUs } from '../lib/hist.mjs';
import { makeText } from './clients/marker.mjs';

let adapter = null;
let conn = null;
/** @type {{ user: {id:string,token:string}, channels: string[], addr: string, last: Map<string, number>, client: any, alive: boolean }[]} */
let clients = [];
let measuring = false;
let hist = new Histogram();
const counters = { deliveries: 0, gaps: 0, dupes: 0, closes: 0, firstUs: 0, lastUs: 0 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// clientMsgIds must never repeat within a run: Natter (rightly) answers a repeated one with the
// stored message instead of a new one.
const RUN = randomBytes(4).toString('hex');
let msgCounter = 0;
const nextMsgId = () => `${RUN}-${++msgCounter}`;

function resetMeasure() {
  hist = new Histogram();
  Object.assign(counters, { deliveries: 0, gaps: 0, dupes: 0, closes: 0, firstUs: 0, lastUs: 0 });
}

/**
 * The clock, read once per turn of the event loop: frames that arrived in one TCP chunk are handled
 * in one turn and share the time of their arrival, and reading the clock per frame was a tenth of
 * the generator's CPU in the broadcast workload.
 */
let clockUs = 0;
let clockRead = false;
const forgetClock = () => {
  clockRead = false;
};
function arrivalUs() {
  if (!clockRead) {
    clockUs = nowUs();
    clockRead = true;
    queueMicrotask(forgetClock);
  }
  return clockUs;
}

/** Seq bookkeeping shared by live events and recovered messages. */
function track(s, channel, seq, ts) {
  const last = s.last.get(channel);
  if (last !== undefined && seq !== null) {
    if (seq <= last) counters.dupes++;
    else if (seq > last + 1) counters.gaps += seq - last - 1;
  }
  if (seq !== null && (last === undefined || seq > last)) s.last.set(channel, seq);
  if (measuring) {
    const now = arrivalUs();
    counters.deliveries++;
    if (counters.firstUs === 0) counters.firstUs = now;
    counters.lastUs = now;
    if (ts > 0) hist.record(now - ts);
  }
}

async function open(s, attempts = 4) {
  let lastErr;
  for (let a = 0; a < attempts; a++) {
    try {
      s.client = await adapter.connect({
        conn,
        user: s.user,
        localAddress: s.addr,
        onMsg: (channel, seq, ts) => track(s, channel, seq, ts),
        onClose: (code) => {
          if (process.env.BENCH_DEBUG) process.stderr.write(`[gen ${process.pid}] ${s.user.id} closed: ${code}\n`);
          if (s.alive) counters.closes++;
          s.alive = false;
        },
      });
      s.alive = true;
      return a;
    } catch (err) {
      lastErr = err;
      await sleep(100 + Math.random() * 400 * (a + 1));
    }
  }
  throw lastErr;
}

async function forEachLimit(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const ops = {
  async init(msg) {
    conn = msg.conn;
    adapter = await import(`./clients/${msg.client}.mjs`);
    return {};
  },

  /** Connects the given clients (and subscribes them to their channels). */
  async connect({ list, concurrency, subscribe }) {
    const start = Date.now();
    const added = list.map((c) => ({ ...c, last: new Map(), client: null, alive: false }));
    let failed = 0;
    let retries = 0;
    const errors = new Set();
    const establish = async (s) => {
      for (let attempt = 0; ; attempt++) {
        try {
          retries += await open(s);
          if (subscribe) for (const ch of s.channels) s.last.set(ch, (await s.client.subscribe(ch)).lastSeq);
          return;
        } catch (err) {
          if (errors.size < 3) errors.add(`${s.user.id}@${s.addr}: ${err.message ?? err}`);
          s.alive = false;
          s.client?.drop();
          if (attempt >= 2) {
            failed++;
            return;
          }
          retries++;
        }
      }
    };
    await forEachLimit(added, concurrency, establish);
    // Natter sometimes drops a just-opened connection with 1006 (see bench/repro/early-close.mjs):
    // connections found dead shortly after are opened again, and counted.
    let healed = 0;
    for (let pass = 0; pass < 2; pass++) {
      await sleep(300);
      const dead = added.filter((s) => !s.alive && s.client);
      if (dead.length === 0) break;
      healed += dead.length;
      await forEachLimit(dead, concurrency, establish);
    }
    clients.push(...added);
    failed = added.filter((s) => !s.alive).length;
    return { ok: added.length - failed, failed, retries, healed, errors: [...errors], ms: Date.now() - start };
  },

  'measure-start'() {
    resetMeasure();
    measuring = true;
    return { startUs: nowUs() };
  },

  peek() {
    return { deliveries: counters.deliveries, lastUs: counters.lastUs, alive: clients.filter((c) => c.alive).length };
  },

  /** Sends `perChannel` messages to each channel (bounded concurrency), waits for every ack. */
  async burst({ channels, perChannel, size, via, from = 0, concurrency = 64 }) {
    const res = { sent: 0, acked: 0, errors: 0, error: null, lastSeq: {} };
    const jobs = [];
    for (let k = 0; k < perChannel; k++) for (const ch of channels) jobs.push(ch);
    const agent = via === 'http' ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : null;
    // One channel's messages go in order: a lane takes whole channels.
    const byChannel = new Map(channels.map((ch) => [ch, perChannel]));
    let n = 0;
    await forEachLimit([...byChannel.keys()], concurrency, async (ch) => {
      for (let k = 0; k < perChannel; k++) {
        const text = makeText(nowUs(), n++, size);
        res.sent++;
        try {
          const seq =
            via === 'http'
              ? await httpPublish(agent, ch, text)
              : (await clients[from].client.send(ch, text, nextMsgId())).seq;
          res.acked++;
          if (seq > (res.lastSeq[ch] ?? 0)) res.lastSeq[ch] = seq;
        } catch (err) {
          res.errors++;
          res.error ??= String(err.message ?? err);
        }
      }
    });
    agent?.destroy();
    return res;
  },

  'measure-stop'() {
    measuring = false;
    return { hist: hist.toJSON(), ...counters, alive: clients.filter((c) => c.alive).length };
  },

  /** Open-loop publisher: `rate` messages/s for `duration` s, from a local client or the HTTP API. */
  async publish({ rate, duration, size, channel, via, from = 0, maxOutstanding = 20000 }) {
    const ackHist = new Histogram();
    const res = { sent: 0, acked: 0, errors: 0, skipped: 0, lastSeq: 0, error: null };
    let outstanding = 0;
    const agent = via === 'http' ? new http.Agent({ keepAlive: true, maxSockets: 64 }) : null;
    const sendOne = (n) => {
      const t = nowUs();
      const text = makeText(t, n, size);
      const done = (seq) => {
        outstanding--;
        res.acked++;
        ackHist.record(nowUs() - t);
        if (seq > res.lastSeq) res.lastSeq = seq;
      };
      const fail = (err) => {
        outstanding--;
        res.errors++;
        res.error ??= String(err.message ?? err);
      };
      outstanding++;
      res.sent++;
      if (via === 'http') httpPublish(agent, channel, text).then(done, fail);
      else clients[from].client.send(channel, text, nextMsgId()).then((r) => done(r.seq ?? 0), fail);
    };
    const startUs = nowUs();
    const endUs = startUs + duration * 1e6;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const now = nowUs();
        const due = Math.floor(((Math.min(now, endUs) - startUs) / 1e6) * rate);
        while (res.sent + res.skipped < due) {
          if (outstanding >= maxOutstanding) res.skipped++;
          else sendOne(res.sent + res.skipped);
        }
        if (now >= endUs) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    const endSend = nowUs();
    for (let i = 0; i < 200 && outstanding > 0; i++) await sleep(50);
    agent?.destroy();
    return { ...res, startUs, endSendUs: endSend, ack: ackHist.toJSON() };
  },

  /** Every local client publishes to its first channel every 1/rate s (random phase). */
  async chatter({ rate, duration, size }) {
    const ackHist = new Histogram();
    const res = { sent: 0, acked: 0, errors: 0, error: null };
    const interval = 1000 / rate;
    const endAt = Date.now() + duration * 1000;
    const timers = [];
    let n = 0;
    await new Promise((resolve) => {
      let live = 0;
      for (const s of clients) {
        if (!s.alive || s.channels.length === 0) continue;
        live++;
        const tick = () => {
          if (Date.now() >= endAt || !s.alive) {
            if (--live === 0) resolve();
            return;
          }
          const t = nowUs();
          res.sent++;
          s.client.send(s.channels[0], makeText(t, n++, size), nextMsgId()).then(
            () => {
              res.acked++;
              ackHist.record(nowUs() - t);
            },
            (err) => {
              res.errors++;
              res.error ??= String(err.message ?? err);
            },
          );
          timers.push(setTimeout(tick, interval));
        };
        timers.push(setTimeout(tick, Math.random() * interval));
      }
      if (live === 0) resolve();
    });
    for (let i = 0; i < 100 && res.acked + res.errors < res.sent; i++) await sleep(50);
    return { ...res, ack: ackHist.toJSON() };
  },

  /** Closed loop: each client keeps `window` sends in flight to its first channel. */
  async sends({ window, duration, size }) {
    const ackHist = new Histogram();
    const res = { sent: 0, acked: 0, errors: 0, error: null };
    const endUs = nowUs() + duration * 1e6;
    const n = 0;
    const lane = async (s) => {
      while (s.alive && nowUs() < endUs) {
        const t = nowUs();
        res.sent++;
        try {
          await s.client.send(s.channels[0], makeText(t, n, size), nextMsgId());
          res.acked++;
          ackHist.record(nowUs() - t);
        } catch (err) {
          res.errors++;
          res.error ??= String(err.message ?? err);
          await sleep(10);
        }
      }
    };
    const lanes = [];
    for (const s of clients) for (let w = 0; w < window; w++) lanes.push(lane(s));
    await Promise.all(lanes);
    return { ...res, ack: ackHist.toJSON() };
  },

  /** Every client drops its connection at once, without a close handshake. */
  async drop() {
    // Publishers (clients without channels) stay connected.
    for (const s of clients.filter((c) => c.channels.length > 0)) {
      s.alive = false;
      s.client?.drop();
    }
    await sleep(200);
    return { dropped: clients.filter((c) => c.channels.length > 0).length };
  },

  /** Every client reconnects at once and resubscribes with `since` = the last seq it saw. */
  async reconnect({ concurrency }) {
    const t0 = nowUs();
    const times = new Histogram();
    const res = { ok: 0, failed: 0, retries: 0, recoveredMessages: 0, tooFar: 0, error: null, lastDoneUs: t0 };
    await forEachLimit(
      clients.filter((c) => c.channels.length > 0),
      concurrency,
      async (s) => {
        try {
          res.retries += await open(s, 8);
          for (const ch of s.channels) {
            const r = await s.client.subscribe(ch, s.last.get(ch) ?? 0);
            if (r.recovery !== 'recovered') res.tooFar++;
            for (const m of r.messages) track(s, ch, m.seq, -1);
            res.recoveredMessages += r.messages.length;
          }
          res.ok++;
          const done = nowUs();
          times.record(done - t0);
          if (done > res.lastDoneUs) res.lastDoneUs = done;
        } catch (err) {
          res.failed++;
          res.error ??= String(err.message ?? err);
        }
      },
    );
    return { ...res, t0, times: times.toJSON() };
  },

  /** Compares every client's last seq per channel with the publisher's final seq. */
  verify({ finalSeq }) {
    let behind = 0;
    let checked = 0;
    for (const s of clients) {
      for (const ch of s.channels) {
        if (finalSeq[ch] === undefined) continue;
        checked++;
        if ((s.last.get(ch) ?? 0) !== finalSeq[ch]) behind++;
      }
    }
    return { checked, behind, gaps: counters.gaps, dupes: counters.dupes };
  },

  async close() {
    for (const s of clients) {
      s.alive = false;
      try {
        s.client?.close();
      } catch {}
    }
    await sleep(300);
    clients = [];
    return {};
  },
};

function httpPublish(agent, channel, text) {
  const body = JSON.stringify({ channel: `${conn.namespace}:${channel}`, data: { text } });
  const url = new URL(`${conn.apiUrl}/publish`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': conn.apiKey,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => {
          if (res.statusCode !== 200 || data.includes('"error"'))
            reject(new Error(`publish ${res.statusCode}: ${data.slice(0, 200)}`));
          else {
            let offset = 0;
            try {
              offset = JSON.parse(data).result?.offset ?? 0;
            } catch {}
            resolve(offset);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

process.on('message', async (msg) => {
  let reply;
  try {
    reply = { rid: msg.rid, ok: true, result: await ops[msg.op](msg) };
  } catch (err) {
    reply = { rid: msg.rid, ok: false, error: String(err?.stack ?? err) };
  }
  process.send(reply);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
