/**
 * The backend contract: `NO_VALUE`, `CachedValue`, `CacheBackend`, `BytesBackend` and `CacheMutex`
 * (dogpile.cache's `api.py`).
 *
 * @module
 */
import { systemClock } from './clock.js';
import { SerializationError, ValidationError } from './errors.js';
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
  /**
   * This entry's own time to live in seconds (set with `region.set(key, value, { expirationTime })`).
   * It replaces the region's and the read's expiration time for this entry. Absent for entries with
   * no TTL of their own, so they stay `{ct, v}` as dogpile writes them; Python dogpile reads only `ct`
   * and `v` and ignores it (it then applies its own region's expiration time).
   */
  ttl?: number;
  /** The entry's tags (`set(key, value, { tags })`), for `region.invalidateTags`. Absent when it has none. */
  tags?: string[];
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
 * `ttl` (seconds) is the entry's own time to live ({@link CachedValueMetadata.ttl}); omitted when null.
 *
 * @example
 * ```ts
 * import { isCachedValue, makeCachedValue } from 'dogpile-cache/backend';
 * const entry = makeCachedValue({ name: 'Ada' }, Date.UTC(2026, 0, 1), 60);
 * // { payload: { name: 'Ada' }, metadata: { ct: 1767225600, v: 2, ttl: 60 } }
 * isCachedValue(entry); // true
 * ```
 */
export function makeCachedValue<T>(
  payload: T,
  createdAt: number = systemClock(),
  ttl: number | null = null,
  tags?: string[],
): CachedValue<T> {
  if (ttl === null && tags === undefined) return { payload, metadata: { ct: createdAt / 1000, v: VALUE_VERSION } };
  const metadata: CachedValueMetadata = { ct: createdAt / 1000, v: VALUE_VERSION };
  if (ttl !== null) metadata.ttl = ttl;
  if (tags !== undefined) metadata.tags = tags;
  return { payload, metadata };
}

/**
 * The entry's own time to live in seconds, or undefined when it has none (or a stored `ttl` that is not
 * a positive number, which a corrupt or foreign entry may carry: the read's expiration applies then).
 *
 * @example
 * ```ts
 * import { entryTtl, makeCachedValue } from 'dogpile-cache/backend';
 * entryTtl(makeCachedValue('v', Date.now(), 60).metadata); // 60 (seconds)
 * entryTtl(makeCachedValue('v').metadata); // undefined: the read's expiration applies
 * ```
 */
export function entryTtl(metadata: CachedValueMetadata): number | undefined {
  const ttl = metadata.ttl;
  return typeof ttl === 'number' && ttl > 0 ? ttl : undefined;
}

/**
 * True when `value` has the shape of a {@link CachedValue}.
 *
 * @example
 * ```ts
 * import { isCachedValue, makeCachedValue } from 'dogpile-cache/backend';
 * isCachedValue(makeCachedValue('v')); // true
 * isCachedValue({ payload: 'v' }); // false: no metadata.ct
 * ```
 */
export function isCachedValue(value: unknown): value is CachedValue {
  if (typeof value !== 'object' || value === null || !('payload' in value)) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return typeof metadata === 'object' && metadata !== null && typeof (metadata as { ct?: unknown }).ct === 'number';
}

/**
 * A lock a backend provides so that one creator per key holds across processes (dogpile's
 * `CacheMutex`). `acquire(false)` never waits.
 */
export interface CacheMutex {
  /**
   * Takes the lock; with `wait` false (default true), returns false at once when it is held elsewhere.
   * `signal` says the caller gave up: a mutex that honours it stops waiting and resolves false (never
   * granted). A mutex may ignore it: the lock protocol stops waiting on its own and releases a lock
   * granted after the caller left, so honouring it only frees the queue (or the server) sooner.
   */
  acquire(wait?: boolean, signal?: AbortSignal): Promise<boolean>;
  /** Gives the lock back. Releasing a lock this holder no longer owns does nothing. */
  release(): Promise<void>;
  /** True while anyone holds the lock. */
  locked(): Promise<boolean>;
  /**
   * True for a mutex that never blocks: every caller gets the lock at once (dogpile's `NullLock`, the
   * null backend's). The region then runs every caller's creator, as dogpile does, instead of merging
   * concurrent callers of this process into one attempt. Default: absent (false).
   */
  readonly neverBlocks?: boolean;
}

