// The async context record behind ReentrantCreateError (src/lock.ts runHoldingLocks): it exists only while a
// creator runs. In a file of its own: the record is switched off when no creator in the process runs, and
// other test files leave creators running on purpose (a creator that never settles keeps it on).
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { CacheRegion, ReentrantCreateError } from '../../src/index.js';
import { holdsLock, runHoldingLocks } from '../../src/lock.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Counts calls of AsyncLocalStorage.prototype.disable (a spy, not a mock: switching the hooks off has no
 * other effect a test can see). Call `restore()` when done.
 */
function spyOnDisable(): { count(): number; restore(): void } {
  const disable = AsyncLocalStorage.prototype.disable;
  let calls = 0;
  AsyncLocalStorage.prototype.disable = function (this: AsyncLocalStorage<unknown>) {
    calls++;
    return disable.call(this);
  };
  return {
    count: () => calls,
    restore: () => {
      AsyncLocalStorage.prototype.disable = disable;
    },
  };
}

describe('the record of the locks a creator holds', () => {
  it('work a creator left running asks for the same key after the creator settled: an ordinary caller, not a re-entrant one', async () => {
    const region = new CacheRegion().configure('dictionary');
    // Another creator runs throughout, so the record stays switched on (see the next test).
    const otherGate = deferred();
    const other = region.getOrCreate('other', async () => {
      await otherGate.promise;
      return 'o';
    });
    const later = deferred();
    let detached: Promise<unknown> | undefined;
    assert.equal(
      await region.getOrCreate('k', () => {
        // Started by the creator, in its async context, but run after the creator has returned.
        detached = later.promise.then(() => region.getOrCreate('k', () => 'made by the detached work'));
        return 'made by the creator';
      }),
      'made by the creator',
    );
    await region.delete('k');
    later.resolve();
    assert.equal(await detached, 'made by the detached work');
    otherGate.resolve();
    assert.equal(await other, 'o');
  });

  it('the async context record is switched off once no creator runs (it keeps promise hooks on in the whole process before Node 24)', async () => {
    const disables = spyOnDisable();
    try {
      const region = new CacheRegion().configure('dictionary');
      assert.equal(await region.getOrCreate('a', () => 1), 1);
      assert.equal(disables.count(), 1, 'off after a lone creator');
      const gate = deferred();
      const first = region.getOrCreate('b', async () => {
        await gate.promise;
        return 2;
      });
      // A nested creator, and a second concurrent one that finishes first: still on while the first runs.
      const second = region.getOrCreate('c', () => region.getOrCreate('d', () => 3));
      assert.equal(await second, 3);
      assert.equal(disables.count(), 1, 'on while a creator still runs');
      gate.resolve();
      assert.equal(await first, 2);
      assert.equal(disables.count(), 2, 'off once the last one settled');
      await assert.rejects(
        region.getOrCreate('e', () => {
          throw new Error('creator failed');
        }),
        /creator failed/,
      );
      assert.equal(disables.count(), 3, 'off after a creator that threw');
      await assert.rejects(
        region.getOrCreate('self', () => region.getOrCreate('self', () => 1)),
        ReentrantCreateError,
      );
      assert.equal(disables.count(), 4, 'a re-entrant call is still detected, and the record switched off after it');
    } finally {
      disables.restore();
    }
  });

  it('a creator function that throws at once leaves no record behind', async () => {
    const disables = spyOnDisable();
    try {
      const owner = {};
      assert.throws(
        () =>
          runHoldingLocks(owner, ['k'], () => {
            throw new Error('thrown at once');
          }),
        /thrown at once/,
      );
      assert.equal(disables.count(), 1, 'switched off: no creator runs');
      assert.equal(holdsLock(owner, 'k'), false);
      assert.equal(await runHoldingLocks(owner, ['k'], async () => holdsLock(owner, 'k')), true, 'held inside a running creator');
      assert.equal(disables.count(), 2);
    } finally {
      disables.restore();
    }
  });
});
