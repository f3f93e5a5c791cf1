/**
 * Backend names → backend classes, so regions can be configured by name as in dogpile and oslo
 * (`"oslo_cache.memcache_pool"`, `"dogpile.cache.null"`, …). Built-in backends are registered here;
 * `registerBackend` adds others.
 *
 * @module
 */
import type { BackendArguments, BackendClass } from './api.js';
import { ArgumentReader } from './arguments.js';
import { DictionaryBackend, MemoryBackend, MemoryPickleBackend } from './backends/dictionary.js';
import { lazyBackend, type LazyBackendClass } from './backends/lazy.js';
import { NullBackend } from './backends/null.js';
// The remote backends load on first use (their modules cost more to import than the whole core);
// their options modules are small and driver-free, so configure() still reports bad arguments at once.
import { readEtcd3Arguments } from './backends/etcd3/options.js';
import { memcachedKeyMangler } from './backends/memcached/keys.js';
import { readMemcachedArguments } from './backends/memcached/options.js';
import { readMongoArguments } from './backends/mongo/options.js';
import { collectSecrets, scrubError } from './backends/mongo/redact.js';
import { readRedisArguments, type RedisTopology } from './backends/redis/options.js';
import { DRIVER_PACKAGES } from './driver.js';
import { ConfigurationError, PluginNotFoundError, ValidationError } from './errors.js';
import { describe } from './validate.js';

/** A backend class, or a function returning one (possibly from a dynamic `import()`). */
export type BackendLoader = BackendClass | (() => BackendClass | Promise<BackendClass>);

const registry = new Map<string, BackendLoader>();

/**
 * Registers a backend under `name`, replacing any previous one. `loader` is the class, or a function
 * returning it, e.g. `registerBackend('mine', () => import('./mine.js').then((m) => m.MyBackend))`.
 * A class (or a synchronous loader) lets `configure()` report bad arguments at once; an async loader
 * defers loading to the first cache call.
 *
 * @example
 * ```ts
 * import { CacheRegion, registerBackend } from 'dogpile-cache';
 * import { MemoryBackend } from 'dogpile-cache/backends/dictionary';
 * class CountingBackend extends MemoryBackend {}
 * registerBackend('myapp.counting', CountingBackend);
 * const region = new CacheRegion().configure('myapp.counting'); // configured by name, as in dogpile
 * ```
 */
export function registerBackend(name: string, loader: BackendLoader): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`name must be a non-empty string; got ${describe(name)}.`);
  if (typeof loader !== 'function')
    throw new ValidationError(`loader for backend "${name}" must be a backend class or a function returning one; got ${describe(loader)}.`);
  registry.set(name, loader);
}

/**
 * The names of every registered backend.
 *
 * @example
 * ```ts
 * import { registeredBackends } from 'dogpile-cache';
 * registeredBackends(); // ["dictionary", "dogpile.cache.bmemcached", ..., "oslo_cache.mongo"] (sorted)
 * ```
 */
export function registeredBackends(): string[] {
  return [...registry.keys()].sort();
}

/** True when `value` is a CacheBackend subclass (not an instance, not a loader function). */
export function isBackendClass(value: unknown): value is BackendClass {
  return typeof value === 'function' && typeof (value as { prototype?: { get?: unknown } }).prototype?.get === 'function';
}

/**
 * Resolves a registered name to its class, or to a promise of it for async loaders.
 * Throws {@link PluginNotFoundError} for an unknown name.
 */
export function loadBackend(name: string): BackendClass | Promise<BackendClass> {
  const loader = registry.get(name);
  if (loader === undefined) {
    throw new PluginNotFoundError(
      `Couldn't find cache plugin to load: ${name}. Known backends: ${registeredBackends().join(', ')}; add others with registerBackend().`,
    );
  }
  return isBackendClass(loader) ? loader : loader();
}

registerBackend('oslo_cache.dict', DictionaryBackend);
registerBackend('dictionary', DictionaryBackend);
registerBackend('dogpile.cache.memory', MemoryBackend);
registerBackend('dogpile.cache.null', NullBackend);
registerBackend('null', NullBackend);
const PooledMemcachedBackend = lazyBackend({
  name: 'PooledMemcachedBackend',
  bytes: true,
  keyMangler: memcachedKeyMangler,
  packages: DRIVER_PACKAGES.memcached,
  check: (args) => void readMemcachedArguments(args),
  // Only with a namespace (its generation makes clear() possible; see docs/backends/memcached.md).
  clears: (args) => readMemcachedArguments(args).namespace !== undefined,
  load: () => import('./backends/memcached/index.js').then((m) => m.PooledMemcachedBackend),
});
const MongoBackend = lazyBackend({
  name: 'MongoBackend',
  bytes: false,
  packages: DRIVER_PACKAGES.mongo,
  check: (args) => {
    // As MongoBackend's constructor: an error never carries the password or the URL's userinfo.
    const raw = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
    try {
      readMongoArguments(args);
    } catch (error) {
      throw scrubError(error, collectSecrets(raw.db_hosts ?? raw.dbHosts, raw.password));
    }
  },
  clears: () => true,
  load: () => import('./backends/mongo/index.js').then((m) => m.MongoBackend),
});
const Etcd3Backend = lazyBackend({
  name: 'Etcd3Backend',
  bytes: false,
  packages: DRIVER_PACKAGES.etcd3,
  check: (args) => void readEtcd3Arguments(args),
  // Declared always; without a namespace it refuses with its own message (etcd3/backend.ts).
  clears: () => true,
  load: () => import('./backends/etcd3/index.js').then((m) => m.Etcd3Backend),
});
const redis = (name: 'RedisBackend' | 'RedisSentinelBackend' | 'RedisClusterBackend', topology: RedisTopology): LazyBackendClass =>
  lazyBackend({
    name,
    bytes: true,
    packages: DRIVER_PACKAGES.redis,
    check: (args) => void readRedisArguments(args, topology, name),
    // Declared always; without a namespace it refuses with its own message naming it (redis/backend.ts).
    clears: () => true,
    load: () => import('./backends/redis/index.js').then((m) => m[name]),
  });
