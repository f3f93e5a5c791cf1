/**
 * dogpile.cache's Redis backends on ioredis: `RedisBackend` (one server), `RedisSentinelBackend` and
 * `RedisClusterBackend`. This module translates the backend contract into Redis commands; the client
 * and its bounds live in connection.ts, the arguments in options.ts, the lock in lock.ts.
 *
 * @module
 */
import { isAscii } from 'node:buffer';
import { setMaxListeners } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import {
  BytesBackend,
  NO_VALUE,
  type BackendArguments,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
  type NoValue,
} from '../../api.js';
import { assertDriversInstalled, DRIVER_PACKAGES } from '../../driver.js';
import { UnsupportedOperationError, ValidationError } from '../../errors.js';
import {
  buildSerialized,
  entryTtlOfMetadata,
  entryTtlOfSerialized,
  jsonSerializer,
  parseJsonEntryText,
  parseSerialized,
  serializedJsonText,
  serverTtlSeconds,
} from '../../serializers.js';
import { assertCachedValue, assertKey, assertKeys, describe, mappingEntries } from '../../validate.js';
import { RedisConnection, type RedisClient } from './connection.js';
import { RELEASE_SCRIPT, RedisMutex, type LockStore } from './lock.js';
import { readRedisArguments, type RedisBackendArguments, type RedisSettings, type RedisTopology } from './options.js';
import { keySlot } from './slot.js';

type ChainableCommander = ReturnType<RedisClient['pipeline']>;

/**
 * A Redis backend for dogpile's byte format (registry names `dogpile.cache.redis` and
 * `dogpile.cache.valkey`). Entries are `JSON(metadata) + "|" + payload`, as dogpile's `RedisBackend`
 * stores them, so a Python region with a JSON serializer shares entries with ours.
 *
 * - `get` is GET, `getMulti` one MGET, `set` SET (with EX/PX under `redis_expiration_time`),
 *   `setMulti` one MSET (or one pipeline of SET … PX with a TTL), `delete`/`deleteMulti` one DEL.
 * - Every call is bounded by `socket_timeout` (5 s by default) and fails with
 *   `BackendUnavailableError` when the server is down or slow; the client reconnects by itself.
 * - With `distributed_lock`, `getMutex` returns the lock redis-py's `Lock` implements (see lock.ts).
 * - With a `namespace`, every key is stored as `"<namespace>:<key>"` and `clear()` removes them all
 *   (SCAN + UNLINK); without one `clear()` is refused (never a FLUSHDB).
 *
 * ioredis is imported on the first call (a missing package is a `MissingDependencyError`); nothing
 * connects in the constructor. Call {@link close} when done. See docs/backends/redis.md.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { RedisBackend } from 'dogpile-cache/backends/redis';
 * const backend = new RedisBackend({ url: 'redis://10.0.0.1:6379/0', redis_expiration_time: 3600, distributed_lock: true });
 * const region = new CacheRegion({ serializer: 'json' }).configure(backend, { expirationTime: '10m' });
 * await region.getOrCreate('user:1', () => db.loadUser(1)); // stored as '{"ct": ..., "v": 2}|{"id": 1, ...}'
 * await region.close(); // QUITs the connection
 * ```
 */
export class RedisBackend extends BytesBackend {
  /** The deployment this class talks to; subclasses change it. */
  protected static readonly topology: RedisTopology = 'single';

