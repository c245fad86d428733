// Prints the size of the ESM bundle: raw, minified (it is built minified) and gzipped.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const file = new URL('../dist/index.js', import.meta.url);
const code = readFileSync(file);
const gzip = gzipSync(code, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
console.log(`dist/index.js: ${kb(code.length)} min, ${kb(gzip)} min+gzip (target ≤ 12 KB)`);
if (gzip > 12 * 1024) process.exitCode = 1;
