/**
 * The oslo.cache layer: `createRegion`, `configureCacheRegion`, `getMemoizationDecorator` and
 * `loadOsloConfig`, behaving as oslo.cache's `core.py` over a plain configuration object.
 *
 * @module
 */
import { ConfigurationError, ValidationError } from '../errors.js';
import { sha1MangleKey } from '../keys.js';
import type { CachedFunction, Memoizer } from '../memoize.js';
import { ProxyBackend, type ProxyClass } from '../proxy.js';
import { CacheRegion, type FunctionKeyGeneratorFactory } from '../region.js';
import { describe, ownProperty } from '../validate.js';
import { buildCacheConfig } from './config-builder.js';
import type { OsloConf } from './ini.js';
import { OSLO_CACHE_OPTIONS, typeGroup, typeOption } from './options.js';
import { CacheIsolatingProxy, DebugProxy } from './proxies.js';

const proxies = new Map<string, ProxyClass>([
  ['oslo_cache.testing.CacheIsolatingProxy', CacheIsolatingProxy],
  ['oslo_cache.core._DebugProxy', DebugProxy],
]);

/**
 * Makes a proxy class available to the `[cache] proxies` option under `name` (oslo takes import paths).
 *
 * @example
 * ```ts
 * import { ProxyBackend } from 'dogpile-cache';
 * import { configureCacheRegion, createRegion, registerProxy } from 'dogpile-cache/oslo';
 * class AuditProxy extends ProxyBackend {}
 * registerProxy('myapp.AuditProxy', AuditProxy);
 * const conf = { cache: { enabled: true, backend: 'oslo_cache.dict', proxies: ['myapp.AuditProxy'] } };
 * const region = configureCacheRegion(conf, createRegion()); // region.backend is an AuditProxy
 * ```
 */
export function registerProxy(name: string, proxy: ProxyClass): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`name must be a non-empty string; got ${describe(name)}.`);
  if (typeof proxy !== 'function' || !(proxy === ProxyBackend || proxy.prototype instanceof ProxyBackend)) {
    throw new ValidationError(`proxy "${name}" must be a ProxyBackend subclass.`);
  }
  proxies.set(name, proxy);
}

/**
 * Creates an unconfigured region, as oslo's `create_region` (optionally with a key generator).
 *
 * @example
 * ```ts
 * import { createRegion } from 'dogpile-cache/oslo';
 * import { uniqueFunctionKeyGenerator } from 'dogpile-cache';
 * const region = createRegion(); // unconfigured: region.isConfigured is false until configureCacheRegion
 * const keyed = createRegion({ functionKeyGenerator: uniqueFunctionKeyGenerator });
 * ```
 */
export function createRegion(options: { functionKeyGenerator?: FunctionKeyGeneratorFactory } = {}): CacheRegion {
  return new CacheRegion(options.functionKeyGenerator === undefined ? {} : { functionKeyGenerator: options.functionKeyGenerator });
}

function cacheGroup(conf: unknown): Record<string, unknown> {
  const cache = ownProperty(conf, 'cache');
  if (typeof cache !== 'object' || cache === null) {
    throw new ConfigurationError(
      'conf must be an object with a "cache" group, e.g. { cache: { enabled: true, backend: "oslo_cache.dict" } } or loadOsloConfig(text).',
    );
  }
  return typeGroup('cache', cache as Record<string, unknown>, OSLO_CACHE_OPTIONS);
}

/**
 * Configures `region` from an oslo configuration, as oslo's `configure_cache_region`: the null backend
 * unless `[cache] enabled`; `backend_argument` entries as arguments; the debug proxy when
 * `debug_cache_backend`; the sha1 key mangler unless the region was given one (it overrides a
 * backend's own recommendation, so keys match a Python oslo region's); then the `proxies`.
 * A region configured before is left as it is. Returns the region.
 * @throws {ConfigurationError} when `region` is not a CacheRegion, or the configuration is inconsistent.
 *
 * @example
 * ```ts
 * import { configureCacheRegion, createRegion, loadOsloConfig } from 'dogpile-cache/oslo';
 * const conf = loadOsloConfig('[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = 300\n');
 * const region = configureCacheRegion(conf, createRegion());
 * region.expirationTime; // 300; keys are sha1-mangled as a Python oslo region's
 * await region.getOrCreate('user:1', () => db.loadUser(1));
 * ```
 */
