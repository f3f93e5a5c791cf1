/**
 * MongoBackend arguments → driver options. Everything is checked here, at construction, so a bad
 * `read_preference` or `w` fails when the region is configured, not at its first write (oslo resolved
 * the read preference lazily).
 *
 * @module
 */
import type { MongoClientOptions, ReadConcernLevel, ReadPreferenceMode } from 'mongodb';
import { ArgumentReader } from '../../arguments.js';
import { systemClock, type Clock } from '../../clock.js';
import { MAX_TIMER_SECONDS, toSeconds } from '../../duration.js';
import { ConfigurationError, ValidationError } from '../../errors.js';
import { debug } from '../../log.js';
import { describe } from '../../validate.js';
import type { MongoBackendWarning } from './expiry.js';
import { connectionString, hasAuthSource } from './hosts.js';
import { resolveTransform } from './son-manipulator.js';
import type { MongoDocumentTransform, MongoDocumentTransformClass } from './transform.js';

/**
 * Arguments of `MongoBackend`. Each is accepted under its oslo snake_case name (shown first in the
 * docs, e.g. `db_hosts`) or the camelCase name below. Durations are seconds (numbers) or strings such
 * as `"500ms"`, `"30s"`, `"10m"`. An argument not listed warns once (`DOGPILE_CACHE_UNKNOWN_ARGUMENT`)
 * or fails with `strict_arguments: true`; the memcache options the oslo layer passes to every backend
 * (`url`, `dead_retry`, `pool_maxsize`, …) only log at debug level.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import 'dogpile-cache/backends/mongo'; // types the "mongo" arguments
 * const region = new CacheRegion().configure('mongo', {
 *   arguments: { db_hosts: 'mongodb://10.0.0.1:27017', db_name: 'cache', cache_collection: 'entries', mongo_ttl_seconds: 600 },
 * });
 * ```
 */
