// CacheRegion error policies against a real backend that goes down (a PRIVATE memcached killed by PID),
// under concurrent load. test/region/region.test.ts checks the same policies with an in-memory backend
// that always throws; this shows them with real network failures, and the creator-throws rule with both
// the in-process lock and memcached's distributed lock.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { BackendUnavailableError, CacheRegion, NO_VALUE, type CacheBackend } from '../../src/index.js';
import { PrivateMemcached, freePort } from '../support/memcached.js';
import { guardProcess, maxOf, timed, withDeadline } from '../support/reliability.js';

guardProcess();

const CONCURRENCY = 64;
const run = randomUUID().slice(0, 8);

describe('region policies with a memcached that is down', () => {
  let server: PrivateMemcached;
  before(async () => {
    server = await PrivateMemcached.start();
  });
  after(async () => {
    await server.kill();
  });

  it("onBackendError 'miss': serves the creator's value while the backend is down and counts the errors; recovers", async (t) => {
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(
      new PooledMemcachedBackend({ url: server.address, socket_timeout: 0.5, dead_retry: 1 }),
    );
    const events: string[] = [];
    region.on('error', (event) => void events.push(event.operation));
    try {
      await withDeadline(region.set(`${run}-cached`, 'from cache'), 5000);
      await server.kill();
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => timed(() => region.getOrCreate(`${run}-m${i}`, () => `created ${i}`), 5000)),
      );
      for (const [i, o] of outcomes.entries()) {
        assert.equal(o.error, undefined, String(o.error));
        assert.equal(o.value, `created ${i}`);
        assert.ok(o.ms < 1500, `getOrCreate took ${o.ms.toFixed(0)} ms`);
      }
      assert.equal(await withDeadline(region.get(`${run}-cached`), 2000), NO_VALUE, 'a read while down is a miss');
      const errors = region.stats().errors;
      t.diagnostic(
        `64 getOrCreate while down: all served the creator's value; slowest ${maxOf(outcomes.map((o) => o.ms)).toFixed(0)} ms; stats().errors ${errors}`,
      );
      // Each getOrCreate reads, re-reads under the lock, and writes: three failed backend calls.
      assert.equal(errors, CONCURRENCY * 3 + 1);
      assert.equal(events.length, errors, 'every counted error is also an event');

      await server.restart();
      // dead_retry (1 s) must pass before the region's backend uses the server again: poll until a read is error-free.
      const deadline = Date.now() + 5000;
      for (;;) {
        const before = region.stats().errors;
        await withDeadline(region.get(`${run}-probe`), 2000);
        if (region.stats().errors === before) break;
        assert.ok(Date.now() < deadline, 'the region did not recover');
        await new Promise((r) => setTimeout(r, 200));
      }
      const stable = region.stats().errors;
      assert.equal(
        await withDeadline(
          region.getOrCreate(`${run}-after`, () => 'stored'),
          2000,
        ),
        'stored',
      );
      assert.equal(await withDeadline(region.get(`${run}-after`), 2000), 'stored', 'cached again once the server is back');
      assert.equal(region.stats().errors, stable);
    } finally {
      await withDeadline(region.close(), 5000, 'close');
    }
  });

  it("onBackendError 'throw': the same outage surfaces as BackendUnavailableError, counted", async () => {
    const region = new CacheRegion({ onBackendError: 'throw' }).configure(
      new PooledMemcachedBackend({ url: server.address, socket_timeout: 0.5, dead_retry: 1 }),
    );
    try {
      await withDeadline(region.set(`${run}-t`, 1), 5000);
      await server.kill();
      let created = 0;
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => timed(() => region.getOrCreate(`${run}-t${i}`, () => ++created), 5000)),
      );
      for (const o of outcomes) {
        assert.ok(o.error instanceof BackendUnavailableError, String(o.error));
        assert.ok(o.ms < 1500, `${o.ms.toFixed(0)} ms`);
      }
      assert.equal(created, 0, 'the first read failed: no creator ran');
      assert.equal(region.stats().errors, CONCURRENCY);
      await assert.rejects(withDeadline(region.get(`${run}-t`), 2000), BackendUnavailableError);
      await assert.rejects(withDeadline(region.set(`${run}-t`, 2), 2000), BackendUnavailableError);
      assert.equal(region.stats().errors, CONCURRENCY + 2);
    } finally {
      await server.restart();
      await withDeadline(region.close(), 5000, 'close');
    }
  });

  for (const lock of ['in-process lock', 'memcached distributed_lock'] as const) {
    it(`a creator that throws releases the lock and caches nothing (${lock}), also with 64 callers waiting`, async () => {
      const backend = new PooledMemcachedBackend({
        url: server.address,
        socket_timeout: 1,
        distributed_lock: lock !== 'in-process lock',
        lock_timeout: 30,
      });
      const region = new CacheRegion().configure(backend);
      try {
        const key = `${run}-boom-${lock.length}`;
        let calls = 0;
        const outcomes = await Promise.all(
          Array.from({ length: CONCURRENCY }, () =>
            timed(
              () =>
                region.getOrCreate(key, async () => {
                  calls++;
                  await new Promise((r) => setTimeout(r, 5));
                  throw new Error('creator failed');
                }),
              10_000,
            ),
          ),
        );
        for (const o of outcomes) assert.equal((o.error as Error | undefined)?.message, 'creator failed', String(o.error));
        assert.ok(calls >= 1);
        assert.equal(await withDeadline(region.keyIsLocked(key), 2000), false, 'the lock is released');
        assert.equal(await withDeadline(region.get(key), 2000), NO_VALUE, 'nothing cached');
        assert.equal(region.stats().errors, 0, 'a creator error is not a backend error');
        const next = await timed(() => region.getOrCreate(key, () => 'ok'), 2000);
        assert.equal(next.value, 'ok', String(next.error));
        assert.ok(next.ms < 500, `the next caller is not held up by a stale lock (${next.ms.toFixed(0)} ms)`);
        assert.equal(await region.get(key), 'ok');
      } finally {
        await withDeadline(region.close(), 5000, 'close');
      }
    });
  }
});

