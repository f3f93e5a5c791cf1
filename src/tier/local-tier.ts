/**
 * The local tier (issue 18.2): a small in-process cache in front of a remote backend, installed as
 * a proxy so it works with every backend and needs nothing from the region:
 *
 * ```ts
 * const tier = new LocalTier({ maxEntries: 10_000, ttl: '1s', transport: new RedisNotifications(backend) });
 * region.configure(backend, { wrap: [tier] });
 * ```
 *
 * A hit returns the copy kept in this process and makes no network call; installed outermost, the tier
 * declares its copies to the region (`LOCAL_COPIES`, src/storage.ts), which then reads a hit with no
 * promise. Over bytes, each hit decodes the kept bytes (every caller its own copy, as without the tier),
 * unless `shareDecodedValues` lets the region keep its decoding beside the copy (later hits then share
 * that one object, as Dictionary hits do). Staleness is bounded: an
 * entry lives at most `ttl` seconds, and with a transport a `set` or `delete` in any process evicts
 * the key from every process's tier as soon as the message arrives. While the transport is down,
 * the whole tier is dropped and the TTL alone bounds staleness. Region invalidation needs no
 * eviction: the region checks every value's creation time against its invalidation strategy.
 *
 * The dogpile lock keeps its cross-process guarantee: `getMutex` passes through to the backend, and
 * a process that wins the lock evicts the key locally, so the region's re-read after the lock sees
 * the backend's value (another process's fresh value), not an old local copy.
 *
 * @module
 */
import {
  type CacheBackend,
  isNoValue,
  VALUE_VERSION,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
} from '../api.js';
import { hotClocks, systemClock, type Clock } from '../clock.js';
import { MAX_TIMER_SECONDS, toSeconds, type Duration } from '../duration.js';
import { UnsupportedOperationError, ValidationError } from '../errors.js';
import { debug } from '../log.js';
import type { NoValue } from '../no-value.js';
import { ProxyBackend } from '../proxy.js';
import { LOCAL_COPIES, NOT_FRESH, isThenable, type LocalCopies } from '../storage.js';
import { describe } from '../validate.js';
import { isNotificationTransport, type NotificationSubscription, type NotificationTransport } from './transport.js';
import { randomUUID } from 'node:crypto';

/** Options of {@link LocalTier}. */
export interface LocalTierOptions {
  /** Largest number of entries kept; past it the least recently used one is dropped. Default 1000. */
  maxEntries?: number;
  /**
   * Largest total size in bytes of the entries kept, counted as key length plus stored bytes (for a
   * bytes backend; for other backends, the JSON length of the payload, measured once per entry).
   * Default: no byte bound.
   */
  maxBytes?: number;
  /**
   * Seconds (or a duration string) a local copy is served before the backend is asked again: the
   * staleness bound when notifications are down or absent. Default 1 s; at least 1 ms.
   */
  ttl?: Duration;
  /** Notifications of writes across processes (`RedisNotifications`, `Etcd3Notifications`). */
  transport?: NotificationTransport;
  /** The channel shared by every process of this region (required with `transport`). */
  channel?: string;
  /**
   * Time source in epoch milliseconds (a manual clock in tests, read on every call). Default `systemClock`,
   * read at most once per millisecond for the local TTL (see `coarseClock` in src/clock.ts).
   */
  clock?: Clock;
  /** Called with each background failure (a publish or a subscription). Default: a debug line. */
  onError?: (error: unknown, during: 'publish' | 'subscribe') => void;
  /**
   * When the region stores bytes (it has a serializer: memcached and Redis by default): whether local hits share
   * one decoded object. Default `false`: each hit decodes the kept bytes (still synchronously, with no
   * promise and no network), so every caller gets its own copy, as without the tier, and a caller that
   * mutates what it read cannot change what others read. `true`: the region's first decoding is kept
   * beside the bytes and every later hit in this process returns that same object, as a Dictionary hit
   * does; faster (no parse per hit), for data the callers treat as read-only. When the region stores
   * objects as they are (no serializer: Mongo and etcd by default), copies are the stored values and this
   * option changes nothing.
   * Compare bentocache's `serialize` option (its memory tier serializes by default, too).
   */
  shareDecodedValues?: boolean;
}

