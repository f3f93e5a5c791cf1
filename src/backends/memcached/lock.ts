/**
 * The distributed dogpile lock on memcached (dogpile's `MemcachedLock`, with two fixes):
 * - Waiting retries with a short bounded backoff with jitter (5 ms doubling to a 100 ms cap, each
 *   sleep a random 50-100% of that), not dogpile's `2**i` growth that reaches hours between tries.
 * - Release deletes only our own lock. The lock's value is a random token; release reads the item
 *   with its CAS token and deletes it only if it still holds our token and has not changed since,
 *   so a holder whose lock expired (`lock_timeout`) and was taken by someone else does not delete
 *   the new holder's lock.
 *
 * Limits: memcached may evict the lock item under memory pressure (it is an ordinary item), and
 * while the lock key's server is skipped (its circuit open) the lock lives on the next server of the ring, so
 * two holders can overlap during a failover. The lock is a herd limiter, not a correctness lock.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { lockPause } from '../lock-pause.js';
import type { CacheMutex } from '../../api.js';
import { BackendUnavailableError } from '../../errors.js';
import type { CasValue } from './connection.js';

/** First wait between tries, milliseconds. */
export const LOCK_RETRY_INITIAL_MS = 5;
/** Longest wait between tries, milliseconds. */
export const LOCK_RETRY_MAX_MS = 100;

/** The memcached operations the lock needs, routed to the lock key's server by the backend. */
export interface LockStore {
  /** ADD with a time to live in seconds (0 = none); false when the key exists. */
  add(key: string, value: Buffer, ttlSeconds: number): Promise<boolean>;
  /** GET with the item's CAS token; null when absent. */
  getWithCas(key: string): Promise<CasValue | null>;
  /** DELETE only if the item's CAS token is still `cas`; false otherwise. */
  deleteIfUnchanged(key: string, cas: Buffer): Promise<boolean>;
  /** True when the key exists. */
  exists(key: string): Promise<boolean>;
  /** Aborted when the backend closes: waiting acquires then reject. */
  readonly closed: AbortSignal;
}

/** One lock key. Not re-entrant: acquiring again while holding it waits for itself, as in dogpile. */
export class MemcachedMutex implements CacheMutex {
  readonly #store: LockStore;
  readonly #key: string;
  readonly #ttlSeconds: number;
  #token: Buffer | undefined;

  /**
   * `key` is the item used as the lock (the backend passes `"_lock" + key`); `ttlSeconds` is
   * `lock_timeout` (0 = the lock never expires on its own).
   */
  constructor(store: LockStore, key: string, ttlSeconds: number) {
    this.#store = store;
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Takes the lock (an ADD of the lock key). With `wait` false, resolves false at once when it is
   * held; otherwise retries until it is free. Rejects with `BackendUnavailableError` when the
   * server fails or the backend is closed while waiting. Resolves false (never granted, the
   * `CacheMutex` contract) when `signal` aborts: a wait whose callers have all left stops polling the
   * server (about 13 ADDs a second) instead of going on until the lock frees. A lock taken by an ADD
   * that was in flight when `signal` aborted is released first.
   */
  async acquire(wait = true, signal?: AbortSignal): Promise<boolean> {
    // A function, not `signal?.aborted` itself: TypeScript would keep its narrowing from the first check across the awaits.
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return false;
    const closed = this.#store.closed;
    let delay = LOCK_RETRY_INITIAL_MS;
    for (;;) {
      if (closed.aborted) throw closedError();
      const token = Buffer.from(`dogpile-cache:${process.pid}:${randomUUID()}`, 'latin1');
      if (await this.#store.add(this.#key, token, this.#ttlSeconds)) {
        this.#token = token;
        if (aborted()) {
          await this.release();
          return false;
        }
        return true;
      }
      if (!wait) return false;
      await lockPause(delay * (0.5 + Math.random() / 2), closed, signal);
      if (aborted()) return false;
      if (closed.aborted) throw closedError();
      delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS);
    }
  }

  /** Releases the lock if this mutex holds it and it is still ours (see the module comment). */
  async release(): Promise<void> {
    const token = this.#token;
    if (token === undefined) return;
    this.#token = undefined;
    const current = await this.#store.getWithCas(this.#key);
    if (current !== null && current.value.equals(token)) await this.#store.deleteIfUnchanged(this.#key, current.cas);
  }

  /** True while anyone holds the lock (the lock key exists). */
  locked(): Promise<boolean> {
    return this.#store.exists(this.#key);
  }
}

function closedError(): BackendUnavailableError {
  return new BackendUnavailableError('The memcached backend was closed while waiting for a lock.');
}
