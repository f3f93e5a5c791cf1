/**
 * Shared region invalidation (issue 18.1): `region.invalidate()` in one process applies to every
 * process whose region shares the backend. dogpile keeps the invalidation time in the region object
 * only, so each process must be invalidated on its own; this strategy stores it in the backend.
 *
 * It is both the region's `regionInvalidator` and a proxy in its `wrap` list, because it needs the
 * backend (which the region creates from its name) and must keep user keys off its internal key:
 *
 * ```ts
 * const shared = new SharedInvalidationStrategy({ name: 'users' });
 * region.configure('memcached', { arguments, wrap: [shared], regionInvalidator: shared });
 * ```
 *
 * The region calls `isInvalidated(ct)` on every hit, synchronously, so the hit path never touches the
 * network: each process keeps its own copy of the last invalidation and refreshes it from a
 * notification (a {@link NotificationTransport}, e.g. Redis pub/sub or an etcd watch) or, without
 * one or while it is down, by reading the internal key at most once per `interval`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isNoValue, makeCachedValue, type BackendResult, type CachedValue, type Mapping } from '../api.js';
import { systemClock, type Clock } from '../clock.js';
import { MAX_TIMER_SECONDS, toSeconds, type Duration } from '../duration.js';
import { ValidationError } from '../errors.js';
import { VALID_SINCE, declareValidSince, type RegionInvalidationStrategy } from '../invalidation.js';
import { debug } from '../log.js';
import type { NoValue } from '../no-value.js';
import { ProxyBackend } from '../proxy.js';
import { isNotificationTransport, type NotificationSubscription, type NotificationTransport } from '../tier/transport.js';
import { describe } from '../validate.js';

/**
 * The prefix of the internal key. Reserved: a key reaching the backend through this proxy that starts
 * with it is a `ValidationError`, so no user key can overwrite (or read) the invalidation time.
 */
export const SHARED_INVALIDATION_PREFIX = '_dogpile_cache:invalidation:';

/** Options of {@link SharedInvalidationStrategy}. */
export interface SharedInvalidationOptions {
  /**
   * The name shared by every process's region (usually the region name): the internal key is
   * `"_dogpile_cache:invalidation:" + name` (the name's SHA-1 when it has characters other than
   * letters, digits and `._:@/-` or is over 200 characters, so every backend accepts it), and the
   * notification channel the same string. Required.
   */
  name: string;
  /**
   * Seconds (or a duration string) between two reads of the internal key when there is no live
   * notification: the staleness bound of a backend without notifications. Default 1 s; at least 10 ms.
   */
  interval?: Duration;
  /** Notifications (`RedisNotifications`, `Etcd3Notifications`); without one, polling only. */
  transport?: NotificationTransport;
  /** Time source in epoch milliseconds (tests inject a manual clock). Default `Date.now`. */
  clock?: Clock;
  /**
   * Called with every failure of the background work (a write of an invalidation, a poll, a
   * publish, a subscription). The failure is never thrown to a hit; a failed write is retried at
   * each poll until it succeeds. Default: a debug line (`NODE_DEBUG=dogpile-cache`).
   */
  onError?: (error: unknown, during: 'write' | 'poll' | 'publish' | 'subscribe') => void;
}

/** One invalidation: when (epoch seconds) and how. */
interface Stamp {
  at: number;
  hard: boolean;
}

// Every backend must accept the internal key as it is (it bypasses the region's key mangler):
// memcached refuses spaces, control characters and keys over 250 bytes, so other names are hashed.
function keySafeName(name: string): string {
  return /^[A-Za-z0-9._:@/-]{1,200}$/.test(name) ? name : `sha1:${createHash('sha1').update(name, 'utf8').digest('hex')}`;
}

function isStamp(value: unknown): value is Stamp {
  return typeof value === 'object' && value !== null && Number.isFinite((value as Stamp).at) && typeof (value as Stamp).hard === 'boolean';
}

