// Adversarial tests of the record behind ReentrantCreateError (src/lock.ts runHoldingLocks), which is switched off
// (`AsyncLocalStorage.disable()`) whenever no creator runs and marked not running once its creator settles. A
// call that would wait for itself must be refused in every case, each time the record was just switched back on
// (every test starts with no creator running), and an ordinary concurrent caller must never be refused. Run it
// on Node 20, 22 and 24 (their AsyncLocalStorage differs: async hooks before 24, AsyncContextFrame from 24):
// `<node> --import tsx --test test/unit/attack2-lock-context.test.ts`. A file of its own: the record is per process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheRegion, ReentrantCreateError } from '../../src/index.js';

/** Settles `p` within `ms`, or reports that it hung (a missed re-entrance is a deadlock). */
async function settleWithin(p: Promise<unknown>, ms = 2000): Promise<string> {
  const outcome = p.then(
    (v) => `ok ${String(v)}`,
    (e: unknown) => (e instanceof ReentrantCreateError ? 'reentrant' : `error ${String(e)}`),
  );
  return Promise.race([outcome, sleep(ms).then(() => 'hung')]);
}

const dict = (): CacheRegion => new CacheRegion().configure('dictionary');

describe('attack2: re-entrant creators are refused, concurrent callers never are', () => {
  for (let round = 0; round < 3; round++) {
    it(`two regions nested (round ${round}, the record switched on again each time)`, async () => {
      const r1 = dict();
      const r2 = dict();
      // R1's creator of k asks R2 for k (another lock: allowed), whose creator asks R1 for k (its own lock: refused).
      let innermost = '';
      const outer = r1.getOrCreate('k', async () => {
        const middle = await r2.getOrCreate('k', async () => {
          innermost = await settleWithin(r1.getOrCreate('k', () => 'cycle'));
          return 'r2';
        });
        return `r1(${middle})`;
      });
      assert.equal(await settleWithin(outer), 'ok r1(r2)');
      assert.equal(innermost, 'reentrant');
    });
  }

  it('memoized functions calling each other in a cycle are refused; without a cycle they are not', async () => {
    const region = dict();
    const memo = region.cacheOnArguments({ namespace: 'm' });
    let depth = 0;
    const f: (n: number) => Promise<number> = memo(async (n: number): Promise<number> => (n <= 0 ? 0 : 1 + (await g(n - 1))));
    const g: (n: number) => Promise<number> = memo(async (n: number): Promise<number> => {
      depth++;
      // g(1) asks for f(2) again: f(2) -> g(1) -> f(2) is a cycle.
      return n === 1 ? f(2) : n <= 0 ? 0 : 1 + (await f(n - 1));
    });
    assert.equal(await settleWithin(f(2)), 'reentrant');
    assert.ok(depth > 0);
    const h: (n: number) => Promise<number> = memo(async (n: number): Promise<number> => (n <= 0 ? 0 : 1 + (await h(n - 1))));
    assert.equal(await settleWithin(h(5)), 'ok 5');
  });

  it('getOrCreateMulti: its creator asking for one of its keys is refused, and getOrCreate asking through multi too', async () => {
    const region = dict();
    const viaMulti = region.getOrCreateMulti(['a', 'b'], async (...keys: string[]) => {
      await region.getOrCreate('b', () => 'b!');
      return keys;
    });
    assert.equal(await settleWithin(viaMulti), 'reentrant');
    const viaSingle = region.getOrCreate('c', async () => {
      const [x] = await region.getOrCreateMulti(['z', 'c'], (...keys: string[]) => keys);
      return x;
    });
    assert.equal(await settleWithin(viaSingle), 'reentrant');
  });

  it('concurrent callers of a key being created (from outside the creator) wait and get its value', async () => {
    const region = dict();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = region.getOrCreate('shared', async () => {
      await gate;
      return 'made';
    });
    await sleep(5);
    const others = Array.from({ length: 20 }, () => region.getOrCreate('shared', () => 'other'));
    // Started from timers and microtasks created outside any creator.
    const fromTimer = new Promise((resolve) => setTimeout(() => resolve(region.getOrCreate('shared', () => 'timer')), 1));
    await sleep(10);
    release();
    assert.deepEqual(await Promise.all([first, ...others, fromTimer]), Array(22).fill('made'));
  });

  it('background regeneration (asyncCreationRunner "background"): its creator asking for a missing key of its own is refused', async () => {
    let now = Date.UTC(2026, 0, 1);
    const region = new CacheRegion({ clock: () => now, asyncCreationRunner: 'background' }).configure('dictionary', { expirationTime: 1 });
    await region.set('bg', 'old');
    now += 5000;
    let inner = '';
    const done = new Promise<void>((resolve) => {
      void region.getOrCreate('bg', async () => {
        // The stale value was served to the caller; its key is removed while the background creator runs.
        await region.delete('bg');
        inner = await settleWithin(region.getOrCreate('bg', () => 'cycle'));
        resolve();
        return 'new';
      });
    });
    await settleWithin(done, 4000);
    assert.equal(inner, 'reentrant');
  });
  it('a runner of your own (asyncCreationRunner function): its creator asking for a missing key of its own is refused', async () => {
    let now = Date.UTC(2026, 0, 1);
    const region = new CacheRegion({
      clock: () => now,
      asyncCreationRunner: async (r, key, creator, mutex) => {
        try {
          await r.set(key, await creator());
        } finally {
          await mutex.release();
        }
      },
    }).configure('dictionary', { expirationTime: 1 });
    await region.set('own', 'old');
    now += 5000;
    let inner = '';
    const done = new Promise<void>((resolve) => {
      void region.getOrCreate('own', async () => {
        // The runner holds the key's lock; with the entry gone, asking for it again would wait for ourselves.
        await region.delete('own');
        inner = await settleWithin(region.getOrCreate('own', () => 'cycle'));
        resolve();
        return 'new';
      });
    });
    await settleWithin(done, 4000);
    assert.equal(inner, 'reentrant');
  });

  it('a creator timed out (creatorTimeout) or abandoned (signal) while still running: outside callers are not refused', async () => {
    const region = dict();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = async (): Promise<string> => {
      await gate;
      return 'slow';
    };
    const timedOut = region.getOrCreate('t', slow, { creatorTimeout: 0.02 });
    assert.match(await settleWithin(timedOut), /CreatorTimeoutError/);
    const ac = new AbortController();
    const aborted = region.getOrCreate('s', slow, { signal: ac.signal });
    await sleep(5);
    ac.abort();
    assert.match(await settleWithin(aborted), /AbortError/);
    // Both creators still run (their records too); callers from outside run creators of their own.
    assert.equal(await settleWithin(region.getOrCreate('t', () => 'next')), 'ok next');
    assert.equal(await settleWithin(region.getOrCreate('s', () => 'next')), 'ok next');
    release();
  });

  it('a creator that never settles keeps its record: its late request for its own key is refused', async () => {
    const region = dict();
    let later: Promise<string> | undefined;
    void region.getOrCreate('never', () => {
      // A timer set by the creator runs in its async context, after other creators came and went.
      setTimeout(() => {
        later = settleWithin(region.getOrCreate('never', () => 'again'));
      }, 30);
      return new Promise<never>(() => undefined);
    });
    // Meanwhile another creator starts and settles.
    assert.equal(await settleWithin(region.getOrCreate('meanwhile', () => 'm')), 'ok m');
    await sleep(60);
    assert.equal(await later, 'reentrant');
    // Other callers of the same key from outside wait (they are not refused).
    assert.equal(
      await settleWithin(
        region.getOrCreate('never', () => 'x'),
        200,
      ),
      'hung',
    );
  });
});