/** The decoder of kept bytes no region has decoded yet: matches no reader. */
const NOT_DECODED = Object.freeze({});

/** Delay before trying again to subscribe after a failed attempt. */
const SUBSCRIBE_RETRY_MS = 1000;

/**
 * One local copy, and its place in the recency list (least recently used first). A list of the entries
 * themselves, not the Map's insertion order: moving a hit to the back is a few pointer writes instead
 * of a Map delete and set, which cost as much as the rest of a local hit.
 */
class Entry {
  prev: Entry | null = null;
  next: Entry | null = null;
  constructor(
    readonly key: string,
    readonly value: CachedValue | Buffer,
    /** The entry as the region reads it: the value itself, or a region's decoding of the bytes (once it has decoded them). */
    public decoded: CachedValue | undefined,
    /** Who decoded the bytes (see `LocalCopies.read`); null for a value, which needs no decoding. */
    public decoder: object | null,
    readonly expiresAt: number,
    readonly size: number,
  ) {}

  /**
   * A promise fulfilled with `decoded`'s payload, made by the first store-judged hit (`LocalCopies.freshFor`)
   * and returned to every later one, so such a hit allocates nothing; dropped when `decoded` changes.
   * Never one of a thenable payload, which each read adopts anew.
   */
  settled: Promise<unknown> | undefined = undefined;
}

/** Counters of one tier, for tests and metrics. */
export interface LocalTierStats {
  /** Reads answered locally (no network). */
  hits: number;
  /** Reads passed to the backend. */
  misses: number;
  /** Keys evicted by a write or a message from another process. */
  evictions: number;
  /** Entries currently kept. */
  size: number;
  /** Bytes currently counted against `maxBytes`. */
  bytes: number;
}

/**
 * A bounded, short-lived in-process copy of a remote backend's entries (see the module comment).
 * Install it first in the region's `wrap` list so it is the outermost proxy.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { RedisBackend } from 'dogpile-cache/backends/redis';
 * import { LocalTier, RedisNotifications } from 'dogpile-cache/tier';
 * const backend = new RedisBackend({ url: 'redis://cache:6379' });
 * const tier = new LocalTier({ maxEntries: 10_000, ttl: '1s', transport: new RedisNotifications(backend), channel: 'users' });
 * const region = new CacheRegion().configure(backend, { wrap: [tier] }); // the tier outermost
 * await region.get('user:1'); // first read from Redis; repeats within 1 s answered in-process
 * tier.stats(); // { hits, misses, evictions, size, bytes }
 * ```
 */
export class LocalTier extends ProxyBackend {
  /** Largest number of entries. */
  readonly maxEntries: number;
  /** Largest byte total, or `Infinity`. */
  readonly maxBytes: number;
  /** Local TTL in seconds. */
  readonly ttl: number;
  /** Whether local hits over bytes share one decoded object (see {@link LocalTierOptions.shareDecodedValues}). */
  readonly shareDecodedValues: boolean;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
  /** The least and the most recently used copies. */
  #oldest: Entry | null = null;
  #newest: Entry | null = null;
  readonly #transport: NotificationTransport | undefined;
  readonly #channel: string;
  readonly #clock: Clock;
  /** Expiry times of copies, and the time a lookup is judged at (the coarse readings for the system clock, src/clock.ts). */
  readonly #stampClock: Clock;
  readonly #readClock: Clock;
  readonly #onError: NonNullable<LocalTierOptions['onError']>;
  readonly #origin = randomUUID();
  #bytes = 0;
  // Bumped by every eviction: a read that overlaps one does not keep its (possibly older) result.
  #epoch = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #subscription: NotificationSubscription | null = null;
  #subscribing: Promise<void> | null = null;
  #retry: NodeJS.Timeout | null = null;
  #live = false;
  #closed = false;