  /** @internal */
  protected readonly settings: RedisSettings;
  readonly #connection: RedisConnection;
  readonly #closeSignal = new AbortController();
  readonly #lockStore: LockStore;
  /** `"<namespace>:"` or `""`: put before every key sent to Redis. */
  readonly #prefix: string;
  #closing: Promise<void> | undefined;
  // Arrow functions made once, passed to `then` on every call (this.serializer may be replaced).
  readonly #parseBytes = (bytes: Buffer | NoValue): BackendResult => parseSerialized(bytes, this.serializer);
  readonly #parseAll = (values: (Buffer | NoValue)[]): BackendResult[] => {
    const serializer = this.serializer;
    return values.map((bytes) => parseSerialized(bytes, serializer));
  };

  /**
   * Reads and checks `args` (see {@link RedisBackendArguments}; snake_case or camelCase); throws
   * `ValidationError` for a wrong type, range or a missing required argument. Does not connect.
   */
  constructor(args: RedisBackendArguments | BackendArguments = {}) {
    super();
    const ctor = new.target as unknown as { topology: RedisTopology; name: string };
    this.settings = readRedisArguments(args as BackendArguments, ctor.topology, ctor.name);
    this.#prefix = this.settings.keyPrefix;
    // A missing driver fails here, at configure(), not at the first request (resolved, not loaded).
    assertDriversInstalled(DRIVER_PACKAGES.redis, ctor.name);
    this.#connection = new RedisConnection(this.settings);
    // Every lock acquire waiting on this backend listens to it: more than Node's 10 per signal is normal
    // (one per key being regenerated), not a leak, and must not print a MaxListenersExceededWarning.
    setMaxListeners(0, this.#closeSignal.signal);
    this.#lockStore = {
      setIfAbsent: (key, token, ttlMs) => {
        let sent: Promise<unknown> | undefined;
        return this.#connection
          .call('lock acquire', (c) => {
            sent = ttlMs > 0 ? c.set(key, token, 'PX', ttlMs, 'NX') : c.set(key, token, 'NX');
            return sent;
          })
          .then(
            (reply) => reply === 'OK',
            (error: unknown) => {
              // Timed out here, but a hung server still runs the SET once it resumes: a late OK would hold
              // the lock under a token nobody owns (for ever without lock_timeout), so it is released then,
              // by its token only. Best effort: the acquire has already failed either way.
              void sent?.then(
                (reply) => (reply === 'OK' ? this.#lockStore.deleteIfToken(key, token).catch(() => false) : false),
                () => false,
              );
              throw error;
            },
          );
      },
      deleteIfToken: (key, token) =>
        this.#connection.call('lock release', (c) => c.eval(RELEASE_SCRIPT, 1, key, token)).then((n) => n === 1),
      exists: (key) => this.#connection.call('lock check', (c) => c.exists(key)).then((n) => n > 0),
      closed: this.#closeSignal.signal,
    };
  }

  /**
   * The ioredis client (a `Redis`, or a `Cluster` for {@link RedisClusterBackend}), created and
   * connected on first use. For diagnostics and what this backend does not wrap; do not close it.
   */
  getClient(): Promise<RedisClient> {
    return this.#connection.client();
  }

  /**
   * Runs `fn` on the client (connected first if needed), bounded by `socket_timeout` like every command
   * of this backend; a failure or timeout rejects with `BackendUnavailableError` naming `what`. For
   * what this backend does not wrap (`RedisNotifications` publishes through it): `fn` sends one
   * command, one pipeline, or commands in parallel, not commands one after another.
   */
  boundedCall<T>(what: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.#connection.call(what, fn);
  }

  // The single-key calls and MGET are written without async functions: on a connected client each is
  // the driver's promise plus the watchdog's (connection.watch), which is most of what separates them
  // from a raw ioredis call (bench/redis.ts, the CPU table). With the JSON serializer, get/getMulti
  // read strings, as a raw client would (ioredis decodes them without making a Buffer of each value
  // first), and set writes one: the entry is ASCII text then (see parseJsonEntryText and serializedJsonText).

  // Public methods take the caller's keys; the private ones below them take stored keys (with the
  // namespace's prefix, see #stored), so that no key is prefixed twice.

  override get(key: string): Promise<BackendResult> {
    let stored: string;
    try {
      assertKey(key);
      stored = this.#prefix + key;
      const client = this.#connection.ready;
      if (client !== null && this.serializer === jsonSerializer) {
        return this.#connection.watch('GET', client.get(stored), (text) =>
          text === null ? NO_VALUE : (parseJsonEntryText(text) ?? this.#getBytes(stored)),
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getBytes(stored);
  }

  /** GET of the entry's bytes, parsed with the serializer: other serializers, and metadata outside ASCII. */
  #getBytes(stored: string): Promise<BackendResult> {
    return this.#getSerialized(stored).then(this.#parseBytes);
  }

  override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    let stored: readonly string[];
    try {
      assertKeys(keys);
      stored = this.#stored(keys);
      const client = this.#connection.ready;
      if (client !== null && !isCluster(client) && keys.length > 0 && this.serializer === jsonSerializer) {
        return this.#connection.watch('MGET', client.mget(stored as string[]), (texts) => this.#parseTexts(stored, texts));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getSerializedMulti(stored).then(this.#parseAll);
  }

  /** MGET's strings as entries; the few whose metadata is not ASCII are read again as bytes. */
  #parseTexts(keys: readonly string[], texts: (string | null)[]): BackendResult[] | Promise<BackendResult[]> {
    const values: BackendResult[] = new Array<BackendResult>(texts.length);
    let asBytes: number[] | null = null;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i] ?? null;
      const value = text === null ? NO_VALUE : parseJsonEntryText(text);
      if (value !== null) values[i] = value;
      else (asBytes ??= []).push(i);
    }
    if (asBytes === null) return values;
    const indexes = asBytes;
    return this.#getSerializedMulti(indexes.map((i) => keys[i] as string)).then((entries) => {
      indexes.forEach((i, j) => {
        values[i] = parseSerialized(entries[j] ?? NO_VALUE, this.serializer);
      });
      return values;
    });
  }

  override set(key: string, value: CachedValue): Promise<void> {
    try {
      assertKey(key);
      assertCachedValue(value);
      if (this.serializer === jsonSerializer) {
        const ms = serverTtlMsOf(this.settings.expirationMs, entryTtlOfMetadata(value.metadata));
        return this.#send(this.#prefix + key, serializedJsonText(value), ms);
      }
      const bytes = buildSerialized(value, this.serializer);
      return this.#send(this.#prefix + key, bytes, serverTtlMs(this.settings.expirationMs, bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  getSerialized(key: string): Promise<Buffer | NoValue> {
    try {
      assertKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getSerialized(this.#prefix + key);
  }

  #getSerialized(stored: string): Promise<Buffer | NoValue> {
    const client = this.#connection.ready;
    if (client !== null) return this.#connection.watch('GET', client.getBuffer(stored), orNoValue);
    return this.#connection.call('GET', (c) => c.getBuffer(stored)).then(orNoValue);
  }

  getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    try {
      assertKeys(keys);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getSerializedMulti(this.#stored(keys));
  }

  /** MGET of stored keys, aligned with them. */
  #getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    // One server: MGET answers duplicate keys in place, so the keys go as they are.
    const client = this.#connection.ready;
    if (client !== null && !isCluster(client)) return this.#connection.watch('MGET', client.mgetBuffer(keys as string[]), allOrNoValue);
    return this.#getSerializedMultiSlow(keys);
  }

  async #getSerializedMultiSlow(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    const unique = [...new Set(keys)];
    const found = new Map<string, Buffer | null>();
    await this.#connection.call('MGET', async (c) => {
      if (!isCluster(c)) {
        const values = await c.mgetBuffer(...unique);
        unique.forEach((key, i) => {
          found.set(key, values[i] ?? null);
        });
        return;
      }
      const replies = await perNode(c, unique, (pipeline, slotKeys) => pipeline.mgetBuffer(...slotKeys));
      for (const [slotKeys, values] of replies)
        slotKeys.forEach((key, i) => {
          found.set(key, (values as (Buffer | null)[])[i] ?? null);
        });
    });
    return keys.map((key) => found.get(key) ?? NO_VALUE);
  }

  setSerialized(key: string, value: Buffer): Promise<void> {
    try {
      assertKey(key);
      checkBytes(key, value);
      const ms = serverTtlMs(this.settings.expirationMs, value);
      // ioredis writes a string argument with less work than a Buffer (no Buffer of the whole command):
      // ASCII bytes (dogpile's JSON entries) go as the string of the same bytes.
      return this.#send(this.#prefix + key, value.length <= ASCII_AS_TEXT_MAX && isAscii(value) ? value.toString('latin1') : value, ms);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** SET of an entry's bytes (or their ASCII text), with a server TTL of `ms` (EX when whole seconds, 0 for none). */
  #send(key: string, value: Buffer | string, ms: number): Promise<void> {
    const client = this.#connection.ready;
    if (client !== null) return this.#connection.watch('SET', sendSet(client, key, value, ms), toVoid);
    return this.#connection.call('SET', (c) => sendSet(c, key, value, ms)).then(toVoid);
  }

  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    const entries = new Map<string, Buffer>();
    for (const [key, value] of mappingEntries(mapping)) {
      checkBytes(key, value);
      entries.set(this.#prefix + key, value);
    }
    if (entries.size === 0) return;
    // Entries with their own TTL get a matching server TTL, each its own.
    const ttls = new Map<string, number>();
    for (const [key, value] of entries) ttls.set(key, serverTtlMs(this.settings.expirationMs, value));
    const ms = Math.max(...ttls.values());
    // dogpile: MSET without a TTL; with one, a pipeline of SETEX (here SET … EX/PX, the same thing).
    const write = (pipeline: ChainableCommander, keys: string[]): void => {
      if (ms === 0) {
        pipeline.mset(...keys.flatMap((key) => [key, entries.get(key) as Buffer]));
        return;
      }
      for (const key of keys) {
        const keyMs = ttls.get(key) ?? 0;
        if (keyMs === 0) pipeline.set(key, entries.get(key) as Buffer);
        else if (keyMs % 1000 === 0) pipeline.set(key, entries.get(key) as Buffer, 'EX', keyMs / 1000);
        else pipeline.set(key, entries.get(key) as Buffer, 'PX', keyMs);
      }
    };
    await this.#connection.call(ms === 0 ? 'MSET' : 'SET (pipeline)', async (c) => {
      if (isCluster(c)) {
        await perNode(c, [...entries.keys()], write);
        return;
      }
      if (ms === 0) {
        await c.mset(entries);
        return;
      }
      const pipeline = c.pipeline();
      write(pipeline, [...entries.keys()]);
      checkReplies(await pipeline.exec());
    });
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    const stored = this.#prefix + key;
    await this.#connection.call('DEL', (c) => c.del(stored));
  }

  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    if (keys.length === 0) return;
    const unique = [...new Set(this.#stored(keys))];
    await this.#connection.call('DEL', async (c) => {
      if (isCluster(c)) await perNode(c, unique, (pipeline, slotKeys) => pipeline.del(...slotKeys));
      else await c.del(...unique);
    });
  }

  /**
   * With `distributed_lock`, the Redis lock on `lock_prefix + key` (dogpile's `"_lock" + key`), with a
   * `namespace` on `lock_prefix + namespace + ":" + key`: the lock key of a Python peer whose key
   * mangler adds the namespace's prefix, and outside the prefix that `clear()` removes (a clear never
   * frees a lock another creator holds). Otherwise null and the region uses its in-process lock. See
   * lock.ts for the guarantees.
   */
  override getMutex(key: string): CacheMutex | null {
    if (!this.settings.distributedLock) return null;
    assertKey(key);
    return new RedisMutex(
      this.#lockStore,
      `${this.settings.lockPrefix}${this.#prefix}${key}`,
      this.settings.lockTimeoutMs,
      this.settings.lockSleepMs,
    );
  }

  /**
   * Removes every entry of this backend's `namespace`: `SCAN MATCH <namespace>:* COUNT 1000` with
   * `UNLINK` of each batch found, on the server (the current master under Sentinel) or on every master
   * of a cluster. Other namespaces, keys without a namespace and the lock keys stay. Entries written
   * while the clear runs may stay (SCAN's guarantee covers the keys present for its whole run); a clear
   * that fails part way has removed part of the entries: run it again.
   * @throws {UnsupportedOperationError} without a `namespace`: the entries would be every key in the
   *   database (this never FLUSHDBs).
   */
  override async clear(): Promise<void> {
    if (this.settings.namespace === null) {
      throw new UnsupportedOperationError(
        `${this.settings.backendName}.clear() needs a namespace: without one, this backend's entries cannot be told apart from every other key in the database. ` +
          'Configure arguments.namespace (e.g. "sessions"; keys become "sessions:<key>"), or use region.invalidate().',
      );
    }
    const pattern = `${globEscape(this.settings.namespace)}:*`;
    const what = 'clear (SCAN + UNLINK)';
    // Commands one after another: each is bounded by socket_timeout on its own, not the whole clear.
    const c = await this.#connection.call(what, async (client) => client);
    const bounded = <T>(command: Promise<T>): Promise<T> => this.#connection.watch(what, command);
    if (!isCluster(c)) {
      await clearMatching(c, pattern, bounded, (keys) => c.unlink(...keys));
      return;
    }
    // Each master holds its own slots' keys: scan them all, and unlink through the cluster client,
    // which groups the keys by slot (a multi-key command needs one slot) and follows MOVED replies.
    await Promise.all(
      c
        .nodes('master')
        .map((node) => clearMatching(node, pattern, bounded, (keys) => perNode(c, keys, (p, slotKeys) => p.unlink(...slotKeys)))),
    );
  }

  /** The stored keys of `keys`: the same array without a namespace. */
  #stored(keys: readonly string[]): readonly string[] {
    const prefix = this.#prefix;
    return prefix === '' ? keys : keys.map((key) => prefix + key);
  }

  /**
   * Waiting lock acquires reject, then the connection is closed (QUIT, or a disconnect when the
   * server is down). A client shared through `connection_pool` is left open. Later calls reject with
   * `BackendUnavailableError`. Idempotent.
   */
  override close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeSignal.abort();
      await this.#connection.close();
    })();
    return this.#closing;
  }
}

