// The dogpile lock (src/lock.ts) through its module API: written to kill the mutants that
// test/lock/lock.test.ts, test/lock/layered.test.ts and the region suites left alive (issue 23). The
// rules dogpile.cache 1.1.8 defines (dogpile/lock.py: `_has_value` is `createdtime > 0`, a value is
// expired when `time.time() - createdtime > expiretime`, the re-read after waiting for the mutex, the
// async creator taking over the mutex) are asserted as dogpile states them; the rest is this module's own
// contract (abort signals, the in-process queue, releasing every lock).
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { CacheMutex } from '../../src/index.js';
import { LockReleaseError } from '../../src/index.js';
import {
  KeyedMutexes,
  LayeredMutex,
  NEED_REGENERATION,
  acquireUnlessAborted,
  dogpileLock,
  dogpileLockMulti,
  isFresh,
  neverBlocks,
  raceAbort,
  releaseAll,
  type ValueAndCreated,
} from '../../src/lock.js';

type Read = ValueAndCreated<string> | typeof NEED_REGENERATION;

/** A value store the lock reads through `valueAndCreated`, counting reads. */
function store(...reads: Read[]) {
  const state = { reads: 0, creates: 0 };
  return {
    state,
    /** Each call returns the next of `reads`, the last one for ever after. */
    valueAndCreated: async (): Promise<Read> => reads[Math.min(state.reads++, reads.length - 1)] as Read,
    creator: async (): Promise<ValueAndCreated<string>> => {
      state.creates++;
      return ['created', 100];
    },
  };
}

/** A mutex someone else holds until `release()`. */
async function heldByAnother(key = 'k'): Promise<{ mutexes: KeyedMutexes; mutex: CacheMutex }> {
  const mutexes = new KeyedMutexes();
  const mutex = mutexes.get(key);
  assert.equal(await mutex.acquire(false), true);
  return { mutexes, mutex };
}

const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe("dogpileLock: dogpile's expiry rules", () => {
  it('a value exactly expirationTime seconds old is still fresh; one a moment older is regenerated', async () => {
    // dogpile: expired when time.time() - createdtime > expiretime
    const exact = store(['old', 90]);
    assert.equal(await dogpileLock({ mutex: new KeyedMutexes().get('k'), expirationTime: 10, now: () => 100, ...exact }), 'old');
    assert.equal(exact.state.creates, 0);
    const older = store(['old', 89.999]);
    assert.equal(await dogpileLock({ mutex: new KeyedMutexes().get('k'), expirationTime: 10, now: () => 100, ...older }), 'created');
    assert.equal(
      isFresh(90, 10, () => 100),
      true,
    );
    assert.equal(
      isFresh(89.999, 10, () => 100),
      false,
    );
  });

  it('expirationTime null never expires, and the clock is not read', async () => {
    const now = (): number => assert.fail('no clock reading without an expiration');
    const ancient = store(['ancient', 1]);
    assert.equal(await dogpileLock({ mutex: new KeyedMutexes().get('k'), expirationTime: null, now, ...ancient }), 'ancient');
    assert.equal(ancient.state.creates, 0);
    assert.equal(isFresh(1, null, now), true);
  });

  it("a value created at 0 is no value (dogpile's _has_value is createdtime > 0): the caller waits for the lock instead of serving it", async () => {
    const { mutex } = await heldByAnother();
    let waits = 0;
    let stales = 0;
    const values = store(['placeholder', 0], ['made by the holder', 100]);
    const result = dogpileLock({
      mutex,
      expirationTime: 10,
      now: () => 100,
      ...values,
      onWait: () => void waits++,
      onStale: () => void stales++,
    });
    await tick();
    assert.equal(waits, 1, 'it waits for the holder');
    await mutex.release();
    assert.equal(await result, 'made by the holder');
    assert.equal(stales, 0);
    assert.equal(values.state.creates, 0);
  });

  it('a fresh initial read is used as it is: no second read, no lock', async () => {
    const mutex = new KeyedMutexes().get('k');
    const value = await dogpileLock<string>({
      mutex,
      initial: ['given', 100],
      expirationTime: 10,
      now: () => 100,
      valueAndCreated: async () => assert.fail('the caller already read'),
      creator: async () => assert.fail('fresh'),
    });
    assert.equal(value, 'given');
    assert.equal(await mutex.locked(), false);
  });
});

