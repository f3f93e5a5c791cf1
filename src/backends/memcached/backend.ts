/**
 * `PooledMemcachedBackend`: oslo.cache's `oslo_cache.memcache_pool` on memjs and generic-pool.
 * This module routes keys to servers and translates the backend contract into memcached requests;
 * connections live in pool.ts, frames in protocol.ts, the ring in ring.ts, the lock in lock.ts.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import {
  BytesBackend,
  NO_VALUE,
  type BackendArguments,
  type BackendResult,
  type CacheMutex,
  type Mapping,
  type NoValue,
} from '../../api.js';
import { assertDriversInstalled, DRIVER_PACKAGES } from '../../driver.js';
import { BackendUnavailableError, SerializationError, ValidationError, ValueTooLargeError } from '../../errors.js';
import { debug } from '../../log.js';
import { entryTtlOfSerialized, parseSerialized, serverTtlSeconds } from '../../serializers.js';
import { MEMCACHED_MAX_KEY_BYTES } from '../../keys.js';
import { assertKey, assertKeys, describe, mappingEntries } from '../../validate.js';
import { isNoAnswer, type Connection } from './connection.js';
import { loadMemcachedDrivers } from './drivers.js';
import { NamespaceGeneration, noServerForGeneration } from './generation.js';
import { LOCK_PREFIX, NAMESPACE_PREFIX, isReservedKey, lockKeyFor, memcachedKeyMangler } from './keys.js';
import { MemcachedMutex, type LockStore } from './lock.js';
import { readMemcachedArguments, type MemcachedSettings, type PooledMemcachedBackendArguments } from './options.js';
import { PROBE_INTERVAL_MS } from './breaker.js';
import { ServerPool, isNeverSent, type ServerPoolStats } from './pool.js';
import { ITEM_OVERHEAD_BYTES, MAX_RELATIVE_EXPTIME, Opcode, toExptime } from './protocol.js';
import { makeServerChooser, type ServerChooser } from './server-choice.js';

// Spaces and control characters end a key in memcached's text protocol, so text-protocol clients
// (python-memcached, oslo) could never address such an item.
const UNSAFE_KEY = /[\x00-\x20\x7f]/;
const NONE: ReadonlySet<never> = new Set();

/**
 * True when a call may go on to the next server after `error` from opening a connection: it was never
 * sent (so even an ADD can move), and it did not cost a whole `socket_timeout` (a server that hung
 * while connecting). Moving on after a hang could cost another `socket_timeout` per hung server, past
 * the documented bound of 2 x `socket_timeout` per call; the hung server's circuit is open by then, so
 * the next call goes elsewhere at once.
 */
function canReroute(error: unknown): boolean {
  return isNeverSent(error) && !isNoAnswer(error);
}
// Requests in flight on every shared connection of a server before another connection is opened.
const GROW_AT_PENDING = 128;

/** The code of the warning {@link warnLockWithoutTimeout} emits, for `process.on('warning')` filters. */
export const LOCK_WITHOUT_TIMEOUT_WARNING = 'DOGPILE_CACHE_MEMCACHED_LOCK_NO_TIMEOUT';

let warnedLockWithoutTimeout = false;

/**
 * Warns once per process that a distributed lock without `lock_timeout` outlives a crashed holder.
 * The default stays 0 (dogpile's, so configurations keep their meaning); a warning, not an error.
 */
function warnLockWithoutTimeout(): void {
  if (warnedLockWithoutTimeout) return;
  warnedLockWithoutTimeout = true;
  process.emitWarning(
    "PooledMemcachedBackend: distributed_lock is on with lock_timeout 0 (dogpile's default), so a lock item never expires: " +
      'a process that crashes while holding a lock leaves its key locked until the item is deleted or evicted. ' +
      'Set lock_timeout a little above your slowest creator, e.g. lock_timeout: 30.',
    { code: LOCK_WITHOUT_TIMEOUT_WARNING },
  );
}

