// region.clear() on the Redis backends (issue 22 item 1), against the shared servers on all three
// setups: SCAN + UNLINK of the namespace's prefix removes every entry of the namespace, across more keys
// than one SCAN batch and on every master of a cluster, and nothing else (other namespaces, keys without
// one, lock keys); glob characters in a namespace are matched literally; without a namespace clear() is
// refused with a message naming the argument, and removes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { CLEAR_SCAN_COUNT } from '../../../src/backends/redis/backend.js';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from '../../../src/backends/redis/index.js';
import { CacheRegion, NO_VALUE, UnsupportedOperationError } from '../../../src/index.js';
import { redisClusterNodes, redisSentinels, redisUrl } from '../../support/redis.js';

const RUN = `clear-${randomUUID().slice(0, 8)}`;

/** Regions made by a test, closed after the file. */
const made: CacheRegion[] = [];
after(async () => {
  await Promise.all(made.map((r) => r.close()));
});

/** The raw keys matching `pattern`, per master (one entry for a single server). */
async function keysPerMaster(client: Redis | Cluster, pattern: string): Promise<string[][]> {
  const nodes = (client as Cluster).isCluster === true ? (client as Cluster).nodes('master') : [client as Redis];
  return Promise.all(
    nodes.map(async (node) => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        found.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      return [...new Set(found)];
    }),
  );
}

const count = async (client: Redis | Cluster, pattern: string): Promise<number> =>
  (await keysPerMaster(client, pattern)).reduce((sum, keys) => sum + keys.length, 0);

/** Glob-escapes `text` for a test's own SCAN MATCH. */
const glob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

type Make = (args: Record<string, unknown>) => RedisBackend;

function clearSuite(name: string, make: Make): void {
  const region = (args: Record<string, unknown> = {}): CacheRegion => {
    const r = new CacheRegion({ serializer: 'json' }).configure(make(args));
    made.push(r);
    return r;
  };

  describe(`${name}: clear()`, () => {
    it(`removes every entry of its namespace (more than one SCAN batch of ${CLEAR_SCAN_COUNT}) and nothing else`, async () => {
      const ns = `${RUN}-${name}-a`;
      const cleared = region({ namespace: ns });
      const other = region({ namespace: `${RUN}-${name}-b` });
      const longer = region({ namespace: `${ns}2` }); // "<ns>2:" does not start with "<ns>:"
      const plain = region();
      const n = CLEAR_SCAN_COUNT * 2 + 500;
      const keys = Array.from({ length: n }, (_, i) => `k${i}`);
      await cleared.setMulti(Object.fromEntries(keys.map((k, i) => [k, i])));
      await other.setMulti({ k0: 'other', k1: 'other' });
      await longer.set('k0', 'longer');
      const plainKeys = [ns, `${ns}-k0`, `${ns}2k0`, 'k0'].map((k) => `${RUN}:${k}`).concat([ns, `${ns}-k0`]);
      await plain.setMulti(Object.fromEntries(plainKeys.map((k) => [k, 'plain'])));

      const client = (await (cleared.actualBackend as RedisBackend).getClient()) as Redis | Cluster;
      const before = await keysPerMaster(client, `${glob(ns)}:*`);
      assert.equal(
        before.reduce((sum, k) => sum + k.length, 0),
        n,
      );
      if (name === 'RedisClusterBackend') {
        assert.equal(before.length, 3, 'the shared cluster has three masters');
        for (const [i, onNode] of before.entries()) assert.ok(onNode.length > 0, `master ${i} holds some of the namespace's keys`);
      }

      await cleared.clear();

      assert.equal(await count(client, `${glob(ns)}:*`), 0, 'no key of the namespace is left on any master');
      assert.deepEqual(await cleared.getMulti(['k0', 'k1', `k${n - 1}`]), [NO_VALUE, NO_VALUE, NO_VALUE]);
      assert.deepEqual(await other.getMulti(['k0', 'k1']), ['other', 'other'], "another namespace's entries survive");
      assert.equal(await longer.get('k0'), 'longer', 'a namespace that merely starts with the same text survives');
      assert.deepEqual(
        await plain.getMulti(plainKeys),
        plainKeys.map(() => 'plain'),
        'keys without a namespace survive',
      );

      await cleared.set('k0', 'again');
      assert.equal(await cleared.get('k0'), 'again', 'the region works after clear()');
      await Promise.all([cleared.clear(), other.clear(), longer.clear(), plain.deleteMulti(plainKeys)]);
    });

    it('matches a namespace with glob characters (* ? [ ] \\) literally', async () => {
      const ns = `${RUN}-${name}*?[ab]\\`;
      // The unescaped pattern "<RUN>-<name>*?[ab]\:*" would match this namespace's keys too.
      const decoyNs = `${RUN}-${name}XYZa`;
      const cleared = region({ namespace: ns });
      const decoy = region({ namespace: decoyNs });
      const plain = region();
      await cleared.setMulti({ a: 1, b: 2 });
      await decoy.setMulti({ a: 'decoy', b: 'decoy' });
      await plain.set(`${ns}x`, 'plain');
      const client = (await (cleared.actualBackend as RedisBackend).getClient()) as Redis | Cluster;
      assert.deepEqual(
        (await keysPerMaster(client, `${ns}:*`)).flat().sort(),
        [`${decoyNs}:a`, `${decoyNs}:b`],
        'the unescaped pattern reaches the decoy (so this test can fail)',
      );
      assert.equal(await count(client, `${glob(ns)}:*`), 2);

      await cleared.clear();

      assert.deepEqual(await cleared.getMulti(['a', 'b']), [NO_VALUE, NO_VALUE]);
      assert.equal(await count(client, `${glob(ns)}:*`), 0);
      assert.deepEqual(await decoy.getMulti(['a', 'b']), ['decoy', 'decoy']);
      assert.equal(await plain.get(`${ns}x`), 'plain');
      await Promise.all([decoy.clear(), plain.delete(`${ns}x`)]);
    });

    it('without a namespace is an UnsupportedOperationError naming the argument, and removes nothing', async () => {
      const plain = region();
      const k = `${RUN}-${name}-plain`;
      await plain.set(k, 'kept');
      await assert.rejects(
        plain.clear(),
        (e: Error) =>
          e instanceof UnsupportedOperationError && /needs a namespace/.test(e.message) && /arguments\.namespace/.test(e.message),
      );
      assert.equal(await plain.get(k), 'kept');
      await plain.delete(k);
    });
  });
}

