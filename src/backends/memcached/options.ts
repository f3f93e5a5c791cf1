/**
 * The arguments of the memcached backend (oslo.cache's `memcache_pool` plus dogpile's memcached
 * arguments), read and checked once, in the backend's constructor.
 *
 * @module
 */
import type { SecureContext } from 'node:tls';
import type { BackendArguments } from '../../api.js';
import { withoutUrlSchemes } from './url-scheme.js';
import { ArgumentReader } from '../../arguments.js';
import { MAX_TIMER_SECONDS, type Duration } from '../../duration.js';
import { ConfigurationError, ValidationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import { describe } from '../../validate.js';
// Only the names: the choosers (server-choice.ts, with the ketama ring and MD5) are built by the backend
// when its module loads, so they stay out of the root entry point, which checks arguments with this module.
import { SERVER_CHOICES, assertRingNodeCount, type ServerChoice } from './server-choice-names.js';

/**
 * Arguments of `PooledMemcachedBackend`. Each is accepted under its oslo/dogpile snake_case name
 * (`pool_maxsize`) or this camelCase name; durations are seconds or strings such as `"500ms"`.
 * An unknown argument warns once (`DOGPILE_CACHE_UNKNOWN_ARGUMENT`, with close matches), or is a
 * `ValidationError` with `strictArguments: true`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * // Shares entries with a Python service on oslo's memcache_pool over the same three servers.
 * const region = new CacheRegion().configure('oslo_cache.memcache_pool', {
 *   arguments: { url: ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'], server_choice: 'python_memcached', distributed_lock: true },
 * });
 * ```
 */
export interface PooledMemcachedBackendArguments {
  /**
   * The servers: `"host1:port1,host2:port2"` or a list of `"host:port"` (port default 11211;
   * IPv6 as `"[::1]:11211"`; oslo's `"inet:"`/`"inet6:"` prefixes are accepted). Required.
   * A list entry may be a `["host:port", weight]` pair (python-memcached's weighted server tuple;
   * weight a positive integer, default 1). Keys are spread over the servers by `serverChoice`; with
   * `"ketama"` and `"pymemcache"` the names are hashed, so every client sharing the servers should
   * list them spelled the same way (with `"python_memcached"`, in the same order).
   */
  url?: string | readonly (string | readonly [string, number])[];
  /**
   * How a key picks its server (`server_choice`): `"ketama"` (default; a libketama ring, adding a
   * server moves about 1/N of the keys), `"python_memcached"` (python-memcached's crc32 over the
   * weighted server list, as oslo's `memcache_pool` and `dogpile.cache.memcached` use), or
   * `"pymemcache"` (pymemcache `HashClient`'s rendezvous hashing, as `dogpile.cache.pymemcache`
   * uses; no weights). Pick the one of the Python services sharing the servers: the choices place
   * keys differently, so mixed clients would miss each other's entries. See docs/backends/memcached.md.
   */
  serverChoice?: ServerChoice;
  /** Makes an unknown argument a `ValidationError` instead of a warning (`strict_arguments`). Default false. */
  strictArguments?: boolean;
  /** Most connections per server (`pool_maxsize`), default 10. Connections are shared by concurrent requests. */
  poolMaxsize?: number;
  /** Seconds an unused connection is kept before it is closed (`pool_unused_timeout`), default 60. */
  poolUnusedTimeout?: Duration;
  /**
   * Seconds to wait for a usable connection (`pool_connection_get_timeout`), default 10; past it an
   * operation fails with `QueueEmptyError`. Connections are shared, so this bounds establishing one.
   */
  poolConnectionGetTimeout?: Duration;
  /**
   * `dead_retry`, default 300: the probe interval of a server whose circuit breaker is open, capped at
   * 2 s (its keys go to the next server meanwhile); 0 turns the breaker off.
   */
  deadRetry?: Duration;
  /** Seconds to wait for a connection or a reply before the server counts as down (`socket_timeout`), default 3. */
  socketTimeout?: Duration;
  /** Server-side time to live of every entry written, seconds; 0 (default) = none (`memcached_expire_time`). */
  memcachedExpireTime?: Duration;
  /** Return a cross-process lock from `getMutex` (`distributed_lock`), default false. */
  distributedLock?: boolean;
  /**
   * Seconds after which a lock expires on the server even if its holder never releases it
   * (`lock_timeout`); 0 (default, as dogpile) = never, so a crashed holder leaves the key locked
   * until someone deletes `"_lock" + key`. Set it above your slowest creator, e.g. 30.
   */
  lockTimeout?: Duration;
  /** SASL PLAIN user name; with `password`, every connection authenticates. */
  username?: string;
  /** SASL PLAIN password. */
  password?: string;
  /** oslo's switch for SASL: true requires `username` and `password`; false ignores them. Default: SASL when both are given. */
  saslEnabled?: boolean;
  /**
   * The servers' item size limit in bytes (memcached `-I`), default 1048576. A value whose item
   * (value + key + 59 bytes of memcached's item header) exceeds it is a `ValueTooLargeError` before
   * anything is sent.
   */
  serverMaxValueLength?: number;
  /**
   * Keeps this backend's entries in a namespace of their own and makes `region.clear()` work, through a
   * generation number stored in memcached and folded into every key (`"_dogpile_ns:<namespace>:<generation>:<key>"`;
   * see docs/backends/memcached.md, "clear()"). 1 to 64 bytes, without `:`, spaces or control characters.
   * Default none: keys are stored as given, where Python dogpile/oslo clients on the same servers read and
   * write them, and `region.clear()` raises `UnsupportedOperationError`.
   */
  namespace?: string;
  /**
   * With a `namespace`, how long a process uses the generation it read before reading it again
   * (`generation_check_interval`), seconds or a duration string, 0 to 2147483.647; default 1. It bounds
   * how long another process may still serve entries a `clear()` removed; each read costs one `get` per
   * server. 0 reads it on every call.
   */
  generationCheckInterval?: Duration;
}

/** One server, parsed from `url`. */
export interface ServerAddress {
  host: string;
  port: number;
  /** `"host:port"` (`"[v6]:port"`): the name hashed on the ring. */
  name: string;
  /** The server's weight (a positive integer), default 1. */
  weight: number;
}

/** The checked settings, in the units the backend uses. */
export interface MemcachedSettings {
  servers: ServerAddress[];
  /** `serverChoice`, checked against `servers` (the backend builds its chooser with `makeServerChooser`). */
  serverChoice: ServerChoice;
  poolMaxsize: number;
  poolUnusedTimeoutMs: number;
  poolConnectionGetTimeoutMs: number;
  deadRetryMs: number;
  socketTimeoutMs: number;
  expireSeconds: number;
  distributedLock: boolean;
  lockTimeoutSeconds: number;
  username: string | undefined;
  password: string | undefined;
  maxItemBytes: number;
  /** TLS for every connection (oslo's `tls_*` options), or undefined for plain TCP. */
  tls: MemcachedTls | undefined;
  /** `namespace`, or undefined for none (keys as given, no `clear()`). */
  namespace: string | undefined;
  /** `generation_check_interval` in milliseconds. */
  generationCheckMs: number;
}

/** oslo.cache's memcached TLS options, built into one TLS context at configure time. */
export interface MemcachedTls {
  /** From `tls_cafile` (the CAs to trust instead of Node's bundled ones), `tls_certfile` and
   * `tls_keyfile` (a client certificate and its key), `tls_allowed_ciphers` (an OpenSSL cipher list). */
  secureContext: SecureContext;
}

const BACKEND = 'PooledMemcachedBackend';
const DEFAULT_PORT = 11211;

/** Parses one `url` entry; throws `ValidationError` for anything but `host[:port]`. */
export function parseServer(entry: string): ServerAddress {
  const text = entry.trim().replace(/^inet6?:/, '');
  if (text.includes('@')) {
    // memjs has no login in its server strings (and a `user:pass@` part would be quoted in every
    // message that names the server), so say where the login goes instead.
    throw new ValidationError(
      `${BACKEND} argument url: a server is "host:port", without a login; give SASL credentials as the username and password arguments; got ${describe(redactUrl(entry))}.`,
    );
  }
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    portText = bracketed[2];
  } else {
    if (text.startsWith('unix:') || text.startsWith('/')) {
      throw new ValidationError(
        `${BACKEND} argument url: unix sockets are not supported (memjs connects over TCP); got ${describe(redactUrl(entry))}.`,
      );
    }
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      throw new ValidationError(
        `${BACKEND} argument url: write an IPv6 address in brackets, e.g. "[::1]:11211"; got ${describe(redactUrl(entry))}.`,
      );
    }
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
  }
  const port = portText === undefined ? DEFAULT_PORT : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (host.length === 0 || /[\s/]/.test(host) || !(port >= 1 && port <= 65535)) {
    throw new ValidationError(
      `${BACKEND} argument url: each server must be "host:port" (port 1-65535), e.g. "10.0.0.1:11211"; got ${describe(redactUrl(entry))}.`,
    );
  }
  return { host, port, name: `${host.includes(':') ? `[${host}]` : host}:${port}`, weight: 1 };
}