// Issue 15.2: under 'miss', a lock server that is down does not stop the creator (it runs unlocked,
// counted in stats().unlockedCreates), and a release that fails still returns the value. Each backend
// points at a port nothing listens on (a real connection refused, not a double), with short timeouts.
// Every distributed lock has a lock_timeout: memcached warns (process noise here) about one without.
describe("onBackendError 'miss' covers the distributed lock", () => {
  const backends: Record<string, (port: number) => CacheBackend> = {
    memcached: (port) =>
      new PooledMemcachedBackend({
        url: `127.0.0.1:${port}`,
        socket_timeout: 0.5,
        dead_retry: 1,
        distributed_lock: true,
        lock_timeout: 10,
      }),
    etcd: (port) => new Etcd3Backend({ endpoints: [`http://127.0.0.1:${port}`], timeout: 1, distributed_lock: true }),
    mongo: (port) =>
      new MongoBackend({
        db_hosts: `127.0.0.1:${port}`,
        db_name: 'dogpile_cache_test',
        cache_collection: 'policies',
        distributed_lock: true,
        server_selection_timeout: 1,
        connect_timeout: 1,
      }),
    redis: (port) => new RedisBackend({ host: '127.0.0.1', port, socket_timeout: 1, distributed_lock: true, lock_timeout: 10 }),
  };
  for (const [name, make] of Object.entries(backends)) {
    it(`${name} down: getOrCreate and getOrCreateMulti run the creator unlocked and return its values`, async () => {
      const region = new CacheRegion({ onBackendError: 'miss' }).configure(make(await freePort()));
      const operations = new Set<string>();
      region.on('error', (event) => void operations.add(event.operation));
      try {
        // Bounds are generous (the machine is shared): what matters is that the calls settle with the creator's values.
        assert.equal(
          await withDeadline(
            region.getOrCreate(`${run}-lock`, () => 'created'),
            15_000,
          ),
          'created',
        );
        assert.deepEqual(
          await withDeadline(
            region.getOrCreateMulti([`${run}-a`, `${run}-b`], (...keys) => keys.map((k) => `v${k}`)),
            15_000,
          ),
          [`v${run}-a`, `v${run}-b`],
        );
        const stats = region.stats();
        assert.equal(stats.unlockedCreates, 3, 'one per key whose lock could not be taken');
        assert.ok(operations.has('lock'), [...operations].join());
      } finally {
        await withDeadline(region.close(), 10_000, 'close');
      }
    });
  }

  it("memcached dies while the lock is held: the creator's value is still returned", async () => {
    const server = await PrivateMemcached.start();
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(
      new PooledMemcachedBackend({ url: server.address, socket_timeout: 0.5, dead_retry: 1, distributed_lock: true, lock_timeout: 10 }),
    );
    const operations: string[] = [];
    region.on('error', (event) => void operations.push(event.operation));
    try {
      const value = await withDeadline(
        region.getOrCreate(`${run}-dies`, async () => {
          await server.kill();
          return 'made while the server died';
        }),
        15_000,
      );
      assert.equal(value, 'made while the server died');
      assert.ok(operations.includes('unlock'), operations.join());
    } finally {
      await server.kill();
      await withDeadline(region.close(), 10_000, 'close');
    }
  });
});