const RedisBackend = redis('RedisBackend', 'single');
const RedisSentinelBackend = redis('RedisSentinelBackend', 'sentinel');
const RedisClusterBackend = redis('RedisClusterBackend', 'cluster');

registerBackend('oslo_cache.memcache_pool', PooledMemcachedBackend);
registerBackend('memcached', PooledMemcachedBackend);
registerBackend('oslo_cache.mongo', MongoBackend);
registerBackend('mongo', MongoBackend);
registerBackend('oslo_cache.etcd3gw', Etcd3Backend);
registerBackend('etcd3', Etcd3Backend);

// dogpile's memory_pickle: the dictionary backend, values kept serialized so every read is a copy.
registerBackend('dogpile.cache.memory_pickle', MemoryPickleBackend);

/**
 * dogpile's memcached backends (`dogpile.cache.memcached`, `pylibmc`, `bmemcached`, `pymemcache`, all
 * valid oslo `[cache] backend` values) run on the memcached backend. Their common arguments (`url`,
 * `distributed_lock`, `lock_timeout`, `memcached_expire_time`, `dead_retry`, `socket_timeout`,
 * bmemcached's `username`/`password`) have the same names there; `translate` maps the rest. Arguments
 * of a Python client that change nothing here (`min_compress_len`, pylibmc's `binary`/`behaviors`,
 * pymemcache's `default_noreply` and retry tuning) are ignored with a debug log like any unknown
 * argument; one that asks for a feature this client lacks (pymemcache's `enable_retry_client`,
 * `socket_keepalive`, `serde`; any `tls_context`, refused by the backend) is a ConfigurationError
 * rather than silently dropped. The caller's argument object is copied, never modified.
 */
function dogpileMemcached(name: string, translate: (reader: ArgumentReader, args: Record<string, unknown>) => void): BackendClass {
  const Backend = class extends PooledMemcachedBackend {
    constructor(args: BackendArguments = {}) {
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        super(args);
        return;
      }
      const copy: Record<string, unknown> = { ...args };
      translate(new ArgumentReader(name, args), copy);
      super(copy);
    }
  };
  Object.defineProperty(Backend, 'name', { value: `PooledMemcachedBackend(${name})` });
  return Backend;
}

// python-memcached's dead_retry default is 30 s where oslo's memcache_pool uses 300 s.
const pythonMemcachedDefaults = (reader: ArgumentReader, args: Record<string, unknown>): void => {
  if (!reader.has('deadRetry')) args.dead_retry = 30;
};

registerBackend('dogpile.cache.memcached', dogpileMemcached('dogpile.cache.memcached', pythonMemcachedDefaults));
registerBackend(
  'dogpile.cache.pylibmc',
  dogpileMemcached('dogpile.cache.pylibmc', () => {}),
);
registerBackend(
  'dogpile.cache.bmemcached',
  dogpileMemcached('dogpile.cache.bmemcached', () => {}),
);
registerBackend(
  'dogpile.cache.pymemcache',
  dogpileMemcached('dogpile.cache.pymemcache', (reader, args) => {
    if (reader.boolean('enableRetryClient', false)) {
      throw new ConfigurationError(
        'dogpile.cache.pymemcache argument enable_retry_client is not supported: the memcached backend does not retry; remove it.',
      );
    }
    if ((reader.raw('socketKeepalive') ?? null) !== null) {
      throw new ConfigurationError(
        'dogpile.cache.pymemcache argument socket_keepalive is not supported by the memcached backend; remove it.',
      );
    }
    if ((reader.raw('serde') ?? null) !== null) {
      throw new ConfigurationError(
        'dogpile.cache.pymemcache argument serde is not supported; give the region a serializer instead ("json" or "v8").',
      );
    }
    // HashClient's dead_timeout is the same "how long a failed server stays out" as dead_retry.
    const deadTimeout = reader.raw('hashclientDeadTimeout');
    if (!reader.has('deadRetry')) args.dead_retry = deadTimeout ?? 60;
  }),
);
registerBackend('dogpile.cache.redis', RedisBackend);
registerBackend('dogpile.cache.redis_sentinel', RedisSentinelBackend);
registerBackend('dogpile.cache.redis_cluster', RedisClusterBackend);
// Valkey speaks the Redis protocol: dogpile's valkey names map to the same classes.
registerBackend('dogpile.cache.valkey', RedisBackend);
registerBackend('dogpile.cache.valkey_sentinel', RedisSentinelBackend);
registerBackend('dogpile.cache.valkey_cluster', RedisClusterBackend);
