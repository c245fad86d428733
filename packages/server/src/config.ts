/**
 * Server configuration: environment variables, optionally a JSON file (`NATTER_CONFIG_FILE`) whose
 * keys are the same variable names. The environment wins over the file. Every value is validated at
 * start; a wrong one stops the server with one line naming the variable and what is allowed.
 *
 * The table in README.md is checked against {@link CONFIG_VARS} by a test.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';

type VarSpec =
  | { kind: 'int'; default: number; min: number; max: number; doc: string }
  | { kind: 'string'; default: string; doc: string }
  | { kind: 'enum'; default: string; values: readonly string[]; doc: string }
  | { kind: 'url'; default: ''; protocols: readonly string[]; doc: string };

/** Every configuration variable, its default and what it does. */
export const CONFIG_VARS = {
  NATTER_HOST: { kind: 'string', default: '127.0.0.1', doc: 'Interface to listen on (0.0.0.0 for all).' },
  NATTER_PORT: { kind: 'int', default: 8080, min: 0, max: 65535, doc: 'Port for REST and realtime.' },
  NATTER_DATA_DIR: {
    kind: 'string',
    default: '.natter-data',
    doc: 'Directory of the embedded SQLite store (created on first start).',
  },
  NATTER_NODE_ID: {
    kind: 'string',
    default: '',
    doc: 'Name of this node among several (consumer names, outbox relay lease). Default: hostname and pid.',
  },
  NATTER_MONGODB_URL: {
    kind: 'url',
    default: '',
    protocols: ['mongodb:', 'mongodb+srv:'],
    doc: 'MongoDB store instead of the embedded SQLite (e.g. mongodb://host:27017/natter?replicaSet=rs0).',
  },
  NATTER_MONGODB_DB_PER_TENANT: {
    kind: 'enum',
    default: 'false',
    values: ['true', 'false'],
    doc: 'With MongoDB: one database per tenant instead of shared collections.',
  },
  NATTER_REDIS_URL: {
    kind: 'url',
    default: '',
    protocols: ['redis:', 'rediss:'],
    doc: 'Redis for presence, rate limits, typing/presence signals across nodes (and events when Kafka is unset).',
  },
  NATTER_KAFKA_BROKERS: {
    kind: 'string',
    default: '',
    doc: 'Comma-separated Kafka brokers (host:port) for event routing between nodes and consumers.',
  },
  NATTER_ELASTICSEARCH_URL: {
    kind: 'url',
    default: '',
    protocols: ['http:', 'https:'],
    doc: 'Elasticsearch for message search instead of the embedded SQLite FTS5.',
  },
  NATTER_SEARCH_BATCH_MS: {
    kind: 'int',
    default: 20,
    min: 0,
    max: 10_000,
    doc: 'Least milliseconds between two writes to the search index: messages sent meanwhile are indexed together, so a message may become searchable this much later. 0: index as events arrive.',
  },
  NATTER_OUTBOX_RETENTION: {
    kind: 'int',
    default: 3600,
    min: 0,
    max: 31_536_000,
    doc: 'Seconds a published event stays in the outbox before it is deleted (checked every minute). Delivery never depends on it: events leave the outbox for the bus first.',
  },
  NATTER_WORKERS: {
    kind: 'string',
    default: '1',
    doc: 'Server processes sharing the port on the embedded defaults (`auto`: one per core); see docs/self-hosting.md, "Using every core".',
  },
  NATTER_LOG_LEVEL: {
    kind: 'enum',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level (JSON logs on stdout).',
  },
  NATTER_MAX_MESSAGE_LENGTH: {
    kind: 'int',
    default: 4000,
    min: 1,
    max: 100_000,
    doc: 'Longest message text, in characters.',
  },
  NATTER_MAX_CUSTOM_BYTES: {
    kind: 'int',
    default: 5120,
    min: 0,
    max: 1_048_576,
    doc: 'Largest `custom` object on a user, channel or message, in bytes of JSON.',
  },
  NATTER_BODY_LIMIT: {
    kind: 'int',
    default: 262_144,
    min: 1024,
    max: 16_777_216,
    doc: 'Largest HTTP request body, in bytes.',
  },
  NATTER_EDIT_WINDOW: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 31_536_000,
    doc: 'Seconds after sending during which an author may edit a message; 0 means no limit.',
  },
  NATTER_TOKEN_TTL: {
    kind: 'int',
    default: 3600,
    min: 60,
    max: 2_592_000,
    doc: 'Default lifetime of user tokens, in seconds.',
  },
  NATTER_RATE_USER: {
    kind: 'int',
    default: 50,
    min: 1,
    max: 1_000_000,
    doc: 'Requests and write frames per second per user (burst twice that); a tenant may set its own.',
  },
  NATTER_RATE_TENANT: {
    kind: 'int',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    doc: 'Requests and write frames per second per tenant, all users and its backend together.',
  },
  NATTER_WS_MAX_FRAME_BYTES: {
    kind: 'int',
    default: 65_536,
    min: 1024,
    max: 16_777_216,
    doc: 'Largest realtime frame a client may send; larger closes the connection with 1009.',
  },
  NATTER_WS_FRAMES_PER_SECOND: {
    kind: 'int',
    default: 50,
    min: 1,
    max: 100_000,
    doc: 'Frames per second per connection (burst twice that); excess gets error frames, then close 4029.',
  },
  NATTER_WS_IDLE_TIMEOUT: {
    kind: 'int',
    default: 60,
    min: 8,
    max: 960,
    doc: 'Seconds of silence before a connection is dropped; pings are sent automatically before that.',
  },
  NATTER_WS_MAX_BUFFER: {
    kind: 'int',
    default: 1_048_576,
    min: 16_384,
    max: 268_435_456,
    doc: 'Bytes queued for one slow connection before it is closed with 4008 (it then recovers by seq).',
  },
  NATTER_REPLAY_MAX: {
    kind: 'int',
    default: 1000,
    min: 0,
    max: 100_000,
    doc: 'Most missed messages replayed on resubscribe; beyond that the client is told to refetch.',
  },
} as const satisfies Record<string, VarSpec>;

