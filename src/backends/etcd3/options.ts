/**
 * The Etcd3Backend's arguments: reads them (snake_case or camelCase) into one resolved, validated
 * settings object. Nothing here talks to etcd.
 *
 * @module
 */
import type { BackendArguments } from '../../api.js';
import { ArgumentReader } from '../../arguments.js';
import { systemClock, type Clock } from '../../clock.js';
import { MAX_TIMER_SECONDS } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import { displayValue, isSecretOption, redactUrl } from '../../secrets.js';
import { describe } from '../../validate.js';

/** oslo's `Etcd3gwCacheBackend.DEFAULT_HOST`. */
export const DEFAULT_HOST = 'localhost';
/** oslo's `Etcd3gwCacheBackend.DEFAULT_PORT`. */
export const DEFAULT_PORT = 2379;
/**
 * Default deadline of every request, seconds. oslo's etcd3gw uses 30 s (`OSLO_DEFAULT_TIMEOUT`); a
 * cache call that waits 30 s for a hung server is worse than a miss, so ours is 5 s.
 */
export const DEFAULT_TIMEOUT = 5;
/** oslo's `Etcd3gwCacheBackend.DEFAULT_TIMEOUT`, seconds: the entry lifetime of `oslo_compat_lease`. */
export const OSLO_DEFAULT_TIMEOUT = 30;
/** Smallest request deadline, seconds: below it no request can reach etcd and come back. */
export const MIN_TIMEOUT = 0.01;
/**
 * Largest `lease_ttl`, seconds. etcd refuses a lease TTL above 9,000,000,000 s (`MaxLeaseTTL`,
 * "etcdserver: too large lease TTL"); a lease is granted with `lease_ttl + lease_window`, so each
 * gets part of it.
 */
export const MAX_LEASE_TTL = 8_000_000_000;
/** Largest `lease_window`, seconds (see {@link MAX_LEASE_TTL}). */
export const MAX_LEASE_WINDOW = 1_000_000_000;
/** Default session lease TTL of the distributed lock, seconds. */
export const DEFAULT_LOCK_TIMEOUT = 30;
/** Most writes attached to one TTL lease (Kubernetes caps its shared leases at 1000 objects too). */
export const DEFAULT_LEASE_MAX_KEYS = 1000;
/** etcd's default `--max-txn-ops`. */
export const DEFAULT_MAX_TXN_OPS = 128;
/**
 * Bytes of keys and values per write transaction before a multi-write is split. etcd's default
 * `--max-request-bytes` is 1.5 MiB; this leaves room for the request's own overhead.
 */
export const DEFAULT_MAX_TXN_BYTES = 1024 * 1024;
/** etcd's default `--max-request-bytes` (1.5 MiB): the largest request, so about the largest entry. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** A TLS file: a path to a PEM file, or its contents. */
export type PemSource = string | Buffer;

/**
 * Arguments of {@link Etcd3Backend}; every name is also accepted in snake_case (`lease_ttl`, `ca_cert`, …).
 * An unknown name warns once (`DOGPILE_CACHE_UNKNOWN_ARGUMENT`), or fails with `strictArguments: true`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * const region = new CacheRegion().configure('etcd3', {
 *   expirationTime: '10m',
 *   arguments: { endpoints: ['http://10.0.0.1:2379'], lease_ttl: 600, strict_arguments: true },
 * });
 * ```
 */