describe("dogpileLock: waiting for another creator (dogpile's _enter_create)", () => {
  it('with no value, waits for the holder, then re-reads and uses what it created (no second creation)', async () => {
    const { mutexes, mutex } = await heldByAnother();
    const values = store(NEED_REGENERATION, ['made by the holder', 100]);
    const result = dogpileLock({ mutex: mutexes.get('k'), expirationTime: 10, now: () => 100, ...values });
    await tick();
    assert.equal(values.state.reads, 1);
    await mutex.release();
    assert.equal(await result, 'made by the holder');
    assert.equal(values.state.creates, 0);
    assert.equal(values.state.reads, 2, 'one read on entry, one after the wait');
    assert.equal(mutexes.isLocked('k'), false, 'released after use');
  });

  it('with no value, finds a stale value after the wait and an async creator: serves it and hands the mutex over (dogpile)', async () => {
    const { mutex } = await heldByAnother();
    let handed: CacheMutex | undefined;
    let stales = 0;
    const values = store(NEED_REGENERATION, ['stale', 50]);
    const result = dogpileLock({
      mutex,
      expirationTime: 10,
      now: () => 100,
      ...values,
      asyncCreator: (m) => {
        handed = m;
      },
      onStale: () => void stales++,
    });
    await tick();
    await mutex.release();
    assert.equal(await result, 'stale');
    assert.equal(handed, mutex);
    assert.equal(await mutex.locked(), true, 'the runner holds the mutex until it has stored the new value');
    assert.equal(values.state.creates, 0);
    assert.equal(stales, 1);
  });

  it('with no value and no async creator, creates after the wait when the holder created nothing', async () => {
    const { mutex } = await heldByAnother();
    const values = store(NEED_REGENERATION);
    const result = dogpileLock({ mutex, expirationTime: 10, now: () => 100, ...values });
    await tick();
    await mutex.release();
    assert.equal(await result, 'created');
    assert.equal(values.state.creates, 1);
  });

  it('onWait and onStale are optional', async () => {
    const busy = await heldByAnother();
    assert.equal(
      await dogpileLock({ mutex: busy.mutex, expirationTime: 10, now: () => 100, ...store(['stale', 50]) }),
      'stale',
      'stale served without onStale',
    );
    const waiting = dogpileLock({ mutex: busy.mutex, expirationTime: 10, now: () => 100, ...store(NEED_REGENERATION, ['new', 100]) });
    await tick();
    await busy.mutex.release();
    assert.equal(await waiting, 'new', 'waited without onWait');
  });
});

describe('dogpileLock: handOffMissing', () => {
  it("hands a stale value's mutex to the async creator too, and returns the stale value", async () => {
    const mutex = new KeyedMutexes().get('k');
    let handed: CacheMutex | undefined;
    const value = await dogpileLock({
      mutex,
      expirationTime: 10,
      now: () => 100,
      ...store(['stale', 50]),
      asyncCreator: (m) => {
        handed = m;
      },
      handOffMissing: true,
    });
    assert.equal(value, 'stale');
    assert.equal(handed, mutex);
    assert.equal(await mutex.locked(), true);
  });

  it('without an async creator there is nothing to hand over to: the caller creates', async () => {
    const mutex = new KeyedMutexes().get('k');
    const values = store(NEED_REGENERATION);
    assert.equal(await dogpileLock({ mutex, expirationTime: 10, now: () => 100, ...values, handOffMissing: true }), 'created');
    assert.equal(await mutex.locked(), false);
  });
});

describe('dogpileLock: recheckAfterAcquire (a cross-process mutex)', () => {
  it('a stale value found fresh once the mutex is held is used, not regenerated, with one re-read', async () => {
    const mutex = new KeyedMutexes().get('k');
    const values = store(['stale', 50], ['refreshed by another process', 100], ['a third read', 100]);
    const value = await dogpileLock({ mutex, expirationTime: 10, now: () => 100, ...values, recheckAfterAcquire: true });
    assert.equal(value, 'refreshed by another process');
    assert.equal(values.state.creates, 0);
    assert.equal(values.state.reads, 2);
    assert.equal(await mutex.locked(), false);
  });

  it('still stale after the mutex: regenerated', async () => {
    const values = store(['stale', 50], ['still stale', 60]);
    assert.equal(
      await dogpileLock({ mutex: new KeyedMutexes().get('k'), expirationTime: 10, now: () => 100, ...values, recheckAfterAcquire: true }),
      'created',
    );
    assert.equal(values.state.creates, 1);
  });

  it('gone after the mutex: created at once, even with an async creator (there is no stale value to serve)', async () => {
    const mutex = new KeyedMutexes().get('k');
    const values = store(['stale', 50], NEED_REGENERATION);
    const value = await dogpileLock({
      mutex,
      expirationTime: 10,
      now: () => 100,
      ...values,
      recheckAfterAcquire: true,
      asyncCreator: () => assert.fail('nothing to serve meanwhile'),
    });
    assert.equal(value, 'created');
    assert.equal(await mutex.locked(), false);
  });

  it('without the option, a stale value is regenerated without a second read (dogpile: one read per entry)', async () => {
    const values = store(['stale', 50], ['refreshed', 100]);
    assert.equal(await dogpileLock({ mutex: new KeyedMutexes().get('k'), expirationTime: 10, now: () => 100, ...values }), 'created');
    assert.equal(values.state.reads, 1);
  });
});

