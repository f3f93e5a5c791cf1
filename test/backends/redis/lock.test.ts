// RedisMutex and the caller's AbortSignal (CacheMutex.acquire(wait, signal), src/backends/redis/lock.ts),
// against a private redis-server this file starts (it counts the server's SETs and SIGSTOPs it, so never a
// shared one). A waiting acquire whose caller gave up resolves false at once (never granted, as the
// CacheMutex contract in src/api.ts says) and sends no more SET NX; the lock another holder keeps is left as it is; a SET NX in flight when the signal aborts that
// succeeds later is released by its token, so no lock is left held by nobody.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBackend, RedisMutex } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, CacheRegion } from '../../../src/index.js';
import { type RedisProcess, redisCli, waitUntil, usePrivateRedisServer } from '../../support/redis.js';
import { guardProcess, withDeadline } from '../../support/reliability.js';

guardProcess();

let server: RedisProcess;
usePrivateRedisServer({ before, after }, (started) => {
  server = started;
});

/** SET commands the server has run so far (INFO commandstats). */
async function setCalls(): Promise<number> {
  const info = await redisCli(server.port, ['INFO', 'commandstats']);
  return Number(/cmdstat_set:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** The lock key's value (the holder's token), or "" when absent. */
async function lockValue(key: string): Promise<string> {
  return (await redisCli(server.port, ['GET', key])).trim();
}

/** Two backends on the private server, as two processes would have: a holder and a waiter. */
function pair(args: Record<string, unknown> = {}): [RedisBackend, RedisBackend] {
  const make = (): RedisBackend =>
    new RedisBackend({ host: '127.0.0.1', port: server.port, distributed_lock: true, lock_sleep: 0.05, ...args });
  return [make(), make()];
}

function mutexOf(backend: RedisBackend, key: string): RedisMutex {
  const mutex = backend.getMutex(key);
  assert.ok(mutex instanceof RedisMutex);
  return mutex;
}

describe('RedisMutex.acquire(wait, signal)', () => {
  it('a wait whose caller gave up resolves false at once and stops polling; the holder keeps its lock', async () => {
    const [holding, waiting] = pair({ lock_timeout: 30 });
    try {
      const holder = mutexOf(holding, 'lk-abandoned');
      const waiter = mutexOf(waiting, 'lk-abandoned');
      assert.equal(await holder.acquire(false), true);
      const token = await lockValue(holder.key);
      assert.match(token, /^[0-9a-f]{32}$/);
      const controller = new AbortController();
      const acquiring = waiter.acquire(true, controller.signal);
      await sleep(300);
      assert.ok((await setCalls()) > 3, 'the waiter polls with SET NX while the lock is held');
      const aborted = performance.now();
      controller.abort(new Error('the caller left'));
      assert.equal(await withDeadline(acquiring, 2_000, 'the abandoned acquire'), false);
      const ms = performance.now() - aborted;
      assert.ok(ms < 200, `settled ${ms.toFixed(0)} ms after the abort`);
      const settled = await setCalls();
      await sleep(400); // 8 more SET NX would come in this time if the wait went on
      assert.equal((await setCalls()) - settled, 0, 'SET NX after the caller left');
      assert.equal(await lockValue(holder.key), token, "the holder's lock is untouched");
      await holder.release();
      assert.equal(await holder.locked(), false);
    } finally {
      await holding.close();
      await waiting.close();
    }
  });

  it('a signal aborted before the call resolves false without sending anything; a live signal changes nothing', async () => {
    const [backend] = pair();
    try {
      const mutex = mutexOf(backend, 'lk-before');
      await backend.boundedCall('PING', (c) => c.ping());
      const before = await setCalls();
      assert.equal(await mutex.acquire(true, AbortSignal.abort()), false);
      assert.equal(await mutex.acquire(false, AbortSignal.abort()), false);
      assert.equal(await setCalls(), before, 'no SET NX sent');
      const live = new AbortController();
      assert.equal(await mutex.acquire(false, live.signal), true);
      assert.equal(await mutexOf(backend, 'lk-before').acquire(false, live.signal), false, 'held');
      await mutex.release();
      assert.equal(await mutex.locked(), false);
    } finally {
      await backend.close();
    }
  });

  it('a SET NX in flight when the signal aborts: resolves false at once, and the lock it takes later is released by its token', async () => {
    // socket_timeout 5 s and no lock_timeout: neither the watchdog nor an expiry frees the lock within the test.
    const [backend] = pair({ socket_timeout: 5 });
    try {
      const mutex = mutexOf(backend, 'lk-in-flight');
      assert.equal(await mutex.locked(), false);
      server.signal('SIGSTOP');
      await sleep(100);
      const controller = new AbortController();
      const acquiring = mutex.acquire(true, controller.signal);
      await sleep(50); // the SET NX is sent and unanswered
      const aborted = performance.now();
      controller.abort(new Error('the caller left'));
      try {
        assert.equal(await withDeadline(acquiring, 2_000, 'the acquire with its SET NX in flight'), false);
        assert.ok(performance.now() - aborted < 200, 'not waiting for the reply (socket_timeout is 5 s)');
      } finally {
        server.signal('SIGCONT');
      }
      // The SET NX ran once the server resumed and took the lock; the mutex released it by its token.
      await waitUntil('the abandoned lock released', async () => (await lockValue(mutex.key)) === '', 3_000);
      assert.equal(await mutex.acquire(false), true, 'free for the next caller');
      await mutex.release();
    } finally {
      server.signal('SIGCONT');
      await backend.close();
    }
  });

  it('a late SET NX does not release a lock that another holder took meanwhile', async () => {
    const [holding, waiting] = pair({ socket_timeout: 5 });
    try {
      const waiter = mutexOf(waiting, 'lk-late');
      const holder = mutexOf(holding, 'lk-late');
      assert.equal(await holder.acquire(false), true);
      const token = await lockValue(holder.key);
      server.signal('SIGSTOP');
      await sleep(100);
      const controller = new AbortController();
      const acquiring = waiter.acquire(true, controller.signal);
      await sleep(50);
      controller.abort(new Error('gone'));
      assert.equal(await withDeadline(acquiring, 2_000, 'the abandoned acquire'), false);
      server.signal('SIGCONT');
      // The waiter's SET NX finds the lock held (no OK): nothing is released, the holder keeps it.
      await waitUntil('the server answers', async () => (await holder.locked()) === true, 3_000);
      await sleep(200);
      assert.equal(await lockValue(holder.key), token);
      await holder.release();
    } finally {
      server.signal('SIGCONT');
      await holding.close();
      await waiting.close();
    }
  });

  it("a region's getOrCreate whose signal aborts while another process holds the lock: rejects with the reason, no lock error under onBackendError 'miss'", async () => {
    // A mutex that rejected on abort (the memcached one does) reaches the region's lenient lock under
    // 'miss' as a lock failure: an error event and an unlocked create counted for a caller who just left.
    const [holding, waiting] = pair({ lock_timeout: 30 });
    const region = new CacheRegion({ serializer: 'json', onBackendError: 'miss' }).configure(waiting, { expirationTime: 60 });
    try {
      const errors: string[] = [];
      region.on('error', (event) => void errors.push(event.operation));
      const holder = mutexOf(holding, 'lk-region');
      assert.equal(await holder.acquire(false), true);
      const controller = new AbortController();
      let ran = false;
      const reason = new Error('the caller left');
      const getting = region.getOrCreate(
        'lk-region',
        async () => {
          ran = true;
          return 1;
        },
        { signal: controller.signal },
      );
      await sleep(200);
      controller.abort(reason);
      await assert.rejects(getting, (e: unknown) => e === reason);
      const settled = await setCalls();
      await sleep(300);
      assert.equal((await setCalls()) - settled, 0, 'SET NX after the caller left');
      assert.equal(ran, false);
      assert.deepEqual(errors, []);
      assert.equal(region.stats().unlockedCreates, 0);
      await holder.release();
    } finally {
      await region.close();
      await holding.close();
    }
  });

  it('24 acquires waiting on one backend: no MaxListenersExceededWarning; aborted ones resolve false, close() rejects the rest', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const [holding, waiting] = pair({ lock_timeout: 30 });
    try {
      const keys = Array.from({ length: 24 }, (_, i) => `lk-many-${i}`);
      const holders = keys.map((k) => mutexOf(holding, k));
      for (const holder of holders) assert.equal(await holder.acquire(false), true);
      // A signal per caller (more than 10 listeners on one signal of the caller's would be the caller's warning).
      const controllers = keys.map(() => new AbortController());
      const waits = keys.map((k, i) =>
        mutexOf(waiting, k)
          .acquire(true, i % 2 === 0 ? controllers[i]?.signal : undefined)
          .then(String, (e: unknown) => e),
      );
      await sleep(200); // every wait has slept on the backend's close signal a few times
      for (const controller of controllers) controller.abort();
      await sleep(50);
      await waiting.close();
      const results = await withDeadline(Promise.all(waits), 2_000, 'the waits');
      results.forEach((r, i) => {
        if (i % 2 === 0) assert.equal(r, 'false', `wait ${i} with the aborted signal`);
        else assert.ok(r instanceof BackendUnavailableError && /closed while waiting/.test(r.message), `wait ${i}: ${String(r)}`);
      });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      assert.deepEqual(warnings, []);
      for (const holder of holders) await holder.release();
    } finally {
      process.off('warning', onWarning);
      await holding.close();
      await waiting.close();
    }
  });
});
