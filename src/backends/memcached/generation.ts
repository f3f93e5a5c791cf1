/**
 * `region.clear()` on memcached, which has no prefix delete (and whose `flush_all` would empty the
 * server for everyone): a namespace generation. A backend with a `namespace` stores key `k` as
 * `"_dogpile_ns:<namespace>:<generation>:k"`; `clear()` raises the generation, so the old entries are
 * never read again and age out (LRU, or their exptime). The generation is a number kept in memcached
 * under `"_dogpile_ns:<namespace>"`, a name no user key reaches (the prefix is reserved, see keys.ts).
 *
 * **Cost.** Each process reads the generation at most once per `generation_check_interval` (1 s by
 * default): one `get` per live server, in parallel, then cached. Between reads a process may still use
 * a generation another process has since cleared: that interval is the staleness bound of a clear seen
 * from another process (a clear is seen at once by the process that made it).
 *
 * **On every server, the largest wins.** The generation item is written to every server, and the
 * generation is the largest value any live server holds. A single copy (on the ring's owner) would go
 * back in time when its server fails over and comes back with its memory intact (a network partition, a
 * SIGSTOP): the fallback server would have started a generation of its own, and the owner's old value
 * would make the entries written under it reachable again. With a copy per server, a server that missed
 * a clear holds a smaller value, which loses to the others, and is raised to the largest value on the
 * next read (a compare-and-swap, so it never lowers a value another process raised meanwhile). A server
 * that lost its copy (restart, eviction) is given the largest value with `add`. A process never goes
 * below the largest generation it has seen.
 *
 * **Clear** increments the item on every live server with memcached's atomic `incr` (creating it with
 * the expected value where it is absent), so concurrent clears from many processes all count and
 * converge: each server's value only ever grows.
 *
 * **A lost generation never brings old entries back.** When no server holds the item (every copy
 * evicted, or every server restarted), it is started again from the current time in microseconds, not
 * from 0: every generation used before was at most its own start time plus one per clear since, so a
 * new start is larger than all of them unless clears came faster than one per microsecond on average
 * (impossible over the network), or the clock of the process that restarts it is behind the clock that
 * started the previous one by more than the time in between. The cost of a lost generation is a clear
 * of the namespace: its entries become unreachable, never stale ones reachable.
 *
 * What it does not guarantee: a clear that reached none of the servers that later stay up (every server
 * that took the last clear dies while the servers that missed it live on) is undone for processes that
 * had not seen it. memcached gives no durability to build a stronger guarantee on.
 *
 * @module
 */
import { BackendUnavailableError } from '../../errors.js';
import { MEMCACHED_MAX_KEY_BYTES, sha1MangleKey } from '../../keys.js';
import type { CasValue, Connection } from './connection.js';
import { NAMESPACE_PREFIX, lockKeyFor } from './keys.js';
import { Opcode } from './protocol.js';

/** What a hashed key's item name has after the generation, and what a user key may not have there. */
const HASHED_PREFIX = 'sha1:';

/** The servers as the generation needs them: one request on each live server. */
export interface GenerationServers {
  /**
   * Runs `request` on a connection to every live server, in parallel: one settled result per server.
   * Rejects (`BackendUnavailableError`) when every server is skipped.
   */
  onEach<T>(request: (connection: Connection) => Promise<T>): Promise<PromiseSettledResult<T>[]>;
}

/** A first generation: the current time in microseconds (see the module comment for why not 0). */
export function initialGeneration(nowMs: number = Date.now()): number {
  return Math.floor(nowMs * 1000);
}

