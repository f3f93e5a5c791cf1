import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutexes, dogpileLockMulti } from '../../src/lock.js';
import type { CacheMutex } from '../../src/index.js';
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
      expirationTime: 10,
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
      expirationTime: 10,
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
      expirationTime: 10,
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
      expirationTime: 10,
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
      dogpileLock({
        mutex,
        expirationTime: 10,
        now: () => 100,
        valueAndCreated: async () => NEED_REGENERATION,
        creator: async () => Promise.reject(new Error('boom')),
      }),
      /boom/,
    );
    assert.equal(mutex.released, 1);
  });
});

describe('dogpileLockMulti (the protocol for many keys, one copy for getOrCreateMulti)', () => {
  it('hands over the mutex of each key to regenerate; re-reads only the keys locked after a wait, and releases those created meanwhile', async () => {
    const mutexes = new KeyedMutexes();
    const other = mutexes.get('b');
    assert.equal(await other.acquire(false), true, 'another caller is creating b');
    const now = 1_000;
    const held = new Map<string, CacheMutex>();
    const rereads: string[][] = [];
    const staleServed: string[] = [];
    const initial = new Map<string, readonly [string, number] | typeof NEED_REGENERATION>([
      ['a', NEED_REGENERATION],
      ['b', NEED_REGENERATION],
      ['c', NEED_REGENERATION],
      ['s', ['stale', now - 100] as const],
    ]);
    const locking = dogpileLockMulti<string>({
      keys: ['a', 'b', 'c', 's'],
      mutex: (key) => (key === 's' ? { acquire: async () => false, release: async () => {}, locked: async () => true } : mutexes.get(key)),
      initial: (key) => initial.get(key) ?? NEED_REGENERATION,
      reread: async (keys) => {
        rereads.push([...keys]);
        return keys.map((key) => (key === 'b' ? (['made by the other caller', now] as const) : NEED_REGENERATION));
      },
      held,
      expirationTime: 10,
      now: () => now,
      onStale: (key) => staleServed.push(key),
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...held.keys()], ['a'], 'a is locked; the lock waits for b');
    await other.release();
    const fresh = await locking;
    assert.deepEqual(rereads, [['b', 'c']], 'a was locked before any wait: not read again');
    assert.deepEqual([...fresh], [['b', ['made by the other caller', now]]]);
    assert.deepEqual([...held.keys()].sort(), ['a', 'c'], "b's mutex was released: its value is fresh");
    assert.equal(mutexes.isLocked('b'), false);
    assert.deepEqual(staleServed, ['s'], 'a stale key whose mutex is taken keeps its value');
    for (const mutex of held.values()) await mutex.release();
    assert.equal(mutexes.size, 0);
  });
});

describe('KeyedMutexes', () => {
  it('holds a mutex only while it is held or awaited, hands over in arrival order, and ignores stray releases', async () => {
    const mutexes = new KeyedMutexes();
    const a = mutexes.get('a');
    assert.equal(await a.acquire(false), true);
    assert.equal(await mutexes.get('a').acquire(false), false);
    const order: number[] = [];
    const waiters = [1, 2].map((n) =>
      mutexes
        .get('a')
        .acquire()
        .then(() => order.push(n)),
    );
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
