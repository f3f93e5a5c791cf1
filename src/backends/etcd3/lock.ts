/**
 * The distributed lock behind `Etcd3Backend.getMutex` (dogpile's backend mutex): one session lease
 * per backend (session.ts), kept alive while the process runs; a lock is an internal key (keys.ts)
 * created under that lease only if absent; waiting watches the key instead of polling; releasing
 * deletes the key only if it is still ours.
 *
 * Guarantees: at most one holder per key while etcd's leases hold (a holder that crashes or loses
 * etcd blocks others for at most `lock_timeout`). The holder learns of a lost lease no later than etcd
 * expires it: its `signal` aborts and `held` turns false. Like every lease-based lock, a holder that
 * stalls (GC pause, frozen VM) past the lease TTL may still believe it holds the lock for that stall.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CacheMutex } from '../../api.js';
import { BackendUnavailableError } from '../../errors.js';
import { debug } from '../../log.js';
import type { Etcd3Connection } from './connection.js';
import type { KeyLayout } from './keys.js';
import { Session, type SessionLease } from './session.js';

/** First pause before retrying a release that could not reach etcd, ms. */
const FIRST_RELEASE_RETRY_MS = 500;

/** What {@link Locks.tryLock} found. */
type LockAttempt = { acquired: true; lease: SessionLease; revision: string } | { acquired: false; revision: string };

/**
 * One backend's locks: the lock transactions on its session lease, the watches of waiting acquirers,
 * and releases that still have to reach etcd.
 */
export class Locks {
  readonly #connection: Etcd3Connection;
  readonly #ttl: number;
  readonly #keys: KeyLayout;
  readonly #recheckMs: number;
  readonly #session: Session;
  /** Lock keys whose release could not reach etcd, by key (hex) → [key, our revision, lease]. */
  readonly #pendingReleases = new Map<string, [Buffer, string, SessionLease]>();
  #releaseRetry: NodeJS.Timeout | null = null;
  /** Cancels each pending wait (on close). */
  readonly #waits = new Set<(error: Error) => void>();
  #closed = false;

