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
 * An entry with its own TTL (`region.set(key, value, { expirationTime })`) longer than the backend's
 * `lease_ttl` goes onto the leases of its TTL instead ({@link entryLeaseTtl}): one set of buckets per
 * TTL value, so writes of the same TTL share leases exactly as above, and never one lease per write.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import { serverTtlSeconds } from '../../serializers.js';
import type { Etcd3Connection } from './connection.js';
import { MAX_LEASE_TTL } from './options.js';

/**
 * The lease TTL (whole seconds) for an entry whose own TTL is `own` seconds, on a backend whose
 * `lease_ttl` is `configured` (null: none), or null for no lease.
 *
 * - The longer of the two applies (as memcached's exptime and Redis's PX): a value past its own TTL can
 *   still be served stale while one caller regenerates it, until the backend's TTL. So an entry TTL
 *   at or under `lease_ttl` keeps the backend's lease.
 * - Otherwise the TTL is rounded **up** to two significant figures (61 → 61, 123 → 130, 86401 → 87000).
 *   TTLs computed per entry (`expiresAt - now`) would otherwise each get leases of their own; with the
 *   rounding there are at most 90 lease TTLs per power of ten, each shared per window. An entry then
 *   lives at most 10 % longer on the server than its TTL (plus the window); the region still applies
 *   the exact TTL on every read.
 * - Over etcd's largest lease TTL (8e9 s, about 250 years): no lease.
 */
export function entryLeaseTtl(configured: number | null, own: number): number | null {
  const seconds = serverTtlSeconds(configured ?? 0, own);
  if (seconds === configured) return configured;
  if (seconds > MAX_LEASE_TTL) return null;
  const whole = Math.ceil(seconds);
  const quantum = whole < 100 ? 1 : 10 ** (Math.floor(Math.log10(whole)) - 1);
  return Math.ceil(whole / quantum) * quantum;
}

/** The window of the leases of an entry TTL: a tenth of the TTL, at least 1 s (`lease_window`'s default rule), ms. */
export function entryLeaseWindowMs(ttl: number): number {
  return Math.max(1, Math.ceil(ttl / 10)) * 1000;
}

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
