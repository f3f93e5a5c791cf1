/**
 * `MongoBackend`: oslo.cache's `oslo_cache.mongo` for the Node.js driver. One document per entry
 * (`{ _id: key, value, meta, doc_date }`), one command per multi-operation (two for `setMulti` on
 * FerretDB), exact expiry on every read, an optional cross-process lock, and lazy, retried, shared
 * connections.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { Collection, Document, MongoClient, MongoClientOptions, ReadPreference } from 'mongodb';
import {
  NO_VALUE,
  CacheBackend,
  entryTtl,
  type BackendArguments,
  type BackendResult,
  type CachedValue,
  type CacheMutex,
  type Mapping,
} from '../../api.js';
import { assertDriversInstalled, DRIVER_PACKAGES, loadDriver } from '../../driver.js';
import { BackendUnavailableError, ConfigurationError, isDogpileCacheError, QueueEmptyError, SerializationError } from '../../errors.js';
import { debug } from '../../log.js';
import { serverTtlSeconds } from '../../serializers.js';
import { assertCachedValue, assertKey, assertKeys, mappingEntries } from '../../validate.js';
import { leaseClient, type ClientLease } from './client-cache.js';
import { mapDriverError } from './errors.js';
import { ensureTtlIndex, expiryDate, isLive, Sweeper, type MongoBackendWarning, type SweepTarget, type TtlIndexOutcome } from './expiry.js';
import { MongoMutex, type LockDocument, type LockStore } from './lock.js';
import { readMongoArguments, type MongoSettings } from './options.js';
import { collectSecrets, scrubError, scrubText } from './redact.js';
import { decodeEntry, encodeEntry } from './transform.js';
import { detectServer, keyBatches, replaceMany, retryDuplicateUpsert, type KeyedDocument, type ServerKind } from './writes.js';

type MongoDriver = typeof import('mongodb');

/**
 * Name of the `node:diagnostics_channel` channel on which every {@link MongoBackendWarning} is
 * published (in addition to the `on_warning` argument).
 */
export const MONGO_WARNING_CHANNEL = 'dogpile-cache:mongo:warning';

const warningChannel = channel(MONGO_WARNING_CHANNEL);

/** Consecutive "unavailable" failures (down, timed out, no pooled connection) that open the circuit. */
export const BREAKER_THRESHOLD = 3;
/** How long an open circuit fails calls at once before it lets one probe call through, ms. */
export const BREAKER_HALF_OPEN_MS = 2000;

interface Connection {
  readonly lease: ClientLease;
  readonly server: ServerKind;
  readonly cache: Collection<KeyedDocument>;
  readonly locks: Collection<LockDocument> | null;
  readonly sweeper: Sweeper | null;
  /**
   * Without `mongo_ttl_seconds` no TTL index is asked for at connect; the first write of an entry with
   * its own TTL asks for it then (and starts the sweep where the server has none), once per connection.
   */
  entryExpiry: Promise<Sweeper | null> | null;
}

function closedError(): BackendUnavailableError {
  return new BackendUnavailableError('MongoBackend is closed; create a new backend to use MongoDB again.');
}

async function readTlsFile(path: string, argument: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigurationError(`MongoBackend argument ${argument}: cannot read "${path}".`, { cause: error });
  }
}

/** Creates (does not connect) the client, reading the TLS files named by the ssl_* arguments. */
async function createClient(driver: MongoDriver, settings: MongoSettings): Promise<MongoClient> {
  const options: MongoClientOptions = { ...settings.clientOptions };
  const files = settings.tlsFiles;
  if (files !== null) {
    if (files.ca !== undefined) options.ca = await readTlsFile(files.ca, 'ssl_ca_certs');
    if (files.cert !== undefined) options.cert = await readTlsFile(files.cert, 'ssl_certfile');
    if (files.key !== undefined) options.key = await readTlsFile(files.key, 'ssl_keyfile');
  }
  try {
    return new driver.MongoClient(settings.uri, options);
  } catch (error) {
    throw new ConfigurationError(`MongoBackend: the driver rejected the connection settings (${String((error as Error).message)}).`, {
      cause: error,
    });
  }
}

function readPreferenceOf(driver: MongoDriver, settings: MongoSettings): ReadPreference | undefined {
  const pref = settings.readPreference;
  if (pref === null) return undefined;
  return new driver.ReadPreference(
    pref.mode,
    pref.tags,
    pref.maxStalenessSeconds === undefined ? {} : { maxStalenessSeconds: pref.maxStalenessSeconds },
  );
}