export interface MongoBackendArguments {
  /** Required. A connection string (`mongodb://…`, `mongodb+srv://…`), a `host:port`, or a list of either (a seed list). */
  dbHosts?: string | readonly string[];
  /** Required. The database holding the cache collection. */
  dbName?: string;
  /** Required. The collection of cache entries; locks live in `<cacheCollection>_locks`. */
  cacheCollection?: string;
  /** User to authenticate as (against `dbName` unless the connection string sets `authSource`). `""` means none, as in oslo. */
  username?: string;
  /** Password of `username`. */
  password?: string;
  /** Largest number of connections per server. Default 10. */
  maxPoolSize?: number;
  /** Write concern: an integer (0 = unacknowledged) or `"majority"`; `-1` (oslo's default) leaves the server default. */
  w?: number | string;
  /** `primary`, `primaryPreferred`, `secondary`, `secondaryPreferred` or `nearest` (case and `_` ignored). Default: primary. */
  readPreference?: string;
  /** Connect to a replica set; requires `replicasetName`. Default false. */
  useReplica?: boolean;
  /** The replica set name, used when `useReplica` is true. */
  replicasetName?: string;
  /** A value-transform hook (an object or a class), replacing oslo's `son_manipulator` class path. */
  sonManipulator?: MongoDocumentTransform | MongoDocumentTransformClass;
  /** Seconds an entry lives in the collection; `-1` (default) or `0`: entries never expire server-side. */
  mongoTtlSeconds?: number | string;
  /** Use TLS. Default false. */
  ssl?: boolean;
  /** PEM file with the client's private key (when not inside `sslCertfile`). */
  sslKeyfile?: string;
  /** PEM file with the client certificate (and possibly its key). */
  sslCertfile?: string;
  /** PEM file of the certificate authorities that sign the server's certificate. */
  sslCaCerts?: string;
  /** `NONE` (no verification), `OPTIONAL` or `REQUIRED` (verify; the same for a client). Default `REQUIRED`. */
  sslCertReqs?: string;
  /** How long to look for a usable server before an operation fails. Default 5 s; 1 ms to 24.8 days. */
  serverSelectionTimeout?: number | string;
  /** TCP connect timeout. Default 5 s; 0 (the driver's "none") to 24.8 days. */
  connectTimeout?: number | string;
  /** How long to wait for a server's answer on a socket. Default 10 s; `0` waits forever; at most 24.8 days. */
  socketTimeout?: number | string;
  /**
   * Deadline of every call (connecting included): past it the call rejects with
   * `BackendUnavailableError`, whatever the driver is still doing. Default: the larger of
   * `serverSelectionTimeout` and `socketTimeout` (10 s with their defaults; a `socketTimeout` of 0
   * counts as 10 s); 1 ms to 24.8 days. `close()` settles within it too.
   */
  operationTimeout?: number | string;
  /**
   * Idle time after which the backend lets go of its connection (the last backend on a shared client
   * closes it), so that a script which forgets `close()` still exits; the next call reconnects.
   * Default 5 s; `0` keeps the connection until `close()`; at most 24.8 days.
   */
  idleTimeout?: number | string;
  /** Seconds between sweeps of expired entries on servers without TTL indexes (FerretDB). Default 60; `0` never sweeps; at most 24.8 days. */
  sweepInterval?: number | string;
  /** `getMutex` returns a cross-process lock stored in MongoDB. Default false (the region's in-process lock). */
  distributedLock?: boolean;
  /** Seconds after which a held lock may be taken over (its holder is presumed dead). Default 30; more than 0, at most 24.8 days. */
  lockTimeout?: number | string;
  /** Write concern `wtimeout`, in milliseconds (PyMongo's unit), 0 to 2^31 - 1. */
  wtimeout?: number;
  /** Write concern `j`: wait for the journal. */
  j?: boolean;
  /** PyMongo's `fsync` write option; the driver's closest equivalent is `journal: true`. */
  fsync?: boolean;
  /** Server-side time limit of each operation, in milliseconds (`maxTimeMS`), 0 to 2^31 - 1. */
  maxTimeMs?: number;
  /** A comment attached to every operation (visible in the server's logs and profiler). */
  comment?: string | Record<string, unknown>;
  /** Skip document validation on writes. */
  bypassDocumentValidation?: boolean;
  /** Read preference tag sets, e.g. `[{ dc: 'east' }, {}]`. */
  tagSets?: readonly Record<string, string>[];
  /** Read preference `maxStalenessSeconds` (at least 90; `-1` = no limit). */
  maxStalenessSeconds?: number;
  /** Read concern level: `local`, `available`, `majority`, `linearizable` or `snapshot`. */
  readConcernLevel?: string;
  /** Latency window for choosing among suitable servers, in milliseconds (PyMongo 2's name; `localThresholdMS`). */
  secondaryAcceptableLatencyMs?: number;
  /** Same as `secondaryAcceptableLatencyMs` (the driver's name). */
  localThresholdMs?: number;
  /** Extra `MongoClientOptions`, applied last (they override everything above). Clients are shared only when these are plain data. */
  clientOptions?: MongoClientOptions;
  /** Time source in epoch milliseconds, used for expiry and locks (tests inject a manual clock). Default `Date.now`. */
  clock?: Clock;
  /** Called once per backend and kind of problem (see {@link MongoBackendWarning}); also published on the diagnostics channel. */
  onWarning?: (warning: MongoBackendWarning) => void;
}

/** The five read preference modes, keyed by their lower-case, underscore-free spelling. */
const READ_PREFERENCES: ReadonlyMap<string, ReadPreferenceMode> = new Map(
  (['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'] as const).map((mode) => [mode.toLowerCase(), mode]),
);
const READ_CONCERN_LEVELS: readonly string[] = ['local', 'available', 'majority', 'linearizable', 'snapshot'];
const CERT_REQS = ['NONE', 'OPTIONAL', 'REQUIRED'] as const;

/** Files to read when the client is created (at first connect, never in the constructor). */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Read preference, built into the driver's `ReadPreference` once the driver is loaded. */
export interface ReadPreferenceSettings {
  mode: ReadPreferenceMode;
  tags?: Record<string, string>[];
  maxStalenessSeconds?: number;
}

