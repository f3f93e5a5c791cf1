/**
 * The in-process backend (oslo.cache's `oslo_cache.dict`): a `Map` with an optional time to live and
 * an optional LRU bound. Values are stored by reference, never serialized or cloned, so a hit costs a
 * map lookup.
 *
 * @module
 */
import { NO_VALUE, CacheBackend, type BackendArguments, type BackendResult, type CachedValue, type Mapping } from '../api.js';
import { ArgumentReader } from '../arguments.js';
import { hotClocks, systemClock, type Clock } from '../clock.js';
import { ValidationError } from '../errors.js';
import { v8Serializer, type Serializer } from '../serializers.js';
import { IN_PROCESS_STORE, type InProcessStore } from '../storage.js';
import { assertCachedValue, assertKey, assertKeys, describe, mappingEntries } from '../validate.js';

/** Arguments of {@link DictionaryBackend} (snake_case names are accepted too). */
export interface DictionaryBackendArguments {
  /**
   * Seconds (or a duration string) an entry lives after it is set; `0` (the default) keeps entries
   * until deleted or evicted. Expired entries are misses.
   */
  expirationTime?: number | string;
  /** Largest number of entries; past it the least recently used entry is evicted. Default: no bound. */
  maxEntries?: number;
  /**
   * Largest total size of the entries, in the units {@link DictionaryBackendArguments.sizeCalculation}
   * returns (lru-cache's `maxSize`); past it the least recently used entries are evicted until the total
   * fits. An entry bigger than `maxSize` on its own is not stored (and the key's old entry is removed, so
   * a read never returns an outdated value). Needs `sizeCalculation`. Default: no bound.
   */
  maxSize?: number;
  /**
   * The size of one entry, `(payload, key) => size`, a positive integer (lru-cache's `sizeCalculation`):
   * e.g. `(payload) => JSON.stringify(payload).length`, or `(bytes) => bytes.length` under a serializer.
   * Called once per set. Only with `maxSize`.
   */
  sizeCalculation?: (payload: unknown, key: string) => number;
  /**
   * Time source in epoch milliseconds (tests inject a manual clock, read on every call). Default
   * `systemClock`, read at most once per millisecond on the hot paths (see `coarseClock` in src/clock.ts).
   */
  clock?: Clock;
  /**
   * dogpile's `cache_dict`: a `Map` of backend key → CachedValue to store into instead of a private
   * one (shared between backends, or inspected by a test). Not with `expirationTime`, whose entries
   * carry an expiry the map's readers would not expect. `close()` leaves a map you gave untouched.
   */
  cacheDict?: Map<string, CachedValue>;
}

/**
 * An entry with an expiry, used only when `expirationTime > 0` and the expiry cannot be derived from the
 * value's own creation time (see {@link DictionaryBackend}'s `#write`).
 */
class ExpiringEntry {
  constructor(
    readonly value: CachedValue,
    readonly expiresAt: number,
  ) {}
}

/**
 * In-process backend with oslo's semantics: argument `expiration_time` (default 0 = never expire),
 * expired entries read as misses. Unlike oslo, which scans the whole dict on every set, a set is O(1)
 * amortised: every entry gets the same time to live, so the map's insertion order is also expiry
 * order, and expired entries are removed from the front. Registry names: `oslo_cache.dict`,
 * `dictionary`; `dogpile.cache.memory` is this backend without expiry.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { DictionaryBackend } from 'dogpile-cache/backends/dictionary';
 * const backend = new DictionaryBackend({ expirationTime: '10m', maxEntries: 10_000 });
 * const region = new CacheRegion().configure(backend);
 * await region.set('user:1', { name: 'Ada' });
 * await region.get('user:1'); // { name: 'Ada' } for ten minutes, then NO_VALUE
 * // by name: new CacheRegion().configure('oslo_cache.dict', { arguments: { expiration_time: 600 } })
 * ```
 */
