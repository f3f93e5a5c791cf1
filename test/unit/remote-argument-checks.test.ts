// configure() by name checks a remote backend's arguments with its options module alone (src/registry.ts,
// src/backends/lazy.ts), before the backend's module loads. The memcached reader checks server_choice
// against the names only (server-choice-names.ts; the backend builds the chooser, the ketama ring, when
// it loads) and the Mongo reader checks son_manipulator apart from the document encoding
// (son-manipulator.ts). Each bad argument must still throw at configure() exactly what the backend's own
// constructor throws: same class, same message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { CacheRegion } from '../../src/index.js';

/** What `run` throws synchronously: its class name and message (fails when it does not throw). */
function thrown(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  assert.fail('did not throw');
}

const configure = (name: string, args: Record<string, unknown>) => () => new CacheRegion().configure(name, { arguments: args });

describe('remote backends: configure() throws what the constructor throws', () => {
  it('memcached: server_choice and what its chooser cannot hold', () => {
    // 65536 servers: more than a ketama ring holds (its owners are 16-bit), the ring's RangeError.
    const many = Array.from({ length: 0x10000 }, (_, i) => `10.${(i >> 8) & 0xff}.${i & 0xff}.1:${11211 + (i >> 16)}`);
    const cases: Record<string, unknown>[] = [
      { url: 'h:1', server_choice: 'modulo' },
      { url: 'h:1', server_choice: 7 },
      { url: [['h:1', 2], 'h:2'], server_choice: 'pymemcache' },
      { url: many },
      { url: many, server_choice: 'ketama' },
    ];
    for (const args of cases) {
      const expected = thrown(() => new PooledMemcachedBackend(args));
      for (const name of ['memcached', 'oslo_cache.memcache_pool', 'dogpile.cache.pymemcache']) {
        assert.equal(thrown(configure(name, args)), expected, `${name} ${JSON.stringify(args).slice(0, 80)}`);
      }
    }
    assert.match(
      thrown(() => new PooledMemcachedBackend({ url: many })),
      /^RangeError: a ring needs 1 to 65535 nodes; got 65536$/,
    );
    // python_memcached and pymemcache have no such limit.
    for (const choice of ['python_memcached', 'pymemcache']) {
      assert.doesNotThrow(configure('memcached', { url: many, server_choice: choice }));
    }
  });

  it('Mongo: son_manipulator', () => {
    const base = { db_hosts: 'localhost:27017', db_name: 'cache', cache_collection: 'entries' };
    class Throws {
      constructor() {
        throw new Error('no');
      }
    }
    for (const bad of ['oslo_cache.backends.mongo.Other', 42, {}, { transformIncoming: () => ({}) }, Throws]) {
      const args = { ...base, son_manipulator: bad };
      const expected = thrown(() => new MongoBackend(args));
      assert.match(expected, /^ConfigurationError: MongoBackend argument son_manipulator/);
      assert.equal(thrown(configure('mongo', args)), expected);
    }
  });
});