export interface Etcd3BackendArguments {
  /** etcd host (oslo `host`). Default `"localhost"`. Ignored when `hosts`/`endpoints` is given. */
  host?: string;
  /** etcd client port (oslo `port`). Default `2379`. */
  port?: number | string;
  /**
   * Cluster endpoints, as a list or a comma-separated string of `"http://h:p"`, `"https://h:p"` or
   * `"h:p"` (which takes `protocol`). Overrides `host`/`port`. `endpoints` is the same option.
   */
  hosts?: string | readonly string[];
  /** Same as `hosts`. */
  endpoints?: string | readonly string[];
  /** `"http"` (default) or `"https"`, for `host`/`port` and endpoints given without a scheme (etcd3gw's `protocol`). */
  protocol?: string;
  /**
   * Deadline of every request, seconds or a duration string (oslo `timeout`). Default 5 (oslo: 30).
   * A request that has no answer by then, retries included, fails with `BackendUnavailableError`.
   * From 0.01 s to 2147483.647 s (Node's longest timer); otherwise `ValidationError`.
   */
  timeout?: number | string;
  /**
   * Keeps this backend's keys apart from other namespaces' (stored as `namespace 0xFF key`: no
   * namespace can read another's keys, whatever their text). Default none: keys are stored as given,
   * as oslo stores them.
   */
  namespace?: string;
  /**
   * Lifetime of an entry on the server, seconds or a duration string: entries are attached to a
   * shared lease and live between `leaseTtl` and `leaseTtl + leaseWindow` seconds. Default: no lease,
   * entries stay until deleted (the region's expiration time still applies on read). At most
   * 8,000,000,000 s (etcd refuses lease TTLs above 9e9 s); 0 means no lease.
   */
  leaseTtl?: number | string | null;
  /**
   * Seconds one TTL lease is reused for writes before a new one is granted. Default: a tenth of
   * `leaseTtl`, at least 1 s. More than 0, at most 1,000,000,000 s.
   */
  leaseWindow?: number | string;
  /**
   * Most writes attached to one TTL lease; past it a new lease is granted even within the window.
   * Default 1000 (etcd's put cost grows with the keys on its lease).
   */
  leaseMaxKeys?: number | string;
  /**
   * oslo's behaviour: entries expire after `timeout` seconds (`leaseTtl = timeout`; 30 s, oslo's
   * default, when `timeout` is not given). Default false.
   */
  osloCompatLease?: boolean | string;
  /**
   * Revoke the TTL leases this backend granted on `close()`, which deletes every entry it wrote
   * that has not expired yet. Default false: entries outlive the process until their TTL.
   */
  revokeLeasesOnClose?: boolean | string;
  /** Largest number of operations per transaction (etcd's `--max-txn-ops`). Default 128. */
  maxTxnOps?: number | string;
  /**
   * The server's `--max-request-bytes`: an entry (key + encoded value + 512 bytes) larger than this
   * is a `ValueTooLargeError` before anything is written. Default 1572864 (etcd's default).
   */
  maxRequestBytes?: number | string;
  /** CA certificate (path or PEM) to verify the server; turns TLS on (etcd3gw's `ca_cert`). */
  caCert?: PemSource;
  /** Client certificate chain (path or PEM) for mutual TLS (etcd3gw's `cert_cert`). Needs `caCert` and `certKey`. */
  certCert?: PemSource;
  /** Client private key (path or PEM) for mutual TLS (etcd3gw's `cert_key`). */
  certKey?: PemSource;
  /** etcd user for password authentication. */
  username?: string;
  /** Password of `username`. */
  password?: string;
  /** `getMutex(key)` returns an etcd lock, so one creator per key holds across processes. Default false. */
  distributedLock?: boolean | string;
  /**
   * TTL of the lock session lease, seconds or a duration string. Default 30. A holder that crashes
   * or loses etcd blocks others for at most this long. From 1 s to 2147483 s (it drives timers).
   */
  lockTimeout?: number | string;
  /**
   * Time source for the lease windows and for spotting creation times in the future (corrupt entries),
   * epoch milliseconds (tests inject a manual clock). Default `Date.now`.
   */
  clock?: Clock;
}

/** TLS material as given: each item is still a path or PEM contents. */
export interface TlsSources {
  caCert: PemSource;
  certCert?: PemSource;
  certKey?: PemSource;
}

/** Resolved settings. */
export interface Etcd3Settings {
  /** Endpoints with their scheme, e.g. `http://127.0.0.1:2379`. */
  endpoints: string[];
  timeoutMs: number;
  /** Key prefix (may be empty). */
  namespace: Buffer;
  /** Entry TTL in whole seconds, or null for no lease. */
  leaseTtl: number | null;
  /** How long one TTL lease is reused, ms. */
  leaseWindowMs: number;
  /** Most writes per TTL lease. */
  leaseMaxKeys: number;
  revokeLeasesOnClose: boolean;
  maxTxnOps: number;
  maxTxnBytes: number;
  /** Largest request etcd accepts, bytes. */
  maxRequestBytes: number;
  tls: TlsSources | null;
  auth: { username: string; password: string } | null;
  distributedLock: boolean;
  /** Session lease TTL in whole seconds. */
  lockTtl: number;
  clock: Clock;
}