/**
 * A {@link RegionInvalidationStrategy} kept in the backend and shared by every process (see the
 * module comment for how to install it). `invalidate()` applies at once in this process and is
 * written to the backend and published in the background; {@link flush} waits for that.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * import { SharedInvalidationStrategy } from 'dogpile-cache/tier';
 * const shared = new SharedInvalidationStrategy({ name: 'users', interval: '1s' });
 * const region = new CacheRegion({ name: 'users' }).configure('memcached', {
 *   arguments: { url: '127.0.0.1:11211' }, wrap: [shared], regionInvalidator: shared,
 * });
 * region.invalidate(); // every process sharing the backend sees it within 1 s (at once with a transport)
 * await shared.flush(); // resolves once the invalidation is written to memcached
 * ```
 */
export class SharedInvalidationStrategy extends ProxyBackend implements RegionInvalidationStrategy {
  /** The backend key holding the invalidation time. */
  readonly key: string;
  /** Seconds between polls when no notification is live. */
  readonly interval: number;
  readonly #transport: NotificationTransport | undefined;
  readonly #clock: Clock;
  readonly #onError: NonNullable<SharedInvalidationOptions['onError']>;
  #stamp: Stamp | null = null;
  /**
   * The time of `#stamp`, or -Infinity before any invalidation, for the region's hit path (`validSince`).
   * @internal
   */
  [VALID_SINCE] = -Infinity;
  #unwritten: Stamp | null = null;
  #writing: Promise<void> = Promise.resolve();
  #ready: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #subscription: NotificationSubscription | null = null;
  #live = false;
  // The transport says the subscription is up; #live waits for a successful read after that.
  #subscribed = false;
  #subscribing = false;
  #closed = false;
  #polls = 0;
  #polling = false;
  #pollAgain = false;