export type ConfigVar = keyof typeof CONFIG_VARS;

export interface Config {
  nodeId: string;
  /** Engines; null means the embedded default. */
  engines: {
    mongodbUrl: string | null;
    mongodbDbPerTenant: boolean;
    redisUrl: string | null;
    kafkaBrokers: string[] | null;
    elasticsearchUrl: string | null;
  };
  host: string;
  port: number;
  /** Least milliseconds between two search-index writes (NATTER_SEARCH_BATCH_MS). */
  searchBatchMs: number;
  /** Seconds a published outbox event is kept (NATTER_OUTBOX_RETENTION). */
  outboxRetention: number;
  /** Server processes on this machine (NATTER_WORKERS); 1 is one process doing everything. */
  workers: number;
  dataDir: string;
  logLevel: string;
  maxMessageLength: number;
  maxCustomBytes: number;
  bodyLimit: number;
  tokenTtl: number;
  /** Seconds after sending during which an author may edit a message; 0: no limit. */
  editWindow: number;
  rateLimits: { userPerSecond: number; tenantPerSecond: number };
  realtime: {
    maxFrameBytes: number;
    framesPerSecond: number;
    idleTimeout: number;
    maxBufferedBytes: number;
    replayMax: number;
  };
}

/** A configuration value that is not allowed. The message is the one line the server prints. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parse(name: ConfigVar, raw: string | undefined): string | number {
  const spec = CONFIG_VARS[name] as VarSpec;
  if (raw === undefined || raw === '') return spec.default;
  switch (spec.kind) {
    case 'int': {
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || n < spec.min || n > spec.max) {
        throw new ConfigError(
          `${name}=${JSON.stringify(raw)} is not allowed: use a whole number from ${spec.min} to ${spec.max}.`,
        );
      }
      return n;
    }
    case 'enum':
      if (!spec.values.includes(raw)) {
        throw new ConfigError(`${name}=${JSON.stringify(raw)} is not allowed: use one of ${spec.values.join(', ')}.`);
      }
      return raw;
    case 'url': {
      let ok = false;
      try {
        ok = spec.protocols.includes(new URL(raw).protocol);
      } catch {}
      if (!ok) {
        throw new ConfigError(
          `${name}=${JSON.stringify(raw)} is not allowed: use a URL starting with ${spec.protocols.join(' or ')}//.`,
        );
      }
      return raw;
    }
    default:
      return raw;
  }
}

function readFile(path: string): Record<string, string> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`NATTER_CONFIG_FILE=${path} could not be read as JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`NATTER_CONFIG_FILE=${path} must hold a JSON object of NATTER_* keys.`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!Object.hasOwn(CONFIG_VARS, key)) {
      throw new ConfigError(
        `NATTER_CONFIG_FILE=${path} has unknown key ${key}: allowed are ${Object.keys(CONFIG_VARS).join(', ')}.`,
      );
    }
    out[key] = String(value);
  }
  return out;
}

/** `auto` is one worker per core; otherwise a whole number from 1 to 64. */
function parseWorkers(raw: string): number {
  if (raw === 'auto') return Math.max(1, availableParallelism());
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 64) {
    throw new ConfigError(
      `NATTER_WORKERS=${JSON.stringify(raw)} is not allowed: use auto or a whole number from 1 to 64.`,
    );
  }
  return n;
}