/** A {@link CacheMutex} that declares it never blocks (see {@link CacheMutex.neverBlocks}). */
export interface NonBlockingMutex extends CacheMutex {
  readonly neverBlocks: true;
}

/** Backend constructor arguments: oslo/dogpile snake_case names or their camelCase forms. */
export type BackendArguments = Readonly<Record<string, unknown>>;

/** A backend class, as accepted by `CacheRegion.configure` and the registry. */
export interface BackendClass {
  new (args?: BackendArguments): CacheBackend;
  fromConfigDict(config: Readonly<Record<string, unknown>>, prefix: string): CacheBackend;
}

/**
 * The `serializer` of a value store's serialized form: a region with a serializer has already turned
 * the payload into bytes, so the store keeps them as they are.
 */
const PAYLOAD_BYTES: Serializer = Object.freeze({
  name: 'bytes',
  serialize(payload: unknown): Buffer {
    if (!Buffer.isBuffer(payload))
      throw new SerializationError('The stored payload is not serialized bytes (stored without the serializer?).');
    return payload;
  },
  deserialize: (bytes: Buffer): Buffer => bytes,
});

/**
 * The bytes each entry made by {@link entryOfBytes} came from. A store that keeps objects by reference
 * (the Dictionary) hands the same entry back, so reading it as bytes costs a lookup, not a re-encoding
 * of the metadata (which cost more than the rest of an in-memory hit with a serializer).
 */
const bytesOfEntry = new WeakMap<CachedValue, Buffer>();

/** A value store's entry for dogpile bytes: the metadata parsed, the payload kept as bytes. */
function entryOfBytes(bytes: Buffer, name: string): CachedValue {
  if (!Buffer.isBuffer(bytes))
    throw new ValidationError(`${name} must be a Buffer of dogpile bytes "<metadata json>|<payload>"; got ${typeof bytes}.`);
  const value = parseSerialized(bytes, PAYLOAD_BYTES);
  // Only NO_VALUE parses to NO_VALUE; a Buffer is a value or a SerializationError.
  if (isNoValue(value)) throw new ValidationError(`${name} must be dogpile bytes, not NO_VALUE.`);
  bytesOfEntry.set(value, bytes);
  return value;
}

/** An entry of a value store as dogpile bytes: the bytes it was stored from, or its metadata encoded again. */
function bytesOf(value: BackendResult): Buffer | NoValue {
  if (isNoValue(value)) return value;
  return bytesOfEntry.get(value) ?? buildSerialized(value, PAYLOAD_BYTES);
}