/**
 * dogpile.cache's `RedisSentinelBackend` (registry names `dogpile.cache.redis_sentinel` and
 * `dogpile.cache.valkey_sentinel`): finds the master of `service_name` through `sentinels` and follows
 * it across failovers. `distributed_lock` defaults to true, as in dogpile. Reads go to the master too
 * (dogpile reads from a replica): a replica can serve an entry that was just replaced or deleted.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { RedisSentinelBackend } from 'dogpile-cache/backends/redis';
 * const backend = new RedisSentinelBackend({ sentinels: ['10.0.0.1:26379', '10.0.0.2:26379'], service_name: 'mymaster' });
 * const region = new CacheRegion().configure(backend, { expirationTime: 600 });
 * await region.set('k', 'v'); // written to the current master, followed across failovers
 * ```
 */
export class RedisSentinelBackend extends RedisBackend {
  protected static override readonly topology: RedisTopology = 'sentinel';
}

/**
 * dogpile.cache's `RedisClusterBackend` (registry names `dogpile.cache.redis_cluster` and
 * `dogpile.cache.valkey_cluster`) on an ioredis `Cluster`. Multi-operations group their keys by hash
 * slot and send one pipeline per node; a node that is down fails only the calls that touch its keys.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { RedisClusterBackend } from 'dogpile-cache/backends/redis';
 * const backend = new RedisClusterBackend({ startup_nodes: ['10.0.0.1:7000', '10.0.0.2:7000'] });
 * const region = new CacheRegion().configure(backend, { expirationTime: 600 });
 * await region.getMulti(['a', 'b', 'c']); // one pipeline per node owning those keys' slots
 * ```
 */
