/**
 * The dogpile algorithm (dogpile.cache's `lock.py`) over an async mutex. It knows nothing about
 * caches: it is given a way to read the current value with its creation time, a way to create a new
 * one, and a mutex.
 *
 * - A fresh value takes no lock.
 * - A stale value while someone else regenerates is returned at once (no thundering herd).
 * - With no value, every caller waits for the one creator, then re-reads.
 * - With an async creator (background refresh), a stale value is served and the runner owns the
 *   mutex until it has stored the new value.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CacheMutex, NonBlockingMutex } from './api.js';
import { LockReleaseError } from './errors.js';

/** Returned by a value reader when there is nothing usable: the caller must regenerate. */
export const NEED_REGENERATION: unique symbol = Symbol('NEED_REGENERATION');

/** A value and its creation time in epoch seconds (`ct <= 0` means "no value"). */
export type ValueAndCreated<T> = readonly [value: T, createdAt: number];

/** What a read gives the lock: the value and its creation time, or {@link NEED_REGENERATION} (dogpile's `_is_cache_miss`). */
export type ValueOrRegenerate<T> = ValueAndCreated<T> | typeof NEED_REGENERATION;

/** What {@link dogpileLock} needs. */
export interface DogpileLockOptions<T> {
  /** The lock that lets one caller regenerate. */
  mutex: CacheMutex;
  /** Creates and stores a new value. */
  creator: () => Promise<ValueAndCreated<T>>;
  /** Reads the current value, or {@link NEED_REGENERATION} when there is none. */
  valueAndCreated: () => Promise<ValueOrRegenerate<T>>;
  /** The result of a read the caller already made, so entering costs no second read. */
  initial?: ValueOrRegenerate<T>;
  /** Seconds a value stays fresh; `null` never expires. */
  expirationTime: number | null;
  /** Current time in epoch seconds. */
  now: () => number;
  /**
   * Takes over a held mutex to regenerate in the background; must release it when done. If it throws,
   * the mutex is released and the error propagates (dogpile's `Lock._enter_create`).
   */
  asyncCreator?: ((mutex: CacheMutex) => void) | undefined;
  /**
   * Hand a missing value to `asyncCreator` too, not only a stale one. dogpile's `get_or_create_multi`
   * does this (it reads a miss as "created at 0"), so the caller collects every mutex and then runs one
   * creator for all the keys.
   */
  handOffMissing?: boolean | undefined;
  /** Called when the caller has to wait for the mutex because another holds it (a stat). */
  onWait?: (() => void) | undefined;
  /** Called when a stale value is served because another caller regenerates (a stat). */
  onStale?: (() => void) | undefined;
  /** Stops waiting for the mutex (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
  /**
   * Re-read after taking the mutex for a stale value, and use the value if it is fresh by then.
   * dogpile does not (one read per entry): in one process the window is tiny. With a cross-process
   * mutex it is a network round trip wide, and a slower process would regenerate a second time.
   */
  recheckAfterAcquire?: boolean | undefined;
}

const NOT_REGENERATED: unique symbol = Symbol('NOT_REGENERATED');
const HANDED_OFF: unique symbol = Symbol('HANDED_OFF');

/**
 * Runs the dogpile algorithm once and returns the value the caller should use. With `handOffMissing`,
 * a missing value's mutex goes to `asyncCreator` and the result is `undefined`: the caller creates.
 *
 * @example
 * ```ts
 * import { dogpileLock, NEED_REGENERATION, type CacheMutex, type ValueAndCreated } from 'dogpile-cache/backend';
 * let stored: ValueAndCreated<string> | undefined;
 * let held = false;
 * const mutex: CacheMutex = { acquire: async () => !held && (held = true), release: async () => { held = false; }, locked: async () => held };
 * const value = await dogpileLock({
 *   mutex, expirationTime: 60, now: () => Date.now() / 1000,
 *   valueAndCreated: async () => stored ?? NEED_REGENERATION,
 *   creator: async () => (stored = ['fresh', Date.now() / 1000]),
 * }); // "fresh": created once, then read from `stored` for 60 s
 * ```
 */
export async function dogpileLock<T>(options: DogpileLockOptions<T>): Promise<T> {
  const initial = options.initial ?? (await options.valueAndCreated());
  const [value, createdAt]: readonly [T | typeof NOT_REGENERATED, number] = initial === NEED_REGENERATION ? [NOT_REGENERATED, -1] : initial;
  const generated = await enterCreate(options, value, createdAt);
  if (generated === HANDED_OFF) return (value === NOT_REGENERATED ? undefined : value) as T;
  if (generated !== NOT_REGENERATED) return generated[0];
  if (value === NOT_REGENERATED) {
    // We waited for a concurrent creator; its value must be there now.
    const reread = await options.valueAndCreated();
    if (reread === NEED_REGENERATION) {
      throw new Error('Generation function should have just been called by a concurrent caller.');
    }
    return reread[0];
  }
  return value as T;
}

