/**
 * The presence port: which users have at least one live connection. A user with several
 * connections (tabs, devices, nodes) is online until the last one goes.
 *
 * Adapters: `adapters/presence/memory.ts` (embedded default). Every adapter passes
 * `test/contracts/presence.contract.ts`.
 */
export interface PresenceStore {
  readonly name: string;
  /** Records a connection. Resolves true when the user just came online. */
  connect(tenantId: string, userId: string, connectionId: string): Promise<boolean>;
  /** Forgets a connection. Resolves true when the user just went offline. */
  disconnect(tenantId: string, userId: string, connectionId: string): Promise<boolean>;
  /** The subset of `userIds` that is online. */
  online(tenantId: string, userIds: string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