export class RedisClusterBackend extends RedisBackend {
  protected static override readonly topology: RedisTopology = 'cluster';
}

/** Keys per SCAN call (a hint to Redis) and so per UNLINK. @internal */
export const CLEAR_SCAN_COUNT = 1000;

/**
 * SCANs one server for `pattern` (as bytes: a key written by another client need not be UTF-8) and
 * hands each non-empty batch to `unlink` before the next SCAN; every command goes through `bounded`.
 */
async function clearMatching(
  node: Redis,
  pattern: string,
  bounded: <T>(command: Promise<T>) => Promise<T>,
  unlink: (keys: Buffer[]) => Promise<unknown>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await bounded(node.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', CLEAR_SCAN_COUNT));
    if (keys.length > 0) await bounded(unlink(keys));
    cursor = String(next);
  } while (cursor !== '0');
}

/** `text` with Redis's glob characters (`* ? [ ] \`) escaped, for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * Groups `keys` by hash slot and the slots by the node that serves them, runs one pipeline per node
 * (one `op` per slot, since a command's keys must share a slot) and returns each slot's keys with its
 * reply. Slots whose node is not known yet get a pipeline each, which ioredis routes itself.
 */
async function perNode<K extends string | Buffer>(
  client: Cluster,
  keys: readonly K[],
  op: (pipeline: ChainableCommander, slotKeys: K[]) => void,
): Promise<[K[], unknown][]> {
  const bySlot = new Map<number, K[]>();
  for (const key of keys) {
    const slot = keySlot(key);
    const list = bySlot.get(slot);
    if (list === undefined) bySlot.set(slot, [key]);
    else list.push(key);
  }
  const byNode = new Map<string, K[][]>();
  for (const [slot, slotKeys] of bySlot) {
    const node = client.slots[slot]?.[0] ?? `slot ${slot}`;
    const groups = byNode.get(node);
    if (groups === undefined) byNode.set(node, [slotKeys]);
    else groups.push(slotKeys);
  }
  const results = await Promise.all(
    [...byNode.values()].map(async (groups) => {
      const pipeline = client.pipeline();
      for (const slotKeys of groups) op(pipeline, slotKeys);
      const replies = checkReplies(await pipeline.exec());
      // With a TTL, setMulti queues one SET per key rather than one command per slot.
      return replies.length === groups.length ? groups.map((g, i) => [g, replies[i]] as [K[], unknown]) : [];
    }),
  );
  return results.flat();
}