/** Shortest timer-driven duration accepted, seconds: below a millisecond Node's timers cannot tell. */
const MIN_TIMER_SECONDS = 0.001;

/**
 * Longest server-side time to live accepted (`memcached_expire_time`, `lock_timeout`), seconds: ten
 * years. memcached reads a TTL over 30 days as an absolute unix time in 32 bits (until 2106); ten
 * years keeps now + TTL inside that for decades, and a longer TTL is a typo more often than a wish.
 */
export const MAX_SERVER_TTL_SECONDS = 10 * 365 * 86400;

/** A duration that drives a Node timer, in milliseconds: 1 ms to {@link MAX_TIMER_SECONDS} (2^31 - 1 ms). */
function timerMs(reader: ArgumentReader, name: string, fallbackSeconds: number, min = MIN_TIMER_SECONDS): number {
  const seconds = reader.seconds(name, fallbackSeconds, { min, max: MAX_TIMER_SECONDS });
  return Math.min(Math.round(seconds * 1000), MAX_TIMER_SECONDS * 1000);
}

/**
 * Reads `url`: a comma-separated string, or a list of `"host:port"` strings and `["host:port", weight]`
 * pairs. Throws `ValidationError` naming the bad entry.
 */
function readServers(value: unknown): ServerAddress[] {
  const list =
    typeof value === 'string'
      ? value
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry.length > 0)
      : value;
  const fail = (): never => {
    throw new ValidationError(
      `${BACKEND} argument url must be "host:port[,host:port...]" or a non-empty list of "host:port" strings and ["host:port", weight] pairs; got ${describe(typeof value === 'string' ? redactUrl(value) : value)}.`,
    );
  };
  if (!Array.isArray(list) || list.length === 0) return fail();
  const servers = (list as unknown[]).map((entry) => {
    if (typeof entry === 'string') return parseServer(entry);
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return fail();
    const weight: unknown = entry[1];
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 1000) {
      throw new ValidationError(
        `${BACKEND} argument url: the weight of ${describe(redactUrl(entry[0] as string))} must be an integer from 1 to 1000; got ${describe(weight)}.`,
      );
    }
    return { ...parseServer(entry[0] as string), weight };
  });
  return servers;
}

