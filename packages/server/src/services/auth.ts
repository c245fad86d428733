/**
 * Credentials.
 *
 * - API keys (platform admin and tenant backends): HTTP Basic with the key id as user name and the
 *   secret as password (`curl -u ak_…:secret`). Only a hash of the secret is stored.
 * - User tokens: JWTs (HS256) signed with the tenant's own signing secret, carrying `sub` (user id)
 *   and `tid` (tenant id). Only HS256 is accepted, so `alg: none` and key-confusion tokens fail.
 *   A token of a deleted user is refused.
 */
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Actor } from '../domain/actor.js';
import { secretMatches } from '../domain/ids.js';
import { NatterError } from '../errors.js';
import type { Store, TenantRecord } from '../ports/store.js';

const ISSUER = 'natter';

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** Mints a user token signed with the tenant's key. */
export async function mintUserToken(
  tenant: TenantRecord,
  userId: string,
  ttlSeconds: number,
  now = Date.now(),
): Promise<IssuedToken> {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({ tid: tenant.id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(Buffer.from(tenant.signingSecret, 'base64url'));
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Verifies a user token and loads its user; throws NATTER_AUTH_INVALID / NATTER_AUTH_EXPIRED. */
export async function verifyUserToken(store: Store, token: string): Promise<Actor & { kind: 'user' }> {
  let tenantId: unknown;
  try {
    tenantId = decodeJwt(token).tid;
  } catch {
    throw new NatterError('NATTER_AUTH_INVALID', 'The token is not a valid JWT.');
  }
  if (typeof tenantId !== 'string') throw new NatterError('NATTER_AUTH_INVALID');
  const tenant = await store.platform.getTenant(tenantId);
  if (!tenant) throw new NatterError('NATTER_AUTH_INVALID');
  let userId: string | undefined;
  try {
    const { payload } = await jwtVerify(token, Buffer.from(tenant.signingSecret, 'base64url'), {
      algorithms: ['HS256'],
      issuer: ISSUER,
    });
    userId = payload.sub;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new NatterError('NATTER_AUTH_EXPIRED');
    throw new NatterError('NATTER_AUTH_INVALID');
  }
  if (!userId) throw new NatterError('NATTER_AUTH_INVALID');
  const user = await store.tenant(tenant.id).getUser(userId);
  if (!user) throw new NatterError('NATTER_AUTH_INVALID', 'The user of this token no longer exists.');
  return { kind: 'user', tenantId: tenant.id, user };
}

/** Checks an API key id + secret; returns a platform or server actor. */
export async function verifyApiKey(store: Store, keyId: string, secret: string): Promise<Actor> {
  const key = await store.platform.getApiKey(keyId);
  if (!key || key.revokedAt || !secretMatches(secret, key.secretHash)) {
    throw new NatterError('NATTER_AUTH_INVALID', 'The API key id or secret is wrong, or the key was revoked.');
  }
  return key.tenantId === null ? { kind: 'platform' } : { kind: 'server', tenantId: key.tenantId };
}

/** Reads an `Authorization` header: `Basic` for API keys, `Bearer` for user tokens. */
export async function authenticate(store: Store, header: string | undefined): Promise<Actor> {
  if (!header) throw new NatterError('NATTER_AUTH_MISSING', 'Send an Authorization header.');
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space > 0 && scheme === 'bearer' && value) return verifyUserToken(store, value);
  if (space > 0 && scheme === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return verifyApiKey(store, decoded.slice(0, colon), decoded.slice(colon + 1));
  }
  throw new NatterError(
    'NATTER_AUTH_INVALID',
    'Authorization must be "Basic <key id:secret>" or "Bearer <user token>".',
  );
}
