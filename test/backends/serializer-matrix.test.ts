/**
 * Every backend × every region serializer round-trips through a CacheRegion, against the real servers:
 * a value set is read back equal, and getOrCreate after a set is a hit (the creator does not run).
 * Issue 16.3: with `'json'` or `'v8'` over Etcd3Backend every read was a SerializationError miss, so
 * the creator ran on every call. Public APIs only; add a backend by adding a row to BACKENDS.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { CacheRegion, isNoValue } from '../../src/index.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from '../support/servers.js';

const RUN = randomUUID().slice(0, 8);

/** Registry name and arguments of each backend under test. */
const BACKENDS: readonly { name: string; backend: string; args: () => Record<string, unknown> }[] = [
  { name: 'dictionary', backend: 'dictionary', args: () => ({}) },
  { name: 'memcached', backend: 'oslo_cache.memcache_pool', args: () => ({ url: memcachedServers() }) },
  {
    name: 'mongo',
    backend: 'oslo_cache.mongo',
    args: () => ({ db_hosts: mongodbUrl(), db_name: 'dogpile_serializer_matrix', cache_collection: `m${RUN}` }),
  },
  { name: 'etcd3', backend: 'etcd3', args: () => ({ endpoints: etcdEndpoints(), namespace: `matrix-${RUN}/` }) },
];

const SERIALIZERS = [undefined, 'json', 'v8'] as const;

/** Values every serializer can hold; `'v8'` also gets a Map and a Date, which only it keeps as such. */
const VALUES: Record<string, unknown> = {
  text: 'héllo ключ',
  number: 42.5,
  nothing: null,
  nested: { a: [1, 'two', { three: true }], ü: 'ok' },
};
const V8_ONLY: Record<string, unknown> = { map: new Map([['a', 1]]), date: new Date(Date.UTC(2026, 0, 1)) };

for (const { name, backend, args } of BACKENDS) {
  for (const serializer of SERIALIZERS) {
    describe(`${name} with serializer ${serializer ?? 'none'}`, () => {
      const region = new CacheRegion(serializer === undefined ? {} : { serializer }).configure(backend, {
        expirationTime: 600,
        arguments: args(),
      });
      const prefix = `${RUN}-${serializer ?? 'none'}-`;
      const values = serializer === 'v8' ? { ...VALUES, ...V8_ONLY } : VALUES;
      after(async () => {
        await region.deleteMulti(Object.keys(values).map((k) => prefix + k));
        await region.close();
      });

      it('set then get returns an equal value, for every value', async () => {
        for (const [k, value] of Object.entries(values)) {
          await region.set(prefix + k, value);
          assert.deepEqual(await region.get(prefix + k), value, k);
        }
      });

      it('getMulti returns every value', async () => {
        const keys = Object.keys(values);
        await region.setMulti(Object.fromEntries(keys.map((k) => [prefix + k, values[k]])));
        const got = await region.getMulti(keys.map((k) => prefix + k));
        assert.ok(
          got.every((v) => !isNoValue(v)),
          'no misses',
        );
        assert.deepEqual(
          got,
          keys.map((k) => values[k]),
        );
      });

      it('getOrCreate after a set is a hit: the creator does not run', async () => {
        let runs = 0;
        const creator = (): unknown => {
          runs++;
          return { created: runs };
        };
        assert.deepEqual(await region.getOrCreate(`${prefix}goc`, creator), { created: 1 });
        assert.deepEqual(await region.getOrCreate(`${prefix}goc`, creator), { created: 1 });
        assert.equal(runs, 1, 'the second call is served from the cache');
        await region.delete(`${prefix}goc`);
      });
    });
  }
}