/** dogpile memcached-backend arguments accepted without effect (see registry.ts), so they do not warn. */
const PYTHON_CLIENT_ARGUMENTS = [
  'minCompressLen',
  'binary',
  'behaviors',
  'defaultNoreply',
  'retryAttempts',
  'retryDelay',
  'retryFor',
  'doNotRetryFor',
  'enableRetryClient',
  'socketKeepalive',
  'serde',
  'hashclientDeadTimeout',
  'hashclientRetryAttempts',
  'hashclientRetryTimeout',
  'time',
];

/** Reads and checks the backend's arguments; throws `ValidationError` or `ConfigurationError`. */
export function readMemcachedArguments(args: BackendArguments): MemcachedSettings {
  // memcached://host:port is accepted (the scheme removed) before oslo's host:port parser sees it.
  const reader = new ArgumentReader(BACKEND, withoutUrlSchemes(args));
  if (!reader.has('url')) {
    throw new ConfigurationError(
      `${BACKEND} needs the url argument: the memcached servers, e.g. { url: "127.0.0.1:11211" } or a list of "host:port".`,
    );
  }
  const servers = readServers(reader.raw('url'));
  const seen = new Set<string>();
  for (const server of servers) {
    if (seen.has(server.name)) throw new ValidationError(`${BACKEND} argument url lists ${server.name} twice; list each server once.`);
    seen.add(server.name);
  }

  let username = reader.string('username');
  let password = reader.string('password');
  const saslEnabled = reader.has('saslEnabled') ? reader.boolean('saslEnabled', false) : undefined;
  if (saslEnabled === true && (username === undefined || password === undefined)) {
    throw new ConfigurationError('username and password should be configured to use SASL authentication.');
  }
  if (saslEnabled === false) {
    username = undefined;
    password = undefined;
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigurationError(
      `${BACKEND}: SASL needs both username and password; only ${username === undefined ? 'password' : 'username'} was given.`,
    );
  }
  const tls = readTls(reader);

  const choice = reader.string('serverChoice', 'ketama');
  if (!(SERVER_CHOICES as readonly string[]).includes(choice)) {
    throw new ValidationError(
      `${BACKEND} argument server_choice must be one of ${SERVER_CHOICES.map((c) => `"${c}"`).join(', ')}; got ${describe(choice)}.`,
    );
  }
  if (choice === 'pymemcache' && servers.some((server) => server.weight !== 1)) {
    throw new ConfigurationError(
      `${BACKEND}: server_choice "pymemcache" has no server weights (pymemcache's HashClient has none); remove the weights or pick "python_memcached" or "ketama".`,
    );
  }
  // What makeServerChooser would throw, here so that configure() throws it before the backend loads.
  if (choice === 'ketama') assertRingNodeCount(servers.length);
  const settings: MemcachedSettings = {
    servers,
    serverChoice: choice as ServerChoice,
    poolMaxsize: reader.number('poolMaxsize', 10, { min: 1, integer: true }),
    poolUnusedTimeoutMs: timerMs(reader, 'poolUnusedTimeout', 60),
    poolConnectionGetTimeoutMs: timerMs(reader, 'poolConnectionGetTimeout', 10),
    deadRetryMs: timerMs(reader, 'deadRetry', 300, 0),
    socketTimeoutMs: timerMs(reader, 'socketTimeout', 3),
    expireSeconds: reader.seconds('memcachedExpireTime', 0, { max: MAX_SERVER_TTL_SECONDS }),
    distributedLock: reader.boolean('distributedLock', false),
    lockTimeoutSeconds: reader.seconds('lockTimeout', 0, { max: MAX_SERVER_TTL_SECONDS }),
    username,
    password,
    maxItemBytes: reader.number('serverMaxValueLength', 1_048_576, { min: 1024, integer: true }),
    tls,
    ...readNamespace(reader),
  };
  // Arguments of the Python clients (dogpile's memcached backends) that change nothing here; the
  // ones asking for a missing feature are refused by the registry's wrappers before this point.
  reader.ignore(...PYTHON_CLIENT_ARGUMENTS);
  reader.finish();
  return settings;
}

