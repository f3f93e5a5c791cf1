/**
 * One creator per key across processes (issue 7), with real servers and real processes: 4 Node
 * workers × 50 concurrent getOrCreate on one key, for each backend's distributed lock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it, type TestContext } from 'node:test';
import { CacheRegion } from '../../src/index.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from '../support/servers.js';
import { killAll, startWorker, type Worker } from '../support/processes.js';
import { redisClusterNodes, redisSentinels, redisUrl } from '../support/redis.js';

const PROCESSES = 4;
const CALLERS = 50;
const CREATOR_MS = 200;

const backends: { name: string; backend: string; args: (lockTimeout: number) => Record<string, unknown> }[] = [
  {
    name: 'memcached',
    backend: 'memcached',
    args: (lockTimeout) => ({ url: memcachedServers(), distributed_lock: true, lock_timeout: lockTimeout }),
  },
  {
    name: 'mongo',
    backend: 'mongo',
    args: (lockTimeout) => ({
      db_hosts: mongodbUrl(),
      db_name: 'dogpile_lock_tests',
      cache_collection: 'cache',
      distributed_lock: true,
      lock_timeout: lockTimeout,
    }),
  },
  {
    name: 'etcd3',
    backend: 'etcd3',
    args: (lockTimeout) => ({ endpoints: etcdEndpoints(), distributed_lock: true, lock_timeout: lockTimeout }),
  },
  {
    name: 'redis',
    backend: 'dogpile.cache.redis',
    args: (lockTimeout) => ({ url: redisUrl(), distributed_lock: true, lock_timeout: lockTimeout, lock_sleep: '20ms' }),
  },
  {
    name: 'redis sentinel',
    backend: 'dogpile.cache.redis_sentinel',
    args: (lockTimeout) => ({ sentinels: redisSentinels(), lock_timeout: lockTimeout, lock_sleep: '20ms' }),
  },
  {
    name: 'redis cluster',
    backend: 'dogpile.cache.redis_cluster',
    args: (lockTimeout) => ({ startup_nodes: redisClusterNodes(), distributed_lock: true, lock_timeout: lockTimeout, lock_sleep: '20ms' }),
  },
];

for (const { name, backend, args } of backends) {
  describe(`cross-process dogpile lock: ${name}`, () => {
    const workers: Worker[] = [];
    after(() => killAll(workers));
    const spawnWorkers = async (count: number, config: Record<string, unknown>): Promise<Worker[]> => {
      const started = await Promise.all(Array.from({ length: count }, (_, i) => startWorker({ backend, label: `w${i}`, ...config })));
      workers.push(...started);
      return started;
    };

    it(`${PROCESSES} processes × ${CALLERS} callers on a cold key: exactly one creator call, everyone gets its value`, async (t: TestContext) => {
      const key = `cold-${randomUUID()}`;
      const group = await spawnWorkers(PROCESSES, { key, callers: CALLERS, creatorMs: CREATOR_MS, expirationTime: 60, args: args(10) });
      const started = performance.now();
      for (const worker of group) worker.go();
      const results = await Promise.all(group.map((worker) => worker.result()));
      const wall = performance.now() - started;
      assert.equal(
        results.reduce((sum, r) => sum + r.created, 0),
        1,
        'one creator call across all processes',
      );
      const values = new Set(results.flatMap((r) => r.values));
      assert.equal(values.size, 1, `every caller got the one value; got ${[...values].join(', ')}`);
      t.diagnostic(`${PROCESSES}×${CALLERS} callers: wall ${wall.toFixed(0)} ms for a ${CREATOR_MS} ms creator`);
    });

    it('a stale key under load: exactly one regeneration; the others get the stale value', async () => {
      const key = `stale-${randomUUID()}`;
      // Write the value as created a minute ago, so it is stale for the workers (expiration 30 s).
      const writer = new CacheRegion({ clock: () => Date.now() - 60_000 }).configure(backend, { arguments: args(10) });
      await writer.set(key, 'stale value');
      await writer.close();
      const group = await spawnWorkers(PROCESSES, { key, callers: CALLERS, creatorMs: CREATOR_MS, expirationTime: 30, args: args(10) });
      for (const worker of group) worker.go();
      const results = await Promise.all(group.map((worker) => worker.result()));
      assert.equal(
        results.reduce((sum, r) => sum + r.created, 0),
        1,
        'one regeneration across all processes',
      );
      const values = results.flatMap((r) => r.values);
      assert.ok(values.includes('stale value'), 'callers were served the stale value while one regenerated');
    });

    it('the lock holder killed mid-creation: another process regenerates after lock_timeout', async (t: TestContext) => {
      const key = `killed-${randomUUID()}`;
      const lockTimeout = 3;
      const [holder] = await spawnWorkers(1, { key, callers: 1, creatorMs: 600_000, expirationTime: 60, args: args(lockTimeout) });
      assert.ok(holder);
      holder.go();
      await holder.waitFor((m) => m.creating === true);
      const killedAt = performance.now();
      holder.kill();
      const [next] = await spawnWorkers(1, { key, callers: 1, creatorMs: 10, expirationTime: 60, args: args(lockTimeout) });
      assert.ok(next);
      next.go();
      const result = await next.result((lockTimeout + 20) * 1000);
      const waited = (performance.now() - killedAt) / 1000;
      assert.equal(result.created, 1, 'the next process created the value');
      assert.ok(waited < lockTimeout + 10, `waited ${waited.toFixed(1)} s, lock_timeout is ${lockTimeout} s`);
      t.diagnostic(`regenerated ${waited.toFixed(2)} s after the holder was killed (lock_timeout ${lockTimeout} s)`);
    });
  });
}
