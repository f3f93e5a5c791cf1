import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutexes } from '../../src/lock.js';
import { type CacheMutex } from '../../src/index.js';
import { NEED_REGENERATION, dogpileLock } from '../../src/backend.js';

function countingMutex(): CacheMutex & { acquired: number; released: number } {
  let held = false;
  const mutex = {
    acquired: 0,
    released: 0,
    async acquire(wait = true) {
      if (held && !wait) return false;
      held = true;
      mutex.acquired++;
      return true;
    },
    async release() {
      held = false;
      mutex.released++;
    },
    async locked() {
      return held;
    },
  };
  return mutex;
}

describe('dogpileLock (dogpile test_lock / test_backgrounding)', () => {
  it('a fresh value takes no lock', async () => {
    const mutex = countingMutex();
    const value = await dogpileLock({
      mutex,
      expireTime: 10,
      now: () => 100,
      valueAndCreated: async () => ['fresh', 95] as const,
      creator: async () => assert.fail('no creation for a fresh value'),
    });
    assert.equal(value, 'fresh');
    assert.equal(mutex.acquired, 0);
  });

  it('entering with an expired value reads it once (RaceConditionTest.test_no_double_get_on_expired)', async () => {
    let reads = 0;
    const value = await dogpileLock({
      mutex: countingMutex(),
      expireTime: 10,
      now: () => 100,
      valueAndCreated: async () => {
        reads++;
        return ['stale', 50] as const;
      },
      creator: async () => ['new', 100] as const,
    });
    assert.equal(value, 'new');
    assert.equal(reads, 1);
  });

  it('with a stale value and an async creator, serves the stale value and hands the mutex to the runner', async () => {
    const mutex = countingMutex();
    let handed: CacheMutex | undefined;
    const value = await dogpileLock({
      mutex,
      expireTime: 10,
      now: () => 100,
      valueAndCreated: async () => ['stale', 50] as const,
      creator: async () => assert.fail('the runner creates, not the caller'),
      asyncCreator: (m) => {
        handed = m;
      },
    });
    assert.equal(value, 'stale');
    assert.equal(handed, mutex);
    assert.equal(mutex.released, 0, 'the runner owns the release');
    assert.equal(await mutex.locked(), true, 'the lock stays held while the runner regenerates');
  });

  it('never uses the async creator when there is no value at all (the first request always blocks)', async () => {
    const value = await dogpileLock<string>({
      mutex: countingMutex(),
      expireTime: 10,
      now: () => 100,
      valueAndCreated: async () => NEED_REGENERATION,
      creator: async () => ['created', 100] as const,
      asyncCreator: () => assert.fail('no stale value to serve'),
    });
    assert.equal(value, 'created');
  });

  it('releases the mutex when the creator fails', async () => {
    const mutex = countingMutex();
    await assert.rejects(
      dogpileLock({ mutex, expireTime: 10, now: () => 100, valueAndCreated: async () => NEED_REGENERATION, creator: async () => Promise.reject(new Error('boom')) }),
      /boom/,
    );
    assert.equal(mutex.released, 1);
  });
});

describe('KeyedMutexes', () => {
  it('holds a mutex only while it is held or awaited, hands over in arrival order, and ignores stray releases', async () => {
    const mutexes = new KeyedMutexes();
    const a = mutexes.get('a');
    assert.equal(await a.acquire(false), true);
    assert.equal(await mutexes.get('a').acquire(false), false);
    const order: number[] = [];
    const waiters = [1, 2].map((n) => mutexes.get('a').acquire().then(() => order.push(n)));
    await a.release();
    await waiters[0];
    await mutexes.get('a').release();
    await waiters[1];
    await mutexes.get('a').release();
    assert.deepEqual(order, [1, 2]);
    assert.equal(mutexes.size, 0, 'no mutex kept for an idle key');
    await a.release(); // releasing an unheld mutex does nothing
    assert.equal(await mutexes.get('a').acquire(false), true);
  });
});
