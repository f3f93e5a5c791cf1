/**
 * The lock session: one etcd lease per backend, granted on first use, kept alive every third of its
 * TTL, and declared lost as soon as etcd may have expired it. The etcd3 client's own `Lease` waits
 * twice the TTL before reporting a loss (microsoft/etcd3#155), too late for a lock, so the lease is
 * tracked here from the keepalive answers.
 *
 * @module
 */
import { BackendUnavailableError, LockTimeoutError } from '../../errors.js';
import { debug } from '../../log.js';
import type { Etcd3Connection } from './connection.js';

/** A session lease: alive until etcd may have expired it, as far as this process can tell. */
export class SessionLease {
  readonly #lost = new AbortController();
  /** Local time (ms) by which etcd may expire the lease unless a keepalive lands. */
  #validUntil: number;
  #keepalive: NodeJS.Timeout | null = null;
  #expiry: NodeJS.Timeout | null = null;
  /** A keepalive is in flight (they must not pile up while etcd is slow). */
  renewing = false;

  constructor(
    readonly id: string,
    sentAt: number,
    ttlSeconds: number,
  ) {
    this.#validUntil = sentAt + ttlSeconds * 1000;
  }

  /** Aborted (with a `LockTimeoutError` reason) when the lease is lost or the backend closes. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** Not lost and not past its TTL. */
  get alive(): boolean {
    return !this.#lost.signal.aborted && Date.now() < this.#validUntil;
  }

  /**
   * Starts the rhythm: `renew` every `intervalMs`, and `onExpiry` when the TTL runs out with no
   * keepalive landing. Timers are unref'd: a process that forgot to close may still exit (its locks
   * then expire with the lease).
   */
  start(intervalMs: number, renew: () => void, onExpiry: () => void): void {
    this.#keepalive = setInterval(renew, intervalMs).unref();
    this.#armExpiry(onExpiry);
  }

  /** A keepalive sent at `sentAt` was answered with `ttlSeconds`: etcd keeps the lease at least until then. */
  extend(sentAt: number, ttlSeconds: number, onExpiry: () => void): void {
    this.#validUntil = sentAt + ttlSeconds * 1000;
    this.#armExpiry(onExpiry);
  }

  #armExpiry(onExpiry: () => void): void {
    if (this.#expiry !== null) clearTimeout(this.#expiry);
    this.#expiry = setTimeout(onExpiry, Math.max(0, this.#validUntil - Date.now())).unref();
  }

  /** Stops the timers and aborts {@link signal}. Idempotent. */
  lose(reason: string): void {
    if (this.#keepalive !== null) clearInterval(this.#keepalive);
    if (this.#expiry !== null) clearTimeout(this.#expiry);
    this.#keepalive = this.#expiry = null;
    if (!this.#lost.signal.aborted) this.#lost.abort(new LockTimeoutError(reason));
  }
}

/** The session lease of one backend (see the module comment). */
export class Session {
  readonly #connection: Etcd3Connection;
  readonly #ttl: number;
  readonly #onLost: (lease: SessionLease) => void;
  #lease: Promise<SessionLease> | null = null;
  #closed = false;

  /**
   * @param ttl lease TTL, whole seconds (`lock_timeout`)
   * @param onLost told when a lease is lost (its keys went with it)
   */
  constructor(connection: Etcd3Connection, ttl: number, onLost: (lease: SessionLease) => void) {
    this.#connection = connection;
    this.#ttl = ttl;
    this.#onLost = onLost;
  }

  /** The live session lease, granted (and kept alive) on first use and after a loss. */
  async current(): Promise<SessionLease> {
    for (;;) {
      if (this.#closed) throw new BackendUnavailableError('The Etcd3Backend is closed.');
      if (this.#lease === null) {
        const pending = this.#grant();
        this.#lease = pending;
        pending.catch(() => {
          if (this.#lease === pending) this.#lease = null;
        });
      }
      const lease = await this.#lease;
      if (lease.alive) return lease;
      // Past its TTL before the expiry timer ran (a blocked event loop): etcd may have dropped it.
      this.#expired(lease);
    }
  }

  async #grant(): Promise<SessionLease> {
    const sentAt = Date.now();
    const response = await this.#connection.call('lock session grant', (client, options) =>
      client.leaseClient.leaseGrant({ TTL: this.#ttl }, options),
    );
    const lease = new SessionLease(response.ID, sentAt, Number(response.TTL));
    if (this.#closed) {
      await this.#revoke(lease.id);
      throw new BackendUnavailableError('The Etcd3Backend is closed.');
    }
    // The Go client's rhythm: a keepalive every third of the TTL.
    lease.start(
      (this.#ttl * 1000) / 3,
      () => void this.#keepAlive(lease),
      () => this.#expired(lease),
    );
    return lease;
  }

  #expired(lease: SessionLease): void {
    this.lose(lease, 'the lock session lease expired: no keepalive reached etcd in time');
  }

  /** Marks `lease` lost (its locks are gone) so the next {@link current} grants a new one. Idempotent. */
  lose(lease: SessionLease, reason: string): void {
    if (lease.signal.aborted) return;
    debug('Etcd3Backend: lock session lease %s lost: %s', lease.id, reason);
    lease.lose(reason);
    // A lease is lost before a new one is granted (current() waits for it), so this is the current one.
    this.#lease = null;
    this.#onLost(lease);
  }

  async #keepAlive(lease: SessionLease): Promise<void> {
    if (!lease.alive || lease.renewing) return;
    lease.renewing = true;
    const sentAt = Date.now();
    try {
      const ttl = await this.#connection.call('lock session keepalive', async (client, options) => {
        const stream = await client.leaseClient.leaseKeepAlive(options);
        return new Promise<number>((resolve, reject) => {
          // The listeners stay attached: a late 'error' must not go unhandled.
          stream.on('data', (response) => {
            resolve(Number(response.TTL));
            stream.end();
          });
          stream.on('error', reject);
          stream.on('end', () => reject(new BackendUnavailableError('etcd closed the keepalive stream without an answer.')));
          stream.write({ ID: lease.id });
        });
      });
      if (ttl <= 0) return this.lose(lease, 'etcd says the lock session lease is gone (revoked or expired)');
      if (lease.alive) lease.extend(sentAt, ttl, () => this.#expired(lease));
    } catch (error) {
      // The expiry timer declares the loss if no keepalive lands before the TTL runs out.
      debug('Etcd3Backend: lock session keepalive failed: %s', (error as Error).message);
    } finally {
      lease.renewing = false;
    }
  }

  async #revoke(id: string): Promise<void> {
    await this.#connection.call('lock session revoke', (client, options) => client.leaseClient.leaseRevoke({ ID: id }, options));
  }

  /** Stops the keepalive and revokes the lease, which deletes every lock key on it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#lease;
    this.#lease = null;
    if (pending === null) return;
    let lease: SessionLease;
    try {
      lease = await pending;
    } catch {
      return; // never granted
    }
    lease.lose('the backend was closed');
    try {
      await this.#revoke(lease.id);
    } catch (error) {
      // The lease expires by itself within lock_timeout.
      debug('Etcd3Backend: could not revoke the lock session lease: %s', (error as Error).message);
    }
  }
}
