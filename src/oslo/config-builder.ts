/**
 * oslo.cache's `_build_cache_config`: turns an oslo `[cache]` group into the flat dictionary that
 * `region.configureFromConfig(dict, "<config_prefix>.")` reads.
 *
 * @module
 */
import { ConfigurationError } from '../errors.js';
import { debug } from '../log.js';
import { OSLO_CACHE_OPTIONS, typeGroup } from './options.js';

const MEMCACHE_BACKENDS = new Set(['dogpile.cache.memcached', 'oslo_cache.memcache_pool', 'memcached']);
/** The memcached client each Python backend name runs on, as our `server_choice` (docs/backends/memcached.md). */
const PYTHON_SERVER_CHOICE: ReadonlyMap<string, string> = new Map([
  ['oslo_cache.memcache_pool', 'python_memcached'],
  ['dogpile.cache.memcached', 'python_memcached'],
  ['dogpile.cache.pymemcache', 'pymemcache'],
]);
const MEMCACHE_EXPIRY_BACKENDS = new Set([
  'dogpile.cache.pymemcache',
  'dogpile.cache.memcached',
  'dogpile.cache.pylibmc',
  'oslo_cache.memcache_pool',
  'memcached',
]);

/**
 * Where oslo's `backend_expiration_time` goes per backend. oslo supports only memcache and redis and
 * rejects the rest; we also map it for the backends that have a server-side lifetime, so entries of
 * the in-memory dict and etcd do not live forever (oslo bug #1578401).
 */
const BACKEND_EXPIRY_ARGUMENT: Readonly<Record<string, string>> = Object.freeze({
  'oslo_cache.dict': 'expiration_time',
  dictionary: 'expiration_time',
  'oslo_cache.etcd3gw': 'lease_ttl',
  etcd3: 'lease_ttl',
  'oslo_cache.mongo': 'mongo_ttl_seconds',
  mongo: 'mongo_ttl_seconds',
});

/**
 * Builds the flat configuration dictionary from an oslo `[cache]` group (typed with oslo's defaults first).
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { buildCacheConfig } from 'dogpile-cache/oslo';
 * const config = buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', expiration_time: 300 });
 * // { 'cache.oslo.backend': 'oslo_cache.dict', 'cache.oslo.expiration_time': 300, 'cache.oslo.arguments.url': [...], ... }
 * const region = new CacheRegion().configureFromConfig(config, 'cache.oslo.');
 * ```
 */
export function buildCacheConfig(cacheGroup: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const conf = typeGroup('cache', cacheGroup, OSLO_CACHE_OPTIONS);
  const prefix = conf.config_prefix as string;
  // oslo maps every option against the configured backend, even when `enabled = false` puts the null
  // backend in its place: a disabled memcache cache with backend_expiration_time must still start.
  const backend = conf.backend as string;
  const config: Record<string, unknown> = {
    [`${prefix}.backend`]: conf.enabled === true ? backend : 'dogpile.cache.null',
    [`${prefix}.expiration_time`]: conf.expiration_time,
  };
  const argument = (name: string): string => `${prefix}.arguments.${name}`;

  for (const [index, entry] of (conf.backend_argument as string[]).entries()) {
    const colon = entry.indexOf(':');
    if (colon < 0) {
      // oslo logs the entry itself; without its ":" we cannot tell a name from a value, and the value
      // may be a password (`password=hunter2`), so only its position is logged.
      debug(
        'Unable to build cache config-key. Expected format "<argname>:<value>". Skipping backend_argument #%d (value not shown).',
        index + 1,
      );
      continue;
    }
    const name = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    config[argument(name)] = name === 'url' && MEMCACHE_BACKENDS.has(backend) ? value.split(',') : value;
  }

  const setDefault = (name: string, value: unknown): void => {
    if (!(argument(name) in config)) config[argument(name)] = value;
  };
  setDefault('url', conf.memcache_servers);
  // The Python service reading the same keystone.conf places keys with its own client's scheme; with
  // several servers, sharing entries with it needs the same one (a backend_argument can still override).
  const serverChoice = PYTHON_SERVER_CHOICE.get(backend);
  if (serverChoice !== undefined) setDefault('server_choice', serverChoice);
  config[argument('socket_timeout')] = conf.socket_timeout;
  config[argument('username')] = conf.username;
  config[argument('password')] = conf.password;
  config[argument('dead_retry')] = conf.memcache_dead_retry;
  config[argument('pool_maxsize')] = conf.memcache_pool_maxsize;
  config[argument('pool_unused_timeout')] = conf.memcache_pool_unused_timeout;
  config[argument('pool_connection_get_timeout')] = conf.memcache_pool_connection_get_timeout;
  config[argument('pool_flush_on_reconnect')] = conf.memcache_pool_flush_on_reconnect;
  config[argument('sasl_enabled')] = conf.memcache_sasl_enabled;

  const backendExpiration = conf.backend_expiration_time as number | null;
  if (backendExpiration !== null) {
    if (backendExpiration < (conf.expiration_time as number)) {
      throw new ConfigurationError('backend_expiration_time should not be smaller than expiration_time.');
    }
    const name = MEMCACHE_EXPIRY_BACKENDS.has(backend) ? 'memcached_expire_time' : BACKEND_EXPIRY_ARGUMENT[backend];
    if (name === undefined) throw new ConfigurationError(`backend_expiration_time is not supported by the ${backend} backend.`);
    config[argument(name)] = backendExpiration;
  }
  if (conf.tls_enabled === true) {
    throw new ConfigurationError(
      `TLS setting via [cache] tls_enabled is not supported by the ${backend} backend here (memjs has no TLS); ` +
        'the Mongo and etcd3 backends take TLS files as backend_argument values (see their guides).',
    );
  }
  if (conf.enable_socket_keepalive === true) {
    throw new ConfigurationError(
      "Socket keepalive is only supported by the 'dogpile.cache.pymemcache' backend, which this library does not have.",
    );
  }
  if (conf.enable_retry_client === true) {
    throw new ConfigurationError(
      "Retry client is only supported by the 'dogpile.cache.pymemcache' backend, which this library does not have.",
    );
  }
  return config;
}
