/**
 * The etcd3 backend (oslo.cache's `oslo_cache.etcd3gw`), over gRPC with the `etcd3` client.
 *
 * @module
 */
import type { Etcd3, IRequestOp } from 'etcd3';
import {
  CacheBackend,
  NO_VALUE,
  entryTtl,
  type BackendArguments,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
} from '../../api.js';
import { assertDriversInstalled, DRIVER_PACKAGES } from '../../driver.js';
import { SerializationError, UnsupportedOperationError, ValueTooLargeError } from '../../errors.js';
import { debug } from '../../log.js';
import { assertCachedValue, assertKey, assertKeys, mappingEntries } from '../../validate.js';
import { decodeOsloValue, encodeOsloValue } from './codec.js';
import { Etcd3Connection, type CallOptions } from './connection.js';
import { KeyLayout } from './keys.js';
import { LeaseBuckets, entryLeaseTtl, entryLeaseWindowMs } from './leases.js';
import { Locks, Etcd3Mutex } from './lock.js';
import { readEtcd3Arguments, type Etcd3Settings } from './options.js';

/** Bytes a Put request adds to its key and value inside etcd's request (header, lease id), with room to spare. */
const PUT_OVERHEAD_BYTES = 512;

/**
 * A corrupt entry in a multi-get is a miss for that key only: one bad entry must not fail the values
 * next to it. A single `get` raises the {@link SerializationError} (the region regenerates).
 */
function decodeOrMiss(bytes: Buffer | undefined, key: string, nowMs: number): BackendResult {
  try {
    return decodeOsloValue(bytes, key, nowMs);
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    debug('Etcd3Backend: getMulti: %s', error.message);
    return NO_VALUE;
  }
}

/**
 * A cache backend on etcd v3 (registry names `etcd3`, `oslo_cache.etcd3gw`).
 *
 * - Values are stored as oslo's etcd3gw backend stores them, the JSON array
 *   `[payload, {"ct": …, "v": 2}]`, so oslo regions and ours share entries. It is therefore a plain
 *   {@link CacheBackend}, not a BytesBackend: it keeps JSON values, not dogpile's `meta|payload` bytes.
 * - `getMulti`, `setMulti` and `deleteMulti` are one transaction per `maxTxnOps` keys (128).
 * - Entries expire on the server only with `leaseTtl` (or `osloCompatLease`); a lease is shared by the
 *   writes of a time window (at most `leaseMaxKeys` of them), never granted per write.
 * - A Buffer payload (a region serializer's bytes) is stored as dogpile bytes `{"ct": …}|payload`
 *   (codec.ts). A corrupt entry is a `SerializationError` from `get` and a miss in `getMulti`.
 * - With a `namespace`, keys are `namespace 0xFF key` and lock keys live apart from cache keys
 *   (keys.ts), so namespaces are isolated and no cache key reaches a lock.
 * - Every request has a deadline (`timeout`, 5 s); past it, or with every endpoint's circuit open, a call
 *   rejects with `BackendUnavailableError`.
 * - With `distributedLock: true`, `getMutex` returns an {@link Etcd3Mutex} on a per-backend session lease.
 *
 * Nothing connects until the first call; the `etcd3` package is loaded then (a missing package is a
 * `MissingDependencyError`). Arguments are described by `Etcd3BackendArguments`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { Etcd3Backend } from 'dogpile-cache/backends/etcd3';
 * const backend = new Etcd3Backend({ endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], lease_ttl: 600, distributed_lock: true });
 * const region = new CacheRegion().configure(backend, { expirationTime: 300 });
 * await region.getOrCreate('user:1', () => db.loadUser(1)); // stored as oslo's [payload, {"ct": ..., "v": 2}]
 * await region.close();
 * ```
 */
export class Etcd3Backend extends CacheBackend {
  readonly #settings: Etcd3Settings;
  readonly #connection: Etcd3Connection;
  readonly #leases: LeaseBuckets | null;
  /** Leases of entries whose own TTL is longer than `lease_ttl`, by lease TTL (see {@link entryLeaseTtl}). */
  readonly #ttlLeases = new Map<number, LeaseBuckets>();
  readonly #locks: Locks | null;
  readonly #keys: KeyLayout;
  #closing: Promise<void> | null = null;

  /** Validates `args` (throws `ValidationError`); does not connect. */
  constructor(args: BackendArguments = {}) {
    super();
    this.#settings = readEtcd3Arguments(args);
    // A missing driver fails here, at configure(), not at the first request (resolved, not loaded).
    assertDriversInstalled(DRIVER_PACKAGES.etcd3, 'Etcd3Backend');
    this.#connection = new Etcd3Connection(this.#settings);
    const { leaseTtl, leaseWindowMs, leaseMaxKeys, clock, distributedLock, lockTtl, namespace } = this.#settings;
    this.#leases = leaseTtl === null ? null : new LeaseBuckets(this.#connection, leaseTtl, leaseWindowMs, leaseMaxKeys, clock);
    this.#keys = new KeyLayout(namespace);
    this.#locks = distributedLock ? new Locks(this.#connection, lockTtl, this.#keys, this.#settings.timeoutMs) : null;
  }

