/**
 * The in-process backend (oslo.cache's `oslo_cache.dict`): a table of entries with an optional time to live and
 * an optional LRU bound. Values are stored by reference, never serialized or cloned, so a hit costs a
 * map lookup.
 *
 * @module
 */
import {
  NO_VALUE,
  VALUE_VERSION,
  CacheBackend,
  type BackendArguments,
  type BackendResult,
  type CachedValue,
  type CachedValueMetadata,
  type Mapping,
} from '../api.js';
import { ArgumentReader } from '../arguments.js';
import { hotClocks, systemClock, type Clock } from '../clock.js';
import { ValidationError } from '../errors.js';
import { v8Serializer, type Serializer } from '../serializers.js';
import { IN_PROCESS_STORE, NOT_FRESH, isThenable, type InProcessStore } from '../storage.js';
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

/** `sizeCalculation`'s type: the size of one entry, `(payload, key) => size`. */
type SizeOf = (payload: unknown, key: string) => number;

/** How a {@link DictionaryBackend} keeps its entries: its own table, or the caller's `cache_dict` map. */
interface Entries {
  /** Number of entries held, expired ones not yet removed included. */
  readonly size: number;
  /** Total size under `maxSize`, 0 without it. */
  readonly calculatedSize: number;
  /**
   * The live entry for `key` as a CachedValue kept by the table (a plain entry is kept whole from its
   * first such read on), or NO_VALUE; `now` is a reading of the read clock, or NaN to read it if needed.
   */
  read(key: string, now: number): BackendResult;
  /**
   * {@link Entries.read} for the region's hit path: the CachedValue may be lent, valid only until the next
   * call on these entries (see `InProcessStore.read`), so a hit allocates nothing.
   */
  lend(key: string, now: number): BackendResult;
  /**
   * Stores `value` under `key`; `now` is a reading of the stamp clock (the entry expires a lifetime after it).
   * `whole`: keep the CachedValue itself even if its metadata is plain (see `hasMoreThanPayloadAndMetadata`).
   */
  write(key: string, value: CachedValue, now: number, whole: boolean): void;
  remove(key: string): void;
  clear(): void;
}

/** The settings an {@link EntryTable} enforces, read and checked by {@link DictionaryBackend}. */
interface TableSettings {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxSize: number;
  readonly sizeOf: SizeOf | undefined;
  /** The clock reads are judged at (see `hotClocks` in src/clock.ts). */
  readonly readClock: Clock;
}

/**
 * Whether `value` is a region's plain entry, metadata exactly `{ ct, v: 2 }` as `makeCachedValue` builds
 * it (no TTL, no tags, nothing else): then `ct` alone rebuilds an equal one, and the table keeps no object.
 * A payload of bytes is kept whole: it comes from a region with a serializer, and the contract's
 * `getSerialized` hands back the very bytes it was stored from only for that same CachedValue. Keys are
 * counted with `for...in` (enumerable string keys): `Reflect.ownKeys` would also see symbol-keyed and
 * hidden properties, but cost 25 times as much per set.
 */
function isCompact(value: CachedValue): boolean {
  const metadata: CachedValueMetadata = value.metadata;
  if (metadata.v !== VALUE_VERSION || metadata.ttl !== undefined || metadata.tags !== undefined) return false;
  if (ArrayBuffer.isView(value.payload)) return false;
  if (Object.getPrototypeOf(metadata) !== Object.prototype) return false;
  let keys = 0;
  for (const _ in metadata) keys++;
  return keys === 2;
}

/**
 * Whether `value` (given to the backend's own `set`/`setMulti`) is more than `{ payload, metadata }`: a
 * property of its own or a class. A rebuilt CachedValue would drop those, so such an entry is kept whole.
 * The region's writes through the in-process store skip this: it builds every value as a plain pair.
 */
function hasMoreThanPayloadAndMetadata(value: CachedValue): boolean {
  if (Object.getPrototypeOf(value) !== Object.prototype) return true;
  let keys = 0;
  for (const _ in value) keys++;
  return keys !== 2;
}