describe('dogpileLockMulti: the keys locked after a wait', () => {
  /** Locks `keys` while another caller holds `busy`, then lets it go; the re-read answers `reread`. */
  async function lockAfterWait(keys: string[], reread: (keys: readonly string[]) => Read[], expirationTime: number | null) {
    const { mutexes, mutex } = await heldByAnother('a');
    const held = new Map<string, CacheMutex>();
    const locking = dogpileLockMulti<string>({
      keys,
      mutex: (key) => mutexes.get(key),
      initial: () => NEED_REGENERATION,
      reread: async (k) => reread(k),
      held,
      expirationTime,
      now: () => 100,
    });
    await tick();
    await mutex.release();
    return { fresh: await locking, held, mutexes };
  }

  it('a key still missing after the wait stays locked for the caller, also with no expiration', async () => {
    const { fresh, held, mutexes } = await lockAfterWait(['a', 'b'], (keys) => keys.map(() => NEED_REGENERATION), null);
    assert.equal(fresh.size, 0);
    assert.deepEqual([...held.keys()], ['a', 'b']);
    assert.equal(mutexes.isLocked('a') && mutexes.isLocked('b'), true);
  });

  it('a key re-read stale stays locked; one re-read fresh is released and returned', async () => {
    const { fresh, held, mutexes } = await lockAfterWait(
      ['a', 'b'],
      () => [
        ['fresh', 95],
        ['stale', 50],
      ],
      10,
    );
    assert.deepEqual([...fresh], [['a', ['fresh', 95]]]);
    assert.deepEqual([...held.keys()], ['b']);
    assert.equal(mutexes.isLocked('a'), false);
    assert.equal(mutexes.isLocked('b'), true);
  });

  it('a re-read that answers fewer keys than asked leaves the unanswered keys locked', async () => {
    const { fresh, held } = await lockAfterWait(['a', 'b'], () => [['fresh', 95]], 10);
    assert.deepEqual([...fresh.keys()], ['a']);
    assert.deepEqual([...held.keys()], ['b']);
  });

  it('a stale key whose mutex another caller holds keeps its value, with or without onStale', async () => {
    const { mutex } = await heldByAnother('s');
    const held = new Map<string, CacheMutex>();
    const fresh = await dogpileLockMulti<string>({
      keys: ['s'],
      mutex: () => mutex,
      initial: () => ['stale', 50],
      reread: async () => assert.fail('no wait, no re-read'),
      held,
      expirationTime: 10,
      now: () => 100,
    });
    assert.equal(fresh.size, 0);
    assert.equal(held.size, 0);
  });

  it('a failed release of a fresh key rejects with LockReleaseError', async () => {
    const { mutexes, mutex } = await heldByAnother('a');
    const failing: CacheMutex = {
      acquire: (wait, signal) => mutexes.get('a').acquire(wait, signal),
      release: () => Promise.reject(new Error('server gone')),
      locked: async () => true,
    };
    const locking = dogpileLockMulti<string>({
      keys: ['a'],
      mutex: () => failing,
      initial: () => NEED_REGENERATION,
      reread: async () => [['fresh', 100]],
      held: new Map(),
      expirationTime: 10,
      now: () => 100,
    });
    await tick();
    await mutex.release();
    await assert.rejects(locking, LockReleaseError);
  });
});