  /**
   * The underlying `etcd3` client, created on first use. For diagnostics and for what this backend
   * does not wrap; do not close it (call {@link close}).
   */
  getClient(): Promise<Etcd3> {
    return this.#connection.client();
  }

  #key(key: string): Buffer {
    return this.#keys.entry(key);
  }

  /**
   * Checks that one entry fits in an etcd request (`max_request_bytes`) before anything is written, so
   * a multi-write with one oversized value writes nothing (as memcached and Mongo do).
   */
  #assertFits(key: string, bytes: Buffer): void {
    const size = this.#key(key).length + bytes.length + PUT_OVERHEAD_BYTES;
    const { maxRequestBytes } = this.#settings;
    if (size > maxRequestBytes) {
      throw new ValueTooLargeError(
        `The value for key "${key}" is ${bytes.length} bytes encoded; with its key it exceeds etcd's request limit of ${maxRequestBytes} bytes ` +
          '(--max-request-bytes, 1.5 MiB by default; set max_request_bytes if your etcd allows more). Nothing was written.',
      );
    }
  }

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    const response = await this.#connection.call('get', (client, options) => client.kv.range({ key: this.#key(key) }, options));
    return decodeOsloValue(response.kvs[0]?.value, key, this.#settings.clock());
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    const unique = [...new Set(keys)];
    const found = new Map<string, BackendResult>();
    await Promise.all(
      this.#chunks(unique, () => 0).map(async (chunk) => {
        if (chunk.length === 1) {
          const key = chunk[0] as string;
          const response = await this.#connection.call('get', (client, options) => client.kv.range({ key: this.#key(key) }, options));
          found.set(key, decodeOrMiss(response.kvs[0]?.value, key, this.#settings.clock()));
          return;
        }
        const ops: IRequestOp[] = chunk.map((key) => ({ request_range: { key: this.#key(key) } }));
        const response = await this.#connection.call('getMulti', (client, options) => client.kv.txn({ success: ops }, options));
        const now = this.#settings.clock();
        chunk.forEach((key, i) => {
          found.set(key, decodeOrMiss(response.responses[i]?.response_range.kvs[0]?.value, key, now));
        });
      }),
    );
    return keys.map((key) => found.get(key) as BackendResult);
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
    const bytes = encodeOsloValue(value);
    this.#assertFits(key, bytes);
    await this.#write('set', 1, this.#leasesFor(value), (client, options, lease) =>
      client.kv.put({ key: this.#key(key), value: bytes, ...lease }, options),
    );
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key, value] of entries) assertCachedValue(value, `mapping["${key}"]`);
    // Encode everything first: a payload JSON cannot hold must fail before anything is written.
    const encoded = new Map(entries.map(([key, value]) => [key, encodeOsloValue(value)]));
    for (const [key, bytes] of encoded) this.#assertFits(key, bytes);
    const size = (key: string): number => Buffer.byteLength(key) + (encoded.get(key) as Buffer).length;
    // One group per lease TTL (a region's setMulti gives every entry the same one), chunked as usual.
    const byLeases = new Map<LeaseBuckets | null, string[]>();
    for (const [key, value] of entries) {
      const leases = this.#leasesFor(value);
      const group = byLeases.get(leases);
      if (group === undefined) byLeases.set(leases, [key]);
      else group.push(key);
    }
    await Promise.all(
      [...byLeases].flatMap(([leases, keys]) =>
        this.#chunks(keys, size).map((chunk) =>
          this.#write('setMulti', chunk.length, leases, (client, options, lease) => {
            const puts = chunk.map((key) => ({ key: this.#key(key), value: encoded.get(key) as Buffer, ...lease }));
            if (puts.length === 1) return client.kv.put(puts[0] as (typeof puts)[0], options);
            return client.kv.txn({ success: puts.map((put) => ({ request_put: put })) }, options);
          }),
        ),
      ),
    );
  }

  /**
   * The leases `value` goes onto: the backend's (`lease_ttl`, or none), or, for an entry whose own TTL
   * is longer, the buckets of that TTL (created on first use and kept: {@link entryLeaseTtl} bounds
   * how many TTL values there can be).
   */
  #leasesFor(value: CachedValue): LeaseBuckets | null {
    const own = entryTtl(value.metadata);
    if (own === undefined) return this.#leases;
    const { leaseTtl, leaseMaxKeys, clock } = this.#settings;
    const ttl = entryLeaseTtl(leaseTtl, own);
    if (ttl === leaseTtl) return this.#leases;
    if (ttl === null) return null;
    let leases = this.#ttlLeases.get(ttl);
    if (leases === undefined) {
      leases = new LeaseBuckets(this.#connection, ttl, entryLeaseWindowMs(ttl), leaseMaxKeys, clock);
      this.#ttlLeases.set(ttl, leases);
    }
    return leases;
  }

  /**
   * Runs a write with the current TTL lease (if any). When etcd says the lease is gone (revoked,
   * or expired while the cluster was unreachable), the lease is dropped, a new one granted and the
   * write retried once, so a lost lease never breaks later writes.
   */
  async #write(
    what: string,
    keys: number,
    leases: LeaseBuckets | null,
    fn: (client: Etcd3, options: CallOptions, lease: { lease?: string }) => Promise<unknown>,
  ): Promise<void> {
    if (leases === null) {
      await this.#connection.call(what, (client, options) => fn(client, options, {}));
      return;
    }
    const lease = await leases.current(keys);
    try {
      await this.#connection.call(what, (client, options) => fn(client, options, { lease }));
    } catch (error) {
      if (!(await this.#connection.isLeaseNotFound(error))) throw error;
      leases.invalidate(lease);
      const fresh = await leases.current(keys);
      await this.#connection.call(what, (client, options) => fn(client, options, { lease: fresh }));
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.#connection.call('delete', (client, options) => client.kv.deleteRange({ key: this.#key(key) }, options));
  }

  /**
   * Removes every entry of this backend's `namespace` in one prefix delete (`namespace 0xFF` …), leaving
   * other namespaces and the lock keys (`namespace 0xFE lock/` …) alone.
   * @throws {UnsupportedOperationError} without a namespace: the entries would be the whole keyspace.
   */
  override async clear(): Promise<void> {
    const namespace = this.#settings.namespace;
    if (namespace.length === 0) {
      throw new UnsupportedOperationError(
        "Etcd3Backend.clear() needs a namespace: without one, this backend's entries cannot be told apart from every other key in etcd. " +
          'Configure arguments.namespace (e.g. "myapp/sessions/"), or use region.invalidate().',
      );
    }
    // Every key from `ns 0xFF` up to (not including) ns with its last byte incremented starts with `ns 0xFF`,
    // since 0xFF is the largest byte; UTF-8 namespaces never end in 0xFF, so the increment cannot overflow.
    const start = Buffer.concat([namespace, Buffer.of(0xff)]);
    const end = Buffer.from(namespace);
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    await this.#connection.call('clear', (client, options) => client.kv.deleteRange({ key: start, range_end: end }, options));
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    await Promise.all(
      this.#chunks([...new Set(keys)], () => 0).map((chunk) => {
        if (chunk.length === 1) return this.delete(chunk[0] as string);
        const ops: IRequestOp[] = chunk.map((key) => ({ request_delete_range: { key: this.#key(key) } }));
        return this.#connection.call('deleteMulti', (client, options) => client.kv.txn({ success: ops }, options));
      }),
    );
  }

  /**
   * Splits keys into transactions of at most `maxTxnOps` operations and (for writes, where `size`
   * gives each entry's bytes) about 1 MiB, under etcd's default request limits. Each chunk is
   * atomic; a multi-operation over several chunks is not.
   */
  #chunks(keys: string[], size: (key: string) => number): string[][] {
    const { maxTxnOps, maxTxnBytes } = this.#settings;
    const chunks: string[][] = [];
    let chunk: string[] = [];
    let bytes = 0;
    for (const key of keys) {
      const entryBytes = size(key);
      if (chunk.length >= maxTxnOps || (chunk.length > 0 && bytes + entryBytes > maxTxnBytes)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(key);
      bytes += entryBytes;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  /**
   * With `distributedLock: true`, an etcd lock for `key` (see {@link Etcd3Mutex}); otherwise null, so
   * the region uses its in-process lock.
   */
  override getMutex(key: string): CacheMutex | null {
    assertKey(key);
    return this.#locks === null ? null : new Etcd3Mutex(this.#locks, key);
  }

  /**
   * Releases held locks (revokes the lock session), cancels lock waits and keepalives, revokes the
   * TTL leases when `revokeLeasesOnClose` is set, and closes the client. Idempotent.
   */
  override close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([
      this.#locks?.close(),
      ...(this.#settings.revokeLeasesOnClose ? [this.#leases, ...this.#ttlLeases.values()].map((leases) => leases?.revokeAll()) : []),
    ]);
    await this.#connection.close();
  }
}
