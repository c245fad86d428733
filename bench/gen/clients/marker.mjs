/**
 * The benchmark payload: `~T<send time µs>|<publisher counter>|` padded to the wanted size, so
 * every system carries the same bytes and the latency can be read without knowing the envelope.
 */
const TILDE = 0x7e;
const T = 0x54;
const BAR = 0x7c;

export function makeText(ts, n, size) {
  const head = `~T${ts}|${n}|`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/** Reads an unsigned integer from `buf` at `pos`; returns [value, endPos]. */
export function readUint(buf, pos) {
  let v = 0;
  let c = buf[pos];
  while (c >= 0x30 && c <= 0x39) {
    v = v * 10 + (c - 0x30);
    c = buf[++pos];
  }
  return [v, pos];
}

/** Send time (µs) from a Buffer holding the marker at or after `from`; -1 when absent. */
export function tsFromBuffer(buf, from = 0) {
  const i = buf.indexOf('~T', from, 'latin1');
  if (i < 0) return -1;
  return readUint(buf, i + 2)[0];
}

/** Send time (µs) from a string text; -1 when absent. */
export function tsFromText(text) {
  if (typeof text !== 'string' || text.charCodeAt(0) !== TILDE || text.charCodeAt(1) !== T) return -1;
  const end = text.indexOf('|', 2);
  return end > 2 ? Number(text.slice(2, end)) : -1;
}

export { BAR };