export class DictionaryBackend extends CacheBackend {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** Reads move entries to the back (a bound by count or size evicts from the front). */
  readonly #lru: boolean;
  readonly #clock: Clock;
  /** Expiry times of writes, and the time reads are judged at: `clock`'s coarse readings for the system clock (src/clock.ts). */
  readonly #stampClock: Clock;
  readonly #readClock: Clock;
  readonly #entries: Map<string, CachedValue | ExpiringEntry>;
  readonly #ownsEntries: boolean;
  readonly #maxSize: number;
  readonly #sizeOf: ((payload: unknown, key: string) => number) | undefined;
  /** Size of each entry, kept only with `maxSize` so other caches pay nothing for it. */
  readonly #sizes: Map<string, number> | null;
  #totalSize = 0;
  // Persistent cursors over the map's insertion order. A fresh iterator per call would walk past every
  // deleted slot V8 keeps at the front of the map (quadratic at a million entries); these skip each once.
  #evictCursor: Iterator<string> | undefined;
  #sweepCursor: Iterator<[string, CachedValue | ExpiringEntry]> | undefined;
  #sweepFront: [string, CachedValue | ExpiringEntry] | undefined;
  /**
   * No live entry expires before this (ms): the front's expiry when last looked at. Entries behind the
   * front or written since expire later (one lifetime for all), and removals only raise the earliest, so
   * a set before this instant has nothing to sweep and skips the walk (which cost half of a set).
   */
  #sweepAfter = -Infinity;