/** Everything the backend needs, parsed and checked. */
export interface MongoSettings {
  /** The connection string (credentials included when `db_hosts` has them). */
  readonly uri: string;
  /** Client options without the TLS files' contents. */
  readonly clientOptions: MongoClientOptions;
  readonly tlsFiles: TlsFiles | null;
  /** Key of the shared client (`null`: never share, because `client_options` hold non-data values). */
  readonly clientKey: string | null;
  readonly dbName: string;
  readonly collectionName: string;
  readonly lockCollectionName: string;
  readonly writeConcern: { w?: number | 'majority'; wtimeoutMS?: number; journal?: boolean } | null;
  readonly readPreference: ReadPreferenceSettings | null;
  readonly readConcernLevel: ReadConcernLevel | null;
  /** Options added to every find. */
  readonly readOptions: { comment?: unknown; maxTimeMS?: number };
  /** Options added to every write. */
  readonly writeOptions: { comment?: unknown; maxTimeMS?: number; bypassDocumentValidation?: boolean };
  /** Time to live in ms, or `null` when entries never expire. */
  readonly ttlMs: number | null;
  readonly sweepIntervalMs: number;
  /** The per-call deadline (and the bound of `close()`), ms. */
  readonly operationTimeoutMs: number;
  /** Idle time before the connection is let go, ms; 0 = never. */
  readonly idleTimeoutMs: number;
  readonly lockEnabled: boolean;
  readonly lockTimeoutMs: number;
  readonly transform: MongoDocumentTransform | null;
  readonly clock: Clock;
  readonly onWarning: ((warning: MongoBackendWarning) => void) | null;
}

function required(reader: ArgumentReader, name: string, what: string): string {
  const value = reader.raw(name);
  if (value === undefined || value === null || value === '') {
    throw new ConfigurationError(`MongoBackend argument ${what} is required.`);
  }
  if (typeof value !== 'string') throw new ConfigurationError(`MongoBackend argument ${what} must be a string; got ${describe(value)}.`);
  return value;
}

/**
 * Longest `mongo_ttl_seconds`: 100 years. Not a timer, but `now + ttl` must stay a valid Date well
 * before {@link NEVER_EXPIRES} (9999); past about 2.7e11 s it was an Invalid Date, stored as 1970.
 */
export const MAX_TTL_SECONDS = 100 * 365.25 * 86400;

/** oslo's `mongo_ttl_seconds`: `-1`/`0` off, a positive number of seconds (or duration string) on. */
function parseTtl(value: unknown): number | null {
  if (value === undefined || value === null || value === -1 || value === 0 || value === '-1' || value === '0') return null;
  try {
    const seconds = toSeconds(value, 'mongo_ttl_seconds', { max: MAX_TTL_SECONDS });
    if (seconds > 0) return Math.round(seconds * 1000);
  } catch {
    // reported below as oslo's ConfigurationError
  }
  throw new ConfigurationError(
    `MongoBackend argument mongo_ttl_seconds must be -1 (off) or a positive number of seconds (or "10m"-style duration) up to ${MAX_TTL_SECONDS} (100 years); got ${describe(value)}.`,
  );
}

function parseW(value: unknown): number | 'majority' | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim().toLowerCase() === 'majority') return 'majority';
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= -1) return n === -1 ? undefined : n;
  throw new ConfigurationError(
    `MongoBackend argument w: integer value expected for w (write concern attribute), or "majority"; got ${describe(value)}.`,
  );
}

function parseReadPreference(value: unknown): ReadPreferenceMode | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const mode = typeof value === 'string' ? READ_PREFERENCES.get(value.replace(/_/g, '').toLowerCase()) : undefined;
  if (mode === undefined) {
    throw new ConfigurationError(
      `MongoBackend argument read_preference must be one of primary, primaryPreferred, secondary, secondaryPreferred, nearest; got ${describe(value)}.`,
    );
  }
  return mode;
}

function parseTagSets(value: unknown): Record<string, string>[] | undefined {
  if (value === undefined || value === null) return undefined;
  const ok =
    Array.isArray(value) &&
    value.every(
      (tags) =>
        typeof tags === 'object' && tags !== null && !Array.isArray(tags) && Object.values(tags).every((v) => typeof v === 'string'),
    );
  if (!ok) throw new ValidationError(`MongoBackend argument tag_sets must be a list of { tag: "value" } objects; got ${describe(value)}.`);
  return (value as Record<string, string>[]).map((tags) => ({ ...tags }));
}

