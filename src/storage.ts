/**
 * The region's storage path: how a `CacheRegion` moves {@link CachedValue}s to and from its backend.
 * Two modes, chosen by the region's serializer alone, never by guessing what the backend is:
 *
 * - **values** (no serializer): `get`/`getMulti`/`set`/`setMulti` of `CachedValue` objects, kept by
 *   reference in memory. A backend that declares an {@link InProcessStore} (or the contract's `getSync`),
 *   and is not wrapped by a proxy, serves reads (and, with the former, writes) synchronously: an
 *   in-memory hit costs no promise.
 * - A backend that declares {@link LocalCopies} (the local tier, outermost) serves the copies it holds
 *   synchronously in either mode: over bytes, the region's decoding of the kept bytes, so a local hit
 *   costs no parse either.
 * - **bytes** (a serializer): the `*Serialized` methods with dogpile's bytes
 *   `JSON(metadata) + "|" + serializer(payload)`. A store of bytes implements them; a store of values
 *   keeps the payload bytes through the contract's defaults (dogpile's `memory_pickle`).
 *
 * Every backend call runs under the region's guard (its error policy and in-flight count); an
 * unreadable entry is a miss, reported as corrupt, whatever the policy.
 *
 * @module
 */
import type { CacheBackend, CachedValue, CachedValueMetadata } from './api.js';
import type { Clock } from './clock.js';
import { SerializationError, isDogpileCacheError } from './errors.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import { buildSerialized, parseSerialized, type Serializer } from './serializers.js';

/**
 * The metadata of the bytes regions wrote, by Buffer, with the offset of the `|` before the payload. A
 * store that keeps the Buffer and hands the same one back (any in-memory store, through the contract's
 * defaults too) is then read without parsing the metadata JSON again, which cost as much as the rest of an
 * in-memory hit; bytes from a server are new Buffers, never found here. Regions never mutate the bytes.
 */
const written = new WeakMap<Buffer, { readonly metadata: CachedValueMetadata; readonly bar: number }>();

const PIPE = 0x7c;

/** dogpile's bytes for `value`, remembered in {@link written}. */
function encode(value: CachedValue, serializer: Serializer): Buffer {
  const bytes = buildSerialized(value, serializer);
  written.set(bytes, { metadata: value.metadata, bar: bytes.indexOf(PIPE) });
  return bytes;
}

/**
 * Runs one backend call under the region's error policy: `onMiss` stands for the result when the
 * policy turns a failure into a miss. With `reading`, a {@link SerializationError} is corrupt data: a miss.
 */
export type BackendGuard = <R>(operation: string, call: () => Promise<R>, onMiss: R, reading?: boolean) => Promise<R>;

/**
 * The same error policy for a synchronous call that threw `error`: returns `onMiss` when the policy turns
 * the failure into a miss (with `reading`, a {@link SerializationError} always does), or throws. The
 * synchronous reads and writes go through it, so a backend fails the same way on either path.
 */
export type SyncFailure = <R>(operation: string, error: unknown, onMiss: R, reading?: boolean) => R;

/**
 * A synchronous read of one entry (an {@link InProcessStore}'s, a {@link LocalCopies}' or the contract's
 * `CacheBackend.getSync`). `now`: a reading of the store's clock taken by the caller, or NaN to let the
 * store read it if it must. `undefined`: this process holds no copy; read through `RegionStorage.read`.
 * The CachedValue may be lent (see {@link InProcessStore.read}): read it at once, copy it to keep it.
 */
export type SyncRead = (key: string, now: number) => CachedValue | NoValue | undefined;

/**
 * What a {@link FreshRead} answers for an entry it cannot vouch for: absent, expired, invalidated, or
 * one it keeps with more than a creation time (an entry TTL, tags). The region then reads it the general
 * way, which decides (and counts) the miss.
 */
export const NOT_FRESH: unique symbol = Symbol('dogpile-cache.notFresh') as never;

/**
 * A promise fulfilled with the payload of `key`'s entry when the store can tell on its own that it is
 * fresh for the region: live in the store, created at or after `oldest` and at or before `newest` (epoch
 * seconds), and, unless `expiration` is Infinity, `now / 1000 - created <= expiration` (seconds; `now` as
 * in {@link SyncRead}, never NaN when `expiration` is finite). Anything else is {@link NOT_FRESH}, as is
 * an entry whose store expiry needs a clock reading when `now` is NaN. Counted as a use of the entry (an
 * LRU bound keeps it), as a hit. Never throws and never reads a clock: whatever could (an expired entry's
 * removal, the store's own clock) is left to the general read. The region returns the promise as it is,
 * so a store may hand out the same settled promise for every hit on an unchanged entry.
 */