/** The link of no slot: the ends of the list. */
const NONE = -1;
/** Slots of a new table; it doubles as it fills (up to one more than `maxEntries`). */
const INITIAL_SLOTS = 16;
/**
 * Cells of a table's settled promises (see {@link EntryTable.fresh}): a power of two, so a slot's cell
 * is `slot & (SETTLED_CELLS - 1)`. At most this many promises are kept (48 bytes each on Node 20,
 * about 240 KB per table once that many entries have been hit); a hot set larger than this shares cells,
 * and a hit whose cell holds another entry's promise makes a promise of its own, as every hit did before.
 */
const SETTLED_CELLS = 4096;

/**
 * The most entries a bounded table keeps in write order, stamping each hit instead of moving it (see
 * {@link EntryTable.#reads}): ordering them by their stamps, once, when the table grows past this, takes
 * the set that does it a few milliseconds (3-9 ms measured on the benchmark machine).
 */
const STAMPED_ENTRIES = 16_384;

/** What a hit does to the list: nothing (no bound), stamp its slot's use, or move it to the tail. */
const READS_KEEP_ORDER = 0;
const READS_STAMP = 1;
const READS_MOVE = 2;

/**
 * The backend's own entries, laid out as lru-cache lays out its own: a `Map` from key to a slot number,
 * and per slot the key and the value in two arrays, the expiry in a `Float64Array` (no wrapper object per
 * entry) and the links of a doubly linked list in two `Int32Array`s. Freed slots are reused from a stack.
 *
 * An entry whose metadata is exactly what a region writes (`{ ct, v: 2 }`, no TTL or tags of its own) is
 * kept compact: its payload in the value array and its creation time in a `Float64Array`, with no
 * CachedValue or metadata object (about 90 bytes per entry). The region's hit path reads it through one
 * lent object refilled on each read; the backend's own `get` builds its CachedValue once and keeps the
 * entry whole from then on. Any other entry is kept as the CachedValue it was given.
 *
 * The list runs from the oldest entry (head) to the newest (tail). Every entry gets the same lifetime, so
 * with a TTL the list is also expiry order: a set sweeps expired entries from the head, amortised O(1)
 * (oslo scans the whole dict on every set). Under a bound (`maxEntries`, `maxSize`) eviction takes the
 * head, the least recently used: while the table is small, reads only number their entry's use and the
 * list stays in write order; past that, it is put in order of use once, and from then on reads and
 * overwrites move their entry to the tail (a few array writes where a `Map` would need a delete and a set).
 */
class EntryTable implements Entries {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxSize: number;
  readonly #sizeOf: SizeOf | undefined;
  readonly #readClock: Clock;
  /** A bound by count or size: eviction takes the least recently used entry. */
  readonly #lru: boolean;
  /**
   * What a hit does (READS_*). Under a bound a hit must make its entry the most recently used. While the
   * table holds at most {@link EntryTable.#stampedUpTo} entries (and half its `maxSize`), a hit only
   * writes the next use number into `#used` and the list stays in write order; before the table grows
   * past that, and so before any eviction, the list is put in order of use once ({@link
   * EntryTable.#orderByUse}), and from then on a hit moves its entry to the tail (lru-cache's way). Moving
   * was most of what a bounded table's hit cost over an unbounded one's (about 12 %).
   */
  #reads: number;
  /** The most entries kept in write order under a bound: half `maxEntries`, at most STAMPED_ENTRIES. */
  readonly #stampedUpTo: number;
  /** Each slot's last use (a read or a write), while hits stamp; empty without a bound, and once hits move. */
  #used: Float64Array;
  /** The last use number handed out (a count of uses; far from 2^53 in any table's life). */
  #uses = 0;
  /** Overwrites move entries to the tail, keeping the list in expiry (or LRU) order. */
  readonly #ordered: boolean;
  readonly #slots = new Map<string, number>();
  /**
   * Key and value of each slot; undefined in a free slot (so a removed value can be collected). The value
   * is the payload of a compact entry (see {@link EntryTable.#compact}), else the CachedValue itself.
   */
  #keys: (string | undefined)[] = [];
  #values: unknown[] = [];
  /** 1 where the slot holds a compact entry. */
  #compact: Uint8Array;
  /** Creation time (`ct`, epoch seconds) of a compact entry. */
  #created: Float64Array;
  /** The CachedValue {@link EntryTable.lend} refills: one per table, its shape never changes. */
  readonly #lent: { payload: unknown; metadata: { ct: number; v: number } } = { payload: undefined, metadata: { ct: 0, v: VALUE_VERSION } };
  /** Expiry of each slot in epoch ms; empty without a TTL. */
  #expiry: Float64Array;
  /** Size of each slot (`sizeCalculation`'s); empty without `maxSize`. */
  #sizes: Float64Array;
  #prev: Int32Array;
  #next: Int32Array;
  /** Free slots below `#keys.length`, reused last freed first. */
  #free: number[] = [];
  #head = NONE;
  #tail = NONE;
  #totalSize = 0;
  /**
   * The promises {@link EntryTable.fresh} answers with, fulfilled with a compact entry's payload: a hit on
   * the same entry returns the same settled promise, so the hot path allocates nothing (a new promise per
   * hit was a fifth of a region hit's time). Cell `slot & (SETTLED_CELLS - 1)` holds the promise of the
   * slot written in {@link EntryTable.#settledSlot} (NONE: none); any change to that slot's entry empties
   * it. Made on the first hit, so a table nobody reads this way keeps none.
   */
  #settled: (Promise<unknown> | undefined)[] = [];
  #settledSlot: Int32Array | null = null;

