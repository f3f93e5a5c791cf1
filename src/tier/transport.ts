/**
 * The notification transport the local tier and the shared invalidation strategy use to tell other
 * processes about a write: a channel of short text messages (Redis pub/sub, an etcd watch). A
 * transport is best effort by design: a message can be lost while a subscriber reconnects, so every
 * user of it must also bound staleness without it (a poll or a local TTL) and treat `down()`/`up()`
 * as "you may have missed messages".
 *
 * @module
 */

/** What a subscriber is told. Every callback is synchronous and must not throw. */
export interface NotificationListener {
  /** A message published on the channel (by any process, this one included). */
  message(text: string): void;
  /** The subscription is (again) live; messages published while it was down were lost. */
  up(): void;
  /** The subscription dropped (connection lost, watch cancelled); it may come back with `up()`. */
  down(error?: unknown): void;
}

/** A live subscription. */
export interface NotificationSubscription {
  /** Stops listening and releases the connection or watch. Idempotent. */
  close(): Promise<void>;
}

/**
 * A channel-based message bus across processes. `RedisNotifications` (Redis pub/sub) and
 * `Etcd3Notifications` (an etcd watch) implement it; tests and users may plug in their own.
 */
export interface NotificationTransport {
  /**
   * Sends `text` to every subscriber of `channel`. Rejects (with a `BackendUnavailableError` in the
   * shipped transports) when the server cannot be reached within the transport's timeout.
   */
  publish(channel: string, text: string): Promise<void>;
  /** Subscribes to `channel`; resolves once the subscription is live. */
  subscribe(channel: string, listener: NotificationListener): Promise<NotificationSubscription>;
}

/**
 * True when `value` has the two methods of a {@link NotificationTransport}.
 *
 * @example
 * ```ts
 * import { isNotificationTransport, RedisNotifications } from 'dogpile-cache/tier';
 * import { RedisBackend } from 'dogpile-cache/backends/redis';
 * isNotificationTransport(new RedisNotifications(new RedisBackend({ url: 'redis://cache:6379' }))); // true
 * isNotificationTransport({ publish: async () => {} }); // false: no subscribe()
 * ```
 */
export function isNotificationTransport(value: unknown): value is NotificationTransport {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NotificationTransport).publish === 'function' &&
    typeof (value as NotificationTransport).subscribe === 'function'
  );
}