export type FreshRead = (
  key: string,
  now: number,
  expiration: number,
  oldest: number,
  newest: number,
) => Promise<unknown> | typeof NOT_FRESH;

/**
 * True when `value` has a callable `then`: a promise, or any thenable that `Promise.resolve` adopts. A
 * store that keeps a settled promise of a payload for later hits (see {@link FreshRead}) keeps none of a
 * thenable, which every read adopts anew, as an `async` function returning it would. Never throws: a
 * `then` getter that throws (or a proxy's trap) counts as a thenable, so every read rejects with its
 * error, as `Promise.resolve` of it does on the region's general read.
 */
export function isThenable(value: unknown): boolean {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return true;
  }
}

/**
 * The backend's `getSync` (the contract's optional synchronous read), bound, or null: none, or one that a
 * subclass's `get` overrides (a method or a class field defined below the class that defines `getSync`).
 * That inherited `getSync` knows nothing of the override, and the region must call the override.
 */
function syncGetOf(backend: CacheBackend): SyncRead | null {
  const getSync = backend.getSync;
  if (getSync === undefined) return null;
  for (let owner: object | null = backend; owner !== null; owner = Object.getPrototypeOf(owner) as object | null) {
    if (Object.hasOwn(owner, 'getSync')) break;
    if (Object.hasOwn(owner, 'get')) return null;
  }
  return getSync.bind(backend);
}

/** A synchronous write of one entry, already validated by the region; `now` as in {@link SyncRead}. */
export type SyncWrite = (key: string, value: CachedValue, now: number) => void;

/**
 * The key under which a backend declares {@link InProcessStore}: it keeps values in this process and
 * serves the region's values mode synchronously. Declared by the backend, never guessed from its methods;
 * a proxy does not declare it, so a wrapped backend goes through its proxies. `Symbol.for`, so the ESM
 * and CJS builds agree on it.
 */
export const IN_PROCESS_STORE: unique symbol = Symbol.for('dogpile-cache.inProcessStore') as never;

/**
 * The synchronous path of an in-process backend, for a region's hit path, `getMulti` and `set`: no promise
 * per key, and no second validation (the region has checked the key and built the value). Neither call may block; a
 * failure meets the region's error policy as the same failure of `get` or `set` would.
 */
export interface InProcessStore {
  /**
   * The store's time source. A region whose clock is the same function reads it once per call and
   * passes the reading on, instead of both reading it (a clock read costs as much as the map lookup).
   */
  readonly clock: Clock;
  /**
   * The entry for `key` (a valid key), or NO_VALUE; `now` is a reading of `clock`, or NaN. The
   * CachedValue may be lent: the store may refill that same object on its next read, so a hit allocates
   * nothing. The caller reads the payload and metadata it needs at once, before any other code runs, and
   * copies it to keep it.
   */
  read(key: string, now: number): CachedValue | NoValue;
  /** Stores `value` (a CachedValue the region built) under `key` (a valid key); `now` as in `read`. */
  write(key: string, value: CachedValue, now: number): void;
  /**
   * The region's fastest hit: a promise of the payload alone when the store can judge the entry fresh
   * itself, so that no CachedValue is read or lent (optional; see {@link FreshRead}).
   */
  readonly fresh?: FreshRead;
}

/**
 * The key under which a backend declares {@link LocalCopies}: it keeps copies of some entries in this
 * process in front of a remote store (the local tier), and the region reads those synchronously.
 * Declared, never guessed; only the outermost backend's declaration counts, since a proxy outside it
 * must see every call. `Symbol.for`, as {@link IN_PROCESS_STORE}.
 */
export const LOCAL_COPIES: unique symbol = Symbol.for('dogpile-cache.localCopies') as never;

/**
 * Copies of some entries held in this process (the local tier), read by the region's hit path with no
 * promise and no network; every other read goes through the backend as usual. No call may block; a
 * failed read meets the region's error policy as a failed `get` of the backend would.
 */
