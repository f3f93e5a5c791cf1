/**
 * The registry loads the built-in remote backends on first use (issue 20.3): configure() by name
 * still checks the arguments at once, and the first calls on a cold region, made before the backend's
 * module has loaded, still go through the backend's distributed lock (one creator for a herd).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { CacheRegion, NO_VALUE, UnsupportedOperationError, ValidationError } from '../../src/index.js';
import { DeferredBackend } from '../../src/backends/deferred.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from '../support/servers.js';
import { redisClusterNodes } from '../support/redis.js';

describe('lazily loaded remote backends (registry)', () => {
  it('configure() by name reports a bad argument at once, before anything loads', () => {
    assert.throws(
      () => new CacheRegion().configure('oslo_cache.memcache_pool', { arguments: { url: '127.0.0.1:1', socket_timeout: 'soon' } }),
      ValidationError,
    );
    assert.throws(() => new CacheRegion().configure('etcd3', { arguments: { port: 'x' } }), ValidationError);
    assert.throws(() => new CacheRegion().configure('dogpile.cache.redis', { arguments: { port: -1 } }), ValidationError);
  });

  it("keeps the backend's key mangler and byte storage before the module loads", async () => {
    const region = new CacheRegion().configure('oslo_cache.memcache_pool', { arguments: { url: memcachedServers().join(',') } });
    try {
      assert.ok(region.backend instanceof DeferredBackend);
      const real = await region.backend.ready();
      assert.ok(real instanceof PooledMemcachedBackend);
      assert.equal(region.keyMangler, real.keyMangler, "the region adopted the memcached backend's own mangler");
      assert.equal(typeof (region.backend as unknown as { getSerialized?: unknown }).getSerialized, 'function');
    } finally {
      await region.close();
    }
  });

  it("a herd on a cold region configured by name runs one creator and uses the backend's distributed lock", async () => {
    // A spy on the real class (no behaviour changed): counts the locks the memcached backend hands out.
    const original = PooledMemcachedBackend.prototype.getMutex;
    let mutexes = 0;
    PooledMemcachedBackend.prototype.getMutex = function (this: PooledMemcachedBackend, key: string) {
      mutexes++;
      return original.call(this, key);
    };
    const region = new CacheRegion().configure('oslo_cache.memcache_pool', {
      arguments: { url: memcachedServers().join(','), distributed_lock: true, lock_timeout: 30 },
    });
    try {
      assert.ok(region.backend instanceof DeferredBackend, 'configured by name: the module is not loaded yet');
      const key = `lazy-herd-${randomUUID()}`;
      let creations = 0;
      const creator = async (): Promise<string> => {
        creations++;
        // Long enough that the other callers arrive while the creator holds the lock.
        await new Promise((resolve) => setTimeout(resolve, 200));
        return 'made';
      };
      const values = await Promise.all(Array.from({ length: 20 }, () => region.getOrCreate(key, creator)));
      assert.deepEqual(new Set(values), new Set(['made']));
      assert.equal(creations, 1);
      assert.ok(mutexes >= 1, "the memcached backend's distributed lock was used from the first call");
    } finally {
      PooledMemcachedBackend.prototype.getMutex = original;
      await region.close();
    }
  });
});

describe('lazily loaded remote backends: clear() is declared before the module loads', () => {
  it('etcd3, Redis and Mongo always (Redis refusing without a namespace), memcached with a namespace (not without); clear() as the very first call works', async () => {
    const run = randomUUID().slice(0, 8);
    const configure = (name: string, args: Record<string, unknown>): CacheRegion =>
      new CacheRegion().configure(name, { expirationTime: 600, arguments: args });
    const clearing = [
      configure('etcd3', { endpoints: etcdEndpoints(), namespace: `lazy-${run}/` }),
      configure('oslo_cache.mongo', { db_hosts: mongodbUrl(), db_name: 'dogpile_cache_test', cache_collection: `lazy_${run}` }),
      configure('memcached', { url: memcachedServers(), namespace: `lazy${run}` }),
      configure('dogpile.cache.redis_cluster', { startup_nodes: redisClusterNodes(), namespace: `lazy-${run}` }),
    ];
    const refusing = [configure('memcached', { url: memcachedServers() })];
    // Declared, and refused by the backend itself with a message naming the argument (nothing listens on port 1).
    const unnamespaced = configure('dogpile.cache.redis', { url: 'redis://127.0.0.1:1' });
    try {
      assert.equal(typeof unnamespaced.backend.clear, 'function');
      await assert.rejects(
        unnamespaced.clear(),
        (e: Error) => e instanceof UnsupportedOperationError && /RedisBackend\.clear\(\) needs a namespace/.test(e.message),
      );
      for (const region of clearing)
        assert.equal(typeof region.backend.clear, 'function', `${region.backend.constructor.name} declares clear() before loading`);
      for (const region of refusing)
        assert.equal(region.backend.clear, undefined, `${region.backend.constructor.name} declares no clear()`);
      for (const region of clearing) {
        await region.clear(); // before any other call: the module may still be loading
        await region.set('k', 'v');
        await region.clear();
        assert.equal(await region.get('k'), NO_VALUE, region.backend.constructor.name);
      }
    } finally {
      for (const region of [...clearing, ...refusing, unnamespaced]) await region.close();
    }
  });
});

describe('lazily loaded remote backends: the class each name loads', () => {
  it('loads the redis classes by topology', async () => {
    const { RedisBackend, RedisSentinelBackend } = await import('../../src/backends/redis/index.js');
    const plain = new CacheRegion().configure('dogpile.cache.valkey', { arguments: { host: '127.0.0.1', port: 1 } });
    const sentinel = new CacheRegion().configure('dogpile.cache.redis_sentinel', {
      arguments: { sentinels: ['127.0.0.1:1'], service_name: 'm' },
    });
    try {
      const real = await (plain.backend as DeferredBackend).ready();
      assert.equal(real.constructor, RedisBackend);
      assert.ok((await (sentinel.backend as DeferredBackend).ready()) instanceof RedisSentinelBackend);
    } finally {
      await plain.close();
      await sentinel.close();
    }
  });
});