/** The error for a key in a reserved prefix (keys.ts): its item could be a lock's or a namespace's. */
function reservedKeyError(key: string): ValidationError {
  const [prefix, what] = key.startsWith(LOCK_PREFIX)
    ? [LOCK_PREFIX, 'its distributed lock items (a cache entry there could block or break a lock)']
    : [NAMESPACE_PREFIX, "namespaces' generations and entries (a cache entry there could undo a clear() or read another namespace)"];
  return new ValidationError(
    `The key ${describe(key)} starts with "${prefix}", which this backend reserves for ${what}. ` +
      "Keep the region's default key mangler (this backend's keyMangler hashes such keys) or give the key another prefix.",
  );
}

/**
 * A memcached backend for the dogpile byte format: keys spread over the servers by a ketama-style
 * consistent-hash ring, shared pipelined connections pooled by generic-pool, a real multi-get (one
 * pipelined batch per server), a circuit breaker per server (a failed server is skipped and probed
 * every 2 s), and an optional distributed lock. Registry names `oslo_cache.memcache_pool` and
 * `memcached`. A call settles within 2 x `socket_timeout`.
 *
 * Importing this module loads no driver: memjs and generic-pool are imported on the first
 * operation, which rejects with `MissingDependencyError` naming the package when one is missing.
 * Nothing connects in the constructor. Call {@link close} when done; a process that forgets it
 * still exits once no call is in flight (idle sockets and timers are unref'd).
 *
 * Operations reject with `BackendUnavailableError` when a server fails or does not answer within
 * `socket_timeout` (or all servers are dead), `QueueEmptyError` when no connection could be had
 * within `pool_connection_get_timeout`, `ValueTooLargeError` for an item over the server's item
 * size, and `ValidationError` for a key memcached cannot hold (over 250 UTF-8 bytes, or with spaces
 * or control characters: the region's default mangler, {@link keyMangler}, hashes those).
 *
 * @example
 * ```ts
 * import { makeRegion } from 'dogpile-cache';
 * import { PooledMemcachedBackend } from 'dogpile-cache/backends/memcached';
 * const backend = new PooledMemcachedBackend({ url: '10.0.0.1:11211,10.0.0.2:11211', distributed_lock: true, lock_timeout: 30 });
 * const region = makeRegion().configure(backend, { expirationTime: 600 });
 * await region.getOrCreate('user:1', () => db.loadUser(1)); // keys spread over both servers by the ketama ring
 * ```
 */
export class PooledMemcachedBackend extends BytesBackend {
  /**
   * Keys memcached cannot hold (over 250 bytes, spaces, control characters) and keys in the lock
   * items' namespace (starting with `"_lock"`) become `"sha1:" + sha1(key)`; the region adopts it.
   */
  override keyMangler: (key: string) => string = memcachedKeyMangler;

  /**
   * Declared only with a `namespace`: raises the namespace's generation on every server, so that every
   * entry written before is never read again (they age out by LRU or their exptime). Other processes
   * see the clear within their `generation_check_interval`. Without a namespace it is absent, and
   * `region.clear()` raises `UnsupportedOperationError`: memcached has no prefix delete, and
   * `flush_all` would empty the servers for every other user. See docs/backends/memcached.md, "clear()".
   * @throws {BackendUnavailableError} when no server took the new generation.
   */
  declare clear?: () => Promise<void>;