/** The replies of a pipeline; the first failed command's error is thrown. */
function checkReplies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('the pipeline was discarded');
  const failed = results.find(([error]) => error !== null);
  if (failed !== undefined) throw failed[0];
  return results.map(([, value]) => value);
}

/** The server TTL in ms for `value`: the configured one or the entry's own (see `serverTtlSeconds`), 0 for none. */
function serverTtlMs(configuredMs: number, value: Buffer): number {
  return serverTtlMsOf(configuredMs, entryTtlOfSerialized(value));
}

/** {@link serverTtlMs} for an entry whose own TTL (seconds) is `ttl`. */
function serverTtlMsOf(configuredMs: number, ttl: number | undefined): number {
  return ttl === undefined ? configuredMs : Math.ceil(serverTtlSeconds(configuredMs / 1000, ttl) * 1000);
}

function sendSet(client: RedisClient, key: string, value: Buffer | string, ms: number): Promise<unknown> {
  return ms === 0 ? client.set(key, value) : ms % 1000 === 0 ? client.set(key, value, 'EX', ms / 1000) : client.set(key, value, 'PX', ms);
}

const toVoid = (): void => undefined;

/** The largest value `setSerialized` turns into a string when it is ASCII; larger ones go as they are. */
const ASCII_AS_TEXT_MAX = 64 * 1024;

const orNoValue = (bytes: Buffer | null): Buffer | NoValue => bytes ?? NO_VALUE;

function allOrNoValue(values: (Buffer | null)[]): (Buffer | NoValue)[] {
  const out: (Buffer | NoValue)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] ?? NO_VALUE;
  return out;
}

function checkBytes(key: string, value: unknown): asserts value is Buffer {
  if (!(value instanceof Uint8Array)) {
    throw new ValidationError(`The value for ${describe(key)} must be a Buffer (the serialized bytes); got ${describe(value)}.`);
  }
}