clearSuite('RedisBackend', (args) => new RedisBackend({ url: redisUrl(), ...args }));
clearSuite('RedisSentinelBackend', (args) => new RedisSentinelBackend({ sentinels: redisSentinels(), lock_timeout: 10, ...args }));
clearSuite('RedisClusterBackend', (args) => new RedisClusterBackend({ startup_nodes: redisClusterNodes(), ...args }));

describe('Redis namespace: key layout, locks and the registry', () => {
  it('stores entries as "<namespace>:<key>" and locks as "_lock<namespace>:<key>" (a Python key_mangler adding "<namespace>:" meets both); clear() leaves a held lock', async () => {
    const ns = `${RUN}-layout`;
    const backend = new RedisBackend({ url: redisUrl(), namespace: ns, distributed_lock: true, lock_timeout: 30 });
    const region = new CacheRegion({ serializer: 'json' }).configure(backend);
    made.push(region);
    await region.set('user:1', { name: 'x' });
    const raw = (await backend.getClient()) as Redis;
    assert.match((await raw.get(`${ns}:user:1`)) ?? '', /^\{"ct": [\d.]+, "v": 2\}\|\{"name": "x"\}$/);
    assert.equal(await raw.exists('user:1'), 0);

    const mutex = backend.getMutex('user:1');
    assert.ok(mutex !== null);
    assert.equal(await mutex.acquire(false), true);
    assert.equal(await raw.exists(`_lock${ns}:user:1`), 1);
    await region.clear();
    assert.equal(await raw.exists(`${ns}:user:1`), 0);
    assert.equal(await raw.exists(`_lock${ns}:user:1`), 1, 'a clear never frees a lock another creator holds');
    await mutex.release();
    assert.equal(await raw.exists(`_lock${ns}:user:1`), 0);
  });

  it('a region configured by registry name (loaded lazily) clears with a namespace and names it without one', async () => {
    const ns = `${RUN}-lazy`;
    const named = new CacheRegion().configure('dogpile.cache.valkey', { arguments: { url: redisUrl(), namespace: ns } });
    const unnamed = new CacheRegion().configure('dogpile.cache.redis', { arguments: { url: redisUrl() } });
    made.push(named, unnamed);
    await named.set('k', 1);
    await named.clear();
    assert.equal(await named.get('k'), NO_VALUE);
    await assert.rejects(
      unnamed.clear(),
      (e: Error) => e instanceof UnsupportedOperationError && /RedisBackend\.clear\(\) needs a namespace/.test(e.message),
    );
  });
});
