/**
 * The Redis backends' arguments (dogpile.cache's `RedisBackend`, `RedisSentinelBackend` and
 * `RedisClusterBackend` names, snake_case or camelCase) read into one validated settings object.
 * Nothing here talks to Redis or loads ioredis.
 *
 * @module
 */
import type { BackendArguments } from '../../api.js';
import { ArgumentReader } from '../../arguments.js';
import { MAX_TIMER_SECONDS } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import { describe } from '../../validate.js';

/** dogpile's default host and port. */
export const DEFAULT_HOST = 'localhost';
export const DEFAULT_PORT = 6379;
/** Default `socket_timeout`, seconds. dogpile's is none (wait forever); a cache call here is always bounded. */
export const DEFAULT_SOCKET_TIMEOUT = 5;
/** dogpile's `lock_sleep`, seconds between two tries of a held lock. */
export const DEFAULT_LOCK_SLEEP = 0.1;
/** dogpile's `service_name` for Sentinel. */
export const DEFAULT_SERVICE_NAME = 'mymaster';
/** Keep-alive probe delay when `socket_keepalive` is on, ms. */
export const KEEPALIVE_DELAY_MS = 30_000;
/**
 * Largest server TTL, seconds: the expiry is sent in milliseconds, which must stay an exact integer
 * (Redis itself accepts up to about 9.2e15 s).
 */
export const MAX_EXPIRATION_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
// dogpile 1.5's lock_prefix rule.
const LOCK_PREFIX = /^[\w\-.:]{2,10}$/;

/** A server address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Which kind of deployment the backend talks to. */
export type RedisTopology = 'single' | 'sentinel' | 'cluster';

/**
 * Arguments of the Redis backends; every name is also accepted in camelCase (`redisExpirationTime`, …).
 * Durations are seconds or strings such as `"500ms"`, `"30s"`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * const region = new CacheRegion().configure('dogpile.cache.redis', {
 *   arguments: { url: 'redis://10.0.0.1:6379/0', distributed_lock: true, redis_expiration_time: 3600 },
 * });
 * ```
 */
export interface RedisBackendArguments {
  /** `redis://[user:pass@]host:port/db` or `rediss://…` (TLS). Overrides host/port/db/username/password. */
  url?: string;
  /** Default `"localhost"`. */
  host?: string;
  /** Default 6379. */
  port?: number | string;
  /** Database number. Default 0 (a cluster has only 0). */
  db?: number | string;
  username?: string;
  password?: string;
  /**
   * Deadline of every command, seconds. Default 5 (dogpile: none). A command without a reply fails with
   * `BackendUnavailableError` between `socket_timeout` and `socket_timeout` plus a tenth of it (at least
   * 5 ms) after it was sent, also over a client shared through `connection_pool`.
   */
  socket_timeout?: number | string;
  /** Deadline of a connection attempt, seconds. Default `socket_timeout`. */
  socket_connect_timeout?: number | string;
  /** TCP keep-alive on the connections. Default false. */
  socket_keepalive?: boolean | string;
  /** Server TTL of every entry, seconds (EX), or sub-second (PX). 0 (default) = no TTL. */
  redis_expiration_time?: number | string;
  /** `getMutex` returns a Redis lock. Default false (Sentinel: true, as dogpile). */
  distributed_lock?: boolean | string;
  /** Lock TTL, seconds (PX). Default none: the lock stays until released, as dogpile. */
  lock_timeout?: number | string | null;
  /** Pause between tries of a held lock, seconds. Default 0.1. */
  lock_sleep?: number | string;
  /** Prefix of the lock key (dogpile 1.5). Default `"_lock"`. */
  lock_prefix?: string;
  /** Accepted and ignored: our lock token is per mutex, never per thread. */
  thread_local_lock?: boolean | string;
  /**
   * Keeps this backend's entries under the key prefix `"<namespace>:"` and makes `region.clear()` work
   * (SCAN + UNLINK of that prefix). No `":"`. Default none: keys as given (what a Python peer reads),
   * and `clear()` raises `UnsupportedOperationError`. A Python peer sharing the entries needs a
   * `key_mangler` that adds the same prefix. See docs/backends/redis.md, "clear() and namespace".
   */
  namespace?: string;
  /**
   * Commands sent in the same tick leave in one socket write (the socket is corked until the end of the
   * tick). Default true: at 64 calls in flight it doubles get and set throughput and halves their CPU per
   * call; one call at a time is unchanged. Single server and Sentinel, on the backend's own client (not a
   * `connection_pool` client, not a cluster). Ours only. See docs/backends/redis.md, "Coalesced writes".
   */
  coalesce_writes?: boolean | string;
  /** Extra ioredis options, applied over ours. */
  connection_kwargs?: Record<string, unknown>;
  /** An existing ioredis client (Redis or Cluster) to share; the backend never closes it. */
  connection_pool?: unknown;
  /** Turns TLS on (dogpile 1.4's `ssl`). */
  ssl?: boolean | string;
  /** CA file (PEM path) that signed the server certificate; turns TLS on. */
  ssl_ca_certs?: string;
  /** Client certificate file (PEM path) for mutual TLS. */
  ssl_certfile?: string;
  /** Private key file (PEM path) of `ssl_certfile`. */
  ssl_keyfile?: string;
  /** `"required"` (default), `"optional"` or `"none"` (do not verify the server). */
  ssl_cert_reqs?: string;
  /** Sentinel only: `"host:port"` strings, `{host, port}` objects or `[host, port]` pairs. */
  sentinels?: readonly (string | HostPort | readonly [string, number])[] | string;
  /** Sentinel only: the monitored master's name. Default `"mymaster"`. */
  service_name?: string;
  /** Sentinel only: options of the connections to the sentinels (`password`, `username`, or ioredis sentinel options). */
  sentinel_kwargs?: Record<string, unknown>;
  /** Cluster only: `"host:port"` strings or `{host, port}` objects to discover the cluster from. */
  startup_nodes?: readonly (string | HostPort)[] | string;
}