  constructor(args: BackendArguments = {}) {
    super();
    const reader = new ArgumentReader('DictionaryBackend', args);
    this.#ttlMs = reader.seconds('expirationTime', 0) * 1000;
    this.#maxEntries = reader.number('maxEntries', Infinity, { min: 1, integer: reader.has('maxEntries') });
    this.#clock = reader.func<Clock>('clock') ?? systemClock;
    const hot = hotClocks(this.#clock);
    this.#stampClock = hot.stamp;
    this.#readClock = hot.read;
    this.#maxSize = reader.number('maxSize', Infinity, { min: 1, integer: reader.has('maxSize') });
    this.#sizeOf = reader.func<(payload: unknown, key: string) => number>('sizeCalculation');
    if ((this.#sizeOf === undefined) !== (this.#maxSize === Infinity)) {
      throw new ValidationError(
        this.#sizeOf === undefined
          ? "DictionaryBackend argument max_size needs size_calculation, a function (payload, key) => size giving each entry's size in the units of max_size."
          : 'DictionaryBackend argument size_calculation does nothing without max_size; give max_size (the largest total size) or drop size_calculation.',
      );
    }
    this.#sizes = this.#sizeOf === undefined ? null : new Map();
    this.#lru = this.#maxEntries !== Infinity || this.#maxSize !== Infinity;
    const cacheDict = reader.raw('cacheDict') ?? null;
    if (cacheDict !== null && !(cacheDict instanceof Map)) {
      throw new ValidationError(
        `DictionaryBackend argument cache_dict must be a Map of key -> CachedValue (dogpile's dict); got ${describe(cacheDict)}.`,
      );
    }
    if (cacheDict !== null && this.#ttlMs > 0) {
      throw new ValidationError(
        "DictionaryBackend argument cache_dict cannot be combined with expiration_time; drop one (the region's expirationTime works with either).",
      );
    }
    if (cacheDict !== null && this.#sizes !== null) {
      throw new ValidationError(
        'DictionaryBackend argument cache_dict cannot be combined with max_size: entries others add to or remove from a shared map have no known size; drop one (max_entries works with cache_dict).',
      );
    }
    this.#entries = cacheDict ?? new Map();
    this.#ownsEntries = cacheDict === null;
    reader.finish();
    const own = DictionaryBackend.prototype;
    this[IN_PROCESS_STORE] =
      this.get === own.get && this.getSync === own.getSync && this.set === own.set
        ? {
            clock: this.#clock,
            read: (key, now) => this.#read(key, now),
            // NaN is the only value unequal to itself: the caller did not read the clock.
            write: (key, value, now) => this.#write(key, value, now === now ? now : this.#stampClock()),
          }
        : undefined;
  }

  /** Number of entries held, expired ones not yet removed included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    return this.#read(key);
  }

  /**
   * A synchronous `get` (the contract's optional `CacheBackend.getSync`), for callers that want no
   * promise on an in-memory hit: a region whose backend is this one (unwrapped, no serializer) reads through it.
   */
  override getSync(key: string): BackendResult {
    assertKey(key);
    return this.#read(key);
  }

  /**
   * The region's synchronous path (declared, see `IN_PROCESS_STORE`): reads and writes with no
   * promise and no second validation, since the region has already checked the key and built the value.
   * Not declared by a subclass that overrides `get`, `getSync` or `set`, whose override the region must call.
   */
  readonly [IN_PROCESS_STORE]: InProcessStore | undefined;

  /** `now`: a reading of the clock, or NaN to read it here when the entry has an expiry to check. */
  #read(key: string, now = NaN): BackendResult {
    const stored = this.#entries.get(key);
    if (stored === undefined) return NO_VALUE;
    let value: CachedValue;
    if (this.#ttlMs > 0) {
      // One class check for both the value and its expiry (#expiryOf inlined: a hit's hottest line).
      let expiresAt: number;
      if (stored instanceof ExpiringEntry) {
        value = stored.value;
        expiresAt = stored.expiresAt;
      } else {
        value = stored;
        expiresAt = stored.metadata.ct * 1000 + this.#ttlMs;
      }
      if ((now === now ? now : this.#readClock()) >= expiresAt) {
        this.#remove(key);
        return NO_VALUE;
      }
    } else {
      value = stored as CachedValue;
    }
    if (this.#lru) {
      // Move to the back: the map's order is the eviction order.
      this.#entries.delete(key);
      this.#entries.set(key, stored);
    }
    return value;
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    return keys.map((key) => this.#read(key));
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
    this.#write(key, value, this.#stampClock());
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key, value] of entries) assertCachedValue(value, `mapping["${key}"]`);
    const now = this.#stampClock();
    for (const [key, value] of entries) this.#write(key, value, now);
  }

  #write(key: string, value: CachedValue, now: number): void {
    const sizes = this.#sizes;
    // Delete first so an overwritten key moves to the back, keeping insertion order = expiry (or LRU)
    // order. With neither, an overwrite keeps its place, as in dogpile's dict, and costs one map write.
    if (sizes === null) {
      if (this.#lru || this.#ttlMs > 0) this.#entries.delete(key);
    } else if (!this.#sized(key, value, sizes)) return;
    this.#entries.set(key, this.#ttlMs > 0 ? this.#expiring(value, now + this.#ttlMs) : value);
    if (this.#ttlMs > 0 && now >= this.#sweepAfter) this.#expireFront(now);
    if (this.#entries.size > this.#maxEntries) this.#evictOldest();
    // The size check stops at an empty map too, so a bookkeeping slip could never spin here.
    if (sizes !== null) while (this.#totalSize > this.#maxSize && this.#entries.size > 0) this.#evictOldest();
  }

  /**
   * Removes the key's old entry and books the new one's size; false (nothing to store) when the entry
   * alone is bigger than `maxSize`, as lru-cache does.
   * @throws {ValidationError} when `sizeCalculation` does not return a positive integer.
   */
  #sized(key: string, value: CachedValue, sizes: Map<string, number>): boolean {
    const size = (this.#sizeOf as (payload: unknown, key: string) => number)(value.payload, key);
    if (!(Number.isSafeInteger(size) && size > 0)) {
      throw new ValidationError(
        `DictionaryBackend size_calculation must return a positive integer; it returned ${describe(size)} for key "${key}". Round the size up and count an empty value as 1.`,
      );
    }
    this.#remove(key);
    if (size > this.#maxSize) return false;
    sizes.set(key, size);
    this.#totalSize += size;
    return true;
  }

  /** Deletes one entry, and its size under `maxSize`. */
  #remove(key: string): void {
    this.#entries.delete(key);
    const sizes = this.#sizes;
    if (sizes === null) return;
    const size = sizes.get(key);
    if (size === undefined) return;
    sizes.delete(key);
    this.#totalSize -= size;
  }

  /**
   * What to keep for `value` expiring at `expiresAt`: the value itself when its creation time gives that
   * expiry back (a region's write, whose creation time is the write's own clock reading), which saves an
   * object per entry (32 bytes, and an allocation per set); a wrapper otherwise (a value created earlier,
   * or a rounding of `ct * 1000` that does not land on the same millisecond fraction). Values are never
   * mutated (the region builds a new one per write), so the derived expiry stays put.
   */
  #expiring(value: CachedValue, expiresAt: number): CachedValue | ExpiringEntry {
    return value.metadata.ct * 1000 + this.#ttlMs === expiresAt ? value : new ExpiringEntry(value, expiresAt);
  }

  /** The expiry of a stored entry, wrapped or derived (see `#expiring`). */
  #expiryOf(stored: CachedValue | ExpiringEntry): number {
    return stored instanceof ExpiringEntry ? stored.expiresAt : stored.metadata.ct * 1000 + this.#ttlMs;
  }

  /** Removes expired entries from the front; stops at the first live one (amortised O(1) per set). */
  #expireFront(now: number): void {
    for (;;) {
      const front = this.#sweepFront ?? this.#nextForSweep();
      if (front === undefined) {
        this.#sweepAfter = -Infinity;
        return;
      }
      const [key, stored] = front;
      // The remembered front may since have been deleted or overwritten (moved to the back).
      if (this.#entries.get(key) !== stored) {
        this.#sweepFront = undefined;
        continue;
      }
      const expiresAt = this.#expiryOf(stored);
      if (expiresAt > now) {
        this.#sweepFront = front;
        this.#sweepAfter = expiresAt;
        return;
      }
      this.#remove(key);
      this.#sweepFront = undefined;
    }
  }

  #nextForSweep(): [string, CachedValue | ExpiringEntry] | undefined {
    this.#sweepCursor ??= this.#entries.entries();
    let next = this.#sweepCursor.next();
    if (next.done === true) {
      // A finished iterator stays finished: start over from the (now compacted) front.
      this.#sweepCursor = this.#entries.entries();
      next = this.#sweepCursor.next();
      if (next.done === true) return undefined;
    }
    return next.value;
  }

  /** Deletes the least recently used entry: the oldest in insertion order, since reads move entries to the back. */
  #evictOldest(): void {
    this.#evictCursor ??= this.#entries.keys();
    let next = this.#evictCursor.next();
    if (next.done === true) {
      this.#evictCursor = this.#entries.keys();
      next = this.#evictCursor.next();
    }
    if (next.done !== true) this.#remove(next.value);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#remove(key);
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    for (const key of keys) this.#remove(key);
  }