export interface LocalCopies {
  /**
   * Whether a region may keep its decoding of kept bytes and serve that one object to every later hit
   * ({@link LocalCopies.read} / {@link LocalCopies.decoded}). When false, a region with a serializer
   * decodes {@link LocalCopies.bytes} on each hit instead, so every caller gets its own copy.
   */
  readonly sharesDecoded: boolean;
  /**
   * The live local copy of `key` (a valid backend key) as a `CachedValue`, counted as a local hit, or
   * undefined when there is none to serve synchronously: no copy, an expired one, or kept bytes that
   * `decoder` has not decoded ({@link LocalCopies.decoded}). The region then reads through the backend.
   */
  read(key: string, decoder: object): CachedValue | undefined;
  /**
   * The live local copy of `key` as the stored bytes (counted as a local hit), or undefined when there
   * is none (no copy, an expired one, or a copy kept as a value). The caller decodes them itself.
   */
  bytes(key: string): Buffer | undefined;
  /**
   * `decoder`'s decoding of `bytes`, which this backend's `getSerialized(key)` has just returned: kept
   * beside the copy when the copy is still those very bytes and {@link LocalCopies.sharesDecoded} is
   * true (ignored otherwise), and served to reads by the same decoder only (a region whose serializer
   * changed decodes again). Every such hit returns this same object, as a Dictionary hit does.
   */
  decoded(key: string, bytes: Buffer, value: CachedValue, decoder: object): void;
  /**
   * The region's fastest hit on a local copy (optional): a {@link FreshRead} for the copies
   * {@link LocalCopies.read} would serve to `decoder`, made once per decoder. Its `now` is a reading of
   * {@link LocalCopies.clock} (a region with another clock does not use it), or NaN, and then the copies
   * read their clock themselves for their local TTL. A copy it cannot vouch for (none, not decoded by
   * `decoder`, past its local TTL, an entry TTL, tags, another version) is {@link NOT_FRESH}, left to `read`.
   */
  freshFor?(decoder: object): FreshRead;
  /**
   * The clock the copies' local TTL is judged by: a region whose clock is this one may use
   * {@link LocalCopies.freshFor} (without it, none does).
   */
  readonly clock?: Clock;
}

/** A backend that declares an {@link InProcessStore} or {@link LocalCopies}. */
interface DeclaresInProcessStore {
  readonly [IN_PROCESS_STORE]?: InProcessStore;
  readonly [LOCAL_COPIES]?: LocalCopies;
}

/** The region's reads and writes of backend keys (already mangled). */
export interface RegionStorage {
  /**
   * The synchronous read for the hit path, or null when reads go through {@link RegionStorage.read}
   * (as do the reads it answers with undefined).
   */
  readonly readSync: SyncRead | null;
  /**
   * The store's own freshness check for the hit path (see {@link FreshRead}), or null. It never throws:
   * what could fail (a clock reading, a removal) is left to the general read that follows.
   */
  readonly readFresh: FreshRead | null;
  /**
   * The clock whose readings {@link RegionStorage.readFresh} judges the store's own expiry by: a region
   * with another clock does not use it (null: any region may).
   */
  readonly freshClock: Clock | null;
  /** The synchronous write for `set`, or null when writes go through {@link RegionStorage.write}. */
  readonly writeSync: SyncWrite | null;
  /** The clock whose readings {@link RegionStorage.readSync} and `writeSync` take, or null when they take none. */
  readonly syncClock: Clock | null;
  /** Reads one entry; a failure follows the guard's policy, an unreadable entry is a miss. */
  read(key: string): Promise<CachedValue | NoValue>;
  /** Reads many entries, aligned with `keys`; one unreadable entry costs only its own value. */
  readMulti(keys: readonly string[]): Promise<(CachedValue | NoValue)[]>;
  /** Stores one entry. @throws {SerializationError} when the serializer cannot encode the payload. */
  write(key: string, value: CachedValue): Promise<void>;
  /** Stores many entries in one backend call. @throws {SerializationError} as {@link RegionStorage.write}. */
  writeMulti(values: ReadonlyMap<string, CachedValue>): Promise<void>;
}

/**
 * The storage path for `backend` (the outermost proxy when wrapped): bytes with a serializer, values
 * without. `guard` runs the promise calls under the region's error policy and `failed` applies it to the
 * synchronous ones; `onCorrupt` hears of each entry the serializer could not read (then a miss).
 */
export function regionStorage(
  backend: CacheBackend,
  serializer: Serializer | null,
  guard: BackendGuard,
  failed: SyncFailure,
  onCorrupt: (error: unknown) => void,
): RegionStorage {
  return serializer === null ? new ValueStorage(backend, guard, failed) : new ByteStorage(backend, serializer, guard, failed, onCorrupt);
}