const NAME = 'Etcd3Backend';

/** Reads and validates the backend arguments; throws {@link ValidationError} naming the bad one. */
export function readEtcd3Arguments(args: BackendArguments): Etcd3Settings {
  const reader = new ArgumentReader(NAME, args);
  const protocol = reader.string('protocol', 'http').toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') {
    throw new ValidationError(`${NAME} argument protocol must be "http" or "https"; got ${describe(protocol)}.`);
  }
  const endpoints = readEndpoints(reader, protocol);

  // Every request arms a gRPC deadline timer: it must fit in Node's timers.
  const timeout = reader.seconds('timeout', DEFAULT_TIMEOUT, { min: MIN_TIMEOUT, max: MAX_TIMER_SECONDS });
  const osloCompat = reader.boolean('osloCompatLease', false);
  // oslo's lifetime is its own timeout (30 s by default), not our shorter request deadline.
  const osloLifetime = reader.has('timeout') ? timeout : OSLO_DEFAULT_TIMEOUT;
  const leaseSeconds = reader.seconds('leaseTtl', osloCompat ? osloLifetime : null, { max: MAX_LEASE_TTL });
  const leaseTtl = leaseSeconds === null || leaseSeconds === 0 ? null : Math.ceil(leaseSeconds);
  const defaultWindow = leaseTtl === null ? 1 : Math.max(1, Math.ceil(leaseTtl / 10));
  const leaseWindow = reader.seconds('leaseWindow', defaultWindow, { min: 0.001, max: MAX_LEASE_WINDOW });
  // Each lock session arms a keepalive and an expiry timer of (up to) lock_timeout.
  const lockTimeout = reader.seconds('lockTimeout', DEFAULT_LOCK_TIMEOUT, { min: 1, max: Math.floor(MAX_TIMER_SECONDS) });

  const maxRequestBytes = reader.number('maxRequestBytes', DEFAULT_MAX_REQUEST_BYTES, { min: 4096, integer: true });

  const settings: Etcd3Settings = {
    endpoints,
    timeoutMs: timeout * 1000,
    namespace: readNamespace(reader),
    leaseTtl,
    leaseWindowMs: leaseWindow * 1000,
    leaseMaxKeys: reader.number('leaseMaxKeys', DEFAULT_LEASE_MAX_KEYS, { min: 1, integer: true }),
    revokeLeasesOnClose: reader.boolean('revokeLeasesOnClose', false),
    maxTxnOps: reader.number('maxTxnOps', DEFAULT_MAX_TXN_OPS, { min: 1, integer: true }),
    maxRequestBytes,
    // A transaction's own overhead must fit too: a third of the request limit is kept free.
    maxTxnBytes: Math.min(DEFAULT_MAX_TXN_BYTES, Math.floor((maxRequestBytes * 2) / 3)),
    tls: readTls(reader),
    auth: readAuth(reader),
    distributedLock: reader.boolean('distributedLock', false),
    lockTtl: Math.ceil(lockTimeout),
    clock: reader.func<Clock>('clock') ?? systemClock,
  };
  reader.finish();
  return settings;
}

function readNamespace(reader: ArgumentReader): Buffer {
  const namespace = reader.string('namespace', '');
  // A lone surrogate would be written as U+FFFD, and two namespaces would share keys.
  if (!namespace.isWellFormed())
    throw new ValidationError(`${NAME} argument namespace contains a lone UTF-16 surrogate; use namespace.toWellFormed().`);
  return Buffer.from(namespace, 'utf8');
}