  /** Total size of the entries held under `maxSize` (in `sizeCalculation`'s units); 0 without `maxSize`. */
  get calculatedSize(): number {
    return this.#totalSize;
  }

  /** Removes every entry. */
  override clear(): void {
    this.#entries.clear();
    this.#sizes?.clear();
    this.#totalSize = 0;
    this.#evictCursor = this.#sweepCursor = this.#sweepFront = undefined;
    this.#sweepAfter = -Infinity;
  }

  override async close(): Promise<void> {
    // A map the caller gave (cache_dict) may be shared with other backends: theirs to clear.
    if (this.#ownsEntries) this.clear();
  }
}

/**
 * dogpile's `dogpile.cache.memory`: a {@link DictionaryBackend} whose entries never expire on their
 * own (the region's expiration time still applies). `cache_dict` may be a `Map` of your own, as in
 * dogpile, so several regions can share one store or a test can inspect it.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { MemoryBackend } from 'dogpile-cache/backends/dictionary';
 * const store = new Map();
 * const region = new CacheRegion().configure(new MemoryBackend({ cache_dict: store }), { expirationTime: 60 });
 * await region.set('k', 'v');
 * store.size; // 1: the entries live in your Map, fresh for 60 s
 * ```
 */
export class MemoryBackend extends DictionaryBackend {
  constructor(args: BackendArguments = {}) {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      super(args);
      return;
    }
    const { expiration_time: _snake, expirationTime: _camel, ...rest } = args;
    super(rest);
  }
}

/**
 * dogpile's `dogpile.cache.memory_pickle`: a {@link MemoryBackend} that recommends the v8 serializer
 * (Node's counterpart of pickle), so the region keeps every payload serialized and each read returns a
 * fresh copy: mutating what you read or stored never changes the cached value.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { MemoryPickleBackend } from 'dogpile-cache/backends/dictionary';
 * const region = new CacheRegion().configure(new MemoryPickleBackend());
 * await region.set('user', { name: 'Ada' });
 * const user = (await region.get('user')) as { name: string };
 * user.name = 'Bob'; // a copy: the next get still returns { name: 'Ada' }
 * ```
 */
export class MemoryPickleBackend extends MemoryBackend {
  override serializer: Serializer = v8Serializer;
}