/**
 * MongoDB backend (registry names `mongo`, `oslo_cache.mongo`), a port of oslo.cache's
 * `MongoCacheBackend` that fixes its bugs: entries expire exactly at `mongo_ttl_seconds` (oslo's TTL
 * index kept them about twice as long, and MongoDB's TTL monitor lags up to a minute, so every read
 * checks `doc_date`), multi-operations take one command, and PyMongo-2-only APIs are gone.
 *
 * Arguments: see `MongoBackendArguments` (`db_hosts`, `db_name` and `cache_collection` are
 * required; a missing one is a `ConfigurationError`). Nothing connects in the constructor: the first
 * operation does, and a failed connect rejects every waiting call with `BackendUnavailableError`
 * (within `server_selection_timeout`, default 5 s) and is retried by the next call. Backends with the
 * same connection settings share one `MongoClient`; `close()` releases it (the last one closes it), and
 * so does `idle_timeout` (default 5 s) without a call, so that a forgotten `close()` never keeps a
 * process alive.
 *
 * Failure bounds: every call, and `close()`, settles within `operation_timeout` (by default the larger
 * of `server_selection_timeout` and `socket_timeout`: 10 s), however the server fails. After
 * `BREAKER_THRESHOLD` (3) "unavailable" failures in a row a circuit breaker rejects calls at once with
 * `BackendUnavailableError`, letting one probe through every `BREAKER_HALF_OPEN_MS` (2,000 ms) until one
 * succeeds. No error carries a password from `db_hosts` or `password`.
 *
 * Values are stored as BSON and keep their types (see docs/backends/mongo.md); a value BSON would
 * change is rejected with `SerializationError`, a document over 16 MB with `ValueTooLargeError`.
 *
 * @example
 * ```ts
 * import { makeRegion } from 'dogpile-cache';
 * import { MongoBackend } from 'dogpile-cache/backends/mongo';
 * const region = makeRegion().configure(MongoBackend, {
 *   expirationTime: 600,
 *   arguments: { db_hosts: 'mongodb://127.0.0.1:27017/', db_name: 'cache', cache_collection: 'tokens', mongo_ttl_seconds: 900 },
 * });
 * await region.getOrCreate('token:abc', () => db.load(1, 'en')); // one document per key, values kept as BSON
 * await region.close(); // releases the shared MongoClient
 * ```
 */
export class MongoBackend extends CacheBackend {
  readonly #settings: MongoSettings;
  readonly #abort = new AbortController();
  readonly #warned = new Set<MongoBackendWarning['code']>();
  readonly #lockStore: LockStore;
  /** Passwords from `db_hosts` and `password`, hidden from every error we throw. */
  readonly #secrets: readonly string[];
  readonly #breaker: CircuitBreakerPolicy;
  /** The failure that opened the circuit, the `cause` of the errors an open circuit throws. */
  #lastFailure: unknown = undefined;
  #connection: Connection | null = null;
  #connecting: Promise<Connection> | null = null;
  #closing: Promise<void> | null = null;
  /** An idle disconnect in progress, which `close()` waits for. */
  #releasing: Promise<void> | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #inflight = 0;
  #drained: (() => void) | null = null;

