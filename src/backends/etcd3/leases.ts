/**
 * TTL leases shared by writes. A lease per write costs an extra request per set (and etcd degrades
 * under mass lease expiry, etcd#9360); one lease for everything (as @keyv/etcd does) ignores the TTL
 * and breaks every write once it is gone. Here one lease serves the writes of a time window: it is
 * granted with TTL = `ttl + window` and used only during `window`, so an entry lives between `ttl` and
 * `ttl + window` seconds. A lease also takes at most `maxKeys` writes: etcd's apply time of a put
 * grows with the number of keys already on its lease (etcd#15993; measured here: 10× slower puts at
 * 20 k keys), which is why Kubernetes caps its shared leases at 1000 objects too. A lease the server
 * lost is dropped and a new one granted.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import type { Etcd3Connection } from './connection.js';

interface Bucket {
  /** Lease id (etcd's int64 as a decimal string). */
  id: Promise<string>;
  /** The id once granted. */
  granted?: string;
  /** Clock time after which writes take a new lease, ms. */
  useUntil: number;
  /** Writes handed this lease so far. */
  writes: number;
}

/** Hands out TTL leases per time window (see the module comment). */
export class LeaseBuckets {
  readonly #connection: Etcd3Connection;
  readonly #grantTtl: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #clock: Clock;
  #bucket: Bucket | null = null;
  /** Granted leases by id, with the clock time they expire by (for revoke on close). */
  readonly #granted = new Map<string, number>();

  /**
   * @param ttl entry lifetime, whole seconds
   * @param windowMs how long one lease is used for new writes, ms
   * @param maxKeys how many writes one lease takes at most
   */
  constructor(connection: Etcd3Connection, ttl: number, windowMs: number, maxKeys: number, clock: Clock) {
    this.#connection = connection;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
    this.#grantTtl = ttl + Math.ceil(windowMs / 1000);
    this.#clock = clock;
  }

  /** The TTL (seconds) each lease is granted with: `ttl + window`. */
  get grantTtl(): number {
    return this.#grantTtl;
  }

  /**
   * The lease to attach `writes` keys to; granted on first use in each window or once the current
   * lease is full (one grant for concurrent writers).
   */
  current(writes = 1): Promise<string> {
    const now = this.#clock();
    const bucket0 = this.#bucket;
    if (bucket0 === null || now >= bucket0.useUntil || (bucket0.writes > 0 && bucket0.writes + writes > this.#maxKeys)) {
      const bucket: Bucket = { id: this.#grant(now), useUntil: now + this.#windowMs, writes: 0 };
      this.#bucket = bucket;
      bucket.id.then(
        (id) => {
          bucket.granted = id;
        },
        () => {
          // A failed grant must not stick: the next write asks again.
          if (this.#bucket === bucket) this.#bucket = null;
        },
      );
    }
    const bucket = this.#bucket as Bucket;
    bucket.writes += writes;
    return bucket.id;
  }

  async #grant(now: number): Promise<string> {
    const ttl = this.#grantTtl;
    const { ID } = await this.#connection.call('lease grant', (client, options) => client.leaseClient.leaseGrant({ TTL: ttl }, options));
    for (const [id, expiresAt] of this.#granted) if (expiresAt <= now) this.#granted.delete(id);
    this.#granted.set(ID, now + ttl * 1000);
    return ID;
  }

  /** Forgets lease `id` (the server said it is not found), so the next {@link current} grants a new one. */
  invalidate(id: string): void {
    this.#granted.delete(id);
    // Only the bucket that handed out `id` is dropped: a concurrent writer may already have a new one.
    if (this.#bucket?.granted === id) this.#bucket = null;
  }

  /**
   * Revokes every lease granted that may still be alive, deleting the entries attached to them.
   * Best effort: a lease that cannot be revoked expires by itself.
   */
  async revokeAll(): Promise<void> {
    const ids = [...this.#granted.keys()];
    this.#granted.clear();
    this.#bucket = null;
    await Promise.allSettled(
      ids.map((ID) => this.#connection.call('lease revoke', (client, options) => client.leaseClient.leaseRevoke({ ID }, options))),
    );
  }
}