/** TLS material as given: file paths, read on the first connection. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** Resolved settings. */
export interface RedisSettings {
  topology: RedisTopology;
  /** Name used in messages, e.g. "RedisBackend". */
  backendName: string;
  /** The URL as given (may hold credentials: never put it in a message unredacted). */
  url: string | null;
  host: string;
  port: number;
  db: number;
  username: string | null;
  password: string | null;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  keepAlive: boolean;
  /** Server TTL, ms; 0 = none. */
  expirationMs: number;
  distributedLock: boolean;
  /** Lock TTL, ms; 0 = none. */
  lockTimeoutMs: number;
  lockSleepMs: number;
  lockPrefix: string;
  /** `namespace`, or null for none (keys as given, no `clear()`). */
  namespace: string | null;
  /** What goes before every key this backend writes: `"<namespace>:"`, or `""` without a namespace. */
  keyPrefix: string;
  /** `coalesce_writes`: cork the backend's own single-server or Sentinel socket until the end of each tick. */
  coalesceWrites: boolean;
  connectionKwargs: Record<string, unknown>;
  connectionPool: unknown;
  tls: TlsFiles | null;
  sentinels: HostPort[];
  serviceName: string;
  sentinelKwargs: Record<string, unknown>;
  startupNodes: HostPort[];
  /** Where the backend points, for messages: never holds credentials. */
  target: string;
}