  constructor(settings: TableSettings) {
    this.#ttlMs = settings.ttlMs;
    this.#maxEntries = settings.maxEntries;
    this.#maxSize = settings.maxSize;
    this.#sizeOf = settings.sizeOf;
    this.#readClock = settings.readClock;
    this.#lru = this.#maxEntries !== Infinity || this.#maxSize !== Infinity;
    this.#ordered = this.#lru || this.#ttlMs > 0;
    this.#reads = this.#lru ? READS_STAMP : READS_KEEP_ORDER;
    this.#stampedUpTo = Math.min(Math.floor(this.#maxEntries / 2), STAMPED_ENTRIES);
    this.#used = new Float64Array(this.#lru ? INITIAL_SLOTS : 0);
    this.#prev = new Int32Array(INITIAL_SLOTS);
    this.#next = new Int32Array(INITIAL_SLOTS);
    this.#compact = new Uint8Array(INITIAL_SLOTS);
    this.#created = new Float64Array(INITIAL_SLOTS);
    this.#expiry = new Float64Array(this.#ttlMs > 0 ? INITIAL_SLOTS : 0);
    this.#sizes = new Float64Array(this.#sizeOf === undefined ? 0 : INITIAL_SLOTS);
  }

  get size(): number {
    return this.#slots.size;
  }

  get calculatedSize(): number {
    return this.#totalSize;
  }

