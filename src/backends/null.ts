/**
 * The backend that stores nothing (dogpile's `dogpile.cache.null`): what oslo configures when
 * `[cache] enabled` is false, so every get-or-create calls its creator.
 *
 * @module
 */
import {
  NO_VALUE,
  CacheBackend,
  type BackendArguments,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
  type NonBlockingMutex,
} from '../api.js';
import { ArgumentReader } from '../arguments.js';
import { assertCachedValue, assertKey, assertKeys, mappingEntries } from '../validate.js';

/**
 * A mutex that never blocks: with nothing cached there is nothing to protect. It declares so
 * (the contract's `CacheMutex.neverBlocks`), so the region runs every concurrent caller's creator, as dogpile does.
 */
const NULL_MUTEX: NonBlockingMutex = Object.freeze({
  neverBlocks: true as const,
  acquire: async () => true,
  release: async () => {},
  locked: async () => false,
});

/**
 * Every get is a miss; sets and deletes are accepted (and validated) but store nothing.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { NullBackend } from 'dogpile-cache/backends/null';
 * const region = new CacheRegion().configure(new NullBackend()); // or configure('dogpile.cache.null')
 * await region.set('k', 'v');
 * await region.get('k'); // NO_VALUE: nothing is stored
 * await region.getOrCreate('k', () => 42); // 42, from the creator every time
 * ```
 */
export class NullBackend extends CacheBackend {
  constructor(args: BackendArguments = {}) {
    super();
    // No finish(): the null backend stands in for any backend (oslo's enabled = false keeps that
    // backend's arguments), so every argument is expected and none warns.
    new ArgumentReader('NullBackend', args);
  }

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    return NO_VALUE;
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    return keys.map(() => NO_VALUE);
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    for (const [key, value] of mappingEntries(mapping)) assertCachedValue(value, `mapping["${key}"]`);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
  }

  override getMutex(_key: string): CacheMutex {
    return NULL_MUTEX;
  }
}