/** What {@link dogpileLockMulti} needs. */
export interface DogpileLockMultiOptions<T> {
  /** The keys to run the lock for, in the order their mutexes are taken (sort them: two callers never deadlock). */
  keys: readonly string[];
  /** The mutex of a key. */
  mutex: (key: string) => CacheMutex;
  /** A key's value from the caller's one read of all the keys. */
  initial: (key: string) => ValueOrRegenerate<T>;
  /** Reads keys again, in one call, aligned with them. */
  reread: (keys: readonly string[]) => Promise<ValueOrRegenerate<T>[]>;
  /** Receives each mutex as soon as it is held; the caller releases what it still holds, also when this throws. */
  held: Map<string, CacheMutex>;
  /** Seconds a value stays fresh; `null` never expires. */
  expirationTime: number | null;
  /** Current time in epoch seconds. */
  now: () => number;
  /** Stops waiting for a mutex (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Called when a key's mutex is held by another caller and we wait for it (a stat). */
  onWait?: (() => void) | undefined;
  /** Called when a key's stale value is served because another caller regenerates it. */
  onStale?: ((key: string) => void) | undefined;
}

/**
 * The dogpile lock for many keys (dogpile's `get_or_create_multi`): {@link dogpileLock} runs once per key
 * and hands over the mutex of every key to regenerate (missing, or stale with the mutex free), so the
 * caller creates them all in one call. A key whose mutex another caller holds keeps its stale value.
 *
 * Where dogpile creates again every key it had to wait for, the keys locked once some mutex had to wait
 * are read again, in one call, and those fresh by then are released (their holder created them) and
 * returned. Keys locked before any wait were ours all along: the first read still holds for them.
 * @throws {LockReleaseError} when releasing those fresh keys failed (the others stay in `held`).
 */
export async function dogpileLockMulti<T>(options: DogpileLockMultiOptions<T>): Promise<Map<string, ValueAndCreated<T>>> {
  const { held, expirationTime, now } = options;
  const lockedAfterAWait: string[] = [];
  let waited = false;
  for (const key of options.keys) {
    const initial = options.initial(key);
    await dogpileLock<T>({
      mutex: options.mutex(key),
      initial,
      expirationTime,
      now,
      // The values come from the caller's one read: a key costs no backend call of its own.
      valueAndCreated: async () => initial,
      creator: () => Promise.reject(new Error('unreachable: every regeneration is handed off')),
      asyncCreator: (mutex) => {
        held.set(key, mutex);
        if (waited) lockedAfterAWait.push(key);
      },
      handOffMissing: true,
      signal: options.signal,
      onWait: () => {
        waited = true;
        options.onWait?.();
      },
      onStale: () => options.onStale?.(key),
    });
  }
  const fresh = new Map<string, ValueAndCreated<T>>();
  if (lockedAfterAWait.length === 0) return fresh;
  const reread = await options.reread(lockedAfterAWait);
  const released: Promise<void>[] = [];
  lockedAfterAWait.forEach((key, i) => {
    const value = reread[i];
    const mutex = held.get(key);
    if (value === undefined || value === NEED_REGENERATION || mutex === undefined || !isFresh(value[1], expirationTime, now)) return;
    fresh.set(key, value);
    released.push(mutex.release());
    held.delete(key);
  });
  await releaseAll(released);
  return fresh;
}

/** Settles every release; rejects with a {@link LockReleaseError} carrying all failures, if any. */
export async function releaseAll(releases: readonly Promise<void>[]): Promise<void> {
  const failures = (await Promise.allSettled(releases))
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r): unknown => r.reason);
  if (failures.length > 0) {
    throw new LockReleaseError(`Releasing ${failures.length} lock(s) failed; every other lock was released. See cause.errors.`, {
      cause: new AggregateError(failures, 'lock release failures'),
    });
  }
}

const hasValue = (createdAt: number): boolean => createdAt > 0;

/**
 * The expiry rule, in one place: a value created at `createdAt` (epoch seconds) is fresh while it is at
 * most `expirationTime` seconds old at `now()` (epoch seconds, read only when there is an expiration);
 * `expirationTime` null never expires.
 */
export function isFresh(createdAt: number, expirationTime: number | null, now: () => number): boolean {
  return expirationTime === null || now() - createdAt <= expirationTime;
}

function isExpired<T>(options: DogpileLockOptions<T>, createdAt: number): boolean {
  return !hasValue(createdAt) || !isFresh(createdAt, options.expirationTime, options.now);
}

