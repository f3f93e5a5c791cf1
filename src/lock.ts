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
import type { CacheMutex } from './api.js';

/** Returned by a value reader when there is nothing usable: the caller must regenerate. */
export const NEED_REGENERATION: unique symbol = Symbol('NEED_REGENERATION');

/** A value and its creation time in epoch seconds (`ct <= 0` means "no value"). */
export type ValueAndCreated<T> = readonly [value: T, createdAt: number];

/** What {@link dogpileLock} needs. */
export interface DogpileLockOptions<T> {
  /** The lock that lets one caller regenerate. */
  mutex: CacheMutex;
  /** Creates and stores a new value. */
  creator: () => Promise<ValueAndCreated<T>>;
  /** Reads the current value, or {@link NEED_REGENERATION} when there is none. */
  valueAndCreated: () => Promise<ValueAndCreated<T> | typeof NEED_REGENERATION>;
  /** The result of a read the caller already made, so entering costs no second read. */
  initial?: ValueAndCreated<T> | typeof NEED_REGENERATION;
  /** Seconds a value stays fresh; `null` never expires. */
  expireTime: number | null;
  /** Current time in epoch seconds. */
  now: () => number;
  /** Takes over a held mutex to regenerate in the background; must release it when done. */
  asyncCreator?: ((mutex: CacheMutex) => void) | undefined;
  /** Called when the caller has to wait for the mutex (a stat). */
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

/** Runs the dogpile algorithm once and returns the value the caller should use. */
export async function dogpileLock<T>(options: DogpileLockOptions<T>): Promise<T> {
  const initial = options.initial ?? (await options.valueAndCreated());
  const [value, createdAt]: readonly [T | typeof NOT_REGENERATED, number] = initial === NEED_REGENERATION ? [NOT_REGENERATED, -1] : initial;
  const generated = await enterCreate(options, value, createdAt);
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

const hasValue = (createdAt: number): boolean => createdAt > 0;

function isExpired<T>(options: DogpileLockOptions<T>, createdAt: number): boolean {
  return !hasValue(createdAt) || (options.expireTime !== null && options.now() - createdAt > options.expireTime);
}

async function enterCreate<T>(
  options: DogpileLockOptions<T>,
  value: T | typeof NOT_REGENERATED,
  createdAt: number,
): Promise<ValueAndCreated<T> | typeof NOT_REGENERATED> {
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
    options.onWait?.();
    await acquireUnlessAborted(mutex, options.signal);
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
    if (haveValue && options.asyncCreator !== undefined && value !== NOT_REGENERATED) {
      handedOff = true;
      options.onStale?.();
      options.asyncCreator(mutex);
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
  // A LayeredMutex takes the signal too, so a caller who gave up never contends on the server.
  const acquiring = (mutex.acquire as (wait: boolean, signal?: AbortSignal) => Promise<boolean>).call(mutex, true, signal);
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
  readonly #waiters: (() => void)[] = [];
  readonly #onIdle: () => void;

  constructor(onIdle: () => void) {
    this.#onIdle = onIdle;
  }

  acquire(wait = true): Promise<boolean> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(true);
    }
    if (!wait) return Promise.resolve(false);
    // Ownership is handed over directly on release, so no one can slip in between.
    return new Promise((resolve) => this.#waiters.push(() => resolve(true)));
  }

  release(): Promise<void> {
    // Releasing a mutex nobody holds does nothing (a background runner may release late).
    if (!this.#held) return Promise.resolve();
    const next = this.#waiters.shift();
    if (next) next();
    else {
      this.#held = false;
      this.#onIdle();
    }
    return Promise.resolve();
  }

  locked(): Promise<boolean> {
    return Promise.resolve(this.#held);
  }

  get idle(): boolean {
    return !this.#held && this.#waiters.length === 0;
  }
}

/**
 * One {@link AsyncMutex} per key, kept only while held or awaited (dogpile's weak `NameRegistry`),
 * so a cache with millions of keys holds mutexes only for the keys being regenerated.
 */
export class KeyedMutexes {
  readonly #mutexes = new Map<string, AsyncMutex>();

  /** The mutex for `key`. */
  get(key: string): CacheMutex {
    let mutex = this.#mutexes.get(key);
    if (mutex === undefined) {
      const created: AsyncMutex = new AsyncMutex(() => {
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
    if (!(await this.#local.acquire(wait))) return false;
    if (signal?.aborted === true) {
      await this.#local.release();
      return false;
    }
    try {
      if (await this.#remote.acquire(wait)) return true;
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
