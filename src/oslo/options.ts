/**
 * oslo.cache's `[cache]` options (`_opts.py`, HEAD) with their types and defaults, and the typing of
 * raw values (INI strings, or plain objects written by hand) into them.
 *
 * @module
 */
import { asciiDigits } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { displayValue } from '../secrets.js';
import { ownProperty } from '../validate.js';

/** The type of an oslo.config option. */
export type OsloOptionType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'multistr';

/** One oslo option: its type, its default, and its deprecated name if it has one. */
export interface OptionSpec {
  type: OsloOptionType;
  default: unknown;
  /** oslo's deprecated name for the same option. */
  deprecatedName?: string;
}

/** Every `[cache]` option oslo.cache defines, with oslo's defaults. */
export const OSLO_CACHE_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  config_prefix: { type: 'str', default: 'cache.oslo' },
  expiration_time: { type: 'int', default: 600 },
  backend_expiration_time: { type: 'int', default: null },
  backend: { type: 'str', default: 'dogpile.cache.null' },
  backend_argument: { type: 'multistr', default: [] },
  proxies: { type: 'list', default: [] },
  enabled: { type: 'bool', default: false },
  debug_cache_backend: { type: 'bool', default: false },
  memcache_servers: { type: 'list', default: ['localhost:11211'] },
  memcache_dead_retry: { type: 'int', default: 300 },
  memcache_pool_maxsize: { type: 'int', default: 10 },
  memcache_pool_unused_timeout: { type: 'int', default: 60 },
  memcache_pool_connection_get_timeout: { type: 'int', default: 10 },
  memcache_pool_flush_on_reconnect: { type: 'bool', default: false },
  memcache_sasl_enabled: { type: 'bool', default: false },
  username: { type: 'str', default: null, deprecatedName: 'memcache_username' },
  password: { type: 'str', default: null, deprecatedName: 'memcache_password' },
  socket_timeout: { type: 'float', default: 1.0, deprecatedName: 'memcache_socket_timeout' },
  tls_enabled: { type: 'bool', default: false },
  tls_cafile: { type: 'str', default: null },
  tls_certfile: { type: 'str', default: null },
  tls_keyfile: { type: 'str', default: null },
  tls_allowed_ciphers: { type: 'str', default: null },
  enable_socket_keepalive: { type: 'bool', default: false },
  socket_keepalive_idle: { type: 'int', default: 1 },
  socket_keepalive_interval: { type: 'int', default: 1 },
  socket_keepalive_count: { type: 'int', default: 1 },
  enable_retry_client: { type: 'bool', default: false },
  retry_attempts: { type: 'int', default: 2 },
  retry_delay: { type: 'float', default: 0 },
  hashclient_retry_attempts: { type: 'int', default: 2 },
  hashclient_retry_timeout: { type: 'float', default: 1, deprecatedName: 'hashclient_retry_delay' },
  hashclient_dead_timeout: { type: 'float', default: 60, deprecatedName: 'dead_timeout' },
  redis_server: { type: 'str', default: 'localhost:6379' },
  redis_db: { type: 'int', default: 0 },
  redis_sentinels: { type: 'list', default: ['localhost:26379'] },
  redis_sentinel_service_name: { type: 'str', default: 'mymaster' },
});

/** Options of a caching group such as `[identity]` (oslo's memoization decorator reads these). */
export const OSLO_GROUP_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  caching: { type: 'bool', default: true },
  cache_time: { type: 'int', default: null },
});

/** What Python's int() reads: any Unicode decimal digits, single underscores between them. */
const PYTHON_INT = /^[-+]?\p{Nd}+(?:_\p{Nd}+)*$/u;
/** What Python's float() reads, but "inf" and "nan": no hex ("0x10", which Number() would take). */
const PYTHON_FLOAT =
  /^[-+]?(?:\p{Nd}+(?:_\p{Nd}+)*(?:\.(?:\p{Nd}+(?:_\p{Nd}+)*)?)?|\.\p{Nd}+(?:_\p{Nd}+)*)(?:[eE][-+]?\p{Nd}+(?:_\p{Nd}+)*)?$/u;

/** `raw` as Python's int()/float() reads it when it matches `grammar` (trimmed); NaN otherwise. */
function pythonNumber(raw: unknown, grammar: RegExp): number {
  if (typeof raw === 'number') return raw;
  const text = typeof raw === 'string' ? raw.trim() : '';
  return grammar.test(text) ? Number(asciiDigits(text.replaceAll('_', ''))) : NaN;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Types one raw value as an option of type `type`, as oslo.config's types do: a blank int or float is
 * null (types.Number), ints and floats may be written in any Unicode decimal digits (Python's
 * int()/float()), a list keeps its empty items but not its trailing commas (types.List).
 * @throws {ConfigurationError} naming the option, for a value not of its type.
 */
export function typeOption(group: string, name: string, type: OsloOptionType, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  const fail = (expected: string): never => {
    throw new ConfigurationError(`[${group}] ${name} must be ${expected}; got ${displayValue(name, raw)}.`);
  };
  switch (type) {
    case 'str':
      return typeof raw === 'string' ? raw : String(raw);
    case 'int':
    case 'float': {
      // oslo's types.Number: a blank value is None ("expiration_time =" reads as no expiration).
      if (typeof raw === 'string' && raw.trim() === '') return null;
      const n = pythonNumber(raw, type === 'int' ? PYTHON_INT : PYTHON_FLOAT);
      if (type === 'int') return Number.isInteger(n) ? n : fail('an integer');
      // Python's float() also reads "inf" and "nan"; no duration option here can use them.
      return Number.isFinite(n) ? n : fail('a finite number');
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      return TRUE.has(text) ? true : FALSE.has(text) ? false : fail('true or false');
    }
    case 'list': {
      if (Array.isArray(raw)) return raw.map(String);
      // oslo's types.List: trailing commas go, empty items inside stay ("a,,b," is ["a", "", "b"]).
      const text = String(raw).trim().replace(/,+$/, '');
      return text === '' ? [] : text.split(',').map((item) => item.trim());
    }
    case 'multistr':
      return Array.isArray(raw) ? raw.map(String) : [String(raw)];
  }
}

/**
 * Applies oslo's types and defaults to a group's raw values (deprecated names are read too).
 * Options this table does not know are kept as given. Only `raw`'s own properties count; an option
 * that is `null` stays null (oslo's None), one that is absent or `undefined` gets its default.
 */
export function typeGroup(
  group: string,
  raw: Readonly<Record<string, unknown>>,
  specs: Readonly<Record<string, OptionSpec>>,
): Record<string, unknown> {
  const typed: Record<string, unknown> = { ...raw };
  for (const [name, spec] of Object.entries(specs)) {
    // Only an absent option falls back to its deprecated name, then its default: a null one is oslo's
    // None (what a blank "expiration_time =" reads as) and stays null when typed again.
    const current = ownProperty(raw, name);
    const value = current !== undefined || spec.deprecatedName === undefined ? current : ownProperty(raw, spec.deprecatedName);
    typed[name] = value === undefined ? spec.default : typeOption(group, name, spec.type, value);
  }
  return typed;
}