async function enterCreate<T>(
  options: DogpileLockOptions<T>,
  value: T | typeof NOT_REGENERATED,
  createdAt: number,
): Promise<ValueAndCreated<T> | typeof NOT_REGENERATED | typeof HANDED_OFF> {
  if (!isExpired(options, createdAt)) return NOT_REGENERATED;
  const { mutex } = options;
  let haveValue = hasValue(createdAt);
  if (haveValue) {
    // Someone is already regenerating: serve the stale value instead of waiting.
    if (!(await mutex.acquire(false))) {
      options.onStale?.();
      return NOT_REGENERATED;
    }
  } else {
    options.signal?.throwIfAborted();
    // Try first, so `onWait` reports only a real wait (getOrCreateMulti re-reads exactly those keys).
    if (!(await mutex.acquire(false))) {
      options.onWait?.();
      await acquireUnlessAborted(mutex, options.signal);
    }
  }
  let handedOff = false;
  try {
    if (haveValue && options.recheckAfterAcquire === true) {
      const reread = await options.valueAndCreated();
      if (reread === NEED_REGENERATION) haveValue = false;
      else {
        [value, createdAt] = reread;
        if (!isExpired(options, createdAt)) return [value, createdAt];
      }
    }
    if (!haveValue) {
      const reread = await options.valueAndCreated();
      if (reread !== NEED_REGENERATION) {
        haveValue = true;
        [value, createdAt] = reread;
        if (!isExpired(options, createdAt)) return [value, createdAt];
      }
    }
    if (options.asyncCreator !== undefined && options.handOffMissing === true) {
      options.asyncCreator(mutex);
      handedOff = true;
      return HANDED_OFF;
    }
    if (haveValue && options.asyncCreator !== undefined && value !== NOT_REGENERATED) {
      options.onStale?.();
      // Set only once the runner accepted the mutex: a runner that throws has not taken it over.
      options.asyncCreator(mutex);
      handedOff = true;
      return [value, createdAt];
    }
    return await options.creator();
  } finally {
    if (!handedOff) await mutex.release();
  }
}

/**
 * `mutex.acquire(true)` that gives up when `signal` aborts. A lock granted after the caller gave up
 * is released at once, so an abandoned wait never leaves the key locked.
 */
