/**
 * Backend names → backend classes, so regions can be configured by name as in dogpile and oslo
 * (`"oslo_cache.memcache_pool"`, `"dogpile.cache.null"`, …). Built-in backends are registered here;
 * `registerBackend` adds others.
 *
 * @module
 */
import type { BackendClass } from './api.js';
import { DictionaryBackend, MemoryBackend } from './backends/dictionary.js';
import { NullBackend } from './backends/null.js';
// The remote backends' modules import no driver (memjs, mongodb, etcd3 load on first use), so the
// registry can hold their classes: configure() then reports bad arguments at once.
import { Etcd3Backend } from './backends/etcd3/index.js';
import { PooledMemcachedBackend } from './backends/memcached/index.js';
import { MongoBackend } from './backends/mongo/index.js';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from './backends/redis/index.js';
import { PluginNotFoundError, ValidationError } from './errors.js';
import { describe } from './validate.js';

/** A backend class, or a function returning one (possibly from a dynamic `import()`). */
export type BackendLoader = BackendClass | (() => BackendClass | Promise<BackendClass>);

const registry = new Map<string, BackendLoader>();

/**
 * Registers a backend under `name`, replacing any previous one. `loader` is the class, or a function
 * returning it, e.g. `registerBackend('mine', () => import('./mine.js').then((m) => m.MyBackend))`.
 * A class (or a synchronous loader) lets `configure()` report bad arguments at once; an async loader
 * defers loading to the first cache call.
 */
export function registerBackend(name: string, loader: BackendLoader): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`name must be a non-empty string; got ${describe(name)}.`);
  if (typeof loader !== 'function') throw new ValidationError(`loader for backend "${name}" must be a backend class or a function returning one; got ${describe(loader)}.`);
  registry.set(name, loader);
}

/** The names of every registered backend. */
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
registerBackend('oslo_cache.memcache_pool', PooledMemcachedBackend);
registerBackend('memcached', PooledMemcachedBackend);
registerBackend('oslo_cache.mongo', MongoBackend);
registerBackend('mongo', MongoBackend);
registerBackend('oslo_cache.etcd3gw', Etcd3Backend);
registerBackend('etcd3', Etcd3Backend);
registerBackend('dogpile.cache.redis', RedisBackend);
registerBackend('dogpile.cache.redis_sentinel', RedisSentinelBackend);
registerBackend('dogpile.cache.redis_cluster', RedisClusterBackend);
// Valkey speaks the Redis protocol: dogpile's valkey names map to the same classes.
registerBackend('dogpile.cache.valkey', RedisBackend);
registerBackend('dogpile.cache.valkey_sentinel', RedisSentinelBackend);
registerBackend('dogpile.cache.valkey_cluster', RedisClusterBackend);