describe('releaseAll', () => {
  it('settles every release and reports every failure in one LockReleaseError', async () => {
    await releaseAll([]);
    await releaseAll([Promise.resolve(), Promise.resolve()]);
    const first = new Error('first');
    const second = new Error('second');
    let settled = false;
    const slow = new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => void (settled = true));
    await assert.rejects(releaseAll([Promise.reject(first), slow, Promise.reject(second)]), (error: unknown) => {
      assert.ok(error instanceof LockReleaseError);
      assert.equal(error.message, 'Releasing 2 lock(s) failed; every other lock was released. See cause.errors.');
      assert.ok(error.cause instanceof AggregateError);
      assert.deepEqual(error.cause.errors, [first, second]);
      assert.equal(error.cause.message, 'lock release failures');
      return true;
    });
    assert.equal(settled, true, 'it waited for the other release');
  });
});

describe("acquireUnlessAborted and raceAbort leave no listener on the caller's signal", () => {
  it('acquireUnlessAborted: granted, refused, failed, or aborted', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const mutexes = new KeyedMutexes();
    assert.equal(await acquireUnlessAborted(mutexes.get('a'), signal), true);
    assert.equal(abortListeners(signal), 0, 'granted');
    const refusing: CacheMutex = { acquire: async () => false, release: async () => {}, locked: async () => true };
    assert.equal(await acquireUnlessAborted(refusing, signal), false);
    assert.equal(abortListeners(signal), 0, 'refused');
    const failing: CacheMutex = { acquire: () => Promise.reject(new Error('down')), release: async () => {}, locked: async () => false };
    await assert.rejects(acquireUnlessAborted(failing, signal), /down/);
    assert.equal(abortListeners(signal), 0, 'failed');
    const waiting = acquireUnlessAborted(mutexes.get('a'), signal);
    await tick();
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    assert.equal(abortListeners(signal), 0, 'aborted');
  });

  it('acquireUnlessAborted: aborted while the mutex never answers (a hung server)', async () => {
    const controller = new AbortController();
    const hung: CacheMutex = { acquire: () => new Promise(() => {}), release: async () => {}, locked: async () => true };
    const waiting = acquireUnlessAborted(hung, controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    assert.equal(abortListeners(controller.signal), 0);
  });

  it('the in-process mutex: a queued waiter granted the lock leaves no listener', async () => {
    const { mutex } = await heldByAnother();
    const { signal } = new AbortController();
    const waiting = mutex.acquire(true, signal);
    await mutex.release();
    assert.equal(await waiting, true);
    assert.equal(abortListeners(signal), 0);
  });

  it('a lock granted before the abort stays with its caller', async () => {
    const controller = new AbortController();
    const holder = await heldByAnother('k');
    const waiting = acquireUnlessAborted(holder.mutex, controller.signal);
    await tick();
    await holder.mutex.release();
    assert.equal(await waiting, true);
    controller.abort();
    await tick();
    assert.equal(await holder.mutex.locked(), true, "aborting after the grant must not release the caller's lock");
  });

  it('without a signal, it is a plain waiting acquire', async () => {
    const { mutex } = await heldByAnother();
    const waiting = acquireUnlessAborted(mutex, undefined);
    await tick();
    await mutex.release();
    assert.equal(await waiting, true);
  });

  it('raceAbort: settles as the promise does, or rejects with the reason on abort', async () => {
    assert.equal(await raceAbort(Promise.resolve(1), undefined), 1);
    const controller = new AbortController();
    const { signal } = controller;
    assert.equal(await raceAbort(Promise.resolve(2), signal), 2);
    assert.equal(abortListeners(signal), 0, 'resolved');
    await assert.rejects(raceAbort(Promise.reject(new Error('failed')), signal), /failed/);
    assert.equal(abortListeners(signal), 0, 'rejected');
    const pending = raceAbort(new Promise(() => {}), signal);
    controller.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
    assert.equal(abortListeners(signal), 0, 'aborted');
    assert.throws(() => raceAbort(Promise.resolve(3), signal), /stop/, 'an aborted signal rejects at once');
  });
});

