/**
 * oslo.cache's proxies: `_DebugProxy` (`debug_cache_backend`) and `CacheIsolatingProxy`
 * (`oslo_cache.testing`). Unlike oslo's, both also cover the serialized calls, so they see every
 * value on bytes backends too.
 *
 * @module
 */
import type { BackendResult, CachedValue, Mapping } from '../api.js';
import { debug } from '../log.js';
import { isNoValue, type NoValue } from '../no-value.js';
import { ProxyBackend } from '../proxy.js';

/**
 * Logs every cache call at debug level (`NODE_DEBUG=dogpile-cache`), as oslo's `CACHE_GET: Key: …` lines.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { DebugProxy } from 'dogpile-cache/oslo';
 * // run with NODE_DEBUG=dogpile-cache to see the lines
 * const region = new CacheRegion().configure('dogpile.cache.memory', { wrap: [DebugProxy] });
 * await region.set('k', 1); // logs: CACHE_SET: Key: "k" Value: "{ payload: 1, metadata: ... }"
 * ```
 */
export class DebugProxy extends ProxyBackend {
  override async get(key: string): Promise<BackendResult> {
    const value = await super.get(key);
    debug('CACHE_GET: Key: "%s" Value: "%o"', key, value);
    return value;
  }
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    const values = await super.getMulti(keys);
    debug('CACHE_GET_MULTI: "%o" Values: "%o"', keys, values);
    return values;
  }
  override async set(key: string, value: CachedValue): Promise<void> {
    debug('CACHE_SET: Key: "%s" Value: "%o"', key, value);
    return super.set(key, value);
  }
  override async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    debug('CACHE_SET_MULTI: "%o"', mapping);
    return super.setMulti(mapping);
  }
  override async delete(key: string): Promise<void> {
    debug('CACHE_DELETE: "%s"', key);
    return super.delete(key);
  }
  override async deleteMulti(keys: readonly string[]): Promise<void> {
    debug('CACHE_DELETE_MULTI: "%o"', keys);
    return super.deleteMulti(keys);
  }
  override async getSerialized(key: string): Promise<Buffer | NoValue> {
    const value = await super.getSerialized(key);
    debug('CACHE_GET: Key: "%s" Value: "%s"', key, isNoValue(value) ? 'NO_VALUE' : value.toString('utf8'));
    return value;
  }
  override async setSerialized(key: string, value: Buffer): Promise<void> {
    debug('CACHE_SET: Key: "%s" Value: "%s"', key, value.toString('utf8'));
    return super.setSerialized(key, value);
  }
}

/**
 * Copies values on the way in and out (oslo's `CacheIsolatingProxy`, for tests): a caller that
 * mutates what it read or stored cannot change the cached value, as with a remote cache.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { CacheIsolatingProxy } from 'dogpile-cache/oslo';
 * const region = new CacheRegion().configure('dogpile.cache.memory', { wrap: [CacheIsolatingProxy] });
 * const user = { name: 'Ada' };
 * await region.set('user', user);
 * user.name = 'Bob';
 * await region.get('user'); // { name: 'Ada' }: the cache kept its own copy
 * ```
 */
export class CacheIsolatingProxy extends ProxyBackend {
  override async get(key: string): Promise<BackendResult> {
    const value = await super.get(key);
    return isNoValue(value) ? value : structuredClone(value);
  }
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    return (await super.getMulti(keys)).map((value) => (isNoValue(value) ? value : structuredClone(value)));
  }
  override async set(key: string, value: CachedValue): Promise<void> {
    return super.set(key, structuredClone(value));
  }
  override async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mapping instanceof Map ? [...mapping] : Object.entries(mapping);
    return super.setMulti(new Map(entries.map(([key, value]) => [key, structuredClone(value)])));
  }
}
