/**
 * `@natter/server` public API: start a server from code, and the ports for adapter authors.
 */

export type { Config } from './config.js';
export { CONFIG_VARS, ConfigError, loadConfig } from './config.js';
export type { EventPayloads, EventType, OutboxEvent } from './domain/events.js';
export { NatterError } from './errors.js';
export type { EventBus, EventHandler } from './ports/bus.js';
export type { OutboxStore, PlatformStore, Store, TenantStore } from './ports/store.js';
export type { CreateServerOptions, NatterServer } from './server.js';
export { createNatterServer } from './server.js';