  /**
   * @param ttl session lease TTL, whole seconds (`lock_timeout`)
   * @param keys where the backend's lock keys live
   * @param recheckMs how long a waiter trusts a silent watch before asking etcd again (the `timeout`)
   */
  constructor(connection: Etcd3Connection, ttl: number, keys: KeyLayout, recheckMs: number) {
    this.#connection = connection;
    this.#ttl = ttl;
    this.#keys = keys;
    this.#recheckMs = recheckMs;
    this.#session = new Session(connection, ttl, (lease) => {
      // Those keys were attached to the lease, which took them with it.
      for (const [id, pending] of this.#pendingReleases) if (pending[2] === lease) this.#pendingReleases.delete(id);
    });
  }

  /** The etcd key of the lock for cache key `key`, where no cache key can reach (see keys.ts). */
  lockKey(key: string): Buffer {
    return this.#keys.lock(key);
  }

  /**
   * One lock attempt: creates the lock key under the session lease if it does not exist. The token
   * makes a retried attempt (the first one's answer lost) recognise its own key.
   */
  async tryLock(key: Buffer, token: Buffer): Promise<LockAttempt> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.#session.current();
      try {
        const response = await this.#connection.call('lock acquire', (client, options) =>
          client.kv.txn(
            {
              compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
              success: [{ request_put: { key, value: token, lease: lease.id } }],
              failure: [{ request_range: { key } }],
            },
            options,
          ),
        );
        if (response.succeeded) return { acquired: true, lease, revision: response.header.revision };
        const holder = response.responses[0]?.response_range.kvs[0];
        if (holder !== undefined && holder.value.equals(token)) return { acquired: true, lease, revision: holder.mod_revision };
        return { acquired: false, revision: response.header.revision };
      } catch (error) {
        if (attempt > 0 || !(await this.#connection.isLeaseNotFound(error))) throw error;
        this.#session.lose(lease, 'etcd says the lock session lease is gone (revoked or expired)');
      }
    }
  }

  /**
   * Resolves when the lock key is deleted after `revision` (released, or its holder's lease expired),
   * when the watch is interrupted, or after `recheckMs` without news: the caller then asks etcd again,
   * which fails within its deadline if etcd is down or hung. A hung etcd (SIGSTOP, a black-holed
   * network) keeps a watch stream open and silent, so without the recheck a waiter would wait forever.
   * Rejects when the backend closes.
   */
  async waitForRelease(key: Buffer, revision: string): Promise<void> {
    const client = await this.#connection.client();
    if (this.#closed) throw new BackendUnavailableError('The Etcd3Backend is closed.');
    await new Promise<void>((resolve, reject) => {
      const watcher = client
        .watch()
        .key(key)
        .startRevision(String(BigInt(revision) + 1n))
        .only('delete')
        .watcher();
      let done = false;
      const recheck = setTimeout(() => finish(), this.#recheckMs);
      const finish = (error?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(recheck);
        this.#waits.delete(finish);
        watcher.cancel().catch(() => undefined);
        if (error === undefined) resolve();
        else reject(error);
      };
      // Listeners stay attached after finish: a watcher with no 'error' listener would throw.
      watcher.on('delete', () => finish());
      watcher.on('disconnected', () => finish());
      watcher.on('error', () => finish());
      this.#waits.add(finish);
    });
  }

  /** Deletes the lock key if it still holds our revision; if etcd is unreachable, retries in the background. */
  async release(key: Buffer, revision: string, lease: SessionLease): Promise<void> {
    if (!lease.alive) return; // the key went with the lease
    try {
      await this.#deleteIfOurs(key, revision);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError) || this.#closed) throw error;
      debug('Etcd3Backend: lock release failed (%s); retrying in the background', error.message);
      this.#pendingReleases.set(key.toString('hex'), [key, revision, lease]);
      this.#scheduleReleaseRetry(FIRST_RELEASE_RETRY_MS);
    }
  }

  /**
   * Retries queued releases with a doubling pause (up to a third of the TTL) until they land or
   * their lease is lost: a lock whose release failed must not block others until the lease expires.
   */
  #scheduleReleaseRetry(delayMs: number): void {
    if (this.#releaseRetry !== null || this.#closed) return;
    this.#releaseRetry = setTimeout(() => {
      this.#releaseRetry = null;
      void this.#retryPendingReleases().then(() => {
        if (this.#pendingReleases.size > 0) this.#scheduleReleaseRetry(Math.min(delayMs * 2, (this.#ttl * 1000) / 3));
      });
    }, delayMs).unref();
  }

  async #deleteIfOurs(key: Buffer, revision: string): Promise<void> {
    await this.#connection.call('lock release', (client, options) =>
      client.kv.txn(
        {
          compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: revision }],
          success: [{ request_delete_range: { key } }],
        },
        options,
      ),
    );
  }

  async #retryPendingReleases(): Promise<void> {
    for (const [id, [key, revision]] of this.#pendingReleases) {
      try {
        await this.#deleteIfOurs(key, revision);
        this.#pendingReleases.delete(id);
      } catch {
        return; // still unreachable; next retry
      }
    }
  }

  /** True when the lock key exists (anyone holds the lock). */
  async isLocked(key: Buffer): Promise<boolean> {
    const response = await this.#connection.call('lock check', (client, options) => client.kv.range({ key, count_only: true }, options));
    return Number(response.count) > 0;
  }

  /** Cancels waits and closes the session (revoking its lease releases every lock held). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new BackendUnavailableError('The Etcd3Backend was closed while waiting for a lock.');
    for (const cancel of [...this.#waits]) cancel(closed);
    if (this.#releaseRetry !== null) clearTimeout(this.#releaseRetry);
    await this.#session.close();
  }
}

const OWNER = `${hostname()}/${process.pid}`;

/**
 * A distributed lock on one cache key, from `Etcd3Backend.getMutex` (with `distributedLock: true`).
 * `acquire(true)` waits (watching the key) until the holder releases it or its session lease
 * expires; it rejects with `BackendUnavailableError` if etcd becomes unreachable meanwhile. Not
 * re-entrant: a second `acquire` while held behaves as for any other holder.
 *
 * @example
 * ```ts
 * import { Etcd3Backend, Etcd3Mutex } from 'dogpile-cache/backends/etcd3';
 * const backend = new Etcd3Backend({ endpoints: ['http://10.0.0.1:2379'], distributed_lock: true });
 * const mutex = backend.getMutex('report'); // an Etcd3Mutex; null without distributed_lock
 * if (mutex instanceof Etcd3Mutex && (await mutex.acquire(true))) { // waits until the holder releases
 *   try { await db.load(1, 'report'); } finally { await mutex.release(); }
 * }
 * ```
 */
export class Etcd3Mutex implements CacheMutex {
  readonly #locks: Locks;
  readonly #key: Buffer;
  #held: { lease: SessionLease; revision: string } | null = null;
  #lost = false;

  /** Use `Etcd3Backend.getMutex(key)`. */
  constructor(locks: Locks, key: string) {
    this.#locks = locks;
    this.#key = locks.lockKey(key);
  }

  /** Takes the lock; with `wait` false, resolves false at once when someone else holds it. */
  async acquire(wait = true): Promise<boolean> {
    const token = Buffer.from(`${OWNER}/${randomUUID()}`, 'utf8');
    for (;;) {
      const attempt = await this.#locks.tryLock(this.#key, token);
      if (attempt.acquired) {
        this.#held = { lease: attempt.lease, revision: attempt.revision };
        this.#lost = false;
        return true;
      }
      if (!wait) return false;
      await this.#locks.waitForRelease(this.#key, attempt.revision);
    }
  }

  /** Gives the lock back (deletes the key if it is still ours). Does nothing if not held or already lost. */
  async release(): Promise<void> {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    this.#lost = !held.lease.alive;
    await this.#locks.release(this.#key, held.revision, held.lease);
  }

  /** True while anyone holds the lock (asks etcd). */
  locked(): Promise<boolean> {
    return this.#locks.isLocked(this.#key);
  }

  /** True while this mutex holds the lock and its session lease is alive (no request). */
  get held(): boolean {
    return this.#held !== null && this.#held.lease.alive;
  }

  /**
   * True when the last acquisition was lost before it was released: the session lease expired or was
   * revoked, so another process may have taken the lock meanwhile.
   */
  get lost(): boolean {
    return this.#lost || (this.#held !== null && !this.#held.lease.alive);
  }

  /**
   * While held: a signal aborted (reason: `LockTimeoutError`) when the lock is lost, e.g. to stop
   * work that the lock protects. `null` when not held.
   */
  get signal(): AbortSignal | null {
    return this.#held?.lease.signal ?? null;
  }
}
