/**
 * The distributed dogpile lock on Redis, the same lock as redis-py's `Lock` that dogpile's
 * `RedisBackend` uses, so Python and Node processes exclude each other on one key:
 *
 * - the lock is the key `"_lock" + key` (dogpile's name; `lock_prefix` changes `"_lock"`);
 * - acquire is `SET lockkey token NX [PX lock_timeout]` with a random token;
 * - release is a Lua compare-and-delete (redis-py's script): a holder whose lock expired and was taken
 *   by someone else does not delete the new holder's lock;
 * - a held lock is retried every `lock_sleep` (0.1 s by default, as redis-py).
 *
 * Without `lock_timeout` (dogpile's default) the lock never expires: a holder that crashes leaves the
 * key locked until someone deletes it. Set `lock_timeout` longer than the slowest creator.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { CacheMutex } from '../../api.js';
import { BackendUnavailableError } from '../../errors.js';
import { lockPause } from '../lock-pause.js';

/** redis-py's `Lock.LUA_RELEASE_SCRIPT`: delete the key only while it still holds our token. */
export const RELEASE_SCRIPT = `local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
  return 0
end
redis.call('del', KEYS[1])
return 1`;

/** The Redis commands the lock needs; the backend routes them (and turns failures into our errors). */
export interface LockStore {
  /** SET NX with an optional TTL in ms (0 = none); true when set. */
  setIfAbsent(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Runs {@link RELEASE_SCRIPT}; true when our token was deleted. */
  deleteIfToken(key: string, token: string): Promise<boolean>;
  /** True when the key exists. */
  exists(key: string): Promise<boolean>;
  /** Aborted when the backend closes: waiting acquires then reject. */
  readonly closed: AbortSignal;
}

/**
 * One lock key. Not re-entrant: acquiring again while holding it waits for itself, as in dogpile.
 *
 * @example
 * ```ts
 * import { RedisBackend, RedisMutex } from 'dogpile-cache/backends/redis';
 * const backend = new RedisBackend({ url: 'redis://cache:6379', distributed_lock: true, lock_timeout: 30 });
 * const lock = backend.getMutex('report'); // a RedisMutex on "_lock" + key; null without distributed_lock
 * if (lock instanceof RedisMutex && (await lock.acquire(false))) {
 *   try { await db.load(1, 'report'); } finally { await lock.release(); } // releases only our own token
 * }
 * ```
 */
export class RedisMutex implements CacheMutex {
  readonly #store: LockStore;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #sleepMs: number;
  #token: string | undefined;

  /** `key` is the lock key itself (the backend passes `lock_prefix + key`). */
  constructor(store: LockStore, key: string, ttlMs: number, sleepMs: number) {
    this.#store = store;
    this.#key = key;
    this.#ttlMs = ttlMs;
    this.#sleepMs = sleepMs;
  }

  /** The lock key in Redis. */
  get key(): string {
    return this.#key;
  }

  /**
   * Takes the lock. With `wait` false, resolves false at once when it is held; otherwise retries every
   * `lock_sleep` until it is free. Rejects with `BackendUnavailableError` when Redis fails or the
   * backend is closed while waiting. When `signal` aborts, resolves false at once (never granted, as
   * {@link CacheMutex.acquire} says) and sends no more `SET NX`: a wait whose caller has left does not
   * go on polling until the lock frees. A `SET NX` in flight at that moment is not waited for; if it
   * takes the lock, that lock is released by its token (never another holder's).
   */
  async acquire(wait = true, signal?: AbortSignal): Promise<boolean> {
    // A function, not `signal?.aborted` itself: TypeScript would keep its narrowing from the first check across the awaits.
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return false;
    const closed = this.#store.closed;
    // redis-py's token is uuid1().hex: 32 hex digits. Ours has the same shape, from a random source.
    const token = randomBytes(16).toString('hex');
    for (;;) {
      if (closed.aborted) throw closedError();
      const attempt = this.#store.setIfAbsent(this.#key, token, this.#ttlMs);
      if (await (signal === undefined ? attempt : this.#unlessAborted(attempt, token, signal))) {
        this.#token = token;
        // Aborted between the reply and here: the caller has left, so the lock goes back at once.
        if (aborted()) {
          await this.release().catch(() => undefined);
          return false;
        }
        return true;
      }
      if (!wait || aborted()) return false;
      await lockPause(this.#sleepMs, closed, signal);
      if (closed.aborted) throw closedError();
      if (aborted()) return false;
    }
  }

  /**
   * `attempt` (a `SET NX` with `token`), or false as soon as `signal` aborts; a lock the attempt takes
   * after that is released by its token, so an abandoned acquire leaves none behind.
   */
  #unlessAborted(attempt: Promise<boolean>, token: string, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        void attempt.then(
          (acquired) => (acquired ? this.#store.deleteIfToken(this.#key, token).catch(() => false) : false),
          () => false,
        );
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.then(
        (acquired) => {
          signal.removeEventListener('abort', onAbort);
          resolve(acquired);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Releases the lock if this mutex holds it and it is still ours; otherwise does nothing. */
  async release(): Promise<void> {
    const token = this.#token;
    if (token === undefined) return;
    this.#token = undefined;
    await this.#store.deleteIfToken(this.#key, token);
  }

  /** True while anyone holds the lock (the lock key exists), as redis-py's `Lock.locked()`. */
  locked(): Promise<boolean> {
    return this.#store.exists(this.#key);
  }
}

function closedError(): BackendUnavailableError {
  return new BackendUnavailableError('The Redis backend was closed while waiting for a lock.');
}