/** The generation an item holds (ASCII decimal, as `incr` writes it), or undefined for anything else. */
function parseGeneration(bytes: Buffer): number | undefined {
  const text = bytes.toString('latin1').trim();
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The first rejection's reason, when every result is a rejection. */
function allFailed(results: readonly PromiseSettledResult<unknown>[]): unknown {
  if (results.length > 0 && results.every((result) => result.status === 'rejected')) return (results[0] as PromiseRejectedResult).reason;
  return undefined;
}

/** One namespace's generation: read (cached), raised by {@link bump}, folded into keys by {@link entryKey}. */
export class NamespaceGeneration {
  /** The namespace, as configured. */
  readonly namespace: string;
  /** The generation item's key. */
  readonly itemKey: string;
  readonly #entryPrefix: string;
  readonly #checkIntervalMs: number;
  readonly #servers: GenerationServers;
  /** The largest generation seen (0: none yet). */
  #value = 0;
  /** `performance.now()` when the read behind {@link #value} started. */
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<number> | null = null;

  /**
   * @param namespace checked by the caller: 1 to 64 bytes, no `:`, no spaces or control characters
   * @param checkIntervalMs how long a read generation is used before it is read again; 0 reads it for every call
   */
  constructor(namespace: string, checkIntervalMs: number, servers: GenerationServers) {
    this.namespace = namespace;
    this.itemKey = `${NAMESPACE_PREFIX}${namespace}`;
    this.#entryPrefix = `${NAMESPACE_PREFIX}${namespace}:`;
    this.#checkIntervalMs = checkIntervalMs;
    this.#servers = servers;
  }

  /** The current generation: the cached one while it is fresh, else a read (one per process at a time). */
  current(): number | Promise<number> {
    if (this.#value !== 0 && performance.now() - this.#readAt < this.#checkIntervalMs) return this.#value;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  /**
   * Raises the generation on every live server (`incr`), making every entry written under an older
   * one unreachable; resolves with the new generation, which this process uses from now on.
   * @throws {BackendUnavailableError} when no server took the increment.
   */
  async bump(): Promise<number> {
    const seen = await this.#read();
    const results = await this.#servers.onEach((connection) => connection.increment(this.itemKey, 1n, BigInt(seen + 1)));
    const failure = allFailed(results);
    if (failure !== undefined) throw failure;
    let next = seen + 1;
    for (const result of results) if (result.status === 'fulfilled') next = Math.max(next, Number(result.value));
    this.#value = Math.max(this.#value, next);
    this.#readAt = performance.now();
    return this.#value;
  }

  /** The item key of `key` (already checked: at most 250 bytes, no spaces) in `generation`. */
  entryKey(key: string, generation: number): string {
    const item = `${this.#entryPrefix}${generation}:${key}`;
    // A key that itself starts with "sha1:" is hashed too (as memcachedSafeMangler does): kept as it is, the
    // key "sha1:" + sha1(k) would name the item of a key k hashed below, and the two would share one entry.
    if (
      (item.length * 3 <= MEMCACHED_MAX_KEY_BYTES || Buffer.byteLength(item, 'utf8') <= MEMCACHED_MAX_KEY_BYTES) &&
      !key.startsWith(HASHED_PREFIX)
    )
      return item;
    // Too long with the prefix: hashed, as the region's default mangler hashes keys too long for memcached.
    return `${this.#entryPrefix}${generation}:${HASHED_PREFIX}${sha1MangleKey(key)}`;
  }

  /** The lock item of `key`: in the namespace (so namespaces do not lock each other), not in a generation. */
  lockKey(key: string): string {
    return lockKeyFor(`${this.#entryPrefix}${key}`);
  }

  /** Reads every live server's copy, takes the largest, and raises the copies that are absent or smaller. */
  async #read(): Promise<number> {
    const startedAt = performance.now();
    const results = await this.#servers.onEach(async (connection) => ({ connection, read: await connection.getWithCas(this.itemKey) }));
    const failure = allFailed(results);
    if (failure !== undefined) throw failure;
    const copies: { connection: Connection; read: CasValue | null; value: number | undefined }[] = [];
    let largest = 0;
    for (const result of results) {
      if (result.status !== 'fulfilled') continue;
      const { connection, read } = result.value;
      const value = read === null ? undefined : parseGeneration(read.value);
      if (value !== undefined) largest = Math.max(largest, value);
      copies.push({ connection, read, value });
    }
    // No copy left anywhere: start again from the time, above every generation used before, even the
    // one this process holds (another process may have cleared past it within our check interval).
    largest = largest === 0 ? Math.max(this.#value + 1, initialGeneration()) : Math.max(largest, this.#value);
    const bytes = Buffer.from(String(largest), 'latin1');
    // Best effort: a repair that fails (a server down, a CAS lost to a concurrent clear) is retried by the next read.
    await Promise.allSettled(
      copies.map(({ connection, read, value }) => {
        if (read === null) return connection.store(Opcode.ADD, this.itemKey, bytes, 0);
        if (value === undefined || value < largest) return connection.store(Opcode.SET, this.itemKey, bytes, 0, read.cas);
        return undefined;
      }),
    );
    this.#value = Math.max(this.#value, largest);
    this.#readAt = Math.max(this.#readAt, startedAt);
    return this.#value;
  }
}

/** The error when every server is skipped while the generation is needed. */
export function noServerForGeneration(servers: readonly string[]): BackendUnavailableError {
  return new BackendUnavailableError(
    `Every memcached server (${servers.join(', ')}) is skipped after failing: the namespace generation cannot be read or raised.`,
  );
}