/** `read` with the region's error policy on its failures: a failed synchronous read is a failed `get`. */
function guardedRead(read: SyncRead, failed: SyncFailure): SyncRead {
  return (key, now) => {
    try {
      return read(key, now);
    } catch (error) {
      return failed('get', error, NO_VALUE, true);
    }
  };
}

/** `write` with the region's error policy on its failures: a failed synchronous write is a failed `set`. */
function guardedWrite(write: SyncWrite, failed: SyncFailure): SyncWrite {
  return (key, value, now) => {
    try {
      write(key, value, now);
    } catch (error) {
      failed('set', error, undefined);
    }
  };
}

/** A CachedValue of the caller's own for one that may be lent (see {@link InProcessStore.read}). */
function ownCopy(value: CachedValue | NoValue): CachedValue | NoValue {
  return isNoValue(value) ? value : { payload: value.payload, metadata: { ...value.metadata } };
}

/** `copies`' {@link LocalCopies.freshFor} the copies `decoder` reads, or null when they declare none. */
function freshCopies(copies: LocalCopies, decoder: object): FreshRead | null {
  return copies.freshFor === undefined || copies.clock === undefined ? null : copies.freshFor(decoder);
}

/** The {@link LocalCopies} the backend declares, as a {@link SyncRead}, or null. */
function localCopiesOf(backend: CacheBackend): LocalCopies | null {
  return (backend as DeclaresInProcessStore)[LOCAL_COPIES] ?? null;
}

class ValueStorage implements RegionStorage {
  readonly readSync: SyncRead | null;
  readonly readFresh: FreshRead | null;
  readonly freshClock: Clock | null;
  readonly writeSync: SyncWrite | null;
  readonly syncClock: Clock | null;
  readonly #backend: CacheBackend;
  readonly #guard: BackendGuard;
  readonly #store: InProcessStore | undefined;

  constructor(backend: CacheBackend, guard: BackendGuard, failed: SyncFailure) {
    this.#backend = backend;
    this.#guard = guard;
    const store = (backend as DeclaresInProcessStore)[IN_PROCESS_STORE];
    this.#store = store;
    const copies = localCopiesOf(backend);
    const read: SyncRead | null = store !== undefined ? store.read : copies !== null ? (key) => copies.read(key, this) : syncGetOf(backend);
    this.readSync = read === null ? null : guardedRead(read, failed);
    this.readFresh = store?.fresh ?? (copies === null ? null : freshCopies(copies, this));
    this.freshClock = store !== undefined ? store.clock : (copies?.clock ?? null);
    this.writeSync = store !== undefined ? guardedWrite(store.write, failed) : null;
    this.syncClock = store !== undefined ? store.clock : null;
  }

  read(key: string): Promise<CachedValue | NoValue> {
    return this.#guard('get', () => this.#backend.get(key), NO_VALUE, true);
  }

  readMulti(keys: readonly string[]): Promise<(CachedValue | NoValue)[]> {
    const store = this.#store;
    if (store !== undefined) {
      // Through the store's own read, as the hit path does, so a compact Dictionary entry stays compact
      // (its backend getMulti would keep it whole); each value copied, since it may be lent and the
      // region keeps these past awaits.
      const readOne = (key: string): CachedValue | NoValue => ownCopy(store.read(key, NaN));
      return readEach(
        keys,
        this.#guard,
        async (all) => all.map(readOne),
        (key) => this.#guard('get', async () => readOne(key), NO_VALUE, true),
      );
    }
    return readEach(
      keys,
      this.#guard,
      (all) => this.#backend.getMulti(all),
      (key) => this.read(key),
    );
  }

  write(key: string, value: CachedValue): Promise<void> {
    return this.#guard('set', () => this.#backend.set(key, value), undefined);
  }

  writeMulti(values: ReadonlyMap<string, CachedValue>): Promise<void> {
    return this.#guard('setMulti', () => this.#backend.setMulti(values), undefined);
  }
}

class ByteStorage implements RegionStorage {
  readonly readSync: SyncRead | null;
  readonly readFresh: FreshRead | null;
  readonly freshClock: Clock | null;
  readonly writeSync = null;
  readonly syncClock = null;
  readonly #backend: CacheBackend;
  readonly #serializer: Serializer;
  readonly #guard: BackendGuard;
  readonly #onCorrupt: (error: unknown) => void;
  readonly #failed: SyncFailure;
  readonly #copies: LocalCopies | null;