function readEndpoints(reader: ArgumentReader, protocol: string): string[] {
  if (reader.has('hosts') && reader.has('endpoints')) {
    throw new ValidationError(`${NAME} arguments hosts and endpoints are the same option; pass one.`);
  }
  const name = reader.has('endpoints') ? 'endpoints' : 'hosts';
  if (reader.has(name)) {
    // host/port are read (and validated) even when unused, so they are not reported as unknown.
    reader.string('host');
    readPort(reader);
    return reader.stringList(name, []).map((endpoint) => withScheme(endpoint, protocol, name));
  }
  const host = reader.string('host', DEFAULT_HOST);
  if (host.trim() === '') throw new ValidationError(`${NAME} argument host must be a host name or address; got "".`);
  return [withScheme(`${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${readPort(reader)}`, protocol, 'host')];
}

function readPort(reader: ArgumentReader): number {
  const port = reader.number('port', DEFAULT_PORT, { min: 1, integer: true });
  if (port > 65535) throw new ValidationError(`${NAME} argument port must be an integer from 1 to 65535; got ${port}.`);
  return port;
}

function withScheme(endpoint: string, protocol: string, name: string): string {
  const trimmed = endpoint.trim();
  if (trimmed.includes('@')) {
    // etcd takes no credentials in a URL; one here is a password that must not reach a message.
    throw new ValidationError(
      `${NAME} argument ${name} must not hold credentials (user:password@); got ${JSON.stringify(redactUrl(trimmed))}. Use the username and password arguments.`,
    );
  }
  if (/^https?:\/\/[^/]+\/?$/i.test(trimmed)) return trimmed.replace(/\/$/, '');
  if (/^[^/:]+:\d+$/.test(trimmed) || /^\[[0-9a-f:.]+\]:\d+$/i.test(trimmed)) return `${protocol}://${trimmed}`;
  throw new ValidationError(
    `${NAME} argument ${name} must hold endpoints like "http://10.0.0.1:2379" or "10.0.0.1:2379"; got ${displayValue(name, endpoint)}.`,
  );
}

function readPem(reader: ArgumentReader, name: string): PemSource | undefined {
  const value = reader.raw(name);
  if (value === undefined || value === null) return undefined;
  if ((typeof value === 'string' && value.trim() !== '') || Buffer.isBuffer(value)) return value;
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  throw new ValidationError(
    `${NAME} argument ${snake} must be a file path or PEM contents (string or Buffer); got ${secretSafe(snake, value)}.`,
  );
}

function readTls(reader: ArgumentReader): TlsSources | null {
  const caCert = readPem(reader, 'caCert');
  const certCert = readPem(reader, 'certCert');
  const certKey = readPem(reader, 'certKey');
  if ((certCert === undefined) !== (certKey === undefined)) {
    throw new ValidationError(
      `${NAME} arguments cert_cert and cert_key go together (client certificate and its key); pass both or neither.`,
    );
  }
  if (caCert === undefined) {
    if (certCert !== undefined)
      throw new ValidationError(`${NAME} arguments cert_cert and cert_key need ca_cert (the CA that signed the server's certificate).`);
    return null;
  }
  return { caCert, ...(certCert === undefined ? {} : { certCert }), ...(certKey === undefined ? {} : { certKey }) };
}

/** A bad value as a message may show it: its type only for a secret option (the value is the secret). */
function secretSafe(name: string, value: unknown): string {
  return isSecretOption(name) ? `a ${value === null ? 'null' : typeof value} (not shown: a secret)` : describe(value);
}

function readAuth(reader: ArgumentReader): { username: string; password: string } | null {
  const rawPassword = reader.raw('password');
  // ArgumentReader quotes a bad value in its message; a password must not be quoted.
  if (rawPassword !== undefined && rawPassword !== null && typeof rawPassword !== 'string') {
    throw new ValidationError(`${NAME} argument password must be a string; got ${secretSafe('password', rawPassword)}.`);
  }
  const username = reader.string('username');
  const password = reader.string('password');
  if (username === undefined && password === undefined) return null;
  if (username === undefined || password === undefined || username === '') {
    throw new ValidationError(`${NAME} arguments username and password go together; pass both (or neither for no authentication).`);
  }
  return { username, password };
}
