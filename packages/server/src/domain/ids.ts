/**
 * Identifiers. Message ids are time-ordered (48-bit milliseconds + 80 random bits, Crockford
 * base32, like ULIDs) so they sort by creation across channels; secrets are 256 random bits.
 */
import { createHash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Random bytes for time ids, drawn 10 at a time from a pool filled in one call: one `randomBytes`
 * per id cost more than the rest of the id. The bits are unguessable all the same; ids are not
 * secrets (secrets and key ids below take their own bytes).
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolAt = POOL_SIZE;
/**
 * The 16 bytes of the id being made, written whole on every call and read at once by `base32`:
 * one buffer for all ids instead of a typed array each (about 4 % of what a message send
 * allocated, bench/README).
 */
const idBytes = new Uint8Array(16);

/** A time-ordered id with a prefix, e.g. `msg_01jd…`. */
export function timeId(prefix: string, now = Date.now()): string {
  if (poolAt + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolAt = 0;
  }
  idBytes.set(pool.subarray(poolAt, poolAt + 10), 6);
  poolAt += 10;
  for (let i = 5; i >= 0; i--) {
    idBytes[i] = now % 256;
    now = Math.floor(now / 256);
  }
  return `${prefix}_${base32(idBytes)}`;
}

/** A random id with a prefix, e.g. `ak_…` for API key ids. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${base32(randomBytes(bytes))}`;
}

/** A 256-bit secret, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Hash of a high-entropy secret. SHA-256 suffices: the secrets are 256 random bits, not passwords,
 * so a slow hash would add latency to every request without adding safety.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
