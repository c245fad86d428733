/**
 * A mergeable log-bucket latency histogram (about 1% resolution), so generator processes can send
 * compact counts to the parent instead of every sample.
 */
const SUB = 64; // buckets per power of two
const SIZE = 40 * SUB;

export class Histogram {
  constructor() {
    this.counts = new Float64Array(SIZE);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  /** Records one value in microseconds. */
  record(us) {
    const v = us < 1 ? 1 : us;
    const i = Math.min(SIZE - 1, Math.floor(Math.log2(v) * SUB));
    this.counts[i]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(other) {
    const counts = other.counts;
    for (let i = 0; i < SIZE; i++) if (counts[i]) this.counts[i] += counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  /** Value at quantile q (0..1), in microseconds. */
  quantile(q) {
    if (this.count === 0) return null;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.max, Math.max(this.min, 2 ** ((i + 0.5) / SUB)));
    }
    return this.max;
  }

  /** Sparse form for IPC. */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) buckets.push(i, this.counts[i]);
    return { buckets, count: this.count, sum: this.sum, min: this.min, max: this.max };
  }

  static from(json) {
    const h = new Histogram();
    if (!json) return h;
    for (let k = 0; k < json.buckets.length; k += 2) h.counts[json.buckets[k]] = json.buckets[k + 1];
    h.count = json.count;
    h.sum = json.sum;
    h.min = json.count ? json.min : Number.POSITIVE_INFINITY;
    h.max = json.max;
    return h;
  }

  summary() {
    const ms = (v) => (v === null ? null : Math.round(v) / 1000);
    return {
      count: this.count,
      p50: ms(this.quantile(0.5)),
      p99: ms(this.quantile(0.99)),
      p999: ms(this.quantile(0.999)),
      max: this.count ? ms(this.max) : null,
    };
  }
}

/** Shared monotonic clock in microseconds (CLOCK_MONOTONIC is the same for every process). */
export function nowUs() {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1000);
}