function parseTls(reader: ArgumentReader): { options: MongoClientOptions; files: TlsFiles | null } {
  const ssl = reader.boolean('ssl', false);
  const keyfile = reader.string('sslKeyfile');
  const certfile = reader.string('sslCertfile');
  const caCerts = reader.string('sslCaCerts');
  const reqsRaw = reader.raw('sslCertReqs');
  let reqs: (typeof CERT_REQS)[number] = 'REQUIRED';
  if (reqsRaw !== undefined && reqsRaw !== null) {
    const upper =
      typeof reqsRaw === 'string'
        ? reqsRaw
            .trim()
            .toUpperCase()
            .replace(/^(SSL\.)?CERT_/, '')
        : '';
    const found = CERT_REQS.find((r) => r === upper);
    if (found === undefined) {
      throw new ConfigurationError(`Invalid ssl_cert_reqs value of ${String(reqsRaw)}, must be one of "NONE", "OPTIONAL", "REQUIRED".`);
    }
    reqs = found;
  }
  if (!ssl) {
    if (keyfile !== undefined || certfile !== undefined || caCerts !== undefined || reqsRaw !== undefined) {
      debug('MongoBackend ignores the ssl_* arguments because ssl is false (as oslo did)');
    }
    return { options: {}, files: null };
  }
  const options: MongoClientOptions = { tls: true };
  // A client always receives a certificate, so Python's CERT_OPTIONAL verifies it like CERT_REQUIRED.
  if (reqs === 'NONE') Object.assign(options, { tlsAllowInvalidCertificates: true, tlsAllowInvalidHostnames: true });
  const files: TlsFiles = {};
  if (caCerts !== undefined) files.ca = caCerts;
  if (certfile !== undefined) files.cert = certfile;
  // oslo: "If included with the certfile then only the ssl_certfile is needed".
  if (keyfile !== undefined || certfile !== undefined) files.key = keyfile ?? (certfile as string);
  if (keyfile !== undefined && certfile === undefined) {
    throw new ConfigurationError('MongoBackend argument ssl_keyfile needs ssl_certfile (the client certificate that goes with the key).');
  }
  return { options, files: Object.keys(files).length > 0 ? files : null };
}

/**
 * A duration option in ms. Every one of them ends up in a timer (ours or the driver's), so the range
 * stops at Node's timer limit (2^31 - 1 ms, 24.8 days): past it Node fires after 1 ms with a
 * `TimeoutOverflowWarning` on stderr.
 */
function durationMs(reader: ArgumentReader, name: string, fallbackSeconds: number, min = 0): number {
  return Math.round(reader.seconds(name, fallbackSeconds, { min, max: MAX_TIMER_SECONDS }) * 1000);
}

/** Node's (and the driver's) largest timer delay in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An integer option in ms (or a count), from `min` to 2^31 - 1: the millisecond options become timers too. */
function optionalInt(reader: ArgumentReader, name: string, min: number): number | undefined {
  const value = reader.number(name, undefined, { min, integer: true });
  if (value !== undefined && value > MAX_TIMER_MS) {
    throw new ValidationError(
      `MongoBackend argument ${snakeName(name)} must be between ${min} and ${MAX_TIMER_MS} (Node's timer limit); got ${value}.`,
    );
  }
  return value;
}

function snakeName(camel: string): string {
  return camel.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

/** `client_options` keys ending in `MS` are driver timeouts: numbers from 0 to 2^31 - 1 (see {@link durationMs}). */
function checkClientOptionTimeouts(extra: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(extra)) {
    if (!name.endsWith('MS') || value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
      throw new ValidationError(
        `MongoBackend argument client_options.${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS} (Node's timer limit); got ${describe(value)}.`,
      );
    }
  }
}

/**
 * The default per-call deadline, in seconds: the larger of the server selection and socket timeouts
 * (10 s with their defaults; a `socket_timeout` of 0, "forever", counts as 10 s). A call then gets the
 * time its own settings grant one attempt, and no more: the driver's retry and pool wait are cut off.
 * Not shorter by default: FerretDB on a loaded machine answered some calls after more than 5 s.
 */