describe('KeyedMutexes: the in-process mutex', () => {
  it('a waiter with a live signal queues and is granted the lock on release', async () => {
    const { mutexes, mutex } = await heldByAnother();
    const waiting = mutexes.get('k').acquire(true, new AbortController().signal);
    await tick();
    await mutex.release();
    assert.equal(await waiting, true);
    assert.equal(await mutex.locked(), true);
  });

  it('a waiter whose signal is already aborted gets false at once, without queueing', async () => {
    const { mutexes } = await heldByAnother();
    assert.equal(await mutexes.get('k').acquire(true, AbortSignal.abort()), false);
    assert.equal(mutexes.waiting, 0);
  });

  it('waiting counts the callers queued right now', async () => {
    const { mutexes, mutex } = await heldByAnother();
    const controller = new AbortController();
    const first = mutex.acquire(true);
    const second = mutex.acquire(true, controller.signal);
    const third = mutex.acquire(true);
    assert.equal(mutexes.waiting, 3);
    controller.abort();
    assert.equal(await second, false);
    assert.equal(mutexes.waiting, 2);
    await mutex.release();
    assert.equal(await first, true);
    assert.equal(mutexes.waiting, 1);
    await mutex.release();
    assert.equal(await third, true);
    assert.equal(mutexes.waiting, 0);
    assert.equal(mutexes.isLocked('k'), true);
    await mutex.release();
    assert.equal(mutexes.isLocked('k'), false);
    assert.equal(await mutex.locked(), false);
  });

  it("releasing a mutex the key no longer uses never unlocks the key's current one", async () => {
    const mutexes = new KeyedMutexes();
    const old = mutexes.get('k');
    await old.acquire(false);
    await old.release(); // idle: the key's mutex is dropped
    const current = mutexes.get('k');
    assert.notEqual(current, old);
    assert.equal(await current.acquire(false), true);
    await old.acquire(false); // a caller still holding the old object
    await old.release();
    assert.equal(mutexes.isLocked('k'), true, 'the current holder still holds k');
    assert.equal(mutexes.get('k'), current);
    assert.equal(await mutexes.get('k').acquire(false), false);
  });
});

/** A server lock double: `heldElsewhere` is another process holding it; counts acquire calls. */
function serverLock() {
  const server = {
    heldElsewhere: false,
    held: false,
    acquires: 0,
    async acquire(): Promise<boolean> {
      server.acquires++;
      if (server.held || server.heldElsewhere) return false;
      server.held = true;
      return true;
    },
    async release(): Promise<void> {
      server.held = false;
    },
    async locked(): Promise<boolean> {
      return server.held || server.heldElsewhere;
    },
  };
  return server;
}

describe("LayeredMutex: the contract's defaults and the server's view", () => {
  it("acquire() waits by default (the contract's wait = true), for the in-process holder", async () => {
    const locals = new KeyedMutexes();
    const server = serverLock();
    const holder = new LayeredMutex(locals.get('k'), server);
    assert.equal(await holder.acquire(), true);
    const waiting = new LayeredMutex(locals.get('k'), server).acquire();
    await tick();
    await holder.release();
    assert.equal(await waiting, true);
  });

  it('acquire(false) while another caller of this process holds the key: false, and the server is not asked', async () => {
    const locals = new KeyedMutexes();
    const server = serverLock();
    assert.equal(await new LayeredMutex(locals.get('k'), server).acquire(false), true);
    assert.equal(await new LayeredMutex(locals.get('k'), server).acquire(false), false);
    assert.equal(server.acquires, 1);
    assert.equal(locals.isLocked('k'), true, 'the first caller still holds it');
  });

  it('a caller whose signal aborts just as the in-process lock reaches it gives it back and never asks the server', async () => {
    const locals = new KeyedMutexes();
    const server = serverLock();
    assert.equal(await new LayeredMutex(locals.get('k'), server).acquire(true), true);
    const controller = new AbortController();
    const waiting = new LayeredMutex(locals.get('k'), server).acquire(true, controller.signal);
    await tick();
    await server.release();
    void locals.get('k').release(); // hands the in-process lock to the waiter...
    controller.abort(); // ...which gives up before it runs on
    assert.equal(await waiting, false);
    assert.equal(server.acquires, 1, 'only the first caller asked the server');
    assert.equal(locals.isLocked('k'), false);
  });

  it("locked() is the server lock's state: held by another process though free in this one", async () => {
    const locals = new KeyedMutexes();
    const server = serverLock();
    const mutex = new LayeredMutex(locals.get('k'), server);
    assert.equal(await mutex.locked(), false);
    server.heldElsewhere = true;
    assert.equal(await mutex.locked(), true);
  });
});

describe('neverBlocks', () => {
  it('is true only for a mutex that declares neverBlocks: true', () => {
    assert.equal(neverBlocks(null), false);
    assert.equal(neverBlocks(new KeyedMutexes().get('k')), false);
    const base: CacheMutex = { acquire: async () => true, release: async () => {}, locked: async () => false };
    assert.equal(neverBlocks({ ...base, neverBlocks: true }), true);
  });
});
