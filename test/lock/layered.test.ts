// Direct tests of the lock plumbing the region relies on (issue 23): LayeredMutex (in-process lock in
// front of a server lock), acquireUnlessAborted, the in-process queue, and dogpileLock's handling of a
// runner that throws. The "server" mutexes here are test doubles: they force the faults (busy, failing
// release, a grant arriving after the caller gave up) at exact moments a real server can't be made to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KeyedMutexes,
  LayeredMutex,
  NEED_REGENERATION,
  acquireUnlessAborted,
  dogpileLock,
  holdsLock,
  runHoldingLocks,
} from '../../src/lock.js';
import type { CacheMutex } from '../../src/index.js';

/** A server lock double: `busy` refuses, `failRelease` throws on release, `grant` controls when a waiting acquire succeeds. */
class ServerMutex implements CacheMutex {
  held = false;
  busy = false;
  failRelease = false;
  releases = 0;
  grant: Promise<void> | undefined;
  async acquire(): Promise<boolean> {
    await this.grant;
    if (this.busy || this.held) return false;
    this.held = true;
    return true;
  }
  async release(): Promise<void> {
    this.releases++;
    if (this.failRelease) throw new Error('server release failed');
    this.held = false;
  }
  async locked(): Promise<boolean> {
    return this.held;
  }
}

describe('LayeredMutex', () => {
  it('takes the in-process lock, then the server lock, and releases both', async () => {
    const locals = new KeyedMutexes();
    const server = new ServerMutex();
    const mutex = new LayeredMutex(locals.get('k'), server);
    assert.equal(await mutex.acquire(true), true);
    assert.equal(locals.isLocked('k'), true);
    assert.equal(server.held, true);
    await mutex.release();
    assert.equal(locals.isLocked('k'), false);
    assert.equal(server.held, false);
  });

  it('gives the in-process lock back when the server lock is busy', async () => {
    const locals = new KeyedMutexes();
    const server = new ServerMutex();
    server.busy = true;
    const mutex = new LayeredMutex(locals.get('k'), server);
    assert.equal(await mutex.acquire(false), false);
    assert.equal(locals.isLocked('k'), false, 'a busy server lock must not keep this process locked out');
    assert.equal(await new LayeredMutex(locals.get('k'), new ServerMutex()).acquire(false), true);
  });

  it('gives the in-process lock back when the server acquire throws', async () => {
    const locals = new KeyedMutexes();
    const failing: CacheMutex = {
      acquire: async () => Promise.reject(new Error('server down')),
      release: async () => {},
      locked: async () => false,
    };
    await assert.rejects(new LayeredMutex(locals.get('k'), failing).acquire(true), /server down/);
    assert.equal(locals.isLocked('k'), false);
  });

  it('releases the in-process lock even when the server release throws, and reports the error', async () => {
    const locals = new KeyedMutexes();
    const server = new ServerMutex();
    const mutex = new LayeredMutex(locals.get('k'), server);
    await mutex.acquire(true);
    server.failRelease = true;
    await assert.rejects(mutex.release(), /server release failed/);
    assert.equal(locals.isLocked('k'), false, 'the in-process lock must not leak');
  });

  it('a caller who aborted while queued in-process never touches the server lock', async () => {
    const locals = new KeyedMutexes();
    const server = new ServerMutex();
    const holder = new LayeredMutex(locals.get('k'), server);
    await holder.acquire(true);
    const controller = new AbortController();
    const queued = acquireUnlessAborted(new LayeredMutex(locals.get('k'), server), controller.signal);
    await sleep(1);
    assert.equal(locals.waiting, 1);
    controller.abort(new Error('gave up'));
    await assert.rejects(queued, /gave up/);
    assert.equal(locals.waiting, 0, 'the aborted caller left the in-process queue');
    await holder.release();
    assert.equal(server.held, false);
    assert.equal(locals.isLocked('k'), false);
  });
});

describe('acquireUnlessAborted', () => {
  it('a lock granted after the caller aborted is released at once', async () => {
    let granted!: () => void;
    const server = new ServerMutex();
    server.grant = new Promise((resolve) => (granted = resolve));
    const controller = new AbortController();
    const waiting = acquireUnlessAborted(server, controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    granted();
    await sleep(1);
    assert.equal(server.held, false, 'nobody is left holding the late grant');
    assert.equal(server.releases, 1);
  });

  it('an already-aborted signal rejects without acquiring', async () => {
    const server = new ServerMutex();
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    assert.throws(() => acquireUnlessAborted(server, controller.signal), /too late/);
    assert.equal(server.held, false);
  });
});

describe('dogpileLock and the async creator', () => {
  it('an async creator that throws does not take the mutex: it is released and the error propagates (dogpile)', async () => {
    const server = new ServerMutex();
    await assert.rejects(
      dogpileLock({
        mutex: server,
        expirationTime: 10,
        now: () => 100,
        valueAndCreated: async () => ['stale', 50] as const,
        creator: async () => assert.fail('the runner creates'),
        asyncCreator: () => {
          throw new Error('runner failed');
        },
      }),
      /runner failed/,
    );
    assert.equal(server.held, false);
  });

  it('with handOffMissing, a missing value is handed off too and the result is undefined', async () => {
    const server = new ServerMutex();
    let handed: CacheMutex | undefined;
    const result = await dogpileLock<string>({
      mutex: server,
      expirationTime: 10,
      now: () => 100,
      valueAndCreated: async () => NEED_REGENERATION,
      creator: async () => assert.fail('handed off'),
      asyncCreator: (m) => {
        handed = m;
      },
      handOffMissing: true,
    });
    assert.equal(result, undefined);
    assert.equal(handed, server);
    assert.equal(server.held, true, 'the caller owns the mutex now');
  });

  it('onWait reports only a real wait', async () => {
    const locals = new KeyedMutexes();
    let waits = 0;
    const run = (): Promise<string> =>
      dogpileLock<string>({
        mutex: locals.get('k'),
        expirationTime: 10,
        now: () => 100,
        valueAndCreated: async () => NEED_REGENERATION,
        creator: async () => {
          await sleep(5);
          return ['v', 100] as const;
        },
        onWait: () => void waits++,
      });
    await run();
    assert.equal(waits, 0, 'an uncontended lock is no wait');
    await Promise.all([run(), run()]);
    assert.equal(waits, 1);
  });
});

describe('holdsLock', () => {
  it('is true inside runHoldingLocks for that owner and key, through awaits and nested runs, and false elsewhere', async () => {
    const owner = {};
    assert.equal(holdsLock(owner, 'k'), false);
    await runHoldingLocks(owner, ['k'], async () => {
      await sleep(1);
      assert.equal(holdsLock(owner, 'k'), true);
      assert.equal(holdsLock({}, 'k'), false);
      await runHoldingLocks(owner, ['j'], async () => {
        assert.equal(holdsLock(owner, 'k'), true, 'the outer creator still holds k');
        assert.equal(holdsLock(owner, 'j'), true);
      });
    });
    assert.equal(holdsLock(owner, 'k'), false);
  });
});