/**
 * Reads and validates the configuration.
 * @throws ConfigError naming the variable at fault.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const file = env.NATTER_CONFIG_FILE ? readFile(env.NATTER_CONFIG_FILE) : {};
  const get = (name: ConfigVar) => parse(name, env[name] ?? file[name]);
  const orNull = (name: ConfigVar) => (get(name) as string) || null;
  const brokers = (get('NATTER_KAFKA_BROKERS') as string)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(
        `NATTER_KAFKA_BROKERS has ${JSON.stringify(broker)}: use comma-separated host:port pairs, e.g. kafka1:9092,kafka2:9092.`,
      );
    }
  }
  const workers = parseWorkers(get('NATTER_WORKERS') as string);
  if (workers > 1) {
    const engine = (['NATTER_MONGODB_URL', 'NATTER_REDIS_URL', 'NATTER_KAFKA_BROKERS'] as const).find((name) =>
      Boolean(get(name)),
    );
    if (engine) {
      throw new ConfigError(
        `NATTER_WORKERS=${workers} works on the embedded store and bus only, not with ${engine}: with engines, run several nodes instead (docs/self-hosting.md, "Using every core").`,
      );
    }
  }
  return {
    nodeId: (get('NATTER_NODE_ID') as string) || `${hostname()}-${process.pid}`,
    engines: {
      mongodbUrl: orNull('NATTER_MONGODB_URL'),
      mongodbDbPerTenant: get('NATTER_MONGODB_DB_PER_TENANT') === 'true',
      redisUrl: orNull('NATTER_REDIS_URL'),
      kafkaBrokers: brokers.length > 0 ? brokers : null,
      elasticsearchUrl: orNull('NATTER_ELASTICSEARCH_URL'),
    },
    host: get('NATTER_HOST') as string,
    port: get('NATTER_PORT') as number,
    searchBatchMs: get('NATTER_SEARCH_BATCH_MS') as number,
    outboxRetention: get('NATTER_OUTBOX_RETENTION') as number,
    workers,
    dataDir: get('NATTER_DATA_DIR') as string,
    logLevel: get('NATTER_LOG_LEVEL') as string,
    maxMessageLength: get('NATTER_MAX_MESSAGE_LENGTH') as number,
    maxCustomBytes: get('NATTER_MAX_CUSTOM_BYTES') as number,
    bodyLimit: get('NATTER_BODY_LIMIT') as number,
    tokenTtl: get('NATTER_TOKEN_TTL') as number,
    editWindow: get('NATTER_EDIT_WINDOW') as number,
    rateLimits: {
      userPerSecond: get('NATTER_RATE_USER') as number,
      tenantPerSecond: get('NATTER_RATE_TENANT') as number,
    },
    realtime: {
      maxFrameBytes: get('NATTER_WS_MAX_FRAME_BYTES') as number,
      framesPerSecond: get('NATTER_WS_FRAMES_PER_SECOND') as number,
      idleTimeout: get('NATTER_WS_IDLE_TIMEOUT') as number,
      maxBufferedBytes: get('NATTER_WS_MAX_BUFFER') as number,
      replayMax: get('NATTER_REPLAY_MAX') as number,
    },
  };
}