  /**
   * Checks the arguments (throws `ConfigurationError` or `ValidationError`); does not connect and
   * does not load the driver.
   */
  constructor(args: BackendArguments = {}) {
    super();
    const raw = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
    this.#secrets = collectSecrets(raw.db_hosts ?? raw.dbHosts, raw.password);
    try {
      this.#settings = readMongoArguments(args);
    } catch (error) {
      throw scrubError(error, this.#secrets);
    }
    // A missing driver fails here, at configure(), not at the first request (resolved, not loaded).
    assertDriversInstalled(DRIVER_PACKAGES.mongo, 'MongoBackend');
    const settings = this.#settings;
    // A circuit per backend (one deployment: the driver picks among its servers itself). Only "the
    // server did not answer" counts; a refused value or a missing privilege says the server is alive.
    this.#breaker = circuitBreaker(
      handleWhen(
        (error) =>
          this.#closing === null &&
          (isDogpileCacheError(error, BackendUnavailableError.code) || isDogpileCacheError(error, QueueEmptyError.code)),
      ),
      { halfOpenAfter: BREAKER_HALF_OPEN_MS, breaker: new ConsecutiveBreaker(BREAKER_THRESHOLD) },
    );
    this.#lockStore = {
      clock: settings.clock,
      timeoutMs: settings.lockTimeoutMs,
      run: (operation, fn) => this.#run(operation, [], (connection) => fn(connection.locks as Collection<LockDocument>)),
      sleep: (ms) => sleep(ms, undefined, { signal: this.#abort.signal }).catch(() => Promise.reject(closedError())),
    };
  }

  /**
   * The connected, shared `MongoClient` (connecting first if needed), for diagnostics and command
   * monitoring. Do not close it: call {@link close}.
   */
  async getClient(): Promise<MongoClient> {
    return this.#run('getClient', [], async (connection) => connection.lease.client);
  }

  async get(key: string): Promise<BackendResult> {
    assertKey(key);
    return this.#run('get', [key], async ({ cache }) => {
      const doc = await cache.findOne({ _id: key }, this.#settings.readOptions);
      const now = this.#settings.clock();
      return doc !== null && isLive(doc, now) ? decodeEntry(doc, this.#settings.transform, now) : NO_VALUE;
    });
  }

  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    assertKeys(keys);
    if (keys.length === 0) return [];
    const unique = [...new Set(keys)];
    return this.#run('getMulti', unique, async ({ cache }) => {
      const found = new Map<string, BackendResult>();
      for (const batch of keyBatches(unique)) {
        // At most one document per key: with limit = batchSize = keys the server closes the cursor in its
        // first reply (the default first batch of 101, or an open cursor, would cost a getMore round trip).
        const options = { ...this.#settings.readOptions, limit: batch.length, batchSize: batch.length };
        const docs = await cache.find({ _id: { $in: batch } }, options).toArray();
        const now = this.#settings.clock();
        for (const doc of docs) if (isLive(doc, now)) found.set(doc._id, this.#decodeOne(doc, now));
      }
      return keys.map((key) => found.get(key) ?? NO_VALUE);
    });
  }

  /** One document of a `getMulti`: a corrupt one is a miss for its key alone, not a failed call. */
  #decodeOne(doc: KeyedDocument, now: number): BackendResult {
    try {
      return decodeEntry(doc, this.#settings.transform, now);
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
      debug('MongoBackend getMulti: %s Read as a miss.', error.message);
      return NO_VALUE;
    }
  }

