/**
 * An etcd watch as a {@link NotificationTransport} for the local tier and shared invalidation
 * (issue 18). A message is a put of one key per channel, `"\0dogpile-cache/notify/" + channel`
 * (outside every namespace a backend builds, which starts with the namespace or is the user key);
 * subscribers watch that key. The etcd3 client re-establishes a dropped watch from its last revision,
 * so messages sent during a short outage still arrive (unless etcd compacted that history meanwhile);
 * the listener is told `down()`/`up()` all the same, so its user can fall back while the watch is off.
 *
 * @module
 */
import { MAX_TIMER_SECONDS, toSeconds, type Duration } from '../../duration.js';
import { BackendUnavailableError, ValidationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import type { NotificationListener, NotificationSubscription, NotificationTransport } from '../../tier/transport.js';
import { describe } from '../../validate.js';

/**
 * Anything that hands out an etcd3 client: an `Etcd3Backend` does. Typed loosely on purpose: the core
 * typings must not need etcd3's declarations when it is not installed.
 */
export interface Etcd3ClientSource {
  getClient(): Promise<unknown>;
}

/** The part of the etcd3 client this transport uses. */
interface WatchingClient {
  put(key: string): { value(value: string): PromiseLike<unknown> };
  watch(): { key(key: string): { create(): Promise<Watcher> } };
}

interface Watcher {
  on(event: 'put', listener: (kv: { value: Buffer }) => void): unknown;
  on(event: 'disconnected' | 'error', listener: (error: unknown) => void): unknown;
  on(event: 'connected', listener: () => void): unknown;
  cancel(): Promise<void>;
}

/** Options of {@link Etcd3Notifications}. */
export interface Etcd3NotificationsOptions {
  /** Seconds (or a duration string) a publish or the creation of a watch may take. Default 5 s. */
  timeout?: Duration;
}

const KEY_PREFIX = '\0dogpile-cache/notify/';

/**
 * Notifications over an etcd watch, through an etcd3 backend's client.
 *
 * @example
 * ```ts
 * import { Etcd3Backend } from 'dogpile-cache/backends/etcd3';
 * import { Etcd3Notifications, LocalTier } from 'dogpile-cache/tier';
 * const backend = new Etcd3Backend({ endpoints: ['http://10.0.0.1:2379'] });
 * const notifications = new Etcd3Notifications(backend, { timeout: '5s' });
 * const tier = new LocalTier({ ttl: '1s', transport: notifications, channel: 'users' });
 * // new CacheRegion().configure(backend, { wrap: [tier] }): a write in one process evicts the key in all
 * ```
 */
export class Etcd3Notifications implements NotificationTransport {
  readonly #source: Etcd3ClientSource;
  readonly #timeoutMs: number;

  /**
   * @param source the `Etcd3Backend` whose cluster carries the messages.
   * @throws {ValidationError} for a source without `getClient()` or a bad timeout.
   */
  constructor(source: Etcd3ClientSource, options: Etcd3NotificationsOptions = {}) {
    if (typeof source !== 'object' || source === null || typeof (source as Etcd3ClientSource).getClient !== 'function') {
      throw new ValidationError(`Etcd3Notifications takes an Etcd3Backend (or an object with getClient()); got ${describe(source)}.`);
    }
    this.#source = source;
    this.#timeoutMs = toSeconds(options.timeout ?? 5, 'timeout', { min: 0.001, max: MAX_TIMER_SECONDS }) * 1000;
  }

  async publish(channel: string, text: string): Promise<void> {
    await this.#bounded('publish', async () => {
      const client = (await this.#source.getClient()) as WatchingClient;
      await client.put(KEY_PREFIX + channel).value(text);
    });
  }

  async subscribe(channel: string, listener: NotificationListener): Promise<NotificationSubscription> {
    const watcher: Watcher = await this.#bounded('watch', async () => {
      const client = (await this.#source.getClient()) as WatchingClient;
      return client
        .watch()
        .key(KEY_PREFIX + channel)
        .create();
    });
    let live = true;
    watcher.on('put', (kv) => listener.message(kv.value.toString('utf8')));
    watcher.on('disconnected', (error) => {
      if (!live) return;
      live = false;
      listener.down(error);
    });
    watcher.on('connected', () => {
      if (live) return;
      live = true;
      listener.up();
    });
    // The watcher emits 'error' for failures it then recovers from; down() already covers them.
    watcher.on('error', () => undefined);
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        live = false;
        await this.#bounded('watch cancel', () => watcher.cancel()).catch(() => undefined);
      },
    };
  }

  async #bounded<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
        }),
      ]);
    } catch (error) {
      const detail = redactUrl(error instanceof Error ? error.message : String(error));
      throw new BackendUnavailableError(`etcd ${what} for cache notifications failed: ${detail}. Check that etcd is reachable.`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
