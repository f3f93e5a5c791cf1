/**
 * `dogpile-cache/tier`: many processes, one cache (issue 18). The local tier, shared region
 * invalidation and the Redis and etcd notification transports. Importing it loads no driver: the
 * transports reach ioredis or etcd3 only through the backend you hand them.
 *
 * @module
 */
export { LocalTier, type LocalTierOptions, type LocalTierStats } from './local-tier.js';
export { SharedInvalidationStrategy, SHARED_INVALIDATION_PREFIX, type SharedInvalidationOptions } from '../invalidation/shared.js';
export {
  isNotificationTransport,
  type NotificationListener,
  type NotificationSubscription,
  type NotificationTransport,
} from './transport.js';
export { RedisNotifications, type RedisClientSource } from '../backends/redis/notifications.js';
export { Etcd3Notifications, type Etcd3ClientSource, type Etcd3NotificationsOptions } from '../backends/etcd3/notifications.js';