/** Reads and validates the arguments of one topology; throws {@link ValidationError} naming the bad one. */
export function readRedisArguments(args: BackendArguments, topology: RedisTopology, backendName: string): RedisSettings {
  const reader = new ArgumentReader(backendName, args);
  const fail = (message: string): never => {
    throw new ValidationError(`${backendName} argument ${message}`);
  };

  const url = reader.string('url') ?? null;
  if (url !== null && topology !== 'cluster' && !/^rediss?:\/\/[^\s]*$/i.test(url)) {
    fail(`url must be a redis:// or rediss:// URL such as "redis://10.0.0.1:6379/0"; got ${JSON.stringify(redactUrl(url))}.`);
  }
  const host = reader.string('host', DEFAULT_HOST);
  if (host.trim() === '') fail('host must be a host name or address; got "".');
  const port = readPort(reader, 'port', DEFAULT_PORT, fail);
  const db = reader.number('db', 0, { min: 0, integer: true });
  if (topology === 'cluster' && db !== 0) fail(`db must be 0 for a Redis Cluster (it has only database 0); got ${db}.`);
  const username = reader.string('username') ?? null;
  const password = reader.string('password') ?? null;

  const socketTimeout = reader.seconds('socketTimeout', DEFAULT_SOCKET_TIMEOUT, { min: 0.001, max: MAX_TIMER_SECONDS });
  const connectTimeout = reader.seconds('socketConnectTimeout', socketTimeout, { min: 0.001, max: MAX_TIMER_SECONDS });
  const expiration = reader.seconds('redisExpirationTime', 0, { max: MAX_EXPIRATION_SECONDS });
  const lockTimeout = reader.seconds('lockTimeout', 0, { max: MAX_EXPIRATION_SECONDS });
  const lockSleep = reader.seconds('lockSleep', DEFAULT_LOCK_SLEEP, { min: 0.001, max: MAX_TIMER_SECONDS });
  const lockPrefix = reader.string('lockPrefix', '_lock');
  if (!LOCK_PREFIX.test(lockPrefix))
    fail(`lock_prefix must be 2 to 10 letters, digits or "_-.:" (dogpile's rule); got ${describe(lockPrefix)}.`);
  reader.boolean('threadLocalLock', true); // accepted for dogpile compatibility; see the docs
  const namespace = readNamespace(reader, fail);
  // Only a lock_prefix with ":" can do it: "a:" + "a" + ":" + key is under namespace "a"'s prefix.
  if (namespace !== null && `${lockPrefix}${namespace}:`.startsWith(`${namespace}:`))
    fail(
      `lock_prefix ${describe(lockPrefix)} puts the lock keys under the namespace's prefix "${namespace}:", so clear() would remove held locks; choose another lock_prefix (default "_lock").`,
    );

  const connectionKwargs = readObject(reader, 'connectionKwargs', fail);
  const connectionPool = reader.raw('connectionPool') ?? null;
  if (connectionPool !== null && typeof (connectionPool as { getBuffer?: unknown }).getBuffer !== 'function') {
    fail(`connection_pool must be an ioredis client (a Redis or Cluster instance) to share; got ${describe(connectionPool)}.`);
  }

  const sentinels = topology === 'sentinel' ? readAddresses(reader, 'sentinels', fail) : [];
  const startupNodes = topology === 'cluster' ? readStartupNodes(reader, url, fail) : [];
  const serviceName = topology === 'sentinel' ? reader.string('serviceName', DEFAULT_SERVICE_NAME) : DEFAULT_SERVICE_NAME;
  const sentinelKwargs = topology === 'sentinel' ? readObject(reader, 'sentinelKwargs', fail) : {};

  const settings: RedisSettings = {
    topology,
    backendName,
    url: topology === 'cluster' ? null : url,
    host,
    port,
    db,
    username,
    password,
    commandTimeoutMs: Math.ceil(socketTimeout * 1000),
    connectTimeoutMs: Math.ceil(connectTimeout * 1000),
    keepAlive: reader.boolean('socketKeepalive', false),
    expirationMs: Math.ceil(expiration * 1000),
    // Sentinel defaults to the distributed lock, as dogpile's RedisSentinelBackend.
    distributedLock: reader.boolean('distributedLock', topology === 'sentinel'),
    lockTimeoutMs: Math.ceil(lockTimeout * 1000),
    lockSleepMs: lockSleep * 1000,
    lockPrefix,
    namespace,
    keyPrefix: namespace === null ? '' : `${namespace}:`,
    coalesceWrites: reader.boolean('coalesceWrites', true),
    connectionKwargs,
    connectionPool,
    tls: readTls(reader, url, fail),
    sentinels,
    serviceName,
    sentinelKwargs,
    startupNodes,
    target: '',
  };
  if (topology === 'sentinel' && sentinels.length === 0 && connectionPool === null) {
    fail('sentinels is required: a list of "host:port" strings or {host, port} objects, e.g. ["10.0.0.1:26379"].');
  }
  if (topology === 'cluster' && startupNodes.length === 0 && connectionPool === null) {
    fail('url or startup_nodes is required: e.g. startup_nodes: ["10.0.0.1:7000", "10.0.0.2:7000"].');
  }
  settings.target = describeTarget(settings);
  reader.finish();
  return settings;
}

