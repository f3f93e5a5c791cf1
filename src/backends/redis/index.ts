/**
 * `dogpile-cache/backends/redis`: dogpile.cache's Redis backends (single server, Sentinel, Cluster) on
 * ioredis, an optional peer dependency imported on the backend's first call. Valkey speaks the same
 * protocol: the `dogpile.cache.valkey*` registry names map to the same classes.
 * See docs/backends/redis.md.
 *
 * @module
 */
export { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from './backend.js';
export { RedisMutex, RELEASE_SCRIPT } from './lock.js';
export type { HostPort, RedisBackendArguments } from './options.js';
export { keySlot } from './slot.js';
