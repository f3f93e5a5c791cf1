/**
 * Redis pub/sub as a {@link NotificationTransport} for the local tier and shared invalidation
 * (issue 18). Messages are published through the backend's own client; each subscription uses its own
 * connection (a subscribed Redis connection can run no other command), a duplicate of the backend's
 * client with the same settings. ioredis reconnects
 * and resubscribes by itself; the listener is told `down()` when the connection drops and `up()` when
 * it is ready again, so its user can drop what it may have missed. Pub/sub is at most once: a message
 * published while a subscriber is disconnected never reaches it. The publish, and a subscription's
 * connect and SUBSCRIBE, are bounded by the backend's `socket_timeout` (its `boundedCall`).
 *
 * @module
 */
import { BackendUnavailableError, ValidationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import type { NotificationListener, NotificationSubscription, NotificationTransport } from '../../tier/transport.js';
import { describe } from '../../validate.js';

/** The connection name of every subscriber connection (`CLIENT LIST` shows it). */
export const SUBSCRIBER_NAME = 'dogpile-cache:notifications';

/**
 * Anything that hands out a connected ioredis client: a `RedisBackend` (any topology) does. Typed
 * loosely on purpose: the core typings must not need ioredis's declarations when it is not installed.
 */
export interface RedisClientSource {
  getClient(): Promise<unknown>;
  /**
   * Runs `fn` (one command, or one step such as a connect) on the source's client, bounded as the
   * source bounds its own commands (a `RedisBackend`: `socket_timeout`), its failure wrapped in a
   * `BackendUnavailableError`. A source without it bounds notifications' commands only by its client's
   * own options.
   */
  boundedCall?<T>(what: string, fn: (client: unknown) => Promise<T>): Promise<T>;
}

/** The part of an ioredis `Redis` / `Cluster` client this transport uses. */
interface PubSubClient {
  readonly isCluster?: boolean;
  publish(channel: string, message: string): Promise<unknown>;
  /** ioredis `Redis#duplicate(override)`; a `Cluster`'s takes other arguments and is called without. */
  duplicate(override?: { connectionName: string }): SubscriberClient;
}

interface SubscriberClient {
  readonly status: string;
  on(event: string, listener: (...args: never[]) => void): unknown;
  connect(): Promise<void>;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
}

/**
 * Redis pub/sub notifications over a Redis backend's connection settings.
 *
 * @example
 * ```ts
 * import { RedisBackend } from 'dogpile-cache/backends/redis';
 * import { RedisNotifications } from 'dogpile-cache/tier';
 * const notifications = new RedisNotifications(new RedisBackend({ url: 'redis://cache:6379' }));
 * const subscription = await notifications.subscribe('users', {
 *   message: (text) => console.log('evict', text), up: () => {}, down: () => {},
 * });
 * await notifications.publish('users', 'user:1'); // every subscriber's message() gets "user:1"
 * await subscription.close();
 * ```
 */
export class RedisNotifications implements NotificationTransport {
  readonly #source: RedisClientSource;

  /** @param source the `RedisBackend` (or `RedisSentinelBackend`, `RedisClusterBackend`) whose server carries the messages. */
  constructor(source: RedisClientSource) {
    if (typeof source !== 'object' || source === null || typeof (source as RedisClientSource).getClient !== 'function') {
      throw new ValidationError(`RedisNotifications takes a Redis backend (or an object with getClient()); got ${describe(source)}.`);
    }
    this.#source = source;
  }

  async publish(channel: string, text: string): Promise<void> {
    try {
      await this.#bounded('PUBLISH', (client) => (client as PubSubClient).publish(channel, text));
    } catch (error) {
      throw unavailable('publish', error);
    }
  }

  async subscribe(channel: string, listener: NotificationListener): Promise<NotificationSubscription> {
    let subscriber: SubscriberClient;
    try {
      const client = (await this.#source.getClient()) as PubSubClient;
      // Named on every connect, reconnects included, so an operator (or a fault test) can tell these
      // connections apart in CLIENT LIST. A Cluster client would name one random node: left unnamed there.
      subscriber = client.isCluster === true ? client.duplicate() : client.duplicate({ connectionName: SUBSCRIBER_NAME });
    } catch (error) {
      throw unavailable('subscribe', error);
    }
    let closed = false;
    let live = false;
    // ioredis emits 'error' for every failed reconnect; the listener hears about it through down().
    subscriber.on('error', () => undefined);
    subscriber.on('close', () => {
      if (live && !closed) {
        live = false;
        listener.down();
      }
    });
    subscriber.on('ready', () => {
      if (!live && !closed && ready) {
        live = true;
        listener.up();
      }
    });
    subscriber.on('message', (from: string, text: string) => {
      if (from === channel) listener.message(text);
    });
    let ready = false;
    try {
      if (subscriber.status === 'wait') await this.#bounded('connect (subscriber)', () => subscriber.connect());
      await this.#bounded('SUBSCRIBE', () => subscriber.subscribe(channel));
    } catch (error) {
      subscriber.disconnect();
      throw unavailable('subscribe', error);
    }
    ready = true;
    live = true;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        subscriber.disconnect();
      },
    };
  }

  /** `fn` on the source's client, through its `boundedCall` when it has one. */
  async #bounded<T>(what: string, fn: (client: unknown) => Promise<T>): Promise<T> {
    const source = this.#source;
    if (typeof source.boundedCall === 'function') return source.boundedCall(what, fn);
    return fn(await source.getClient());
  }
}

function unavailable(what: string, error: unknown): BackendUnavailableError {
  const detail = redactUrl(error instanceof Error ? error.message : String(error));
  return new BackendUnavailableError(`Redis ${what} for cache notifications failed: ${detail}. Check that the Redis server is reachable.`, {
    cause: error,
  });
}
