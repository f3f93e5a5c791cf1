/**
 * Backend names → the type of their `arguments`, so `region.configure('etcd3', { arguments: { … } })`
 * type-checks each argument: a misspelled `lease_tll` is a compile error, not a silently ignored
 * option. Every argument is accepted in snake_case (dogpile/oslo) and camelCase.
 *
 * Third-party backends add their names by augmenting {@link BackendArgumentsMap}:
 *
 * ```ts
 * declare module 'dogpile-cache' {
 *   interface BackendArgumentsMap {
 *     'my-store': { endpoint: string; retries?: number };
 *   }
 * }
 * ```
 *
 * The Mongo names (`mongo`, `oslo_cache.mongo`) are typed once `dogpile-cache/backends/mongo` is
 * imported, since their types name the mongodb driver's. A name that is not in the map takes any arguments (`Readonly<Record<string, unknown>>`), checked at
 * run time only (an unknown one warns, or fails with `strictArguments: true`).
 *
 * @module
 */
import type { DictionaryBackendArguments } from './backends/dictionary.js';
import type { Etcd3BackendArguments } from './backends/etcd3/options.js';
import type { PooledMemcachedBackendArguments } from './backends/memcached/options.js';
import type { RedisBackendArguments } from './backends/redis/options.js';

/** `"poolMaxsize"` → `"pool_maxsize"`. */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Rest}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Rest>}`
  : S;

/** `"pool_maxsize"` → `"poolMaxsize"`. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Rest}` ? `${Head}${Capitalize<CamelCase<Rest>>}` : S;

/** Arguments every backend reads. */
export interface CommonBackendArguments {
  /**
   * `true`: an unknown argument name is a `ValidationError` instead of a once-per-name warning;
   * `false` (given explicitly): only a debug log, for arguments shared on purpose. Default: warn.
   */
  strictArguments?: boolean;
}

/**
 * A backend's arguments interface with every name also under its other spelling (snake_case and
 * camelCase), plus {@link CommonBackendArguments}: the type of `configure`'s `arguments`.
 */
export type BackendArgumentsOf<T> = {
  readonly [K in keyof (T & CommonBackendArguments) & string as K | SnakeCase<K> | CamelCase<K>]?: (T & CommonBackendArguments)[K];
};

/**
 * Registered backend name → arguments interface. Augment it (see the module comment) to type a
 * backend registered with `registerBackend`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * // OK: lease_ttl is an etcd3 argument. `lease_tll` would not compile.
 * new CacheRegion().configure('etcd3', { arguments: { host: '127.0.0.1', lease_ttl: 60 } });
 * ```
 */
export interface BackendArgumentsMap {
  'oslo_cache.dict': DictionaryBackendArguments;
  dictionary: DictionaryBackendArguments;
  'dogpile.cache.memory': DictionaryBackendArguments;
  'dogpile.cache.memory_pickle': DictionaryBackendArguments;
  'dogpile.cache.null': Record<never, never>;
  null: Record<never, never>;
  'oslo_cache.memcache_pool': PooledMemcachedBackendArguments;
  memcached: PooledMemcachedBackendArguments;
  'dogpile.cache.memcached': PooledMemcachedBackendArguments;
  'dogpile.cache.pylibmc': PooledMemcachedBackendArguments;
  'dogpile.cache.bmemcached': PooledMemcachedBackendArguments;
  'dogpile.cache.pymemcache': PooledMemcachedBackendArguments & PymemcacheArguments;
  // oslo_cache.mongo and mongo are added by dogpile-cache/backends/mongo (its arguments' types name
  // mongodb's, which the core's declarations must not need when the driver is not installed).
  'oslo_cache.etcd3gw': Etcd3BackendArguments;
  etcd3: Etcd3BackendArguments;
  'dogpile.cache.redis': RedisBackendArguments;
  'dogpile.cache.redis_sentinel': RedisBackendArguments;
  'dogpile.cache.redis_cluster': RedisBackendArguments;
  'dogpile.cache.valkey': RedisBackendArguments;
  'dogpile.cache.valkey_sentinel': RedisBackendArguments;
  'dogpile.cache.valkey_cluster': RedisBackendArguments;
}

/** dogpile.cache.pymemcache's own arguments that the memcached backend accepts (see registry.ts). */
export interface PymemcacheArguments {
  /** Seconds a failed server stays out (HashClient's `dead_timeout`); the default `dead_retry` here. */
  hashclientDeadTimeout?: number | string;
  hashclientRetryAttempts?: number;
  hashclientRetryTimeout?: number | string;
  retryAttempts?: number;
  retryDelay?: number | string;
  /** Refused with a `ConfigurationError` when true: this client does not retry. */
  enableRetryClient?: boolean;
  /** Refused with a `ConfigurationError` when set: not supported by the memcached backend. */
  socketKeepalive?: unknown;
  /** Refused with a `ConfigurationError` when set: give the region a serializer instead. */
  serde?: unknown;
}

/** The `arguments` type of backend `name`: typed for names in {@link BackendArgumentsMap}, open otherwise. */
export type ArgumentsFor<Name extends string> = Name extends keyof BackendArgumentsMap
  ? BackendArgumentsOf<BackendArgumentsMap[Name]>
  : Readonly<Record<string, unknown>>;
