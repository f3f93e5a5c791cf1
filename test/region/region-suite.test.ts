import { after, before, describe, it } from 'node:test';
import {
  CacheRegion,
  DefaultInvalidationStrategy,
  DictionaryBackend,
  ProxyBackend,
  type RegionInvalidationStrategy,
} from '../../src/index.js';
import { runRegionConformance } from '../../src/testing/index.js';

const runner = { describe, it, before, after };

// dogpile runs its whole RegionTest three ways: plain, through a pass-through proxy, and with a custom
// invalidation strategy. So do we.
runRegionConformance(
  'DictionaryBackend',
  ({ region, expirationTime }) => new CacheRegion(region).configure('oslo_cache.dict', { expirationTime }),
  runner,
);

runRegionConformance(
  'DictionaryBackend through a pass-through ProxyBackend',
  ({ region, expirationTime }) => new CacheRegion(region).configure(new DictionaryBackend(), { expirationTime, wrap: [ProxyBackend] }),
  runner,
);

/** A strategy of our own that delegates, as dogpile's CustomInvalidationStrategyTest does. */
class CustomInvalidationStrategy implements RegionInvalidationStrategy {
  readonly #inner: DefaultInvalidationStrategy;
  constructor(clock: () => number) {
    this.#inner = new DefaultInvalidationStrategy(clock);
  }
  invalidate(hard = true): void {
    this.#inner.invalidate(hard);
  }
  isHardInvalidated(createdAt: number): boolean {
    return this.#inner.isHardInvalidated(createdAt);
  }
  isSoftInvalidated(createdAt: number): boolean {
    return this.#inner.isSoftInvalidated(createdAt);
  }
  isInvalidated(createdAt: number): boolean {
    return this.#inner.isInvalidated(createdAt);
  }
  wasSoftInvalidated(): boolean {
    return this.#inner.wasSoftInvalidated();
  }
  wasHardInvalidated(): boolean {
    return this.#inner.wasHardInvalidated();
  }
}

runRegionConformance(
  'DictionaryBackend with a custom invalidation strategy',
  ({ region, expirationTime }) =>
    new CacheRegion(region).configure('dictionary', {
      expirationTime,
      regionInvalidator: new CustomInvalidationStrategy(region.clock ?? Date.now),
    }),
  runner,
);

runRegionConformance(
  'DictionaryBackend with the v8 serializer (payloads kept serialized, as memory_pickle)',
  ({ region, expirationTime }) => new CacheRegion({ ...region, serializer: 'v8' }).configure('dictionary', { expirationTime }),
  runner,
);

runRegionConformance(
  'DictionaryBackend with the JSON serializer (dogpile byte format)',
  ({ region, expirationTime }) =>
    new CacheRegion({ ...region, serializer: 'json' }).configure(new SerializedDictionary(), { expirationTime }),
  runner,
);

/** A bytes store over a Map, so the serialized region path runs in-process. */
import { NO_VALUE, type Mapping, type NoValue } from '../../src/index.js';
import { BytesBackend } from '../../src/backend.js';
class SerializedDictionary extends BytesBackend {
  readonly #map = new Map<string, Buffer>();
  async getSerialized(key: string): Promise<Buffer | NoValue> {
    return this.#map.get(key) ?? NO_VALUE;
  }
  async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    return keys.map((key) => this.#map.get(key) ?? NO_VALUE);
  }
  async setSerialized(key: string, value: Buffer): Promise<void> {
    this.#map.set(key, value);
  }
  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    for (const [key, value] of mapping instanceof Map ? mapping : Object.entries(mapping)) this.#map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#map.delete(key);
  }
  async deleteMulti(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#map.delete(key);
  }
}
