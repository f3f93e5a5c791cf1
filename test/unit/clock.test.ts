// The coarse clock the hot paths read in place of systemClock (src/clock.ts): ordered with systemClock,
// refreshed by time and by readings, and never used for another clock (manual clocks stay exact).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, NO_VALUE, manualClock, systemClock } from '../../src/index.js';
import { COARSE_CLOCK_READINGS, coarseClock, coarseReadClock, hotClocks } from '../../src/clock.js';

describe('coarseClock and coarseReadClock', () => {
  it('never go back, and stay ordered with systemClock both ways', () => {
    let previousStamp = 0;
    let previousRead = 0;
    for (let i = 0; i < 10_000; i++) {
      const precise = systemClock();
      const stamp = coarseClock();
      assert.ok(stamp >= precise, 'a coarse reading is never below an earlier systemClock reading');
      assert.ok(stamp >= previousStamp, 'coarseClock never goes back');
      const read = coarseReadClock();
      assert.ok(read > stamp, 'a read is judged strictly after every reading handed out before it');
      assert.ok(read >= previousRead, 'coarseReadClock never goes back');
      assert.ok(systemClock() >= read, 'systemClock never goes below a coarse read reading');
      const stampBefore = coarseClock();
      assert.ok(systemClock() > stampBefore, 'systemClock is strictly after every coarseClock reading (an invalidate() after a set)');
      previousStamp = stamp;
      previousRead = read;
    }
  });

  it('serves one real reading at most COARSE_CLOCK_READINGS times, even in a run that never yields', () => {
    // Past every reading handed out so far (systemClock's 1 µs steps can run ahead of the real time).
    const handedOut = Math.max(systemClock(), coarseClock());
    while (performance.timeOrigin + performance.now() < handedOut + 3);
    const realNow = performance.timeOrigin + performance.now();
    let latest = 0;
    for (let i = 0; i <= COARSE_CLOCK_READINGS; i++) latest = coarseClock();
    assert.ok(
      latest >= realNow,
      `after ${COARSE_CLOCK_READINGS} readings the clock has caught up with the real time (${realNow - latest} ms behind)`,
    );
  });

  it('drops its reading once the event loop turns after a millisecond (a timer)', async () => {
    coarseClock();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const realNow = performance.timeOrigin + performance.now();
    assert.ok(coarseClock() >= realNow, 'the reading after the event loop turned is new');
  });

  it('hotClocks: the coarse pair for systemClock only; any other clock is read as it is', () => {
    assert.deepEqual(hotClocks(systemClock), { stamp: coarseClock, read: coarseReadClock });
    const clock = manualClock();
    assert.deepEqual(hotClocks(clock), { stamp: clock, read: clock });
  });
});

describe('a region on the system clock (coarse hot paths)', () => {
  it('a value set before invalidate() in the same millisecond is invalidated; one set after is not', async () => {
    for (const backend of [undefined, { expirationTime: 3600 }]) {
      const region = new CacheRegion().configure(new DictionaryBackend(backend ?? {}), { expirationTime: 3600 });
      for (let i = 0; i < 200; i++) {
        await region.set('before', i);
        region.invalidate();
        await region.set('after', i);
        assert.equal(await region.get('before'), NO_VALUE, `round ${i}: set before invalidate() is a miss`);
        assert.equal(await region.getOrCreate('before', () => 'created'), 'created');
        assert.equal(await region.get('after'), i, `round ${i}: set after invalidate() is a hit`);
      }
    }
  });

  it('expiration 0 is always stale, even read in the millisecond the value was made (dogpile)', async () => {
    const region = new CacheRegion().configure('dogpile.cache.memory', { expirationTime: 0 });
    let created = 0;
    for (let i = 0; i < 100; i++) {
      await region.set('k', i);
      assert.equal(await region.get('k'), NO_VALUE);
      await region.getOrCreate('goc', () => ++created);
    }
    assert.equal(created, 100, 'get-or-create created on every call');
  });

  it('a value with a 10 ms expiration is a miss once 10 ms have passed', async () => {
    const region = new CacheRegion().configure(new DictionaryBackend({ expirationTime: 0.01 }), { expirationTime: 0.01 });
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'v');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
  });
});

describe('a region on a manual clock stays exact (no coarse reading)', () => {
  it('fresh at exactly the expiration time, stale 1 µs past it, with no millisecond of slack', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure(new DictionaryBackend({ clock }), { expirationTime: 10 });
    await region.set('k', 'v');
    clock.advance(10_000);
    assert.equal(await region.get('k'), 'v', 'age == expiration is still fresh (dogpile compares with >)');
    assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
    clock.advance(0.001);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
  });

  it('the backend expiry too: an entry set at t with a 500 ms TTL is gone at exactly t + 500 ms', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 0.5, clock });
    const region = new CacheRegion({ clock }).configure(backend);
    await region.set('k', 'v');
    clock.advance(499.999);
    assert.equal(await region.get('k'), 'v');
    clock.advance(0.001);
    assert.equal(await region.get('k'), NO_VALUE);
  });
});