export function configureCacheRegion(conf: OsloConf, region: CacheRegion): CacheRegion {
  if (!(region instanceof CacheRegion)) throw new ConfigurationError('region not type dogpile.cache.CacheRegion');
  if (region.isConfigured) return region;
  const cache = cacheGroup(conf);
  const userMangler = region.keyMangler;
  region.configureFromConfig(buildCacheConfig(cache), `${String(cache.config_prefix)}.`);
  if (cache.debug_cache_backend === true) region.wrap(DebugProxy);
  if (userMangler === null) region.keyMangler = sha1MangleKey;
  for (const proxy of cache.proxies as unknown[]) {
    const found = typeof proxy === 'string' ? proxies.get(proxy) : proxy;
    if (found === undefined)
      throw new ConfigurationError(`Unknown [cache] proxies entry "${String(proxy)}"; register it with registerProxy(name, ProxyClass).`);
    region.wrap(found as ProxyClass);
  }
  return region;
}

/** oslo's memoization decorator: `cacheOnArguments` plus the two functions it consults. */
export type OsloMemoizer = Memoizer & {
  /** True when values should be cached: `[cache] enabled` and `[group] caching` (read on every call). */
  shouldCache: (value?: unknown) => boolean;
  /** `[expirationGroup] cache_time`, or null for the region's expiration time (read on every call). */
  getExpirationTime: () => number | null;
};

/**
 * oslo's `get_memoization_decorator`: memoizes on `region`, caching only while `[cache] enabled` and
 * `[group] caching` (default true) hold, with `[expirationGroup] cache_time` (default: `group`'s)
 * as the expiration, falling back to `[cache] expiration_time`. Both are read on every call, so
 * changing `conf` takes effect at once.
 *
 * @example
 * ```ts
 * import { configureCacheRegion, createRegion, getMemoizationDecorator } from 'dogpile-cache/oslo';
 * const conf = { cache: { enabled: true, backend: 'oslo_cache.dict' }, identity: { caching: true, cache_time: 60 } };
 * const region = configureCacheRegion(conf, createRegion());
 * const memoize = getMemoizationDecorator(conf, region, 'identity');
 * const getUser = memoize(async function getUser(id: string) { return db.users.find(Number(id)); });
 * await getUser('1'); // loaded once, then cached for 60 s; memoize.getExpirationTime() is 60
 * ```
 */
export function getMemoizationDecorator(conf: OsloConf, region: CacheRegion, group: string, expirationGroup: string = group): OsloMemoizer {
  if (typeof group !== 'string' || group.length === 0)
    throw new ValidationError(`group must be a configuration group name such as "identity"; got ${describe(group)}.`);
  cacheGroup(conf);
  const groupOption = (name: string, option: string): unknown => ownProperty(ownProperty(conf, name), option);
  const shouldCache = (): boolean =>
    typeOption('cache', 'enabled', 'bool', groupOption('cache', 'enabled')) === true &&
    typeOption(group, 'caching', 'bool', groupOption(group, 'caching')) !== false;
  const getExpirationTime = (): number | null => {
    const value = groupOption(expirationGroup, 'cache_time');
    return typeOption(expirationGroup, 'cache_time', 'int', value) as number | null;
  };
  const memoize = region.cacheOnArguments({ shouldCacheFn: () => shouldCache(), expirationTime: getExpirationTime });
  return Object.assign(
    <F extends (...args: never[]) => unknown>(fn: F, context?: ClassMethodDecoratorContext) =>
      context === undefined ? (memoize(fn) as CachedFunction<F>) : memoize(fn, context),
    { shouldCache, getExpirationTime },
  ) as OsloMemoizer;
}

export { loadOsloConfig, type OsloConf } from './ini.js';
export { buildCacheConfig } from './config-builder.js';
export { DebugProxy, CacheIsolatingProxy } from './proxies.js';
export { OSLO_CACHE_OPTIONS } from './options.js';
