/**
 * The benchmark payload: `~T<send time µs>|<publisher counter>|` padded to the wanted size, so
 * every system carries the same bytes and the latency can be read without knowing the envelope.
 */
const TILDE = 0x7e;
const T = 0x54;

export function makeText(ts, n, size) {
  const head = `~T${ts}|${n}|`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/** Send time (µs) from a string text; -1 when absent. */
export function tsFromText(text) {
  if (typeof text !== 'string' || text.charCodeAt(0) !== TILDE || text.charCodeAt(1) !== T) return -1;
  const end = text.indexOf('|', 2);
  return end > 2 ? Number(text.slice(2, end)) : -1;
}

// The helpers below are the receive fast path of the bench clients (a million calls a second in
// the broadcast workload). They are plain loops over bytes: for the short spans they look at,
// that is several times cheaper than Buffer#compare or Buffer#indexOf, whose native calls
// dominated the generator's profile.

/** Whether `buf` holds the bytes of `prefix` at `at` (before `end`). */
export function hasAt(buf, at, prefix, end = buf.length) {
  const n = prefix.length;
  if (at + n > end) return false;
  for (let i = 0; i < n; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** Index of the first byte `b` in `buf[from, to)`, or -1. */
export function byteIndex(buf, b, from, to = buf.length) {
  for (let i = from; i < to; i++) if (buf[i] === b) return i;
  return -1;
}

/** Index of the first occurrence of `needle` in `buf[from, to)`, or -1. */
export function bytesIndex(buf, needle, from, to = buf.length) {
  const first = needle[0];
  const last = to - needle.length;
  for (let i = from; i <= last; i++) if (buf[i] === first && hasAt(buf, i, needle)) return i;
  return -1;
}

/** End position of the last {@link uintAt} (so it need not allocate a pair). */
export const cursor = { end: 0 };

/** Unsigned integer at `pos`; sets `cursor.end` to the position after its digits. */
export function uintAt(buf, pos) {
  let v = 0;
  let c = buf[pos];
  while (c >= 0x30 && c <= 0x39) {
    v = v * 10 + (c - 0x30);
    c = buf[++pos];
  }
  cursor.end = pos;
  return v;
}

/**
 * Channel names read from frame bytes, remembered per client: consecutive frames are mostly for
 * the same channel, so the string is built once rather than per frame.
 */
export function channelReader() {
  let bytes = null;
  let name = '';
  return (buf, from, to) => {
    if (bytes !== null && bytes.length === to - from && hasAt(buf, from, bytes, to)) return name;
    bytes = Buffer.from(buf.subarray(from, to));
    name = bytes.toString('latin1');
    return name;
  };
}

/**
 * Send time (µs) from the `~T` marker in `buf[from, to)`, -1 when absent; with a memory: the
 * marker sits at the same distance from `from` in most frames of a stream (same envelope, ids of
 * one length), so the last distance is tried before scanning.
 */
export function markerReader() {
  let offset = -1;
  return (buf, from, to = buf.length) => {
    const at = from + offset;
    if (offset >= 0 && at + 1 < to && buf[at] === TILDE && buf[at + 1] === T) return uintAt(buf, at + 2);
    for (let i = from; i < to - 1; i++) {
      if (buf[i] === TILDE && buf[i + 1] === T) {
        offset = i - from;
        return uintAt(buf, i + 2);
      }
    }
    return -1;
  };
}
