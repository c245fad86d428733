/**
 * Every REST route, with a request of valid shape for it. The OpenAPI test checks this list
 * against `/openapi.json` both ways, so a new route fails it until it is added here (and tested).
 */

export type Access = 'public' | 'platform' | 'tenant';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** As OpenAPI writes it, with `{param}`. */
  path: string;
  /** Who may call it: no credentials, the platform key, or tenant credentials (API key or user token). */
  access: Access;
  /** A concrete path and a body that passes validation, for credential checks. */
  sample: { path: string; body?: unknown };
}

const ch = '/v1/channels/ch-1';
const msg = `${ch}/messages/msg_1`;

export const ROUTES: RouteSpec[] = [
  { method: 'GET', path: '/health/live', access: 'public', sample: { path: '/health/live' } },
  { method: 'GET', path: '/health/ready', access: 'public', sample: { path: '/health/ready' } },
  { method: 'GET', path: '/metrics', access: 'public', sample: { path: '/metrics' } },

  {
    method: 'POST',
    path: '/v1/admin/tenants',
    access: 'platform',
    sample: { path: '/v1/admin/tenants', body: { name: 'x' } },
  },
  { method: 'GET', path: '/v1/admin/tenants', access: 'platform', sample: { path: '/v1/admin/tenants' } },
  { method: 'GET', path: '/v1/admin/tenants/{tenantId}', access: 'platform', sample: { path: '/v1/admin/tenants/t1' } },
  {
    method: 'PATCH',
    path: '/v1/admin/tenants/{tenantId}',
    access: 'platform',
    sample: { path: '/v1/admin/tenants/t1', body: { name: 'x' } },
  },
  {
    method: 'DELETE',
    path: '/v1/admin/tenants/{tenantId}',
    access: 'platform',
    sample: { path: '/v1/admin/tenants/t1' },
  },
  {
    method: 'POST',
    path: '/v1/admin/tenants/{tenantId}/keys',
    access: 'platform',
    sample: { path: '/v1/admin/tenants/t1/keys' },
  },
  {
    method: 'GET',
    path: '/v1/admin/tenants/{tenantId}/keys',
    access: 'platform',
    sample: { path: '/v1/admin/tenants/t1/keys' },
  },
  {
    method: 'DELETE',
    path: '/v1/admin/tenants/{tenantId}/keys/{keyId}',
    access: 'platform',
    sample: { path: '/v1/admin/tenants/t1/keys/k1' },
  },

  {
    method: 'POST',
    path: '/v1/users',
    access: 'tenant',
    sample: { path: '/v1/users', body: { users: [{ id: 'u1' }] } },
  },
  { method: 'GET', path: '/v1/users', access: 'tenant', sample: { path: '/v1/users' } },
  { method: 'GET', path: '/v1/users/{userId}', access: 'tenant', sample: { path: '/v1/users/u1' } },
  { method: 'DELETE', path: '/v1/users/{userId}', access: 'tenant', sample: { path: '/v1/users/u1' } },
  {
    method: 'POST',
    path: '/v1/users/{userId}/tokens',
    access: 'tenant',
    sample: { path: '/v1/users/u1/tokens', body: {} },
  },
  { method: 'GET', path: '/v1/me', access: 'tenant', sample: { path: '/v1/me' } },
  { method: 'GET', path: '/v1/keys', access: 'tenant', sample: { path: '/v1/keys' } },
  { method: 'POST', path: '/v1/keys', access: 'tenant', sample: { path: '/v1/keys' } },
  { method: 'DELETE', path: '/v1/keys/{keyId}', access: 'tenant', sample: { path: '/v1/keys/k1' } },

  { method: 'POST', path: '/v1/channels', access: 'tenant', sample: { path: '/v1/channels', body: { type: 'group' } } },
  { method: 'GET', path: '/v1/channels', access: 'tenant', sample: { path: '/v1/channels' } },
  { method: 'GET', path: '/v1/channels/{channelId}', access: 'tenant', sample: { path: ch } },
  { method: 'PATCH', path: '/v1/channels/{channelId}', access: 'tenant', sample: { path: ch, body: { name: 'x' } } },
  { method: 'DELETE', path: '/v1/channels/{channelId}', access: 'tenant', sample: { path: ch } },
  { method: 'POST', path: '/v1/channels/{channelId}/end', access: 'tenant', sample: { path: `${ch}/end` } },
  { method: 'GET', path: '/v1/channels/{channelId}/members', access: 'tenant', sample: { path: `${ch}/members` } },
  {
    method: 'POST',
    path: '/v1/channels/{channelId}/members',
    access: 'tenant',
    sample: { path: `${ch}/members`, body: { members: ['u1'] } },
  },
  {
    method: 'DELETE',
    path: '/v1/channels/{channelId}/members/{userId}',
    access: 'tenant',
    sample: { path: `${ch}/members/u1` },
  },
  { method: 'POST', path: '/v1/channels/{channelId}/read', access: 'tenant', sample: { path: `${ch}/read`, body: {} } },

  { method: 'GET', path: '/v1/channels/{channelId}/messages', access: 'tenant', sample: { path: `${ch}/messages` } },
  {
    method: 'POST',
    path: '/v1/channels/{channelId}/messages',
    access: 'tenant',
    sample: { path: `${ch}/messages`, body: { text: 'x' } },
  },
  { method: 'GET', path: '/v1/channels/{channelId}/messages/{messageId}', access: 'tenant', sample: { path: msg } },
  {
    method: 'PATCH',
    path: '/v1/channels/{channelId}/messages/{messageId}',
    access: 'tenant',
    sample: { path: msg, body: { text: 'x' } },
  },
  { method: 'DELETE', path: '/v1/channels/{channelId}/messages/{messageId}', access: 'tenant', sample: { path: msg } },
  {
    method: 'GET',
    path: '/v1/channels/{channelId}/messages/{messageId}/replies',
    access: 'tenant',
    sample: { path: `${msg}/replies` },
  },
  {
    method: 'PUT',
    path: '/v1/channels/{channelId}/messages/{messageId}/reactions/{type}',
    access: 'tenant',
    sample: { path: `${msg}/reactions/like` },
  },
  {
    method: 'DELETE',
    path: '/v1/channels/{channelId}/messages/{messageId}/reactions/{type}',
    access: 'tenant',
    sample: { path: `${msg}/reactions/like` },
  },

  { method: 'GET', path: '/v1/search', access: 'tenant', sample: { path: '/v1/search?q=x' } },

  { method: 'GET', path: '/v1/policy', access: 'tenant', sample: { path: '/v1/policy' } },
  {
    method: 'PUT',
    path: '/v1/policy',
    access: 'tenant',
    sample: { path: '/v1/policy', body: { mode: 'extend', rules: [] } },
  },
  { method: 'DELETE', path: '/v1/policy', access: 'tenant', sample: { path: '/v1/policy' } },

  // Moderation (docs/moderation.md)
  {
    method: 'POST',
    path: '/v1/moderation/bans',
    access: 'tenant',
    sample: { path: '/v1/moderation/bans', body: { userId: 'u1' } },
  },
  { method: 'GET', path: '/v1/moderation/bans', access: 'tenant', sample: { path: '/v1/moderation/bans' } },
  {
    method: 'DELETE',
    path: '/v1/moderation/bans/{userId}',
    access: 'tenant',
    sample: { path: '/v1/moderation/bans/u1' },
  },
  {
    method: 'POST',
    path: '/v1/moderation/mutes',
    access: 'tenant',
    sample: { path: '/v1/moderation/mutes', body: { userId: 'u1' } },
  },
  { method: 'GET', path: '/v1/moderation/mutes', access: 'tenant', sample: { path: '/v1/moderation/mutes' } },
  {
    method: 'DELETE',
    path: '/v1/moderation/mutes/{userId}',
    access: 'tenant',
    sample: { path: '/v1/moderation/mutes/u1' },
  },
  {
    method: 'POST',
    path: '/v1/channels/{channelId}/kick/{userId}',
    access: 'tenant',
    sample: { path: `${ch}/kick/u1` },
  },
  { method: 'PUT', path: '/v1/blocks/{userId}', access: 'tenant', sample: { path: '/v1/blocks/u1' } },
  { method: 'DELETE', path: '/v1/blocks/{userId}', access: 'tenant', sample: { path: '/v1/blocks/u1' } },
  { method: 'GET', path: '/v1/blocks', access: 'tenant', sample: { path: '/v1/blocks' } },
  {
    method: 'POST',
    path: '/v1/channels/{channelId}/messages/{messageId}/flags',
    access: 'tenant',
    sample: { path: `${msg}/flags`, body: { reason: 'spam' } },
  },
  { method: 'GET', path: '/v1/moderation/queue', access: 'tenant', sample: { path: '/v1/moderation/queue' } },
  {
    method: 'POST',
    path: '/v1/moderation/queue/{flagId}/resolve',
    access: 'tenant',
    sample: { path: '/v1/moderation/queue/flg_1/resolve', body: { action: 'dismiss' } },
  },
  { method: 'GET', path: '/v1/audit', access: 'tenant', sample: { path: '/v1/audit' } },
];