  read(key: string, now: number): BackendResult {
    const slot = this.#find(key, now);
    if (slot === NONE) return NO_VALUE;
    const value = this.#values[slot];
    if (this.#compact[slot] === 0) return value as CachedValue;
    // Kept whole from now on: a caller of get reads the same entry again and again (a region over a proxy,
    // getMulti), and one CachedValue kept costs less than one built per read (issue 2's get figure halved).
    const whole: CachedValue = { payload: value, metadata: { ct: this.#created[slot] as number, v: VALUE_VERSION } };
    this.#values[slot] = whole;
    this.#compact[slot] = 0;
    return whole;
  }

  /** See `FreshRead` (src/storage.ts): only compact entries, whose creation time is all their metadata. */
  fresh(key: string, now: number, expiration: number, oldest: number, newest: number): Promise<unknown> | typeof NOT_FRESH {
    const slot = this.#slots.get(key);
    if (slot === undefined || this.#compact[slot] === 0) return NOT_FRESH;
    // No clock read and no removal here (so nothing here can throw): without a reading (NaN), or past its
    // expiry, the entry is left to the region's general read, which removes it.
    if (this.#ttlMs > 0 && !(now < (this.#expiry[slot] as number))) return NOT_FRESH;
    const createdAt = this.#created[slot] as number;
    // The region's own tests, written the same way, so that a boundary falls on the same side.
    if (!(createdAt >= oldest && createdAt <= newest)) return NOT_FRESH;
    if (expiration !== Infinity && !(now / 1000 - createdAt <= expiration)) return NOT_FRESH;
    this.#use(slot);
    const cell = slot & (SETTLED_CELLS - 1);
    const owners = this.#settledSlot;
    if (owners !== null && owners[cell] === slot) return this.#settled[cell] as Promise<unknown>;
    return this.#settle(slot, cell);
  }

  /** A promise fulfilled with `slot`'s payload, kept in `cell` for the next hit unless the payload is a thenable. */
  #settle(slot: number, cell: number): Promise<unknown> {
    const payload = this.#values[slot];
    // A thenable payload is adopted by Promise.resolve on every read, as an async function's return would
    // adopt it; a promise of its outcome is never kept in its place.
    if (isThenable(payload)) return Promise.resolve(payload);
    const owners = (this.#settledSlot ??= new Int32Array(SETTLED_CELLS).fill(NONE));
    const settled = Promise.resolve(payload);
    owners[cell] = slot;
    this.#settled[cell] = settled;
    return settled;
  }

  /** Drops `slot`'s settled promise (see {@link EntryTable.#settled}): its entry changed or left. */
  #unsettle(slot: number): void {
    const owners = this.#settledSlot;
    const cell = slot & (SETTLED_CELLS - 1);
    if (owners !== null && owners[cell] === slot) {
      owners[cell] = NONE;
      this.#settled[cell] = undefined;
    }
  }

  lend(key: string, now: number): BackendResult {
    const slot = this.#find(key, now);
    if (slot === NONE) return NO_VALUE;
    const value = this.#values[slot];
    if (this.#compact[slot] === 0) return value as CachedValue;
    const lent = this.#lent;
    lent.payload = value;
    lent.metadata.ct = this.#created[slot] as number;
    return lent;
  }

  /** The slot of `key`'s live entry (counted as a use), or NONE; an expired entry is removed. */
  #find(key: string, now: number): number {
    const slot = this.#slots.get(key);
    if (slot === undefined) return NONE;
    // NaN is the only value unequal to itself: the caller did not read the clock.
    if (this.#ttlMs > 0 && (now === now ? now : this.#readClock()) >= (this.#expiry[slot] as number)) {
      this.#release(slot);
      return NONE;
    }
    this.#use(slot);
    return slot;
  }

  write(key: string, value: CachedValue, now: number, whole: boolean): void {
    const sizeOf = this.#sizeOf;
    let size = 0;
    if (sizeOf !== undefined) {
      size = sizeOf(value.payload, key);
      if (!(Number.isSafeInteger(size) && size > 0)) {
        throw new ValidationError(
          `DictionaryBackend size_calculation must return a positive integer; it returned ${describe(size)} for key "${key}". Round the size up and count an empty value as 1.`,
        );
      }
      // Too big on its own: not stored, as lru-cache does, and the key's old entry goes too (never an outdated read).
      if (size > this.#maxSize) {
        this.remove(key);
        return;
      }
    }
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#claim();
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
      this.#append(slot);
      if (sizeOf !== undefined) this.#totalSize += size;
    } else {
      // The old payload leaves the table: the lent value must not keep it alive (see #release).
      this.#lent.payload = undefined;
      // With neither a TTL nor a bound, an overwrite keeps its place, as in dogpile's dict (order is unused).
      if (this.#ordered && slot !== this.#tail) this.#toTail(slot);
      if (sizeOf !== undefined) this.#totalSize += size - (this.#sizes[slot] as number);
    }
    this.#unsettle(slot);
    if (this.#reads === READS_STAMP) this.#used[slot] = ++this.#uses;
    if (!whole && isCompact(value)) {
      this.#values[slot] = value.payload;
      this.#created[slot] = value.metadata.ct;
      this.#compact[slot] = 1;
    } else {
      this.#values[slot] = value;
      this.#compact[slot] = 0;
    }
    if (sizeOf !== undefined) this.#sizes[slot] = size;
    if (this.#ttlMs > 0) {
      this.#expiry[slot] = now + this.#ttlMs;
      this.#sweep(now);
    }
    if (this.#reads === READS_STAMP && (this.#slots.size > this.#stampedUpTo || 2 * this.#totalSize > this.#maxSize)) this.#orderByUse();
    if (this.#slots.size > this.#maxEntries) this.#release(this.#head);
    // The size check stops at an empty table too, so a bookkeeping slip could never spin here.
    if (sizeOf !== undefined) while (this.#totalSize > this.#maxSize && this.#head !== NONE) this.#release(this.#head);
  }

  remove(key: string): void {
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#release(slot);
  }

  clear(): void {
    this.#slots.clear();
    this.#keys = [];
    this.#values = [];
    this.#lent.payload = undefined;
    this.#settled = [];
    this.#settledSlot = null;
    this.#free = [];
    this.#head = this.#tail = NONE;
    this.#totalSize = 0;
    if (this.#lru) {
      this.#reads = READS_STAMP;
      if (this.#used.length !== this.#compact.length) this.#used = new Float64Array(this.#compact.length);
    }
    this.#uses = 0;
  }

  /** Counts a hit on `slot` as a use: under a bound it becomes the most recently used (see {@link EntryTable.#reads}). */
  #use(slot: number): void {
    const reads = this.#reads;
    if (reads === READS_STAMP) this.#used[slot] = ++this.#uses;
    else if (reads === READS_MOVE && slot !== this.#tail) this.#toTail(slot);
  }

  /**
   * Relinks the list from write order into order of use (the least recently used first), by each entry's
   * last use in `#used`, and makes hits move their entry from then on: the table is about to outgrow the
   * stamps (see {@link EntryTable.#reads}), or to evict.
   */
  #orderByUse(): void {
    const order = new Int32Array(this.#slots.size);
    let n = 0;
    for (let slot = this.#head; slot !== NONE; slot = this.#next[slot] as number) order[n++] = slot;
    const used = this.#used;
    const listed = order.subarray(0, n).sort((a, b) => (used[a] as number) - (used[b] as number));
    this.#head = this.#tail = NONE;
    for (const slot of listed) this.#append(slot);
    this.#reads = READS_MOVE;
    // Not read again until clear(); a large table would otherwise keep 8 bytes per slot for nothing.
    this.#used = new Float64Array(0);
  }

  /** Removes expired entries from the head; stops at the first live one (amortised O(1) per set). */
  #sweep(now: number): void {
    const expiry = this.#expiry;
    for (let head = this.#head; head !== NONE && (expiry[head] as number) <= now; head = this.#head) this.#release(head);
  }

  /** A free slot: the last one freed, else a new one past the end (growing the typed arrays if full). */
  #claim(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#keys.length;
    this.#keys.push(undefined);
    this.#values.push(undefined);
    if (slot === this.#prev.length) this.#grow();
    return slot;
  }

  /** Doubles the typed arrays, to at most one slot more than `maxEntries` (a set adds before it evicts). */
  #grow(): void {
    const length = Math.min(this.#prev.length * 2, this.#maxEntries + 1);
    const grown = (
      old: Float64Array | Int32Array | Uint8Array,
      Kind: Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor,
    ): never => {
      const bigger = new Kind(old.length === 0 ? 0 : length);
      bigger.set(old);
      return bigger as never;
    };
    this.#prev = grown(this.#prev, Int32Array);
    this.#next = grown(this.#next, Int32Array);
    this.#compact = grown(this.#compact, Uint8Array);
    this.#created = grown(this.#created, Float64Array);
    this.#expiry = grown(this.#expiry, Float64Array);
    this.#sizes = grown(this.#sizes, Float64Array);
    this.#used = grown(this.#used, Float64Array);
  }

  /**
   * Removes the entry in `slot` and frees the slot. The lent value lets go of its payload too: it would
   * otherwise keep the last payload a hit read alive after a delete, an eviction or an expiry, until the
   * next hit (a large value the application dropped from the cache, still not collectable).
   */
  #release(slot: number): void {
    this.#slots.delete(this.#keys[slot] as string);
    this.#unlink(slot);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#unsettle(slot);
    this.#lent.payload = undefined;
    if (this.#sizeOf !== undefined) this.#totalSize -= this.#sizes[slot] as number;
    this.#free.push(slot);
  }

  #append(slot: number): void {
    const tail = this.#tail;
    this.#prev[slot] = tail;
    this.#next[slot] = NONE;
    if (tail === NONE) this.#head = slot;
    else this.#next[tail] = slot;
    this.#tail = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot] as number;
    const next = this.#next[slot] as number;
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  /**
   * Moves `slot` (not the tail) to the tail: the most recently used, or the latest to expire. #unlink then
   * #append, written out for a bounded table's every hit: a slot that is not the tail has a next slot,
   * and the list then holds another slot, so the tail is never NONE here.
   */
  #toTail(slot: number): void {
    const prevs = this.#prev;
    const nexts = this.#next;
    const prev = prevs[slot] as number;
    const next = nexts[slot] as number;
    if (prev === NONE) this.#head = next;
    else nexts[prev] = next;
    prevs[next] = prev;
    const tail = this.#tail;
    prevs[slot] = tail;
    nexts[slot] = NONE;
    nexts[tail] = slot;
    this.#tail = slot;
  }
}

/**
 * Entries kept in a `Map` the caller gave (dogpile's `cache_dict`), which other backends or the caller
 * may change too: no TTL and no `maxSize` (refused with `cache_dict`), and `maxEntries` enforced on the
 * map's own insertion order (reads and writes move a key to the back with a delete and a set).
 */
class SharedMap implements Entries {
  readonly #map: Map<string, CachedValue>;
  readonly #maxEntries: number;
  // A persistent cursor over the map's insertion order. A fresh iterator per eviction would walk past
  // every deleted slot V8 keeps at the front of the map (quadratic at a million entries); this skips each once.
  #evictCursor: Iterator<string> | undefined;

  constructor(map: Map<string, CachedValue>, maxEntries: number) {
    this.#map = map;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  get calculatedSize(): number {
    return 0;
  }

  read(key: string): BackendResult {
    const value = this.#map.get(key);
    if (value === undefined) return NO_VALUE;
    if (this.#maxEntries !== Infinity) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The map's own CachedValue (the caller's, whom a lent copy would not protect). */
  lend(key: string): BackendResult {
    return this.read(key);
  }

  write(key: string, value: CachedValue): void {
    // Without a bound an overwrite keeps its place, as in dogpile's dict.
    if (this.#maxEntries !== Infinity) this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#maxEntries) this.#evictOldest();
  }

  remove(key: string): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#evictCursor = undefined;
  }

  /** Deletes the least recently used entry: the oldest in insertion order, since reads move entries to the back. */
  #evictOldest(): void {
    this.#evictCursor ??= this.#map.keys();
    let next = this.#evictCursor.next();
    if (next.done === true) {
      // A finished iterator stays finished: start over from the (now compacted) front.
      this.#evictCursor = this.#map.keys();
      next = this.#evictCursor.next();
    }
    if (next.done !== true) this.#map.delete(next.value);
  }
}

/**
 * In-process backend with oslo's semantics: argument `expiration_time` (default 0 = never expire),
 * expired entries read as misses. Unlike oslo, which scans the whole dict on every set, a set is O(1)
 * amortised: every entry gets the same time to live, so the order entries were written in is also expiry
 * order, and expired entries are removed from the oldest end. Registry names: `oslo_cache.dict`,
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
  /** Expiry times of writes: `clock`'s coarse readings for the system clock (src/clock.ts). */
  readonly #stampClock: Clock;
  readonly #entries: Entries;
  readonly #ownsEntries: boolean;
  readonly #clock: Clock;
  /** The declared store once decided (see {@link IN_PROCESS_STORE}'s getter); null until then. */
  #store: InProcessStore | undefined | null = null;

  constructor(args: BackendArguments = {}) {
    super();
    const reader = new ArgumentReader('DictionaryBackend', args);
    const ttlMs = reader.seconds('expirationTime', 0) * 1000;
    const maxEntries = reader.number('maxEntries', Infinity, { min: 1, integer: reader.has('maxEntries') });
    const clock = reader.func<Clock>('clock') ?? systemClock;
    const hot = hotClocks(clock);
    this.#stampClock = hot.stamp;
    const maxSize = reader.number('maxSize', Infinity, { min: 1, integer: reader.has('maxSize') });
    const sizeOf = reader.func<SizeOf>('sizeCalculation');
    if ((sizeOf === undefined) !== (maxSize === Infinity)) {
      throw new ValidationError(
        sizeOf === undefined
          ? "DictionaryBackend argument max_size needs size_calculation, a function (payload, key) => size giving each entry's size in the units of max_size."
          : 'DictionaryBackend argument size_calculation does nothing without max_size; give max_size (the largest total size) or drop size_calculation.',
      );
    }
    const cacheDict = reader.raw('cacheDict') ?? null;
    if (cacheDict !== null && !(cacheDict instanceof Map)) {
      throw new ValidationError(
        `DictionaryBackend argument cache_dict must be a Map of key -> CachedValue (dogpile's dict); got ${describe(cacheDict)}.`,
      );
    }
    if (cacheDict !== null && ttlMs > 0) {
      throw new ValidationError(
        "DictionaryBackend argument cache_dict cannot be combined with expiration_time; drop one (the region's expirationTime works with either).",
      );
    }
    if (cacheDict !== null && sizeOf !== undefined) {
      throw new ValidationError(
        'DictionaryBackend argument cache_dict cannot be combined with max_size: entries others add to or remove from a shared map have no known size; drop one (max_entries works with cache_dict).',
      );
    }
    this.#entries =
      cacheDict === null
        ? new EntryTable({ ttlMs, maxEntries, maxSize, sizeOf, readClock: hot.read })
        : new SharedMap(cacheDict as Map<string, CachedValue>, maxEntries);
    this.#ownsEntries = cacheDict === null;
    reader.finish();
    this.#clock = clock;
  }

  /**
   * The store {@link IN_PROCESS_STORE} declares, or undefined for a subclass whose override of `get`,
   * `getSync`, `getMulti` or `set` the region must call. Decided on first use (when a region is
   * configured), not in the constructor: a subclass's class-field overrides are set only after it.
   */
  #declaredStore(): InProcessStore | undefined {
    const own = DictionaryBackend.prototype;
    if (this.get !== own.get || this.getSync !== own.getSync || this.getMulti !== own.getMulti || this.set !== own.set) return undefined;
    const entries = this.#entries;
    const stamp = this.#stampClock;
    return {
      clock: this.#clock,
      read: (key, now) => entries.lend(key, now),
      ...(entries instanceof EntryTable
        ? {
            fresh: (key: string, now: number, expiration: number, oldest: number, newest: number) =>
              entries.fresh(key, now, expiration, oldest, newest),
          }
        : {}),
      // NaN is the only value unequal to itself: the caller did not read the clock.
      write: (key, value, now) => entries.write(key, value, now === now ? now : stamp(), false),
    };
  }

  /** Number of entries held, expired ones not yet removed included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    return this.#entries.read(key, NaN);
  }

  /**
   * A synchronous `get` (the contract's optional `CacheBackend.getSync`), for callers that want no
   * promise on an in-memory hit: a region whose backend is this one (unwrapped, no serializer) reads through it.
   */
  override getSync(key: string): BackendResult {
    assertKey(key);
    return this.#entries.read(key, NaN);
  }

  /**
   * The region's synchronous path (declared, see `IN_PROCESS_STORE`): reads and writes with no
   * promise and no second validation, since the region has already checked the key and built the value.
   * Not declared by a subclass that overrides `get`, `getSync`, `getMulti` or `set` (as a method or a
   * class field), whose override the region must call. Decided when first read, then kept.
   */
  get [IN_PROCESS_STORE](): InProcessStore | undefined {
    // Read by the region's configure: the place to say that a JavaScript Proxy cannot stand in for it.
    if (!(#store in this)) {
      throw new ValidationError(
        'A DictionaryBackend cannot be used through a JavaScript Proxy: its entries are private fields, which a Proxy cannot reach. Wrap it in a ProxyBackend instead (configure(backend, { wrap: [yourProxyBackend] })).',
      );
    }
    if (this.#store === null) this.#store = this.#declaredStore();
    return this.#store;
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    return keys.map((key) => this.#entries.read(key, NaN));
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
    this.#entries.write(key, value, this.#stampClock(), hasMoreThanPayloadAndMetadata(value));
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key, value] of entries) assertCachedValue(value, `mapping["${key}"]`);
    const now = this.#stampClock();
    for (const [key, value] of entries) this.#entries.write(key, value, now, hasMoreThanPayloadAndMetadata(value));
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#entries.remove(key);
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    for (const key of keys) this.#entries.remove(key);
  }

  /** Total size of the entries held under `maxSize` (in `sizeCalculation`'s units); 0 without `maxSize`. */
  get calculatedSize(): number {
    return this.#entries.calculatedSize;
  }

  /** Removes every entry. */
  override clear(): void {
    this.#entries.clear();
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