  async set(key: string, value: CachedValue): Promise<void> {
    assertKey(key);
    assertCachedValue(value);
    const doc = encodeEntry(key, value, this.#expiry(this.#settings.clock(), value), this.#settings.transform);
    await this.#run('set', [key], async (connection) => {
      if (this.#needsEntryExpiry(value)) await this.#ensureEntryExpiry(connection);
      return retryDuplicateUpsert(() => connection.cache.replaceOne({ _id: key }, doc, { ...this.#settings.writeOptions, upsert: true }));
    });
  }

  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    const entries = mappingEntries(mapping);
    for (const [key, value] of entries) assertCachedValue(value, `mapping["${key}"]`);
    if (entries.length === 0) return;
    const now = this.#settings.clock();
    const keys = entries.map(([key]) => key);
    // Encode (and check) everything before the first write: a bad value stores nothing.
    const docs = entries.map(
      ([key, value]) => encodeEntry(key, value, this.#expiry(now, value), this.#settings.transform) as KeyedDocument,
    );
    const entryExpiry = entries.some(([, value]) => this.#needsEntryExpiry(value));
    await this.#run('setMulti', keys, async (connection) => {
      if (entryExpiry) await this.#ensureEntryExpiry(connection);
      return replaceMany(connection.cache, keys, docs, this.#settings.writeOptions, connection.server);
    });
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.#run('delete', [key], ({ cache }) => cache.deleteOne({ _id: key }, this.#settings.writeOptions));
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    if (keys.length === 0) return;
    const unique = [...new Set(keys)];
    await this.#run('deleteMulti', unique, async ({ cache }) => {
      for (const batch of keyBatches(unique)) await cache.deleteMany({ _id: { $in: batch } }, this.#settings.writeOptions);
    });
  }

  /**
   * Removes every entry of `cache_collection` (one `deleteMany`); the lock collection is left alone.
   * A collection shared by several regions is cleared for all of them: give each region its own.
   */
  override async clear(): Promise<void> {
    await this.#run('clear', [], ({ cache }) => cache.deleteMany({}, this.#settings.writeOptions));
  }

  /**
   * With `distributed_lock: true`, a lock document in `<cache_collection>_locks` that holds across
   * processes and machines (see `MongoMutex`); otherwise `null`, and the region uses its in-process
   * lock (dogpile's default for memcached, kept here).
   */
  override getMutex(key: string): CacheMutex | null {
    if (!this.#settings.lockEnabled) return null;
    assertKey(key);
    return new MongoMutex(key, this.#lockStore);
  }

  /**
   * Stops the sweep timer, rejects waiting lock acquisitions, waits for operations in flight and
   * releases the shared client (closing it if no other backend uses it). Idempotent; later calls
   * reject with `BackendUnavailableError`. Settles within `operation_timeout` even when the server is
   * down or hung: what is not done by then (the driver closing its sockets) finishes in the background,
   * with a debug line.
   */
  override close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#abort.abort();
    this.#clearIdleTimer();
    const ms = this.#settings.operationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.#drainAndRelease().then(
        () => false,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), ms);
      }),
    ]);
    clearTimeout(timer);
    if (late) debug('MongoBackend close: not done within operation_timeout (%d ms); the driver finishes closing in the background', ms);
  }

  async #drainAndRelease(): Promise<void> {
    if (this.#inflight > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    // A connect still running after every call gave up on it releases itself (see #connect).
    const connection = this.#connection;
    this.#connection = null;
    await this.#releasing;
    if (connection !== null) await this.#release(connection);
  }

  async #release(connection: Connection): Promise<void> {
    try {
      await connection.sweeper?.stop();
      await (await connection.entryExpiry?.catch(() => null))?.stop();
      await connection.lease.release();
    } catch (error) {
      debug('MongoBackend: releasing the connection failed: %s', scrubText(String(error), this.#secrets));
    }
  }

  /**
   * Runs one operation on the connection (connecting first), within `operation_timeout`, through the
   * circuit breaker; maps driver errors and hides secrets in whatever it throws.
   */
  async #run<T>(operation: string, keys: readonly string[], fn: (connection: Connection) => Promise<T>): Promise<T> {
    if (this.#closing !== null) throw closedError();
    this.#inflight += 1;
    this.#clearIdleTimer();
    try {
      return await this.#breaker.execute(() =>
        this.#withinDeadline(operation, async () => {
          const connection = this.#connection ?? (await this.#connect());
          if (this.#closing !== null) throw closedError();
          try {
            return await fn(connection);
          } catch (error) {
            throw mapDriverError(error, operation, keys);
          }
        }),
      );
    } catch (error) {
      throw scrubError(this.#circuitError(error, operation), this.#secrets);
    } finally {
      this.#inflight -= 1;
      if (this.#inflight === 0) {
        this.#drained?.();
        this.#scheduleIdle();
      }
    }
  }

  /**
   * `work()`, or a `BackendUnavailableError` once `operation_timeout` has passed. The driver's own
   * timeouts are not enough: it retries a read or write once, waits for a pooled connection, and
   * against a hung server each of those waits its full socket timeout (12-14 s were measured with
   * 2 s timeouts). The abandoned work finishes in the background (its result is ignored).
   */
  async #withinDeadline<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const ms = this.#settings.operationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new BackendUnavailableError(
            `MongoBackend ${operation}: no answer from MongoDB within operation_timeout (${ms / 1000} s); the server is down, hung or overloaded` +
              `${operation.startsWith('get') || operation === 'lock check' ? '' : ' (the write may still be applied)'}.`,
          ),
        );
      }, ms);
    });
    try {
      return await Promise.race([work(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** An open circuit's rejection → `BackendUnavailableError`; a failure that counts is remembered as the cause. */
  #circuitError(error: unknown, operation: string): unknown {
    if (error instanceof BrokenCircuitError) {
      return new BackendUnavailableError(
        `MongoBackend ${operation}: MongoDB (${scrubText(this.#settings.uri, this.#secrets)}) failed ${BREAKER_THRESHOLD} calls in a row; ` +
          `calls fail at once, with one probe every ${BREAKER_HALF_OPEN_MS / 1000} s, until a probe succeeds.`,
        { cause: this.#lastFailure },
      );
    }
    if (isDogpileCacheError(error, BackendUnavailableError.code) || isDogpileCacheError(error, QueueEmptyError.code))
      this.#lastFailure = error;
    return error;
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /**
   * After `idle_timeout` without a call, lets go of the connection: the driver's sockets and monitor
   * timers keep a process alive, so a script that forgets `close()` would never exit. The timer itself
   * is unref'd; the next call reconnects.
   */
  #scheduleIdle(): void {
    const ms = this.#settings.idleTimeoutMs;
    if (ms === 0 || this.#closing !== null || this.#connection === null || this.#inflight > 0) return;
    this.#clearIdleTimer();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      const connection = this.#connection;
      if (connection === null || this.#inflight > 0 || this.#closing !== null) return;
      this.#connection = null;
      this.#connecting = null;
      debug('MongoBackend: no call for %d ms; letting go of the connection (the next call reconnects)', ms);
      const releasing = this.#release(connection).finally(() => {
        if (this.#releasing === releasing) this.#releasing = null;
      });
      this.#releasing = releasing;
    }, ms);
    this.#idleTimer.unref();
  }

  /** Connects once; concurrent callers share the attempt, and a failed attempt is retried by the next call. */
  #connect(): Promise<Connection> {
    this.#connecting ??= this.#open().then(
      async (connection) => {
        if (this.#closing !== null) {
          // Every caller gave up (deadline) and close() has moved on: nobody else will release it.
          await this.#release(connection);
          throw closedError();
        }
        this.#connection = connection;
        if (this.#inflight === 0) this.#scheduleIdle();
        return connection;
      },
      (error: unknown) => {
        this.#connecting = null;
        throw error;
      },
    );
    return this.#connecting;
  }

  async #open(): Promise<Connection> {
    const settings = this.#settings;
    const driver = await loadDriver<MongoDriver>('mongodb', 'MongoBackend');
    let lease: ClientLease;
    try {
      lease = await leaseClient(settings.clientKey, () => createClient(driver, settings));
    } catch (error) {
      throw this.#connectError(error);
    }
    try {
      const db = lease.client.db(settings.dbName);
      const readPreference = readPreferenceOf(driver, settings);
      const cache = db.collection<KeyedDocument>(settings.collectionName, {
        // BSON options that keep JS types: undefined as in JSON, Binary → Buffer, int64 → bigint.
        ignoreUndefined: true,
        promoteBuffers: true,
        useBigInt64: true,
        ...(settings.writeConcern === null ? {} : { writeConcern: settings.writeConcern }),
        ...(readPreference === undefined ? {} : { readPreference }),
        ...(settings.readConcernLevel === null ? {} : { readConcern: { level: settings.readConcernLevel } }),
      });
      // Locks need acknowledged writes (a w:0 insert cannot report the duplicate key) and primary reads.
      const lockWriteConcern = settings.writeConcern?.w === 0 ? { ...settings.writeConcern, w: 1 } : settings.writeConcern;
      const locks = settings.lockEnabled
        ? db.collection<LockDocument>(settings.lockCollectionName, {
            readPreference: 'primary',
            ...(lockWriteConcern === null ? {} : { writeConcern: lockWriteConcern }),
          })
        : null;
      const isUnavailable = (error: unknown): boolean => mapDriverError(error, 'connect') instanceof BackendUnavailableError;
      const [server, sweeper] = await Promise.all([detectServer(db, isUnavailable), this.#setUpExpiry(cache, locks, isUnavailable)]);
      return { lease, server, cache, locks, sweeper, entryExpiry: null };
    } catch (error) {
      await lease.release();
      throw this.#connectError(error);
    }
  }

  /** A failed connect or setup: configuration problems and a missing driver as they are, everything else "unavailable". */
  #connectError(error: unknown): unknown {
    // Ours already say what happened: ConfigurationError (TLS files), MissingDependencyError (no driver).
    if (isDogpileCacheError(error)) return error;
    const names = ['MongoParseError', 'MongoInvalidArgumentError', 'MongoMissingCredentialsError', 'MongoMissingDependencyError'];
    if (typeof error === 'object' && error !== null && names.includes((error as Error).name)) {
      return new ConfigurationError(`MongoBackend: the driver rejected the connection settings (${(error as Error).message}).`, {
        cause: error,
      });
    }
    const mapped = mapDriverError(error, 'connect');
    if (mapped instanceof BackendUnavailableError) return mapped;
    const message = typeof error === 'object' && error !== null ? String((error as Error).message) : String(error);
    return new BackendUnavailableError(`MongoBackend could not connect to ${this.#settings.dbName} (${message}).`, { cause: error });
  }

  /**
   * `doc_date` of `value` written at `nowMs`: `mongo_ttl_seconds` from now, or the entry's own TTL (the
   * longer of the two when both are set, so a value past its own TTL can still be served stale while one
   * caller regenerates it, as on memcached and Redis); never, when neither is set.
   */
  #expiry(nowMs: number, value: CachedValue): Date {
    const own = entryTtl(value.metadata);
    if (own === undefined) return expiryDate(nowMs, this.#settings.ttlMs);
    return expiryDate(nowMs, serverTtlSeconds((this.#settings.ttlMs ?? 0) / 1000, own) * 1000);
  }

  /** True when writing `value` needs the TTL index that `mongo_ttl_seconds` did not ask for at connect. */
  #needsEntryExpiry(value: CachedValue): boolean {
    return this.#settings.ttlMs === null && entryTtl(value.metadata) !== undefined;
  }

  /**
   * Asks once per connection for the `doc_date` TTL index (or starts the sweep where the server has no
   * TTL indexes), for entries with their own TTL when `mongo_ttl_seconds` is off. A failed request is
   * forgotten so that the next such write asks again; the write itself goes on (reads stay exact).
   */
  async #ensureEntryExpiry(connection: Connection): Promise<void> {
    connection.entryExpiry ??= this.#setUpEntryExpiry(connection.cache).catch((error: unknown) => {
      connection.entryExpiry = null;
      debug(
        'MongoBackend: asking for the doc_date TTL index failed, retried at the next write with a TTL: %s',
        scrubText(String(error), this.#secrets),
      );
      return null;
    });
    await connection.entryExpiry;
  }

  async #setUpEntryExpiry(cache: Collection<KeyedDocument>): Promise<Sweeper | null> {
    const isUnavailable = (error: unknown): boolean => mapDriverError(error, 'connect') instanceof BackendUnavailableError;
    const target: SweepTarget = { collection: cache as unknown as Collection<Document>, field: 'doc_date' };
    const outcome = await ensureTtlIndex(target.collection, target.field, isUnavailable, (w) => this.#warn(w));
    if ((outcome !== 'unsupported' && outcome !== 'failed') || this.#settings.sweepIntervalMs <= 0) return null;
    return this.#sweeper([target]);
  }

  /**
   * Asks for the TTL indexes (cache entries when `mongo_ttl_seconds` is on, locks when enabled) and
   * starts a sweep for each collection that could not get one (FerretDB). Runs once per connection.
   */
  async #setUpExpiry(
    cache: Collection<KeyedDocument>,
    locks: Collection<LockDocument> | null,
    isUnavailable: (error: unknown) => boolean,
  ): Promise<Sweeper | null> {
    const settings = this.#settings;
    const wanted: SweepTarget[] = [];
    if (settings.ttlMs !== null) wanted.push({ collection: cache as unknown as Collection<Document>, field: 'doc_date' });
    if (locks !== null) wanted.push({ collection: locks as unknown as Collection<Document>, field: 'expiresAt' });
    if (wanted.length === 0) return null;
    const outcomes: TtlIndexOutcome[] = await Promise.all(
      wanted.map((target) => ensureTtlIndex(target.collection, target.field, isUnavailable, (w) => this.#warn(w))),
    );
    const targets = wanted.filter((_, i) => outcomes[i] === 'unsupported' || outcomes[i] === 'failed');
    if (targets.length === 0 || settings.sweepIntervalMs <= 0) return null;
    return this.#sweeper(targets);
  }

  /** A sweep of `targets` every `sweep_interval`, reporting failures as `sweep-failed` warnings. */
  #sweeper(targets: readonly SweepTarget[]): Sweeper {
    return new Sweeper(targets, this.#settings.sweepIntervalMs, this.#settings.clock, (error, target) => {
      debug('MongoBackend sweep of %s failed: %s', target.collection.namespace, scrubText(String(error), this.#secrets));
      this.#warn({
        code: 'sweep-failed',
        message: `Deleting expired documents from ${target.collection.namespace} failed; retrying every sweep_interval.`,
        namespace: target.collection.namespace,
        cause: error,
      });
    });
  }

  /** Reports a warning once per backend and code: debug log, diagnostics channel, `on_warning`. */
  #warn(warning: MongoBackendWarning): void {
    if (this.#warned.has(warning.code)) return;
    this.#warned.add(warning.code);
    if (warning.cause !== undefined) scrubError(warning.cause, this.#secrets);
    debug('MongoBackend warning %s: %s', warning.code, warning.message);
    if (warningChannel.hasSubscribers) warningChannel.publish(warning);
    try {
      this.#settings.onWarning?.(warning);
    } catch (error) {
      debug('MongoBackend on_warning listener threw: %s', String(error));
    }
  }
}