/**
 * The contract every store implements. Keys are non-empty strings; values are {@link CachedValue}s;
 * a miss is {@link NO_VALUE}. Multi-operations must never mutate their arguments.
 * Third-party backends can prove themselves with `runBackendConformance` from `dogpile-cache/testing`.
 *
 * What a backend can do is declared here, never guessed by the region (dogpile's `api.py`):
 * - the `*Serialized` methods, which a region with a serializer calls. A store of values gets them for
 *   free (below: the payload stays bytes inside a `CachedValue`, as dogpile's `memory_pickle`); a store
 *   of bytes extends {@link BytesBackend} and implements them.
 * - {@link CacheBackend.getSync}, an optional synchronous read for in-memory stores;
 * - {@link CacheBackend.getMutex}, a cross-process lock (default none), which may declare that it never blocks.
 *
 * @example
 * ```ts
 * import { makeCachedValue, type CacheBackend } from 'dogpile-cache/backend';
 * import { DictionaryBackend } from 'dogpile-cache/backends/dictionary';
 * // A store of your own extends CacheBackend with get, getMulti, set, setMulti, delete and deleteMulti.
 * const backend: CacheBackend = new DictionaryBackend();
 * await backend.set('user:1', makeCachedValue({ name: 'Ada' }));
 * await backend.get('user:1'); // { payload: { name: 'Ada' }, metadata: { ct: ..., v: 2 } }
 * await backend.get('user:2'); // NO_VALUE
 * ```
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

  /**
   * Optional: reads one entry synchronously, for in-memory stores. A region with no serializer whose
   * backend (unwrapped by proxies) has it reads through it, so an in-memory hit costs no promise.
   * Must behave exactly as {@link CacheBackend.get}.
   */
  getSync?(key: string): BackendResult;

  /**
   * Optional: removes every entry this backend instance stores, and nothing else (a Dictionary's own
   * map, a key prefix, a collection). `region.clear()` calls it; a backend without it makes
   * `region.clear()` fail with `UnsupportedOperationError` instead of doing nothing. Declare it only
   * when the store can remove exactly its own entries: never with a server-wide flush that would hit
   * other users of the server (memcached's `flush_all`).
   */
  clear?(): void | Promise<void>;

  /**
   * Reads one entry as dogpile bytes `JSON(metadata) + "|" + payload` (dogpile's `get_serialized`).
   * The default reads {@link CacheBackend.get} and expects a payload already serialized to bytes (what a region
   * with a serializer stores through {@link CacheBackend.setSerialized}).
   * @throws {SerializationError} when the stored payload is not bytes (written without a serializer).
   */
  async getSerialized(key: string): Promise<Buffer | NoValue> {
    return bytesOf(await this.get(key));
  }

  /**
   * Reads many entries as dogpile bytes, aligned with `keys`. The default reads {@link CacheBackend.getMulti}.
   * @throws {SerializationError} when a stored payload is not bytes.
   */
  async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    return (await this.getMulti(keys)).map(bytesOf);
  }

  /**
   * Stores dogpile bytes for one entry (dogpile's `set_serialized`). The default stores a
   * {@link CachedValue} through {@link CacheBackend.set}: the parsed metadata and the payload bytes as they are.
   * @throws {ValidationError} when `value` is not a Buffer.
   * @throws {SerializationError} when it is not in dogpile's byte format.
   */
  async setSerialized(key: string, value: Buffer): Promise<void> {
    await this.set(key, entryOfBytes(value, 'value'));
  }

  /** Stores dogpile bytes for many entries through {@link CacheBackend.setMulti}; never mutates `mapping`. */
  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    const values = new Map<string, CachedValue>();
    for (const [key, bytes] of mappingEntries(mapping)) values.set(key, entryOfBytes(bytes, `mapping["${key}"]`));
    await this.setMulti(values);
  }

  /**
   * A cross-process lock for `key`, or `null` (the default) to let the region use its in-process lock.
   * A mutex with `neverBlocks: true` is used as it is, with no in-process lock in front.
   */
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
    this: new (
      args?: BackendArguments,
    ) => T,
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
 *
 * @example
 * ```ts
 * import { BytesBackend, NO_VALUE, type Mapping } from 'dogpile-cache/backend';
 * class MapBytesBackend extends BytesBackend {
 *   readonly #bytes = new Map<string, Buffer>();
 *   override async getSerialized(key: string) { return this.#bytes.get(key) ?? NO_VALUE; }
 *   override async getSerializedMulti(keys: readonly string[]) { return keys.map((key) => this.#bytes.get(key) ?? NO_VALUE); }
 *   override async setSerialized(key: string, value: Buffer) { this.#bytes.set(key, value); }
 *   override async setSerializedMulti(mapping: Mapping<Buffer>) {
 *     const entries = mapping instanceof Map ? [...mapping] : Object.entries(mapping as Record<string, Buffer>);
 *     for (const [key, bytes] of entries) this.#bytes.set(key, bytes);
 *   }
 *   async delete(key: string) { this.#bytes.delete(key); }
 *   async deleteMulti(keys: readonly string[]) { for (const key of keys) this.#bytes.delete(key); }
 * }
 * // new CacheRegion().configure(new MapBytesBackend()) stores '{"ct": ..., "v": 2}|"payload"' bytes
 * ```
 */
export abstract class BytesBackend extends CacheBackend {
  override serializer: Serializer = jsonSerializer;

  /** Reads the stored bytes of one entry. */
  abstract override getSerialized(key: string): Promise<Buffer | NoValue>;
  /** Reads the stored bytes of many entries, aligned with `keys`. */
  abstract override getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]>;
  /** Stores bytes for one entry. */
  abstract override setSerialized(key: string, value: Buffer): Promise<void>;
  /** Stores bytes for many entries; never mutates `mapping`. */
  abstract override setSerializedMulti(mapping: Mapping<Buffer>): Promise<void>;

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
