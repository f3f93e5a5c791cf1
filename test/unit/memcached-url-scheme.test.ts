// memcached://host:port (issue 22.8) is accepted wherever the memcached backend is configured: by class,
// and by name, where the registry checks the arguments at configure() before loading the backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, ValidationError } from '../../src/index.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';

describe('memcached:// URLs', () => {
  it('are accepted by name (checked before the backend loads) and by class', async () => {
    const url = 'memcached://127.0.0.1:11211,memcache://127.0.0.1:11212/';
    for (const name of ['memcached', 'oslo_cache.memcache_pool', 'dogpile.cache.memcached'] as const) {
      await new CacheRegion().configure(name, { arguments: { url } }).close();
    }
    await new CacheRegion().configure(PooledMemcachedBackend, { arguments: { url } }).close();
  });

  it('another scheme is a ValidationError on both paths', () => {
    const url = 'redis://127.0.0.1:6379';
    assert.throws(() => new CacheRegion().configure('memcached', { arguments: { url } }), ValidationError);
    assert.throws(() => new CacheRegion().configure(PooledMemcachedBackend, { arguments: { url } }), ValidationError);
  });
});