  readonly #settings: MemcachedSettings;
  readonly #ring: ServerChooser;
  readonly #closeSignal = new AbortController();
  readonly #lockStore: LockStore;
  /** With a `namespace`: its generation, folded into every key (generation.ts). */
  readonly #generation: NamespaceGeneration | undefined;
  #servers: ServerPool[] | undefined;
  #loading: Promise<ServerPool[]> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Reads and checks `args` (see {@link PooledMemcachedBackendArguments}; snake_case or camelCase).
   * Throws `ConfigurationError` without `url` (or with half a SASL login, or an unreadable `tls_*`
   * file) and `ValidationError` for an argument of the wrong type or range. Does not connect.
   */
  constructor(args: PooledMemcachedBackendArguments | BackendArguments = {}) {
    super();
    this.#settings = readMemcachedArguments(args as BackendArguments);
    // A missing driver fails here, at configure(), not at the first request (resolved, not loaded).
    assertDriversInstalled(DRIVER_PACKAGES.memcached, 'PooledMemcachedBackend');
    if (this.#settings.distributedLock && this.#settings.lockTimeoutSeconds === 0) warnLockWithoutTimeout();
    this.#ring = makeServerChooser(this.#settings.serverChoice, this.#settings.servers);
    // Every lock acquire waiting on this backend listens to it: more than Node's 10 per signal is normal
    // (one per key being regenerated), not a leak, and must not print a MaxListenersExceededWarning.
    setMaxListeners(0, this.#closeSignal.signal);
    this.#lockStore = {
      add: (key, value, ttlSeconds) => this.#run(key, (c) => c.store(Opcode.ADD, key, value, toExptime(ttlSeconds, Date.now()))),
      getWithCas: (key) => this.#run(key, (c) => c.getWithCas(key)),
      deleteIfUnchanged: (key, cas) => this.#run(key, (c) => c.delete(key, cas)),
      exists: (key) => this.#run(key, (c) => c.get(key)).then((value) => value !== null),
      closed: this.#closeSignal.signal,
    };
    const { namespace, generationCheckMs } = this.#settings;
    if (namespace !== undefined) {
      const generation = new NamespaceGeneration(namespace, generationCheckMs, { onEach: (request) => this.#onEachServer(request) });
      this.#generation = generation;
      this.clear = async () => {
        await generation.bump();
      };
    }
  }

  /** The servers as `"host:port"`, in the order given. */
  get servers(): readonly string[] {
    return this.#ring.nodes;
  }

  /** The server (`"host:port"`) that holds `key` while every server is alive. */
  serverFor(key: string): string {
    return this.#ring.nodes[this.#ring.nodeFor(key)] as string;
  }

  /** A snapshot of each server's health and connections (empty before the first operation). */
  poolStats(): ServerPoolStats[] {
    return (this.#servers ?? []).map((server) => server.stats());
  }

  async getSerialized(key: string): Promise<Buffer | NoValue> {
    this.#checkKey(key);
    let item = key;
    if (this.#generation !== undefined) {
      const named = this.#itemKey(key);
      item = typeof named === 'string' ? named : await named;
    }
    return (await this.#run(item, (c) => c.get(item))) ?? NO_VALUE;
  }

  async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    this.#checkKeys(keys);
    if (keys.length === 0) return [];
    const items = this.#generation === undefined ? keys : await this.#itemKeys(keys);
    const found = new Map<string, Buffer>();
    await this.#each([...new Set(items)], (c, group) => c.getBatch(group, found));
    return items.map((item) => found.get(item) ?? NO_VALUE);
  }

  /**
   * Reads many entries. A corrupt entry (bytes not in the dogpile format, or that the serializer
   * cannot read) is `NO_VALUE` in its place, logged under `NODE_DEBUG=dogpile-cache`, so one bad
   * item does not fail the others; a single {@link get} of it rejects with `SerializationError`.
   */
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    const raw = await this.getSerializedMulti(keys);
    return raw.map((bytes, i) => {
      try {
        return parseSerialized(bytes, this.serializer);
      } catch (error) {
        if (!(error instanceof SerializationError)) throw error;
        debug('memcached: the entry %s is corrupt, read as a miss: %s', describe(keys[i]), error.message);
        return NO_VALUE;
      }
    });
  }

  async setSerialized(key: string, value: Buffer): Promise<void> {
    this.#checkKey(key);
    let item = key;
    if (this.#generation !== undefined) {
      const named = this.#itemKey(key);
      item = typeof named === 'string' ? named : await named;
    }
    this.#checkValue(item, value);
    const exptime = this.#exptime(entryTtlOfSerialized(value));
    await this.#run(item, (c) => c.store(Opcode.SET, item, value, exptime));
  }

  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key] of entries) this.#checkKey(key);
    const items = this.#generation === undefined ? undefined : await this.#itemKeys(entries.map(([key]) => key));
    const values = new Map<string, Uint8Array>();
    entries.forEach(([key, value], i) => {
      const item = items === undefined ? key : (items[i] as string);
      this.#checkValue(item, value);
      values.set(item, value);
    });
    if (values.size === 0) return;
    // One batch per exptime: entries with their own TTL (a region's setMulti gives them all the same one)
    // get a matching server TTL.
    const byExptime = new Map<number, string[]>();
    for (const [key, value] of values) {
      const exptime = this.#exptime(entryTtlOfSerialized(Buffer.from(value.buffer, value.byteOffset, value.byteLength)));
      const keys = byExptime.get(exptime);
      if (keys === undefined) byExptime.set(exptime, [key]);
      else keys.push(key);
    }
    await Promise.all(
      [...byExptime].map(([exptime, keys]) =>
        this.#each(keys, (c, group) =>
          c.storeBatch(
            group.map((key) => [key, values.get(key) as Uint8Array] as const),
            exptime,
          ),
        ),
      ),
    );
  }

  async delete(key: string): Promise<void> {
    this.#checkKey(key);
    let item = key;
    if (this.#generation !== undefined) {
      const named = this.#itemKey(key);
      item = typeof named === 'string' ? named : await named;
    }
    await this.#run(item, (c) => c.delete(item));
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    this.#checkKeys(keys);
    if (keys.length === 0) return;
    const items = this.#generation === undefined ? keys : await this.#itemKeys(keys);
    await this.#each([...new Set(items)], (c, group) => c.deleteBatch(group));
  }

  /**
   * The item key of `key` in the namespace's current generation: a string while the cached generation is
   * fresh (no promise on the hot path), a promise when it must be read first.
   */
  #itemKey(key: string): string | Promise<string> {
    const generation = this.#generation as NamespaceGeneration;
    const current = generation.current();
    return typeof current === 'number' ? generation.entryKey(key, current) : current.then((read) => generation.entryKey(key, read));
  }

  /** The item keys of `keys` in the namespace's current generation (one generation for the whole call). */
  async #itemKeys(keys: readonly string[]): Promise<string[]> {
    const generation = this.#generation as NamespaceGeneration;
    const current = await generation.current();
    return keys.map((key) => generation.entryKey(key, current));
  }

  /** Runs `request` on every live server (for the namespace generation, which has a copy on each). */
  async #onEachServer<T>(request: (connection: Connection) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
    if (this.#closing !== undefined) throw this.#closedError();
    const servers = this.#servers ?? (await this.#load());
    const live = servers.filter((server) => server.isAlive());
    if (live.length === 0) throw noServerForGeneration(this.#ring.nodes);
    return Promise.allSettled(live.map(async (server) => request(server.ready() ?? (await server.connection()))));
  }

  /**
   * With `distributed_lock`, a lock on the item `"_lock" + key` (dogpile's name; `"_lock_lock:sha1:" +
   * sha1(key)` when that is too long for memcached, see `lockKeyFor`) that expires after `lock_timeout`;
   * otherwise null, and the region uses its in-process lock. Throws `ValidationError` for a key in a
   * reserved prefix (`_lock`, `_dogpile_ns:`), as every other operation does: its lock could be another
   * key's. Guarantees and limits: docs/backends/memcached.md, "The distributed lock".
   */
  override getMutex(key: string): CacheMutex | null {
    if (!this.#settings.distributedLock) return null;
    assertKey(key);
    if (isReservedKey(key)) throw reservedKeyError(key);
    const lockKey = this.#generation === undefined ? lockKeyFor(key) : this.#generation.lockKey(key);
    return new MemcachedMutex(this.#lockStore, lockKey, this.#settings.lockTimeoutSeconds);
  }

  /**
   * Lets requests in flight finish (each within `socket_timeout`), then closes every connection and
   * timer; waiting lock acquires reject. Later operations reject with `BackendUnavailableError`.
   * Idempotent.
   */
  override close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closeSignal.abort();
    const servers = this.#loading === undefined ? undefined : await this.#loading.catch(() => undefined);
    await Promise.all((servers ?? []).map((server) => server.close()));
  }

  #checkKey(key: string): void {
    assertKey(key);
    if (key.length * 3 <= MEMCACHED_MAX_KEY_BYTES && !UNSAFE_KEY.test(key) && !isReservedKey(key)) return;
    if (isReservedKey(key)) throw reservedKeyError(key);
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > MEMCACHED_MAX_KEY_BYTES || UNSAFE_KEY.test(key)) {
      throw new ValidationError(
        `memcached cannot hold the key ${describe(key)} (${bytes} UTF-8 bytes${UNSAFE_KEY.test(key) ? ', with spaces or control characters' : ''}); ` +
          "keys must be at most 250 bytes without spaces or control characters. Keep the region's default key mangler " +
          "(this backend's keyMangler, memcachedSafeMangler) or use sha1MangleKey.",
      );
    }
  }

  #checkKeys(keys: readonly string[]): void {
    if (!Array.isArray(keys)) assertKeys(keys); // throws the ValidationError
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (typeof key !== 'string') assertKey(key, `keys[${i}]`);
      this.#checkKey(key as string);
    }
  }

  #checkValue(key: string, value: unknown): asserts value is Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new ValidationError(`The value for ${describe(key)} must be a Buffer (the serialized bytes); got ${describe(value)}.`);
    }
    const item = value.length + Buffer.byteLength(key, 'utf8') + ITEM_OVERHEAD_BYTES;
    if (item > this.#settings.maxItemBytes) {
      throw new ValueTooLargeError(
        `The value for ${describe(key)} is ${value.length} bytes; with its key and memcached's ${ITEM_OVERHEAD_BYTES}-byte item header ` +
          `that is ${item} bytes, over the servers' item size limit of ${this.#settings.maxItemBytes} (server_max_value_length, memcached -I).`,
      );
    }
  }

  /** memcached's exptime for `memcached_expire_time` or the entry's own TTL (see `serverTtlSeconds`), now. */
  #exptime(entryTtl?: number): number {
    const seconds = serverTtlSeconds(this.#settings.expireSeconds, entryTtl);
    return seconds <= MAX_RELATIVE_EXPTIME ? toExptime(seconds, 0) : toExptime(seconds, Date.now());
  }

  #load(): Promise<ServerPool[]> {
    if (this.#servers !== undefined) return Promise.resolve(this.#servers);
    if (this.#loading === undefined) {
      const loading = loadMemcachedDrivers().then(({ memjs, genericPool }) => {
        if (this.#closing !== undefined) throw this.#closedError();
        const settings = this.#settings;
        this.#servers = settings.servers.map(
          (address) =>
            new ServerPool(memjs, genericPool, {
              address,
              maxSize: settings.poolMaxsize,
              unusedTimeoutMs: settings.poolUnusedTimeoutMs,
              getTimeoutMs: settings.poolConnectionGetTimeoutMs,
              deadRetryMs: settings.deadRetryMs,
              socketTimeoutMs: settings.socketTimeoutMs,
              username: settings.username,
              password: settings.password,
              tls: settings.tls,
              growAtPending: GROW_AT_PENDING,
            }),
        );
        return this.#servers;
      });
      this.#loading = loading;
      // A failed import (MissingDependencyError) is reported to every caller, and retried by the next.
      loading.catch(() => {
        if (this.#loading === loading) this.#loading = undefined;
      });
    }
    return this.#loading;
  }

  /**
   * The live server for `key`: its owner on the ring, or the next live one, passing over `skip` (the
   * servers this call could not connect to). Throws when none is left.
   */
  #route(servers: readonly ServerPool[], key: string, skip: ReadonlySet<ServerPool> = NONE): ServerPool {
    const owner = servers[this.#ring.nodeFor(key)] as ServerPool;
    if (!skip.has(owner) && owner.isAlive()) return owner;
    // Past a dead owner each server_choice goes where its Python client goes (server-choice.ts).
    const next = this.#ring.findNode(key, (index) => {
      const server = servers[index] as ServerPool;
      return !skip.has(server) && server.isAlive();
    });
    if (next < 0) {
      throw new BackendUnavailableError(
        `Every memcached server (${this.#ring.nodes.join(', ')}) is skipped after failing, and the probes since ` +
          `(one per server every ${Math.min(this.#settings.deadRetryMs, PROBE_INTERVAL_MS) / 1000} s) have not connected; failing at once rather than waiting on them.`,
      );
    }
    return servers[next] as ServerPool;
  }

  /**
   * Runs a one-key request on the server for `key`. The common case (a shared connection is ready)
   * sends without waiting; otherwise a connection is opened, and when that fails the request goes
   * to the next live server (it was never sent, so even an ADD can move).
   */
  #run<T>(key: string, request: (connection: Connection) => Promise<T>): Promise<T> {
    const servers = this.#servers;
    if (servers !== undefined) {
      let connection: Connection | undefined;
      try {
        connection = this.#route(servers, key).ready();
      } catch (error) {
        return Promise.reject(error);
      }
      if (connection !== undefined) return request(connection);
    }
    return this.#runOpening(key, request);
  }

  async #runOpening<T>(key: string, request: (connection: Connection) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw this.#closedError();
    const servers = await this.#load();
    let failure: unknown;
    const tried = new Set<ServerPool>();
    // Ends: every pass either returns, throws, or adds a server to `tried`.
    for (;;) {
      let server: ServerPool;
      try {
        server = this.#route(servers, key, tried);
      } catch (error) {
        throw failure ?? error; // the last live server's own failure says more than "all are dead"
      }
      let connection: Connection;
      try {
        connection = await server.connection();
      } catch (error) {
        if (!canReroute(error)) throw error;
        failure = error;
        tried.add(server);
        continue;
      }
      return request(connection);
    }
  }

  /** Runs `request` once per server with that server's share of `keys` (one pipelined batch each), in parallel. */
  async #each(keys: readonly string[], request: (connection: Connection, keys: string[]) => Promise<void>): Promise<void> {
    if (this.#closing !== undefined) throw this.#closedError();
    const servers = this.#servers ?? (await this.#load());
    await this.#eachGroup(servers, keys, request, NONE);
  }

  async #eachGroup(
    servers: readonly ServerPool[],
    keys: readonly string[],
    request: (connection: Connection, keys: string[]) => Promise<void>,
    skip: ReadonlySet<ServerPool>,
    failure?: unknown,
  ): Promise<void> {
    let groups: Map<ServerPool, string[]>;
    try {
      groups = this.#group(servers, keys, skip);
    } catch (error) {
      throw failure ?? error; // the last live server's own failure says more than "all are dead"
    }
    await Promise.all(
      Array.from(groups, async ([server, group]) => {
        let connection = server.ready();
        if (connection === undefined) {
          try {
            connection = await server.connection();
          } catch (error) {
            // Never sent: the server's keys go to the next live servers (ends: `skip` grows each time).
            if (!canReroute(error)) throw error;
            return this.#eachGroup(servers, group, request, new Set([...skip, server]), error);
          }
        }
        return request(connection, group);
      }),
    );
  }

  /** `keys` by the live server that holds them; throws when every server is dead. */
  #group(servers: readonly ServerPool[], keys: readonly string[], skip: ReadonlySet<ServerPool>): Map<ServerPool, string[]> {
    if (servers.length === 1) return new Map([[this.#route(servers, keys[0] as string, skip), [...keys]]]);
    const groups = new Map<ServerPool, string[]>();
    for (const key of keys) {
      const server = this.#route(servers, key, skip);
      const group = groups.get(server);
      if (group === undefined) groups.set(server, [key]);
      else group.push(key);
    }
    return groups;
  }

  #closedError(): BackendUnavailableError {
    return new BackendUnavailableError('The PooledMemcachedBackend was closed.');
  }
}
