/**
 * The backend contract: `NO_VALUE`, `CachedValue`, `CacheBackend`, `BytesBackend` and `CacheMutex`
 * (dogpile.cache's `api.py`).
 *
 * @module
 */
import { systemClock } from './clock.js';
import { ValidationError } from './errors.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import { buildSerialized, jsonSerializer, parseSerialized, type Serializer } from './serializers.js';
export { NO_VALUE, isNoValue, type NoValue };
import { assertKey, assertKeys, assertCachedValue, mappingEntries } from './validate.js';

/** The format version written in every entry's metadata; a different `v` is a miss in get-or-create. */
export const VALUE_VERSION = 2;

/** Metadata stored beside every payload. */
export interface CachedValueMetadata {
  /** Creation time, epoch seconds (float), as dogpile's `time.time()`. */
  ct: number;
  /** Format version ({@link VALUE_VERSION}). */
  v: number;
}

/** What a region stores in a backend: the payload and when it was created. */
export interface CachedValue<T = unknown> {
  payload: T;
  metadata: CachedValueMetadata;
}

/** A miss or a stored value. */
export type BackendResult<T = unknown> = CachedValue<T> | NoValue;

/** A mapping of keys to values, as a `Map` or a plain object. */
export type Mapping<V> = ReadonlyMap<string, V> | Readonly<Record<string, V>>;

/**
 * Builds a {@link CachedValue} created at `createdAt` (epoch milliseconds, fractions kept; default
 * {@link systemClock}, sub-millisecond). `ct` is stored as float epoch seconds, as Python's `time.time()`.
 */
export function makeCachedValue<T>(payload: T, createdAt: number = systemClock()): CachedValue<T> {
  return { payload, metadata: { ct: createdAt / 1000, v: VALUE_VERSION } };
}

/** True when `value` has the shape of a {@link CachedValue}. */
export function isCachedValue(value: unknown): value is CachedValue {
  if (typeof value !== 'object' || value === null || !('payload' in value)) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as { ct?: unknown }).ct === 'number'
  );
}

/**
 * A lock a backend provides so that one creator per key holds across processes (dogpile's
 * `CacheMutex`). `acquire(false)` never waits.
 */
export interface CacheMutex {
  /** Takes the lock; with `wait` false, returns false at once when it is held elsewhere. */
  acquire(wait?: boolean): Promise<boolean>;
  /** Gives the lock back. Releasing a lock this holder no longer owns does nothing. */
  release(): Promise<void>;
  /** True while anyone holds the lock. */
  locked(): Promise<boolean>;
}

/** Backend constructor arguments: oslo/dogpile snake_case names or their camelCase forms. */
export type BackendArguments = Readonly<Record<string, unknown>>;

/** A backend class, as accepted by `CacheRegion.configure` and the registry. */
export interface BackendClass {
  new (args?: BackendArguments): CacheBackend;
  fromConfigDict(config: Readonly<Record<string, unknown>>, prefix: string): CacheBackend;
}

/**
 * The contract every store implements. Keys are non-empty strings; values are {@link CachedValue}s;
 * a miss is {@link NO_VALUE}. Multi-operations must never mutate their arguments.
 * Third-party backends can prove themselves with `runBackendConformance` from `dogpile-cache/testing`.
 */
export abstract class CacheBackend {
  /** A key mangler this backend recommends; the region adopts it unless the user gave one. */
  keyMangler?: (key: string) => string;
  /**
   * A serializer this backend recommends. When the region ends up with a serializer, it stores
   * `JSON(metadata) + "|" + serializer(payload)` bytes through the `*Serialized` methods.
   */
  serializer?: Serializer;

  /** Reads one entry; {@link NO_VALUE} when absent or expired. */
  abstract get(key: string): Promise<BackendResult>;
  /** Reads many entries; the result is aligned with `keys` (duplicates and misses included). */
  abstract getMulti(keys: readonly string[]): Promise<BackendResult[]>;
  /** Stores one entry, replacing any previous value. */
  abstract set(key: string, value: CachedValue): Promise<void>;
  /** Stores many entries; never mutates `mapping`. */
  abstract setMulti(mapping: Mapping<CachedValue>): Promise<void>;
  /** Removes one entry; removing an absent key is not an error. */
  abstract delete(key: string): Promise<void>;
  /** Removes many entries; absent keys are not an error. */
  abstract deleteMulti(keys: readonly string[]): Promise<void>;

  /** A cross-process lock for `key`, or `null` to let the region use its in-process lock. */
  getMutex(_key: string): CacheMutex | null {
    return null;
  }

  /** Releases connections and timers. Idempotent. */
  async close(): Promise<void> {}

  /**
   * Builds a backend from a flat configuration dictionary: every `config` entry whose name starts
   * with `prefix` becomes an argument with the prefix removed (dogpile's `from_config_dict`).
   */
  static fromConfigDict<T extends CacheBackend>(
    this: new (args?: BackendArguments) => T,
    config: Readonly<Record<string, unknown>>,
    prefix: string,
  ): T {
    if (typeof prefix !== 'string') {
      throw new ValidationError(`prefix must be a string such as "cache.arguments."; got ${typeof prefix}`);
    }
    const args: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(config)) {
      if (name.startsWith(prefix)) args[name.slice(prefix.length)] = value;
    }
    return new this(args);
  }
}

/**
 * A backend for stores that keep bytes (memcached, etcd, files). Subclasses implement the four
 * `*Serialized` methods plus `delete`/`deleteMulti`; the region hands them dogpile's byte format
 * `JSON(metadata) + "|" + serializer(payload)`, so Python regions with a JSON serializer share entries.
 * The `CachedValue` methods work too, through this backend's own serializer.
 */
export abstract class BytesBackend extends CacheBackend {
  override serializer: Serializer = jsonSerializer;

  /** Reads the stored bytes of one entry. */
  abstract getSerialized(key: string): Promise<Buffer | NoValue>;
  /** Reads the stored bytes of many entries, aligned with `keys`. */
  abstract getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]>;
  /** Stores bytes for one entry. */
  abstract setSerialized(key: string, value: Buffer): Promise<void>;
  /** Stores bytes for many entries; never mutates `mapping`. */
  abstract setSerializedMulti(mapping: Mapping<Buffer>): Promise<void>;

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    return parseSerialized(await this.getSerialized(key), this.serializer);
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    const raw = await this.getSerializedMulti(keys);
    return raw.map((bytes) => parseSerialized(bytes, this.serializer));
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
    await this.setSerialized(key, buildSerialized(value, this.serializer));
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const bytes = new Map<string, Buffer>();
    for (const [key, value] of mappingEntries(mapping)) {
      assertCachedValue(value, `mapping["${key}"]`);
      bytes.set(key, buildSerialized(value, this.serializer));
    }
    if (bytes.size > 0) await this.setSerializedMulti(bytes);
  }
}