function defaultOperationTimeout(options: MongoClientOptions): number {
  const socketMs = options.socketTimeoutMS === undefined || options.socketTimeoutMS === 0 ? 10_000 : options.socketTimeoutMS;
  return Math.min(MAX_TIMER_SECONDS, Math.max(options.serverSelectionTimeoutMS ?? 5000, socketMs) / 1000);
}

/** A stable key for identical plain-data options; `null` when they hold functions or class instances. */
function sharingKey(value: unknown): string | null {
  let shareable = true;
  const key = JSON.stringify(value, (_name, v: unknown) => {
    if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') shareable = false;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) shareable = false;
      else return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
  return shareable ? key : null;
}

/** Connection-level options: everything that decides which `MongoClient` a backend may share. */
function clientOptionsOf(reader: ArgumentReader, uri: string, dbName: string): { options: MongoClientOptions; files: TlsFiles | null } {
  const options: MongoClientOptions = {
    maxPoolSize: reader.number('maxPoolSize', 10, { min: 1, integer: true }),
    serverSelectionTimeoutMS: durationMs(reader, 'serverSelectionTimeout', 5, 0.001),
    connectTimeoutMS: durationMs(reader, 'connectTimeout', 5),
    socketTimeoutMS: durationMs(reader, 'socketTimeout', 10),
    driverInfo: { name: 'dogpile-cache' },
  };

  // oslo passes memcache_username/password (default "") to every backend: "" means "no credentials".
  const username = reader.string('username', '');
  const password = reader.string('password', '');
  if ((username === '') !== (password === '')) {
    throw new ConfigurationError('MongoBackend arguments username and password go together; pass both or neither.');
  }
  if (username !== '') {
    options.auth = { username, password };
    // oslo called database.authenticate(): the credentials belong to db_name unless the URI says otherwise.
    if (!hasAuthSource(uri)) options.authSource = dbName;
  }

  const useReplica = reader.boolean('useReplica', false);
  const replicaSet = reader.string('replicasetName');
  if (useReplica) {
    if (replicaSet === undefined || replicaSet === '') throw new ConfigurationError('replicaset_name required when use_replica is True');
    options.replicaSet = replicaSet;
  } else if (replicaSet !== undefined) {
    debug('MongoBackend ignores replicaset_name because use_replica is false (as oslo did)');
  }

  const localThreshold = optionalInt(reader, 'localThresholdMs', 0) ?? optionalInt(reader, 'secondaryAcceptableLatencyMs', 0);
  if (localThreshold !== undefined) options.localThresholdMS = localThreshold;

  const tls = parseTls(reader);
  Object.assign(options, tls.options);

  const extra = reader.raw('clientOptions');
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra)) {
      throw new ValidationError(`MongoBackend argument client_options must be an object of MongoClientOptions; got ${describe(extra)}.`);
    }
    checkClientOptionTimeouts(extra as Record<string, unknown>);
    Object.assign(options, extra);
  }
  return { options, files: tls.files };
}

type OperationSettings = Pick<MongoSettings, 'writeConcern' | 'readPreference' | 'readConcernLevel' | 'readOptions' | 'writeOptions'>;

