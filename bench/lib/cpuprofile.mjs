/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`) by self time per function, and points each
 * function of the bundled server (dist/) back at its definition in packages/server/src by name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Finds `name`'s definition in the server sources: returns "path:line" or null. */
function locate(name, files, root) {
  if (!name || name.length < 3 || name.startsWith('(')) return null;
  const esc = name.replace(/[$]/g, '\\$');
  const re = new RegExp(`(function\\*?\\s+${esc}\\s*[(<]|(const|let)\\s+${esc}\\s*=|^\\s*(async\\s+)?(get\\s+|static\\s+|private\\s+|public\\s+)*${esc}\\s*[(<]|^\\s*['"]?${esc}['"]?\\s*[:(])`, 'm');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const m = re.exec(text);
    if (m) return `${relative(root, f)}:${text.slice(0, m.index + m[0].search(/\S/)).split('\n').length}`;
  }
  return null;
}

/**
 * @returns {{ totalMs: number, top: { fn: string, where: string, src: string|null, selfMs: number, pct: number }[], buckets: Record<string, number> }}
 */
export function summarizeProfile(file, { root, srcDir, top = 10 }) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const agg = new Map();
  const buckets = {};
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const fn = functionName || '(anonymous)';
    if (fn.startsWith('(') && fn !== '(anonymous)') {
      buckets[fn] = (buckets[fn] ?? 0) + us / 1000;
      continue;
    }
    const where = `${url.replace(/^file:\/\//, '').replace(`${root}/`, '')}:${lineNumber + 1}`;
    const key = `${fn} ${where}`;
    const a = agg.get(key) ?? { fn, where, selfMs: 0 };
    a.selfMs += us / 1000;
    agg.set(key, a);
  }
  const files = walk(srcDir);
  const list = [...agg.values()].sort((x, y) => y.selfMs - x.selfMs).slice(0, top);
  for (const a of list) {
    a.selfMs = Math.round(a.selfMs);
    a.pct = Math.round((1000 * a.selfMs) / (total / 1000)) / 10;
    a.src = a.where.includes('packages/server/dist') ? locate(a.fn, files, root) : null;
  }
  for (const k of Object.keys(buckets)) buckets[k] = Math.round(buckets[k]);
  return { totalMs: Math.round(total / 1000), top: list, buckets };
}
