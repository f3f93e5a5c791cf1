/**
 * Three memcached servers shared by a Python service and a Node one: each side writes 200 keys and the
 * other reads all 200. With oslo's memcache_pool (python-memcached: crc32 over the server list) the Node
 * region is configured the way an OpenStack service is, from the same [cache] options through
 * configureCacheRegion (which picks server_choice "python_memcached"); with dogpile.cache.pymemcache
 * (HashClient: rendezvous hashing) through region.configure with server_choice "pymemcache".
 * test/interop/python/memcached_multi.py is the Python side.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CacheRegion, NO_VALUE, sha1MangleKey } from '../../src/index.js';
import { configureCacheRegion } from '../../src/oslo/index.js';
import type { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import type { DeferredBackend } from '../../src/backends/deferred.js';
import { memcachedServers } from '../support/servers.js';
import { PYTHON, memcachedRawGet, runId } from './python.js';

const SCRIPT = fileURLToPath(new URL('./python/memcached_multi.py', import.meta.url));

type Client = 'memcache_pool' | 'pymemcache';

function python(client: Client, servers: string[], op: 'set' | 'get', keys: string[], values?: unknown[]): unknown[] {
  const input = JSON.stringify({ client, servers, op, keys, values });
  // Generous: Python's startup (oslo.config) plus 200 keys takes about a second on an idle machine.
  const result = spawnSync(PYTHON, [SCRIPT], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as unknown[];
}

const valueFor = (i: number) => ({ i, name: `entry ${i}`, tags: ['a', i % 7], ok: i % 2 === 0 });

/** How many of `keys` sit on each server, read raw from the server the chooser names. */
async function placement(backend: PooledMemcachedBackend, keys: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const server = backend.serverFor(sha1MangleKey(key));
    assert.ok(await memcachedRawGet(server, sha1MangleKey(key)), `${key} is not on ${server}, the server we chose`);
    counts.set(server, (counts.get(server) ?? 0) + 1);
  }
  return counts;
}

for (const client of ['memcache_pool', 'pymemcache'] as const) {
  describe(`interop with Python ${client === 'memcache_pool' ? "oslo's memcache_pool" : 'dogpile.cache.pymemcache'} over 3 memcached servers`, () => {
    let servers: string[];
    let region: CacheRegion;
    const prefix = `mc3-${client}-${runId()}`;
    const keys = (side: string) => Array.from({ length: 200 }, (_, i) => `${prefix}-${side}-${i}`);

    before(() => {
      servers = memcachedServers();
      assert.equal(servers.length, 3, 'MEMCACHED_SERVERS lists the 3 shared servers');
      if (client === 'memcache_pool') {
        region = configureCacheRegion(
          { cache: { enabled: true, backend: 'oslo_cache.memcache_pool', memcache_servers: servers, expiration_time: 600 } },
          // configureCacheRegion installs oslo's sha1 key mangler, as on the Python side.
          new CacheRegion({ serializer: 'json' }),
        );
      } else {
        region = new CacheRegion({ keyMangler: sha1MangleKey, serializer: 'json' }).configure('dogpile.cache.pymemcache', {
          expirationTime: 600,
          arguments: { url: servers, server_choice: 'pymemcache' },
        });
      }
    });
    after(() => region.close());

    it('Python writes 200 keys, we read all 200, from the servers Python put them on', async () => {
      const written = keys('py');
      python(
        client,
        servers,
        'set',
        written,
        written.map((_, i) => valueFor(i)),
      );
      const values = await region.getMulti(written);
      assert.deepEqual(
        values,
        written.map((_, i) => valueFor(i)),
      );
      const counts = await placement((await (region.actualBackend as DeferredBackend).ready()) as PooledMemcachedBackend, written);
      assert.equal(counts.size, 3, `the keys are spread over all three servers: ${[...counts].join('; ')}`);
    });

    it('we write 200 keys, Python reads all 200', async () => {
      const written = keys('js');
      await region.setMulti(new Map(written.map((key, i) => [key, valueFor(i)])));
      assert.deepEqual(
        python(client, servers, 'get', written),
        written.map((_, i) => valueFor(i)),
      );
    });

    it('a ketama region misses most of what Python wrote (why server_choice exists)', async () => {
      const written = keys('ketama');
      python(
        client,
        servers,
        'set',
        written,
        written.map((_, i) => valueFor(i)),
      );
      const ketama = new CacheRegion({ keyMangler: sha1MangleKey, serializer: 'json' }).configure('memcached', {
        arguments: { url: servers },
      });
      try {
        const misses = (await ketama.getMulti(written)).filter((value) => value === NO_VALUE).length;
        assert.ok(misses > 50, `expected about 2/3 misses with another placement; got ${misses} of 200`);
      } finally {
        await ketama.close();
      }
    });
  });
}