/** Collection- and operation-level options: oslo's "rest of arguments", through the allow-list. */
function operationOptionsOf(reader: ArgumentReader): OperationSettings {
  const w = parseW(reader.raw('w'));
  const wtimeout = optionalInt(reader, 'wtimeout', 0);
  let journal: boolean | undefined;
  if (reader.has('j')) journal = reader.boolean('j', false);
  else if (reader.boolean('fsync', false)) journal = true;
  const writeConcern: NonNullable<MongoSettings['writeConcern']> = {};
  if (w !== undefined) writeConcern.w = w;
  if (wtimeout !== undefined) writeConcern.wtimeoutMS = wtimeout;
  if (journal !== undefined) writeConcern.journal = journal;

  const mode = parseReadPreference(reader.raw('readPreference'));
  const tags = parseTagSets(reader.raw('tagSets'));
  const maxStaleness = reader.number('maxStalenessSeconds', undefined, { integer: true, min: -1 });
  let readPreference: ReadPreferenceSettings | null = null;
  if (mode !== undefined || tags !== undefined || maxStaleness !== undefined) {
    readPreference = { mode: mode ?? 'primary' };
    if (tags !== undefined) readPreference.tags = tags;
    if (maxStaleness !== undefined && maxStaleness !== -1) readPreference.maxStalenessSeconds = maxStaleness;
  }

  const level = reader.string('readConcernLevel');
  if (level !== undefined && !READ_CONCERN_LEVELS.includes(level)) {
    throw new ConfigurationError(
      `MongoBackend argument read_concern_level must be one of ${READ_CONCERN_LEVELS.join(', ')}; got ${describe(level)}.`,
    );
  }

  const readOptions: MongoSettings['readOptions'] = {};
  const writeOptions: MongoSettings['writeOptions'] = {};
  const comment = reader.raw('comment');
  if (comment !== undefined && comment !== null) readOptions.comment = writeOptions.comment = comment;
  const maxTimeMS = optionalInt(reader, 'maxTimeMs', 0);
  if (maxTimeMS !== undefined) readOptions.maxTimeMS = writeOptions.maxTimeMS = maxTimeMS;
  if (reader.has('bypassDocumentValidation')) writeOptions.bypassDocumentValidation = reader.boolean('bypassDocumentValidation', false);
  if (reader.has('continueOnError')) debug('MongoBackend: continue_on_error is implied (multi-writes are unordered)');

  return {
    writeConcern: Object.keys(writeConcern).length > 0 ? writeConcern : null,
    readPreference,
    readConcernLevel: (level as ReadConcernLevel | undefined) ?? null,
    readOptions,
    writeOptions,
  };
}

/** Parses and checks MongoBackend `arguments`. Throws {@link ConfigurationError} or {@link ValidationError}. */
export function readMongoArguments(args: unknown): MongoSettings {
  const reader = new ArgumentReader('MongoBackend', args);
  const dbHostsRaw = reader.raw('dbHosts');
  if (dbHostsRaw === undefined || dbHostsRaw === null || dbHostsRaw === '')
    throw new ConfigurationError('MongoBackend argument db_hosts is required.');
  const uri = connectionString(dbHostsRaw);
  const dbName = required(reader, 'dbName', 'db_name');
  const collectionName = required(reader, 'cacheCollection', 'cache_collection');
  const client = clientOptionsOf(reader, uri, dbName);

  const settings: MongoSettings = {
    uri,
    clientOptions: client.options,
    tlsFiles: client.files,
    clientKey: sharingKey([uri, client.options, client.files]),
    dbName,
    collectionName,
    lockCollectionName: `${collectionName}_locks`,
    ...operationOptionsOf(reader),
    ttlMs: parseTtl(reader.raw('mongoTtlSeconds')),
    sweepIntervalMs: durationMs(reader, 'sweepInterval', 60),
    operationTimeoutMs: durationMs(reader, 'operationTimeout', defaultOperationTimeout(client.options), 0.001),
    idleTimeoutMs: durationMs(reader, 'idleTimeout', 5),
    lockEnabled: reader.boolean('distributedLock', false),
    lockTimeoutMs: durationMs(reader, 'lockTimeout', 30),
    transform: resolveTransform(reader.raw('sonManipulator')),
    clock: reader.func<Clock>('clock') ?? systemClock,
    onWarning: reader.func<(warning: MongoBackendWarning) => void>('onWarning') ?? null,
  };
  if (settings.lockTimeoutMs <= 0)
    throw new ConfigurationError('MongoBackend argument lock_timeout must be greater than 0 (a lock must expire when its holder dies).');
  reader.finish();
  return settings;
}

// Types the Mongo backend names in configure() (see backend-arguments.ts): declared here, with the
// types that need mongodb's, so the core's declarations never import the driver's.
declare module '../../backend-arguments.js' {
  interface BackendArgumentsMap {
    'oslo_cache.mongo': MongoBackendArguments;
    mongo: MongoBackendArguments;
  }
}