  constructor(
    backend: CacheBackend,
    serializer: Serializer,
    guard: BackendGuard,
    failed: SyncFailure,
    onCorrupt: (error: unknown) => void,
  ) {
    this.#backend = backend;
    this.#serializer = serializer;
    this.#guard = guard;
    this.#onCorrupt = onCorrupt;
    this.#failed = failed;
    const copies = localCopiesOf(backend);
    // Only copies that share decodings are told of ours (the others parse their bytes on each hit).
    this.#copies = copies?.sharesDecoded === true ? copies : null;
    // This storage (one per serializer) is the decoder: a decoding by another serializer is never served.
    this.readFresh = this.#copies === null ? null : freshCopies(this.#copies, this);
    this.freshClock = this.#copies?.clock ?? null;
    this.readSync =
      copies === null
        ? null
        : guardedRead(
            copies.sharesDecoded
              ? (key) => copies.read(key, this)
              : (key) => {
                  // Each hit decodes the kept bytes: every caller its own copy, as without the tier.
                  const bytes = copies.bytes(key);
                  return bytes === undefined ? undefined : this.#parse(bytes);
                },
            failed,
          );
  }

  async read(key: string): Promise<CachedValue | NoValue> {
    const bytes = await this.#readBytes(key);
    const value = this.#parse(bytes);
    // Local copies that share decodings keep ours, so their next hits cost no parse (and no promise).
    if (this.#copies !== null && !isNoValue(value)) {
      try {
        this.#copies.decoded(key, bytes as Buffer, value, this);
      } catch (error) {
        // Part of this read: the policy decides (under "miss" the value read is still the answer).
        this.#failed('get', error, undefined);
      }
    }
    return value;
  }

  async readMulti(keys: readonly string[]): Promise<(CachedValue | NoValue)[]> {
    const raw = await readEach(
      keys,
      this.#guard,
      (all) => this.#backend.getSerializedMulti(all),
      (key) => this.#readBytes(key),
    );
    return raw.map((bytes) => this.#parse(bytes));
  }

  write(key: string, value: CachedValue): Promise<void> {
    // Encoded before the guard: an unserializable value is the caller's error under every policy.
    const bytes = encode(value, this.#serializer);
    return this.#guard('set', () => this.#backend.setSerialized(key, bytes), undefined);
  }

  writeMulti(values: ReadonlyMap<string, CachedValue>): Promise<void> {
    const bytes = new Map<string, Buffer>();
    for (const [key, value] of values) bytes.set(key, encode(value, this.#serializer));
    return this.#guard('setMulti', () => this.#backend.setSerializedMulti(bytes), undefined);
  }

  #readBytes(key: string): Promise<Buffer | NoValue> {
    return this.#guard('get', () => this.#backend.getSerialized(key), NO_VALUE, true);
  }

  /** Unreadable bytes (another serializer, corruption) are a miss, so the value is regenerated. */
  #parse(bytes: Buffer | NoValue): CachedValue | NoValue {
    if (isNoValue(bytes)) return NO_VALUE;
    try {
      const known = written.get(bytes);
      if (known !== undefined) return { payload: this.#serializer.deserialize(bytes.subarray(known.bar + 1)), metadata: known.metadata };
      return parseSerialized(bytes, this.#serializer);
    } catch (error) {
      this.#onCorrupt(error);
      return NO_VALUE;
    }
  }
}

/**
 * `many(keys)` under the guard. When one corrupt entry fails the whole call (a backend that decodes
 * entries itself throws {@link SerializationError}), the keys are read one by one with `one`, so the
 * good ones are kept and each corrupt one is a miss of its own.
 */
async function readEach<V>(
  keys: readonly string[],
  guard: BackendGuard,
  many: (keys: readonly string[]) => Promise<(V | NoValue)[]>,
  one: (key: string) => Promise<V | NoValue>,
): Promise<(V | NoValue)[]> {
  const CORRUPT = null;
  const values = await guard<(V | NoValue)[] | null>(
    'getMulti',
    async () => {
      try {
        return await many(keys);
      } catch (error) {
        if (isDogpileCacheError(error, SerializationError.code)) return CORRUPT;
        throw error;
      }
    },
    keys.map(() => NO_VALUE),
  );
  return values ?? Promise.all(keys.map(one));
}
