/**
 * The cross-process dogpile lock: one document per locked key in `<cache_collection>_locks`,
 * `{ _id: key, owner: <random token>, expiresAt: <Date> }`. The unique `_id` makes MongoDB the arbiter.
 *
 * Acquire is one round trip: `findOneAndUpdate({ _id, expiresAt: { $not: { $gt: now } } }, { $set: {
 * owner, expiresAt } }, { upsert: true })`. No document → the upsert inserts it (acquired). An expired
 * document → the filter matches and the update takes it over (stolen from a holder presumed dead).
 * So does a document whose `expiresAt` is missing or not a Date (written by hand, or by another
 * program): `$gt` compares Dates only with Dates, so such a lock would otherwise never expire.
 * A live document → the filter does not match, the upsert's insert hits the unique `_id` and the
 * server answers duplicate key (11000): held elsewhere. Release deletes the document only if this
 * mutex's token still owns it.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { CacheMutex } from '../../api.js';
import type { Clock } from '../../clock.js';

/** A lock document. */
export interface LockDocument {
  _id: string;
  /** Random token of the mutex holding the lock. */
  owner: string;
  /** When the lock may be taken over. */
  expiresAt: Date;
}

/** What a {@link MongoMutex} needs from its backend. */
export interface LockStore {
  /** Runs `fn` with the lock collection, connecting first, and maps driver errors. */
  run<T>(operation: string, fn: (locks: Collection<LockDocument>) => Promise<T>): Promise<T>;
  /** Sleeps `ms` between attempts; rejects when the backend closes. */
  sleep(ms: number): Promise<void>;
  readonly clock: Clock;
  /** Lock lifetime in milliseconds. */
  readonly timeoutMs: number;
}

/** First wait between attempts of a blocking acquire, in ms; doubles up to {@link MAX_BACKOFF_MS}. */
export const MIN_BACKOFF_MS = 10;
/** Longest wait between attempts (dogpile's memcached lock sleeps 0.1 s). */
export const MAX_BACKOFF_MS = 100;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * A {@link CacheMutex} stored in MongoDB. Each instance has its own owner token, so only the instance
 * that acquired can release. Not re-entrant. A holder that runs longer than `lock_timeout` can be
 * taken over, so choose a `lock_timeout` longer than the slowest creator.
 */
export class MongoMutex implements CacheMutex {
  readonly #key: string;
  readonly #store: LockStore;
  readonly #token = randomUUID();

  constructor(key: string, store: LockStore) {
    this.#key = key;
    this.#store = store;
  }

  /**
   * Takes the lock. With `wait` (default) polls with doubling, jittered backoff (10 ms to 100 ms)
   * until the holder releases or its lock expires; with `wait` false answers after one round trip.
   * Rejects with `BackendUnavailableError` when the server is down or the backend closes.
   */
  async acquire(wait = true): Promise<boolean> {
    let delay = MIN_BACKOFF_MS;
    for (;;) {
      if (await this.#tryAcquire()) return true;
      if (!wait) return false;
      await this.#store.sleep(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  #tryAcquire(): Promise<boolean> {
    return this.#store.run('lock acquire', async (locks) => {
      const now = this.#store.clock();
      try {
        await locks.findOneAndUpdate(
          // Not "$lte: now": that never matches a missing or non-Date expiresAt, a lock nobody could take.
          { _id: this.#key, expiresAt: { $not: { $gt: new Date(now) } } },
          { $set: { owner: this.#token, expiresAt: new Date(now + this.#store.timeoutMs) } },
          { upsert: true }, // no projection: FerretDB 1.x does not implement findAndModify's fields
        );
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }

  /** Releases the lock if this mutex still owns it (after a takeover it does nothing). */
  async release(): Promise<void> {
    await this.#store.run('lock release', (locks) => locks.deleteOne({ _id: this.#key, owner: this.#token }));
  }

  /** True while an unexpired lock document exists for the key, whoever holds it. */
  async locked(): Promise<boolean> {
    const now = new Date(this.#store.clock());
    const doc = await this.#store.run('lock check', (locks) =>
      locks.findOne({ _id: this.#key, expiresAt: { $gt: now } }, { projection: { _id: 1 } }),
    );
    return doc !== null;
  }
}