  /** @throws {ValidationError} for a bad bound, TTL, transport or channel. */
  constructor(options: LocalTierOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null)
      throw new ValidationError(
        `LocalTier takes an options object { maxEntries?, maxBytes?, ttl?, transport?, shareDecodedValues? }; got ${describe(options)}.`,
      );
    this.maxEntries = positiveInteger(options.maxEntries ?? 1000, 'maxEntries');
    this.maxBytes = options.maxBytes === undefined ? Infinity : positiveInteger(options.maxBytes, 'maxBytes');
    this.ttl = toSeconds(options.ttl ?? 1, 'ttl', { min: 0.001, max: MAX_TIMER_SECONDS });
    this.#ttlMs = this.ttl * 1000;
    if (options.shareDecodedValues !== undefined && typeof options.shareDecodedValues !== 'boolean') {
      throw new ValidationError(
        `shareDecodedValues must be true (hits share one decoded object) or false (each hit its own copy, the default); got ${describe(options.shareDecodedValues)}.`,
      );
    }
    this.shareDecodedValues = options.shareDecodedValues ?? false;
    const share = this.shareDecodedValues;
    if (options.transport !== undefined && !isNotificationTransport(options.transport)) {
      throw new ValidationError(
        `transport must be a NotificationTransport (publish, subscribe), e.g. new RedisNotifications(backend); got ${describe(options.transport)}.`,
      );
    }
    this.#transport = options.transport;
    if (this.#transport !== undefined && (typeof options.channel !== 'string' || options.channel.length === 0)) {
      throw new ValidationError(
        `channel must be a non-empty string shared by every process of this region (e.g. "tier:users") when a transport is given; got ${describe(options.channel)}.`,
      );
    }
    this.#channel = `_dogpile_cache:tier:${options.channel ?? ''}`;
    this.#clock = options.clock ?? systemClock;
    if (typeof this.#clock !== 'function')
      throw new ValidationError(`clock must be a function returning epoch milliseconds; got ${describe(options.clock)}.`);
    const hot = hotClocks(this.#clock);
    this.#stampClock = hot.stamp;
    this.#readClock = hot.read;
    if (options.onError !== undefined && typeof options.onError !== 'function')
      throw new ValidationError(`onError must be a function (error, during) => void; got ${describe(options.onError)}.`);
    this.#onError = options.onError ?? ((error, during) => debug('local tier %s failed: %s', during, (error as Error)?.message ?? error));
    // Declared only when this class's reads are the ones the region would call (a subclass overriding them is called).
    const own = LocalTier.prototype;
    this[LOCAL_COPIES] =
      this.get === own.get && this.getSerialized === own.getSerialized
        ? {
            sharesDecoded: share,
            read: (key, decoder) => {
              const entry = this.#lookup(key);
              if (entry === undefined || (entry.decoder !== null && entry.decoder !== decoder)) return undefined;
              const value = entry.decoded;
              if (value !== undefined) this.#hits++;
              return value;
            },
            bytes: (key) => {
              const entry = this.#lookup(key);
              if (entry === undefined || !Buffer.isBuffer(entry.value)) return undefined;
              this.#hits++;
              return entry.value;
            },
            decoded: (key, bytes, value, decoder) => {
              if (!share) return;
              const entry = this.#entries.get(key);
              if (entry === undefined || entry.value !== bytes) return;
              entry.decoded = value;
              entry.decoder = decoder;
              entry.settled = undefined;
            },
            freshFor: (decoder) => (key, now, expiration, oldest, newest) => this.#fresh(key, decoder, now, expiration, oldest, newest),
            clock: this.#clock,
          }
        : undefined;
  }

  /**
   * The region's synchronous path to the local copies (declared, see `LOCAL_COPIES` in src/storage.ts):
   * when this tier is the outermost backend, a local hit costs no promise. Over a bytes backend the region
   * decodes the kept bytes on each hit (each caller its own copy), or, with `shareDecodedValues`, keeps
   * its first decoding beside the bytes and returns that same object to every later hit, as a Dictionary
   * hit does. A read of a key with no live copy goes through `get` or `getSerialized` as before.
   */
  readonly [LOCAL_COPIES]: LocalCopies | undefined;

  /** Wraps the backend and subscribes to the transport (in the background; {@link ready} waits for it). */
  override wrap(backend: CacheBackend): this {
    super.wrap(backend);
    if (this.#transport !== undefined && this.#subscribing === null) this.#subscribing = this.#subscribe(this.#transport);
    return this;
  }

  /** Resolves once the subscription (if any) is live or failed (reported to `onError`). */
  async ready(): Promise<void> {
    await this.#subscribing;
  }

  /** True while the transport's subscription is live. */
  get notified(): boolean {
    return this.#live;
  }

  /** This tier's counters. */
  stats(): LocalTierStats {
    return { hits: this.#hits, misses: this.#misses, evictions: this.#evictions, size: this.#entries.size, bytes: this.#bytes };
  }

  /** Drops every local copy (the backend is untouched). */
  clearLocal(): void {
    this.#entries.clear();
    this.#oldest = this.#newest = null;
    this.#bytes = 0;
    this.#epoch++;
  }

  /**
   * `region.clear()`: clears the store under this tier, then this process's copies. Other processes drop
   * their copies at their local `ttl` at the latest (a clear is not published).
   * @throws {UnsupportedOperationError} when the store under the tier cannot clear.
   */
  override async clear(): Promise<void> {
    let store: CacheBackend = this.proxied;
    while (store.clear === undefined && store instanceof ProxyBackend) store = store.proxied;
    if (store.clear === undefined) {
      throw new UnsupportedOperationError(
        `region.clear() is not supported by the ${store.constructor.name} backend under the local tier (see its guide). ` +
          'Use region.invalidate() to make every entry a miss, or deleteMulti(keys) for known keys.',
      );
    }
    try {
      await store.clear();
    } finally {
      this.clearLocal();
    }
  }

  async #subscribe(transport: NotificationTransport): Promise<void> {
    try {
      const subscription = await transport.subscribe(this.#channel, {
        message: (text) => this.#onMessage(text),
        // Evictions published while the subscription was down were lost: nothing local can be trusted.
        up: () => {
          this.clearLocal();
          this.#live = true;
        },
        down: (error) => {
          this.#live = false;
          this.clearLocal();
          if (error !== undefined) this.#onError(error, 'subscribe');
        },
      });
      if (this.#closed) {
        await subscription.close().catch(() => undefined);
        return;
      }
      this.#subscription = subscription;
      // Copies kept before the subscription was live may have missed evictions.
      this.clearLocal();
      this.#live = true;
    } catch (error) {
      this.#onError(error, 'subscribe');
      // Without a subscription the local TTL bounds staleness; keep trying to get one.
      if (!this.#closed) {
        this.#retry = setTimeout(() => {
          this.#retry = null;
          this.#subscribing = this.#subscribe(transport);
        }, SUBSCRIBE_RETRY_MS);
        this.#retry.unref();
      }
    }
  }

  #onMessage(text: string): void {
    let message: { o?: unknown; k?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.o === this.#origin || !Array.isArray(message.k)) return;
    for (const key of message.k) if (typeof key === 'string') this.#evict(key);
  }

  #evict(key: string): void {
    this.#epoch++;
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#drop(entry);
    this.#evictions++;
  }

  /** Removes a copy from the map, the recency list and the byte count. */
  #drop(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#unlink(entry);
    this.#bytes -= entry.size;
  }

  #unlink(entry: Entry): void {
    if (entry.prev === null) this.#oldest = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === null) this.#newest = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = null;
  }

  /** Puts a copy at the most recently used end. */
  #append(entry: Entry): void {
    entry.prev = this.#newest;
    if (this.#newest === null) this.#oldest = entry;
    else this.#newest.next = entry;
    this.#newest = entry;
  }

  async #evictEverywhere(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#evict(key);
    if (this.#transport === undefined) return;
    await this.#transport
      .publish(this.#channel, JSON.stringify({ o: this.#origin, k: keys }))
      .catch((error: unknown) => this.#onError(error, 'publish'));
  }

  /**
   * See `LocalCopies.freshFor` (src/storage.ts): the region's rules, written as the region's own tests (as the
   * Dictionary's `EntryTable.fresh` writes them), on a copy whose metadata is exactly a creation time and
   * version 2. `now` is a reading of this tier's clock (the region's is the same), or NaN: then the clock is
   * read here. Never throws: a clock that throws, like an expired copy, is left to `read`, which drops it.
   */
  #fresh(
    key: string,
    decoder: object,
    now: number,
    expiration: number,
    oldest: number,
    newest: number,
  ): Promise<unknown> | typeof NOT_FRESH {
    const entry = this.#entries.get(key);
    if (entry === undefined) return NOT_FRESH;
    const value = entry.decoded;
    if (value === undefined || (entry.decoder !== null && entry.decoder !== decoder)) return NOT_FRESH;
    const metadata = value.metadata;
    if (metadata.v !== VALUE_VERSION || metadata.ttl !== undefined || metadata.tags !== undefined) return NOT_FRESH;
    const createdAt = metadata.ct;
    if (!(createdAt >= oldest && createdAt <= newest)) return NOT_FRESH;
    if (expiration !== Infinity && !(now / 1000 - createdAt <= expiration)) return NOT_FRESH;
    try {
      if (!(entry.expiresAt > (now === now ? now : this.#readClock()))) return NOT_FRESH;
    } catch {
      return NOT_FRESH;
    }
    if (entry !== this.#newest) {
      this.#unlink(entry);
      this.#append(entry);
    }
    this.#hits++;
    if (entry.settled !== undefined) return entry.settled;
    const payload = value.payload;
    const settled = Promise.resolve(payload);
    if (!isThenable(payload)) entry.settled = settled;
    return settled;
  }

  /** The live local copy of `key`, or undefined (expired copies are dropped here). */
  #lookup(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#readClock()) {
      this.#drop(entry);
      return undefined;
    }
    if (entry !== this.#newest) {
      this.#unlink(entry);
      this.#append(entry);
    }
    return entry;
  }

  #keep(key: string, value: CachedValue | Buffer, epoch: number): void {
    if (epoch !== this.#epoch || this.#closed) return;
    const size = key.length + (Buffer.isBuffer(value) ? value.length : jsonSize(value));
    if (size > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#drop(old);
    const bytes = Buffer.isBuffer(value);
    const entry = new Entry(key, value, bytes ? undefined : value, bytes ? NOT_DECODED : null, this.#stampClock() + this.#ttlMs, size);
    this.#entries.set(key, entry);
    this.#append(entry);
    this.#bytes += size;
    while ((this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) && this.#oldest !== null) this.#drop(this.#oldest);
  }

  // ---------------------------------------------------------------- reads

  override async get(key: string): Promise<BackendResult> {
    const entry = this.#lookup(key);
    if (entry !== undefined && !Buffer.isBuffer(entry.value)) {
      this.#hits++;
      return entry.value;
    }
    this.#misses++;
    const epoch = this.#epoch;
    const value = await super.get(key);
    if (!isNoValue(value)) this.#keep(key, value, epoch);
    return value;
  }

  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    if (!Array.isArray(keys)) return super.getMulti(keys);
    const results: (BackendResult | undefined)[] = keys.map((key) => {
      const entry = this.#lookup(key);
      return entry !== undefined && !Buffer.isBuffer(entry.value) ? entry.value : undefined;
    });
    const missing = [...new Set(keys.filter((_, i) => results[i] === undefined))];
    this.#hits += keys.length - missing.length;
    if (missing.length === 0) return results as BackendResult[];
    this.#misses += missing.length;
    const epoch = this.#epoch;
    const fetched = await super.getMulti(missing);
    const byKey = new Map<string, BackendResult>();
    missing.forEach((key, i) => {
      const value = fetched[i] as BackendResult;
      byKey.set(key, value);
      if (!isNoValue(value)) this.#keep(key, value, epoch);
    });
    return keys.map((key, i) => results[i] ?? (byKey.get(key) as BackendResult));
  }

  override async getSerialized(key: string): Promise<Buffer | NoValue> {
    const entry = this.#lookup(key);
    if (entry !== undefined && Buffer.isBuffer(entry.value)) {
      this.#hits++;
      return entry.value;
    }
    this.#misses++;
    const epoch = this.#epoch;
    const value = await super.getSerialized(key);
    if (!isNoValue(value)) this.#keep(key, value, epoch);
    return value;
  }

  override async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    if (!Array.isArray(keys)) return super.getSerializedMulti(keys);
    const results: (Buffer | NoValue | undefined)[] = keys.map((key) => {
      const entry = this.#lookup(key);
      return entry !== undefined && Buffer.isBuffer(entry.value) ? entry.value : undefined;
    });
    const missing = [...new Set(keys.filter((_, i) => results[i] === undefined))];
    this.#hits += keys.length - missing.length;
    if (missing.length === 0) return results as (Buffer | NoValue)[];
    this.#misses += missing.length;
    const epoch = this.#epoch;
    const fetched = await super.getSerializedMulti(missing);
    const byKey = new Map<string, Buffer | NoValue>();
    missing.forEach((key, i) => {
      const value = fetched[i] as Buffer | NoValue;
      byKey.set(key, value);
      if (!isNoValue(value)) this.#keep(key, value, epoch);
    });
    return keys.map((key, i) => results[i] ?? (byKey.get(key) as Buffer | NoValue));
  }

  // ---------------------------------------------------------------- writes: evict here, then everywhere

  // The written value is not kept locally: a message about another process's later write could
  // arrive before this write returns, and the kept copy would then be older than the backend's.
  override async set(key: string, value: CachedValue): Promise<void> {
    this.#evict(key);
    await super.set(key, value);
    await this.#evictEverywhere([key]);
  }
  override async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const keys = mappingKeys(mapping);
    for (const key of keys) this.#evict(key);
    await super.setMulti(mapping);
    await this.#evictEverywhere(keys);
  }
  override async setSerialized(key: string, value: Buffer): Promise<void> {
    this.#evict(key);
    await super.setSerialized(key, value);
    await this.#evictEverywhere([key]);
  }
  override async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    const keys = mappingKeys(mapping);
    for (const key of keys) this.#evict(key);
    await super.setSerializedMulti(mapping);
    await this.#evictEverywhere(keys);
  }
  override async delete(key: string): Promise<void> {
    this.#evict(key);
    await super.delete(key);
    await this.#evictEverywhere([key]);
  }
  override async deleteMulti(keys: readonly string[]): Promise<void> {
    if (Array.isArray(keys)) for (const key of keys) this.#evict(key);
    await super.deleteMulti(keys);
    if (Array.isArray(keys)) await this.#evictEverywhere(keys);
  }

  /**
   * The backend's mutex, wrapped so that winning it evicts the key here: the region re-reads the
   * value after taking the lock, and that read must reach the backend (another process may have
   * just created the value) for one creator per key to hold across processes.
   */
  override getMutex(key: string): CacheMutex | null {
    const mutex = super.getMutex(key);
    if (mutex === null) return null;
    return {
      acquire: async (wait?: boolean) => {
        const acquired = await mutex.acquire(wait);
        if (acquired) this.#evict(key);
        return acquired;
      },
      release: () => mutex.release(),
      locked: () => mutex.locked(),
    };
  }

  /** Closes the subscription, drops every local copy, then closes the backend. Idempotent. */
  override async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#live = false;
      if (this.#retry !== null) clearTimeout(this.#retry);
      await this.#subscribing;
      await this.#subscription?.close().catch(() => undefined);
      this.clearLocal();
    }
    await super.close();
  }
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(`${name} must be a positive whole number; got ${describe(value)}.`);
  }
  return value;
}

function mappingKeys<V>(mapping: Mapping<V>): string[] {
  if (mapping instanceof Map) return [...mapping.keys()];
  return typeof mapping === 'object' && mapping !== null ? Object.keys(mapping) : [];
}

function jsonSize(value: CachedValue): number {
  try {
    return JSON.stringify(value.payload)?.length ?? 0;
  } catch {
    // A payload JSON cannot measure (a cycle, a BigInt) still counts for its key and entry.
    return 64;
  }
}