export function acquireUnlessAborted(mutex: CacheMutex, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal === undefined) return mutex.acquire(true);
  signal.throwIfAborted();
  // Mutexes that honour the signal (in-process and layered ones do) let a caller who gave up leave their
  // queue at once and never contend on the server; for the others, the race below does it.
  const acquiring = mutex.acquire(true, signal);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      acquiring.then((granted) => (granted ? mutex.release() : undefined)).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    acquiring.then(
      (granted) => {
        signal.removeEventListener('abort', onAbort);
        if (!signal.aborted) resolve(granted);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Settles like `promise`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An in-process async mutex; waiters are served in arrival order. */
class AsyncMutex implements CacheMutex {
  #held = false;
  /** A Set keeps arrival order and lets an aborted waiter leave the queue at once (no leak while the holder hangs). */
  readonly #waiters = new Set<() => void>();
  readonly #owner: KeyedMutexes;
  readonly #onIdle: () => void;

  constructor(owner: KeyedMutexes, onIdle: () => void) {
    this.#owner = owner;
    this.#onIdle = onIdle;
  }

  /** With `signal`: a waiter that gives up leaves the queue and resolves false. */
  acquire(wait = true, signal?: AbortSignal): Promise<boolean> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(true);
    }
    if (!wait || signal?.aborted === true) return Promise.resolve(false);
    // Ownership is handed over directly on release, so no one can slip in between.
    return new Promise((resolve) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        if (!this.#waiters.delete(grant)) return;
        this.#owner.waiting--;
        resolve(false);
        if (!this.#held && this.#waiters.size === 0) this.#onIdle();
      };
      this.#waiters.add(grant);
      this.#owner.waiting++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): Promise<void> {
    // Releasing a mutex nobody holds does nothing (a background runner may release late).
    if (!this.#held) return Promise.resolve();
    const next = this.#waiters.values().next();
    if (next.done !== true) {
      this.#waiters.delete(next.value);
      this.#owner.waiting--;
      next.value();
    } else {
      this.#held = false;
      this.#onIdle();
    }
    return Promise.resolve();
  }

  locked(): Promise<boolean> {
    return Promise.resolve(this.#held);
  }

  get idle(): boolean {
    return !this.#held && this.#waiters.size === 0;
  }
}

/**
 * One {@link AsyncMutex} per key, kept only while held or awaited (dogpile's weak `NameRegistry`),
 * so a cache with millions of keys holds mutexes only for the keys being regenerated.
 */
export class KeyedMutexes {
  readonly #mutexes = new Map<string, AsyncMutex>();
  /** Callers queued on any of these mutexes right now (a gauge: an aborted waiter leaves at once). */
  waiting = 0;

  /** The mutex for `key`. Its `acquire(wait, signal)` takes an optional AbortSignal. */
  get(key: string): CacheMutex {
    let mutex = this.#mutexes.get(key);
    if (mutex === undefined) {
      const created: AsyncMutex = new AsyncMutex(this, () => {
        if (this.#mutexes.get(key) === created && created.idle) this.#mutexes.delete(key);
      });
      mutex = created;
      this.#mutexes.set(key, mutex);
    }
    return mutex;
  }

  /** True while the key's mutex is held. */
  isLocked(key: string): boolean {
    return this.#mutexes.get(key)?.idle === false;
  }

  /** Number of keys with a live mutex (held or awaited). */
  get size(): number {
    return this.#mutexes.size;
  }
}

/**
 * A backend mutex guarded by an in-process one: callers in this process queue locally, so only one
 * of them at a time contends for the cross-process lock on the server.
 */
export class LayeredMutex implements CacheMutex {
  readonly #local: CacheMutex;
  readonly #remote: CacheMutex;

  constructor(local: CacheMutex, remote: CacheMutex) {
    this.#local = local;
    this.#remote = remote;
  }

  /** With `signal`: a caller that gave up while queued locally releases the local lock without taking the remote one. */
  async acquire(wait = true, signal?: AbortSignal): Promise<boolean> {
    if (!(await this.#local.acquire(wait, signal))) return false;
    if (signal?.aborted === true) {
      await this.#local.release();
      return false;
    }
    try {
      if (await this.#remote.acquire(wait, signal)) return true;
    } catch (error) {
      await this.#local.release();
      throw error;
    }
    await this.#local.release();
    return false;
  }

  async release(): Promise<void> {
    try {
      await this.#remote.release();
    } finally {
      await this.#local.release();
    }
  }

  locked(): Promise<boolean> {
    return this.#remote.locked();
  }
}

/** The locks the current async context holds while its creator runs (a linked list: creators nest). */
interface HeldLocks {
  readonly owner: object;
  readonly keys: readonly string[];
  readonly parent: HeldLocks | undefined;
  /** False once the creator settled: work it left running (a detached promise) no longer holds its locks. */
  running: boolean;
}

const heldLocks = new AsyncLocalStorage<HeldLocks>();
/** Creators started by {@link runHoldingLocks} that have not settled yet. */
let creatorsRunning = 0;

function creatorSettled(): void {
  creatorsRunning -= 1;
  // Until Node 24, a used AsyncLocalStorage keeps promise hooks on in the whole process, which made every
  // `await` anywhere in it about twice as slow (a region.get hit: 127 -> 250 ns). With no creator running
  // nothing needs the record, so the hooks go (unless another AsyncLocalStorage wants them); the next
  // creator's run() turns them back on.
  if (creatorsRunning === 0) heldLocks.disable();
}

/**
 * Runs `fn` (a creator) recording that this async context holds the locks of `keys` in `owner` (a
 * region), so that {@link holdsLock} can detect a creator waiting on its own lock. Only the miss path
 * calls this, and only while a creator runs does the record exist.
 */
export function runHoldingLocks<R>(owner: object, keys: readonly string[], fn: () => Promise<R>): Promise<R> {
  const held: HeldLocks = { owner, keys, parent: heldLocks.getStore(), running: true };
  const settled = (): void => {
    held.running = false;
    creatorSettled();
  };
  creatorsRunning += 1;
  let running: Promise<R>;
  try {
    running = heldLocks.run(held, fn);
  } catch (error) {
    settled();
    throw error;
  }
  return running.finally(settled);
}

/**
 * True when the current async context (a creator, or anything it called) holds `owner`'s lock on
 * `key`: waiting for that lock would wait for ourselves, forever.
 */
export function holdsLock(owner: object, key: string): boolean {
  for (let held = heldLocks.getStore(); held !== undefined; held = held.parent) {
    if (held.running && held.owner === owner && held.keys.includes(key)) return true;
  }
  return false;
}

export type { NonBlockingMutex } from './api.js';

/**
 * True when `mutex` declares that it never blocks (the contract's `CacheMutex.neverBlocks`, see
 * {@link NonBlockingMutex}); the same as reading `mutex?.neverBlocks === true`. The package root exports it.
 *
 * @example
 * ```ts
 * import { neverBlocks } from 'dogpile-cache/backend';
 * import { NullBackend } from 'dogpile-cache/backends/null';
 * import { DictionaryBackend } from 'dogpile-cache/backends/dictionary';
 * neverBlocks(new NullBackend().getMutex('k')); // true: the region runs every caller's creator
 * neverBlocks(new DictionaryBackend().getMutex('k')); // false (no mutex: the region locks in-process)
 * ```
 */
export function neverBlocks(mutex: CacheMutex | null): mutex is NonBlockingMutex {
  return mutex?.neverBlocks === true;
}
