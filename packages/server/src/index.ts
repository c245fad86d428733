/**
 * `@natter/server` public API: start a server from code, and the ports for adapter authors.
 */
export { createNatterServer } from './server.js';
export type { CreateServerOptions, NatterServer } from './server.js';
export { CONFIG_VARS, ConfigError, loadConfig } from './config.js';
export type { Config } from './config.js';
export { NatterError } from './errors.js';
export type { EventBus, EventHandler } from './ports/bus.js';
export type { Store, TenantStore, PlatformStore, OutboxStore } from './ports/store.js';
export type { OutboxEvent, EventType, EventPayloads } from './domain/events.js';
