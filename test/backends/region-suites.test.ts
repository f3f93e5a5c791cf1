/**
 * The region contract (src/testing/region-conformance.ts) over every remote backend, against real
 * servers: get-or-create, expiry, invalidation, memoization and the lock behave the same as in memory.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CacheRegion } from '../../src/index.js';
import { runRegionConformance } from '../../src/testing/index.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from '../support/servers.js';
import { redisClusterNodes, redisSentinels, redisUrl } from '../support/redis.js';

const runner = { describe, it, before, after };
const suite = (name: string, backend: string, args: () => Record<string, unknown>): void =>
  runRegionConformance(
    name,
    ({ region, expirationTime }) => new CacheRegion(region).configure(backend, { expirationTime, arguments: args() }),
    runner,
  );

suite('PooledMemcachedBackend', 'oslo_cache.memcache_pool', () => ({ url: memcachedServers() }));
suite('PooledMemcachedBackend with distributed_lock', 'memcached', () => ({
  url: memcachedServers(),
  distributed_lock: true,
  lock_timeout: 10,
}));
// With a namespace, clear() works through the namespace generation (and the suite's clear() test runs in full).
suite('PooledMemcachedBackend with a namespace', 'memcached', () => ({
  url: memcachedServers(),
  namespace: `region-${randomUUID().slice(0, 8)}`,
  distributed_lock: true,
  lock_timeout: 10,
}));
suite('MongoBackend', 'oslo_cache.mongo', () => ({
  db_hosts: mongodbUrl(),
  db_name: 'dogpile_region_suite',
  cache_collection: `c${randomUUID().slice(0, 8)}`,
}));
suite('MongoBackend with distributed_lock', 'mongo', () => ({
  db_hosts: mongodbUrl(),
  db_name: 'dogpile_region_suite',
  cache_collection: `l${randomUUID().slice(0, 8)}`,
  distributed_lock: true,
  lock_timeout: 10,
}));
suite('Etcd3Backend', 'oslo_cache.etcd3gw', () => ({ endpoints: etcdEndpoints(), namespace: `region-${randomUUID().slice(0, 8)}/` }));
suite('Etcd3Backend with distributed_lock', 'etcd3', () => ({
  endpoints: etcdEndpoints(),
  namespace: `lock-${randomUUID().slice(0, 8)}/`,
  distributed_lock: true,
  lock_timeout: 10,
}));
suite('RedisBackend', 'dogpile.cache.redis', () => ({ url: redisUrl() }));
suite('RedisBackend with distributed_lock', 'dogpile.cache.valkey', () => ({ url: redisUrl(), distributed_lock: true, lock_timeout: 10 }));
// With a namespace, clear() is SCAN + UNLINK of its prefix (and the suite's clear() test runs in full).
suite('RedisBackend with a namespace', 'dogpile.cache.redis', () => ({
  url: redisUrl(),
  namespace: `region-${randomUUID().slice(0, 8)}`,
  distributed_lock: true,
  lock_timeout: 10,
}));
suite('RedisSentinelBackend', 'dogpile.cache.redis_sentinel', () => ({ sentinels: redisSentinels(), lock_timeout: 10 }));
suite('RedisClusterBackend', 'dogpile.cache.redis_cluster', () => ({
  startup_nodes: redisClusterNodes(),
  distributed_lock: true,
  lock_timeout: 10,
}));
suite('RedisClusterBackend with a namespace', 'dogpile.cache.valkey_cluster', () => ({
  startup_nodes: redisClusterNodes(),
  namespace: `region-${randomUUID().slice(0, 8)}`,
}));
