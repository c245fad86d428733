/**
 * Who is making a request. Every service call takes an actor; the policy decides from it.
 */
import type { User } from '@natter/protocol';

export type Actor =
  /** Holder of a platform-admin API key: manages tenants, sees no tenant data directly. */
  | { kind: 'platform' }
  /** A tenant's backend, holding the tenant API secret: may do anything within the tenant. */
  | { kind: 'server'; tenantId: string }
  /** An end user with a user token. */
  | { kind: 'user'; tenantId: string; user: User };
