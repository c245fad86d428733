/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`) by self time per function, and points each
 * function of the bundled server (dist/) back at its definition in packages/server/src by name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/**
 * Finds `name`'s definition in the server sources: "path:line" or null. When several files define
 * it, the one whose line shares most identifiers with the bundle's line wins.
 */
function locate(name, files, root, bundleLine) {
  if (!name || name.length < 3 || name.startsWith('(')) return null;
  const esc = name.replace(/[$]/g, '\\$');
  const re = new RegExp(
    `(function\\*?\\s+${esc}\\s*[(<]|(const|let)\\s+${esc}\\s*=|^\\s*(async\\s+)?(get\\s+|static\\s+|private\\s+|public\\s+)*${esc}\\s*[(<]|^\\s*['"]?${esc}['"]?\\s*[:(])`,
    'gm',
  );
  const words = new Set((bundleLine ?? '').match(/[A-Za-z_$][\w$]*/g) ?? []);
  let best = null;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(re)) {
      const lineNo = text.slice(0, m.index + m[0].search(/\S/)).split('\n').length;
      const line = text.split('\n')[lineNo - 1];
      const score = (line.match(/[A-Za-z_$][\w$]*/g) ?? []).filter((w) => words.has(w)).length;
      if (!best || score > best.score) best = { score, where: `${relative(root, f)}:${lineNo}` };
    }
  }
  return best?.where ?? null;
}

/** Finds the bundle line's head (up to its first parenthesis) in the sources: "path:line" or null. */
function locateText(code, files, root) {
  const head = code ? code.slice(0, code.indexOf('(') + 1) : '';
  if (head.length < 12) return null;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const i = text.indexOf(head);
    if (i >= 0) return `${relative(root, f)}:${text.slice(0, i).split('\n').length}`;
  }
  return null;
}

/**
 * The source file a line of the bundle came from: esbuild heads each module's code with a
 * `// src/...` comment, so the nearest one above the line names it. Null when there is none.
 */
function moduleOf(bundle, line, srcDir) {
  let lines;
  try {
    lines = readFileSync(bundle, 'utf8').split('\n');
  } catch {
    return null;
  }
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const m = /^\/\/ src\/(\S+\.ts)$/.exec(lines[i]);
    if (m) return join(srcDir, m[1]);
  }
  return null;
}

/** The trimmed source line `line` of `file` (to recognize anonymous functions in the bundle). */
function codeAt(file, line) {
  try {
    return readFileSync(file, 'utf8').split('\n')[line - 1].trim().slice(0, 90);
  } catch {
    return null;
  }
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
    // (root is the checkout whose packages/server/dist ran: the working tree or a --server-ref copy)
    const key = `${fn} ${where}`;
    const a = agg.get(key) ?? { fn, where, selfMs: 0 };
    a.selfMs += us / 1000;
    agg.set(key, a);
  }
  const files = walk(srcDir);
  const sorted = [...agg.values()].sort((x, y) => y.selfMs - x.selfMs);
  const list = sorted.slice(0, top);
  const own = sorted.filter((a) => a.where.includes('packages/server/dist')).slice(0, 8);
  for (const a of new Set([...list, ...own])) {
    a.selfMs = Math.round(a.selfMs);
    a.pct = Math.round((1000 * a.selfMs) / (total / 1000)) / 10;
    const bundle = a.where.replace(/:\d+$/, '');
    a.code = a.where.includes('packages/server/dist')
      ? codeAt(isAbsolute(bundle) ? bundle : join(root, bundle), Number(a.where.split(':').pop()))
      : null;
    if (!a.where.includes('packages/server/dist')) {
      a.src = null;
      continue;
    }
    // Many modules share a name or a line (\`json\`, \`return ctx.write(() => {\`): look in the
    // module the bundle says the line came from first, then everywhere.
    const module = moduleOf(isAbsolute(bundle) ? bundle : join(root, bundle), Number(a.where.split(':').pop()), srcDir);
    const first = module ? [module] : [];
    a.src =
      locate(a.fn, first, root, a.code) ??
      locateText(a.code, first, root) ??
      locate(a.fn, files, root, a.code) ??
      locateText(a.code, files, root);
  }
  for (const k of Object.keys(buckets)) buckets[k] = Math.round(buckets[k]);
  return { totalMs: Math.round(total / 1000), top: list, own, buckets };
}
