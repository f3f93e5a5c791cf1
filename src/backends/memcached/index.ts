/**
 * `dogpile-cache/backends/memcached`: the memcached backend (oslo.cache's
 * `oslo_cache.memcache_pool`). Importing it loads no driver; memjs and generic-pool, optional peer
 * dependencies, are imported on the first operation.
 *
 * @module
 */
export { PooledMemcachedBackend } from './backend.js';
export type { PooledMemcachedBackendArguments } from './options.js';
export type { ServerPoolStats } from './pool.js';