function describeTarget(s: RedisSettings): string {
  if (s.connectionPool !== null) return 'a shared ioredis client';
  const list = (nodes: HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (s.topology === 'sentinel') return `service "${s.serviceName}" via sentinels ${list(s.sentinels)}`;
  if (s.topology === 'cluster') return `cluster ${list(s.startupNodes)}`;
  return s.url !== null ? redactUrl(s.url) : `${s.host}:${s.port}`;
}

/**
 * `namespace`: any non-empty, well-formed string without `":"`, so that no namespace's prefix `"<namespace>:"` starts
 * another's (`"app"` would otherwise clear `"app:admin"`'s entries). An empty string is none, as for
 * memcached (oslo writes unset options as "").
 */
function readNamespace(reader: ArgumentReader, fail: (m: string) => never): string | null {
  const namespace = reader.string('namespace') ?? '';
  if (namespace.includes(':'))
    fail(
      `namespace must not contain ":" (keys become "<namespace>:<key>", and "app" would then clear "app:admin"'s entries); use another separator, e.g. "app.admin"; got ${describe(namespace)}.`,
    );
  // Sent as UTF-8, a lone surrogate becomes U+FFFD: "a\ud800" and "a\ufffd" would share keys.
  if (!namespace.isWellFormed()) fail('namespace contains a lone UTF-16 surrogate; use namespace.toWellFormed().');
  return namespace === '' ? null : namespace;
}

function readPort(reader: ArgumentReader, name: string, fallback: number, fail: (m: string) => never): number {
  const port = reader.number(name, fallback, { min: 1, integer: true });
  if (port > 65535) fail(`${name} must be an integer from 1 to 65535; got ${port}.`);
  return port;
}

function readObject(reader: ArgumentReader, name: string, fail: (m: string) => never): Record<string, unknown> {
  const value = reader.raw(name);
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail(`${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} must be a plain object of ioredis options; got ${describe(value)}.`);
  }
  return { ...(value as Record<string, unknown>) };
}

/** Parses one address: `"host:port"`, `"[::1]:port"`, `{host, port}` or `[host, port]` (oslo passes tuples). */
export function parseAddress(value: unknown, name: string, fail: (m: string) => never): HostPort {
  const bad = (): never =>
    fail(`${name} must hold "host:port" strings, {host, port} objects or [host, port] pairs; got ${describe(value)}.`);
  let host: unknown;
  let port: unknown;
  if (typeof value === 'string') {
    const match = /^\s*(?:\[([^\]]+)\]|([^:\s]+)):(\d+)\s*$/.exec(value);
    if (!match) return bad();
    host = match[1] ?? match[2];
    port = Number(match[3]);
  } else if (Array.isArray(value) && value.length === 2) {
    [host, port] = value as unknown[];
  } else if (typeof value === 'object' && value !== null) {
    ({ host, port } = value as { host?: unknown; port?: unknown });
  }
  const portNumber = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (
    typeof host !== 'string' ||
    host === '' ||
    typeof portNumber !== 'number' ||
    !Number.isInteger(portNumber) ||
    portNumber < 1 ||
    portNumber > 65535
  ) {
    return bad();
  }
  return { host, port: portNumber };
}

function readAddresses(reader: ArgumentReader, name: string, fail: (m: string) => never): HostPort[] {
  const value = reader.raw(name);
  if (value === undefined || value === null) return [];
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const list = typeof value === 'string' ? value.split(',').filter((s) => s.trim() !== '') : value;
  if (!Array.isArray(list) || list.length === 0) {
    return fail(`${snake} must be a non-empty list of "host:port" strings or {host, port} objects; got ${describe(value)}.`);
  }
  return list.map((item) => parseAddress(item, snake, fail));
}

function readStartupNodes(reader: ArgumentReader, url: string | null, fail: (m: string) => never): HostPort[] {
  const nodes = readAddresses(reader, 'startupNodes', fail);
  if (url === null) return nodes;
  for (const one of url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)) {
    const match = /^rediss?:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?\/?(?:0)?\/?$/i.exec(one);
    if (!match) fail(`url must be redis:// or rediss:// URLs of cluster nodes, comma-separated; got ${JSON.stringify(redactUrl(one))}.`);
    const m = match as RegExpExecArray;
    nodes.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port: m[2] === undefined ? DEFAULT_PORT : Number(m[2]) });
  }
  return nodes;
}

function readTls(reader: ArgumentReader, url: string | null, fail: (m: string) => never): TlsFiles | null {
  const ca = reader.string('sslCaCerts');
  const cert = reader.string('sslCertfile');
  const key = reader.string('sslKeyfile');
  const reqs = reader.string('sslCertReqs', 'required').toLowerCase();
  if (!['required', 'optional', 'none'].includes(reqs))
    fail(`ssl_cert_reqs must be "required", "optional" or "none"; got ${describe(reqs)}.`);
  if ((cert === undefined) !== (key === undefined))
    fail('ssl_certfile and ssl_keyfile go together (client certificate and its key); pass both or neither.');
  const on = reader.boolean('ssl', false) || /^rediss:/i.test(url ?? '') || ca !== undefined || cert !== undefined;
  if (!on) return null;
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    // redis-py: "none" skips verification; "optional" verifies a certificate when one is given, which
    // Node's TLS cannot express, so it verifies (the safer side).
    rejectUnauthorized: reqs !== 'none',
  };
}