const NAMESPACE_MAX_BYTES = 64;

/** `namespace` and `generation_check_interval` (only with a namespace: alone it would be ignored). */
function readNamespace(reader: ArgumentReader): Pick<MemcachedSettings, 'namespace' | 'generationCheckMs'> {
  const raw = reader.string('namespace');
  const namespace = raw === undefined || raw.length === 0 ? undefined : raw;
  if (namespace !== undefined && (Buffer.byteLength(namespace, 'utf8') > NAMESPACE_MAX_BYTES || /[:\x00-\x20\x7f]/.test(namespace))) {
    throw new ValidationError(
      `${BACKEND} argument namespace must be 1 to ${NAMESPACE_MAX_BYTES} bytes without ":", spaces or control characters (it becomes part of every memcached key); got ${describe(namespace)}.`,
    );
  }
  // Sent as UTF-8, a lone surrogate becomes U+FFFD: "a\ud800" and "a\ufffd" would share keys.
  if (namespace !== undefined && !namespace.isWellFormed()) {
    throw new ValidationError(`${BACKEND} argument namespace contains a lone UTF-16 surrogate; use namespace.toWellFormed().`);
  }
  if (namespace === undefined && reader.has('generationCheckInterval')) {
    throw new ConfigurationError(
      `${BACKEND} argument generation_check_interval needs a namespace (without one there is no generation to check); set namespace or remove it.`,
    );
  }
  const seconds = reader.seconds('generationCheckInterval', 1, { min: 0, max: MAX_TIMER_SECONDS });
  return { namespace, generationCheckMs: Math.min(Math.round(seconds * 1000), MAX_TIMER_SECONDS * 1000) };
}

