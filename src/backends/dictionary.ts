/**
 * The in-process backend (oslo.cache's `oslo_cache.dict`): a `Map` with an optional time to live and
 * an optional LRU bound. Values are stored by reference, never serialized or cloned, so a hit costs a
 * map lookup.
 *
 * @module
 */
import { NO_VALUE, CacheBackend, type BackendArguments, type BackendResult, type CachedValue, type Mapping } from '../api.js';
import { ArgumentReader } from '../arguments.js';
import { systemClock, type Clock } from '../clock.js';
import { ValidationError } from '../errors.js';
import { v8Serializer, type Serializer } from '../serializers.js';
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
  /** Time source in epoch milliseconds (tests inject a manual clock). Default `Date.now`. */
  clock?: Clock;
  /**
   * dogpile's `cache_dict`: a `Map` of backend key → CachedValue to store into instead of a private
   * one (shared between backends, or inspected by a test). Not with `expirationTime`, whose entries
   * carry an expiry the map's readers would not expect. `close()` leaves a map you gave untouched.
   */
  cacheDict?: Map<string, CachedValue>;
}

/** An entry with an expiry, used only when `expirationTime > 0` so unbounded caches pay nothing. */
interface ExpiringEntry {
  value: CachedValue;
  expiresAt: number;
}

/**
 * In-process backend with oslo's semantics: argument `expiration_time` (default 0 = never expire),
 * expired entries read as misses. Unlike oslo, which scans the whole dict on every set, a set is O(1)
 * amortised: every entry gets the same time to live, so the map's insertion order is also expiry
 * order, and expired entries are removed from the front. Registry names: `oslo_cache.dict`,
 * `dictionary`; `dogpile.cache.memory` is this backend without expiry.
 */
export class DictionaryBackend extends CacheBackend {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #entries: Map<string, CachedValue | ExpiringEntry>;
  readonly #ownsEntries: boolean;
  // Persistent cursors over the map's insertion order. A fresh iterator per call would walk past every
  // deleted slot V8 keeps at the front of the map (quadratic at a million entries); these skip each once.
  #evictCursor: Iterator<string> | undefined;
  #sweepCursor: Iterator<[string, CachedValue | ExpiringEntry]> | undefined;
  #sweepFront: [string, CachedValue | ExpiringEntry] | undefined;

  constructor(args: BackendArguments = {}) {
    super();
    const reader = new ArgumentReader('DictionaryBackend', args);
    this.#ttlMs = reader.seconds('expirationTime', 0) * 1000;
    this.#maxEntries = reader.number('maxEntries', Infinity, { min: 1, integer: reader.has('maxEntries') });
    this.#clock = reader.func<Clock>('clock') ?? systemClock;
    const cacheDict = reader.raw('cacheDict') ?? null;
    if (cacheDict !== null && !(cacheDict instanceof Map)) {
      throw new ValidationError(`DictionaryBackend argument cache_dict must be a Map of key -> CachedValue (dogpile's dict); got ${describe(cacheDict)}.`);
    }
    if (cacheDict !== null && this.#ttlMs > 0) {
      throw new ValidationError(
        'DictionaryBackend argument cache_dict cannot be combined with expiration_time; drop one (the region\'s expirationTime works with either).',
      );
    }
    this.#entries = cacheDict ?? new Map();
    this.#ownsEntries = cacheDict === null;
    reader.finish();
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

  #read(key: string): BackendResult {
    const stored = this.#entries.get(key);
    if (stored === undefined) return NO_VALUE;
    let value: CachedValue;
    if (this.#ttlMs > 0) {
      const entry = stored as ExpiringEntry;
      if (this.#clock() >= entry.expiresAt) {
        this.#entries.delete(key);
        return NO_VALUE;
      }
      value = entry.value;
    } else {
      value = stored as CachedValue;
    }
    if (this.#maxEntries !== Infinity) {
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
    this.#write(key, value, this.#clock());
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key, value] of entries) assertCachedValue(value, `mapping["${key}"]`);
    const now = this.#clock();
    for (const [key, value] of entries) this.#write(key, value, now);
  }

  #write(key: string, value: CachedValue, now: number): void {
    // Delete first so an overwritten key moves to the back, keeping insertion order = expiry order.
    this.#entries.delete(key);
    this.#entries.set(key, this.#ttlMs > 0 ? { value, expiresAt: now + this.#ttlMs } : value);
    if (this.#ttlMs > 0) this.#expireFront(now);
    if (this.#entries.size > this.#maxEntries) this.#evictOldest();
  }

  /** Removes expired entries from the front; stops at the first live one (amortised O(1) per set). */
  #expireFront(now: number): void {
    for (;;) {
      const front = this.#sweepFront ?? this.#nextForSweep();
      if (front === undefined) return;
      const [key, stored] = front;
      // The remembered front may since have been deleted or overwritten (moved to the back).
      if (this.#entries.get(key) !== stored) {
        this.#sweepFront = undefined;
        continue;
      }
      if ((stored as ExpiringEntry).expiresAt > now) {
        this.#sweepFront = front;
        return;
      }
      this.#entries.delete(key);
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
    if (next.done !== true) this.#entries.delete(next.value);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#entries.delete(key);
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    for (const key of keys) this.#entries.delete(key);
  }

  /** Removes every entry. */
  override clear(): void {
    this.#entries.clear();
    this.#evictCursor = this.#sweepCursor = this.#sweepFront = undefined;
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
 */
export class MemoryPickleBackend extends MemoryBackend {
  override serializer: Serializer = v8Serializer;
}
