/**
 * Hook points of the message pipeline. Plugins attach here (the plugin host comes later); each
 * hook runs in registration order.
 *
 * - `beforeSend` may return a changed input (e.g. moderation rewriting text) or throw a
 *   NatterError to reject the message. It runs after validation and authorization, before storage.
 * - `afterSend` runs once the message is durably stored; its failures are logged, never undo
 *   the send. Its `message` is the object the `message.new` event carries (and the sender's reply):
 *   read it, do not change it.
 */
import type { Message } from '@natter/protocol';
import type { MessageInput } from '../ports/store.js';
import type { TenantActor } from './context.js';

export interface BeforeSendContext {
  actor: TenantActor;
  tenantId: string;
  input: MessageInput;
}

export interface PipelineHooks {
  beforeSend: ((ctx: BeforeSendContext) => Promise<MessageInput | undefined> | MessageInput | undefined)[];
  afterSend: ((ctx: { actor: TenantActor; tenantId: string; message: Message }) => Promise<void> | void)[];
}

export function createHooks(): PipelineHooks {
  return { beforeSend: [], afterSend: [] };
}