  /** @throws {ValidationError} for a missing name, a bad interval or transport. */
  constructor(options: SharedInvalidationOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError(
        `SharedInvalidationStrategy takes an options object { name, interval?, transport? }; got ${describe(options)}.`,
      );
    }
    if (typeof options.name !== 'string' || options.name.length === 0) {
      throw new ValidationError(
        `name must be a non-empty string shared by every process (usually the region name); got ${describe(options.name)}.`,
      );
    }
    this.key = SHARED_INVALIDATION_PREFIX + keySafeName(options.name);
    this.interval = toSeconds(options.interval ?? 1, 'interval', { min: 0.01, max: MAX_TIMER_SECONDS });
    if (options.transport !== undefined && !isNotificationTransport(options.transport)) {
      throw new ValidationError(
        `transport must be a NotificationTransport (publish, subscribe), e.g. new RedisNotifications(backend); got ${describe(options.transport)}.`,
      );
    }
    this.#transport = options.transport;
    this.#clock = options.clock ?? systemClock;
    if (typeof this.#clock !== 'function')
      throw new ValidationError(`clock must be a function returning epoch milliseconds; got ${describe(options.clock)}.`);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new ValidationError(`onError must be a function (error, during) => void; got ${describe(options.onError)}.`);
    }
    this.#onError =
      options.onError ?? ((error, during) => debug('shared invalidation %s failed: %s', during, (error as Error)?.message ?? error));
  }

  /** How many times this process read the internal key (the initial read included). For tests and metrics. */
  get polls(): number {
    return this.#polls;
  }

  /** True while a notification subscription is live (polling is paused). */
  get notified(): boolean {
    return this.#live;
  }

  /** Wraps the backend and starts the initial read, the subscription and the poll timer. */
  override wrap(backend: Parameters<ProxyBackend['wrap']>[0]): this {
    super.wrap(backend);
    if (this.#ready === null) this.#ready = this.#start();
    return this;
  }

  /** Resolves once the initial read (and subscription, if any) finished; reads wait for it too. */
  ready(): Promise<void> {
    return (
      this.#ready ??
      Promise.reject(
        new ValidationError(
          "SharedInvalidationStrategy is not installed yet: put it in the region's wrap list (configure(..., { wrap: [shared], regionInvalidator: shared })).",
        ),
      )
    );
  }

  async #start(): Promise<void> {
    if (this.#transport !== undefined) await this.#subscribe(this.#transport);
    await this.#catchUp();
    if (this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#unwritten !== null) void this.#write();
      // Polls while not notified; a read that succeeds while subscribed makes it notified again.
      if (!this.#live) void this.#catchUp();
      // A subscription that could not be made (server down, slow) is tried again at each tick.
      if (this.#transport !== undefined && this.#subscription === null && !this.#subscribing) {
        void this.#subscribe(this.#transport).then(() => this.#catchUp());
      }
    }, this.interval * 1000);
    this.#timer.unref();
  }

  async #subscribe(transport: NotificationTransport): Promise<void> {
    this.#subscribing = true;
    try {
      const subscription = await transport.subscribe(this.key, {
        message: (text) => this.#onMessage(text),
        up: () => {
          this.#subscribed = true;
          // Messages sent while the subscription was down are lost: read the key before trusting it.
          void this.#catchUp();
        },
        down: (error) => {
          this.#subscribed = false;
          this.#live = false;
          if (error !== undefined) this.#onError(error, 'subscribe');
        },
      });
      if (this.#closed) {
        await subscription.close().catch(() => undefined);
        return;
      }
      this.#subscription = subscription;
      this.#subscribed = true;
    } catch (error) {
      this.#onError(error, 'subscribe');
    } finally {
      this.#subscribing = false;
    }
  }

  #onMessage(text: string): void {
    let stamp: unknown;
    try {
      stamp = JSON.parse(text);
    } catch {
      return;
    }
    if (isStamp(stamp)) this.#merge(stamp);
  }

  /** Keeps the latest invalidation: an older one read or received late never undoes a newer one. */
  #merge(stamp: Stamp): void {
    if (this.#stamp === null || stamp.at > this.#stamp.at) {
      this.#stamp = { at: stamp.at, hard: stamp.hard };
      this[VALID_SINCE] = stamp.at;
    }
  }

  // One poll at a time: over a slow backend, ticks would otherwise pile reads up behind each other.
  /**
   * Polling pauses (#live) only after a read that followed the subscription succeeded: a message sent
   * before the subscription was up is lost, and a failed read must leave the timer polling, or this
   * process would keep an old invalidation state until its next reconnect.
   */
  async #catchUp(): Promise<void> {
    const read = await this.#poll();
    if (read && this.#subscribed && !this.#closed) this.#live = true;
  }

  /** Reads the internal key; true when the read (the last one, if reads queued up) succeeded. */
  async #poll(): Promise<boolean> {
    if (this.#polling) {
      // A read already in flight may have started before the message it should reflect: read again
      // after it. The caller of that first read learns the outcome of this one.
      this.#pollAgain = true;
      return false;
    }
    this.#polling = true;
    this.#polls++;
    let read = false;
    try {
      const stored = await this.proxied.get(this.key);
      if (!isNoValue(stored) && isStamp(stored.payload)) this.#merge(stored.payload);
      read = true;
    } catch (error) {
      this.#onError(error, 'poll');
    } finally {
      this.#polling = false;
    }
    if (this.#pollAgain && !this.#closed) {
      this.#pollAgain = false;
      return this.#poll();
    }
    return read;
  }

  #write(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const stamp = this.#unwritten;
      if (stamp === null) return;
      try {
        await this.proxied.set(this.key, makeCachedValue(stamp, stamp.at * 1000));
        if (this.#unwritten === stamp) this.#unwritten = null;
      } catch (error) {
        this.#onError(error, 'write');
        return;
      }
      if (this.#transport !== undefined) {
        await this.#transport.publish(this.key, JSON.stringify(stamp)).catch((error: unknown) => this.#onError(error, 'publish'));
      }
    });
    return this.#writing;
  }

  /**
   * Resolves once every `invalidate()` so far was written to the backend (and published), or its
   * write failed (reported to `onError`, retried at the next poll). Tests and graceful shutdowns use it.
   */
  async flush(): Promise<void> {
    await this.#writing;
  }

  // ---------------------------------------------------------------- RegionInvalidationStrategy

  invalidate(hard = true): void {
    const stamp = { at: this.#clock() / 1000, hard };
    this.#stamp = stamp;
    this[VALID_SINCE] = stamp.at;
    this.#unwritten = stamp;
    if (this.#ready !== null) void this.#write();
  }

  isInvalidated(createdAt: number): boolean {
    return this.#stamp !== null && createdAt < this.#stamp.at;
  }

  wasHardInvalidated(): boolean {
    return this.#stamp?.hard === true;
  }

  wasSoftInvalidated(): boolean {
    return this.#stamp?.hard === false;
  }

  isHardInvalidated(createdAt: number): boolean {
    return this.wasHardInvalidated() && this.isInvalidated(createdAt);
  }

  isSoftInvalidated(createdAt: number): boolean {
    return this.wasSoftInvalidated() && this.isInvalidated(createdAt);
  }

  // ---------------------------------------------------------------- the proxy: check the key, wait for the first read

  #checkKey(key: string): void {
    if (typeof key === 'string' && key.startsWith(SHARED_INVALIDATION_PREFIX)) {
      throw new ValidationError(
        `key "${key}" starts with "${SHARED_INVALIDATION_PREFIX}", which is reserved for the shared invalidation time; use another key (or a key mangler).`,
      );
    }
  }

  #checkKeys(keys: readonly string[]): void {
    if (Array.isArray(keys)) for (const key of keys) this.#checkKey(key);
  }

  #entries<V>(mapping: Mapping<V>): void {
    const keys = mapping instanceof Map ? [...mapping.keys()] : typeof mapping === 'object' && mapping !== null ? Object.keys(mapping) : [];
    this.#checkKeys(keys as string[]);
  }

  // A process started after an invalidation must not serve a value it made stale: reads wait for the
  // first read of the internal key (once; afterwards `#ready` is settled and this costs a microtask).
  async #whenReady(): Promise<void> {
    if (this.#ready !== null) await this.#ready;
  }

  override async get(key: string): Promise<BackendResult> {
    this.#checkKey(key);
    await this.#whenReady();
    return super.get(key);
  }
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    this.#checkKeys(keys);
    await this.#whenReady();
    return super.getMulti(keys);
  }
  override async getSerialized(key: string): Promise<Buffer | NoValue> {
    this.#checkKey(key);
    await this.#whenReady();
    return super.getSerialized(key);
  }
  override async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    this.#checkKeys(keys);
    await this.#whenReady();
    return super.getSerializedMulti(keys);
  }
  override set(key: string, value: CachedValue): Promise<void> {
    this.#checkKey(key);
    return super.set(key, value);
  }
  override setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    this.#entries(mapping);
    return super.setMulti(mapping);
  }
  override setSerialized(key: string, value: Buffer): Promise<void> {
    this.#checkKey(key);
    return super.setSerialized(key, value);
  }
  override setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    this.#entries(mapping);
    return super.setSerializedMulti(mapping);
  }
  override delete(key: string): Promise<void> {
    this.#checkKey(key);
    return super.delete(key);
  }
  override deleteMulti(keys: readonly string[]): Promise<void> {
    this.#checkKeys(keys);
    return super.deleteMulti(keys);
  }

  /** Stops polling and the subscription, waits for pending writes (bounded by the backend's own timeouts), then closes the backend. Idempotent. */
  override async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#timer !== null) clearInterval(this.#timer);
      this.#live = false;
      await this.#subscription?.close().catch(() => undefined);
      await this.#writing;
    }
    await super.close();
  }
}

// Its VALID_SINCE field follows #stamp: the region judges hits against it without a call (see validSince).
declareValidSince(SharedInvalidationStrategy.prototype);