/**
 * oslo's `tls_enabled`, `tls_cafile`, `tls_certfile`, `tls_keyfile`, `tls_allowed_ciphers` (oslo builds
 * an `ssl.SSLContext` from them; the files are read here, at configure time, so a wrong path fails at
 * once). A file option without `tls_enabled` is a ConfigurationError rather than silently plain TCP.
 */
function readTls(reader: ArgumentReader): MemcachedTls | undefined {
  if ((reader.raw('tlsContext') ?? null) !== null) {
    throw new ConfigurationError(
      `${BACKEND} argument tls_context (a Python SSLContext) is not supported; use tls_enabled with tls_cafile, tls_certfile, tls_keyfile and tls_allowed_ciphers.`,
    );
  }
  const enabled = reader.boolean('tlsEnabled', false);
  const files = {
    tls_cafile: reader.string('tlsCafile'),
    tls_certfile: reader.string('tlsCertfile'),
    tls_keyfile: reader.string('tlsKeyfile'),
  };
  const ciphers = reader.string('tlsAllowedCiphers');
  if (!enabled) {
    const given = Object.entries({ ...files, tls_allowed_ciphers: ciphers })
      .filter(([, value]) => value !== undefined)
      .map(([name]) => name);
    if (given.length > 0)
      throw new ConfigurationError(
        `${BACKEND} argument ${given.join(', ')} needs tls_enabled: true (it would be ignored on a plain TCP connection); set tls_enabled or remove it.`,
      );
    return undefined;
  }
  if (files.tls_keyfile !== undefined && files.tls_certfile === undefined) {
    throw new ConfigurationError(`${BACKEND} argument tls_keyfile needs tls_certfile (the certificate the key belongs to).`);
  }
  const read = (name: keyof typeof files): Buffer | undefined => {
    const file = files[name];
    if (file === undefined) return undefined;
    try {
      // node:fs through getBuiltinModule: importing it as a module builds its whole namespace (streams
      // included) when the root entry point loads, for a file read only with TLS.
      return process.getBuiltinModule('node:fs').readFileSync(file);
    } catch (error) {
      throw new ConfigurationError(
        `${BACKEND} argument ${name}: cannot read ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a PEM file.`,
        { cause: error },
      );
    }
  };
  const ca = read('tls_cafile');
  const cert = read('tls_certfile');
  const key = read('tls_keyfile');
  try {
    // Built once here, so a cipher list OpenSSL cannot use fails configure(). node:tls is loaded only
    // for TLS: this module is part of the root entry point (the registry checks arguments with it).
    const secureContext = process.getBuiltinModule('node:tls').createSecureContext({
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(ciphers === undefined ? {} : { ciphers }),
    });
    return { secureContext };
  } catch (error) {
    throw new ConfigurationError(
      `${BACKEND}: the TLS settings (tls_cafile, tls_certfile, tls_keyfile, tls_allowed_ciphers) are not usable: ${(error as Error).message}. Give PEM files and an OpenSSL cipher list.`,
      { cause: error },
    );
  }
}
