// The store-judged hit on a local tier's copies (src/tier/local-tier.ts LocalTier.#fresh, declared through
// LocalCopies.freshFor in src/storage.ts) and the invalidation time a SharedInvalidationStrategy keeps for it
// (src/invalidation.ts validSince). Each test holds for the general read too; what it guards is that the
// shortcut decides exactly as that read does: the copy's local TTL (by the tier's clock, which the region
// shares or not), the region's expiration, an invalidation made here or read from another process, the
// bound on creation times ahead of now, entries with a TTL or tags of their own, a strategy that overrides
// isInvalidated, and the settled promise a hit returns (dropped when the copy changes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheRegion, DictionaryBackend, NO_VALUE, manualClock, type CacheBackend, type ManualClock } from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';
import { LocalTier, SharedInvalidationStrategy } from '../../src/tier/index.js';
import { CountingProxy } from '../support/tier.js';

interface Setup {
  region: CacheRegion;
  tier: LocalTier;
  counter: CountingProxy;
  backend: DictionaryBackend;
  clock: ManualClock;
  strategy: SharedInvalidationStrategy | null;
}

/**
 * A region over a Dictionary behind a local tier (the outermost backend) and a counter of the calls that
 * pass the tier; one clock for all unless `tierClock` is given. With `shared`, a SharedInvalidationStrategy
 * (its own clock the same) is the region's strategy. One key already read, so later reads are local hits.
 */
async function setup(
  options: { shared?: boolean; tierClock?: ManualClock; ttl?: number; expirationTime?: number | null; backend?: DictionaryBackend } = {},
): Promise<Setup> {
  const clock = manualClock();
  const backend = options.backend ?? new DictionaryBackend();
  const tier = new LocalTier({ ttl: options.ttl ?? 60, clock: options.tierClock ?? clock, maxEntries: 100 });
  const counter = new CountingProxy();
  const strategy = options.shared ? new SharedInvalidationStrategy({ name: 'fresh', clock, interval: 0.01 }) : null;
  const region = new CacheRegion({ clock }).configure(backend, {
    expirationTime: options.expirationTime === undefined ? 3600 : options.expirationTime,
    wrap: strategy === null ? [tier, counter] : [tier, counter, strategy],
    ...(strategy === null ? {} : { regionInvalidator: strategy }),
  });
  await strategy?.ready();
  await region.set('warm', 0);
  assert.equal(await region.get('warm'), 0);
  assert.equal(await region.get('warm'), 0);
  return { region, tier, counter, backend, clock, strategy };
}

/** Reads `key` twice (the first read fetches a copy into the tier) and returns the backend reads the second one made. */
async function secondRead(s: Setup, key: string, expected: unknown): Promise<number> {
  assert.deepEqual(await s.region.get(key), expected);
  const before = s.counter.calls;
  assert.deepEqual(await s.region.get(key), expected);
  return s.counter.calls - before;
}

describe('the store-judged hit on a local tier copy', () => {
  for (const shared of [false, true]) {
    const strategyName = shared ? 'SharedInvalidationStrategy' : 'the default strategy';

    it(`${strategyName}: a local hit reads no backend and returns one settled promise while the copy is unchanged`, async () => {
      const s = await setup({ shared });
      await s.region.set('k', { n: 1 });
      assert.equal(await secondRead(s, 'k', { n: 1 }), 0, 'a local hit');
      const first = s.region.get('k');
      assert.equal(s.region.get('k'), first, 'the same settled promise');
      assert.equal(
        s.region.getOrCreate('k', () => 'created'),
        first,
        'get-or-create answers the same promise',
      );
      const hits = s.tier.stats().hits;
      await s.region.get('k');
      assert.equal(s.tier.stats().hits, hits + 1, 'counted as a local hit');
      await s.region.set('k', { n: 2 });
      assert.deepEqual(await s.region.get('k'), { n: 2 }, 'an overwrite is read at once');
    });

    it(`${strategyName}: region.invalidate() makes the copy a miss at once`, async () => {
      const s = await setup({ shared });
      await s.region.set('k', 'v');
      assert.equal(await secondRead(s, 'k', 'v'), 0);
      s.clock.advance(1);
      s.region.invalidate();
      assert.equal(await s.region.get('k'), NO_VALUE);
      assert.equal(await s.region.getOrCreate('k', () => 'created'), 'created');
    });

    it(`${strategyName}: the copy's local TTL is judged on the shortcut too (at its very end: expired)`, async () => {
      const s = await setup({ shared, ttl: 10 });
      await s.region.set('k', 'v');
      assert.equal(await secondRead(s, 'k', 'v'), 0);
      s.clock.advance(10_000 - 1);
      assert.equal(await secondRead(s, 'k', 'v'), 0, 'still a local hit 1 ms before the local TTL');
      s.clock.advance(1);
      const before = s.counter.calls;
      assert.equal(await s.region.get('k'), 'v');
      assert.equal(s.counter.calls, before + 1, 'past the local TTL: read from the backend again');
    });

    it(`${strategyName}: the region's expiration time is judged on the shortcut (one second past it: a miss)`, async () => {
      const s = await setup({ shared, expirationTime: 30, ttl: 3600 });
      await s.region.set('k', 'v');
      assert.equal(await secondRead(s, 'k', 'v'), 0);
      s.clock.advance(30_000);
      assert.equal(await s.region.get('k'), 'v', 'exactly at the expiration time: fresh (as the general read)');
      s.clock.advance(1_000);
      assert.equal(await s.region.get('k'), NO_VALUE);
    });

    it(`${strategyName}: entries with a TTL or tags of their own are judged by the general read`, async () => {
      const s = await setup({ shared, ttl: 3600 });
      await s.region.set('own', 'v', { expirationTime: 5 });
      assert.equal(await secondRead(s, 'own', 'v'), 0);
      s.clock.advance(6_000);
      assert.equal(await s.region.get('own'), NO_VALUE, 'its own TTL passed');
      await s.region.set('tagged', 'v', { tags: ['t'] });
      assert.equal(await s.region.get('tagged'), 'v');
      assert.equal(await s.region.get('tagged'), 'v');
      s.clock.advance(1);
      await s.region.invalidateTags(['t']);
      assert.equal(await s.region.get('tagged'), NO_VALUE, 'its tag invalidated');
    });

    it(`${strategyName}: a creation time more than a day ahead is no value, kept locally or not`, async () => {
      const s = await setup({ shared });
      // Written under the region's key by another writer (a process with a wrong clock, a corrupt entry).
      await s.backend.set('future', makeCachedValue('from the future', s.clock() + 2 * 86_400_000));
      assert.equal(await s.region.get('future'), NO_VALUE);
      assert.equal(await s.region.get('future'), NO_VALUE);
      assert.equal(await s.region.getOrCreate('future', () => 'created'), 'created');
    });
  }

  it('SharedInvalidationStrategy: an invalidation another process made, read by a poll, makes the copy a miss', async () => {
    const backend = new DictionaryBackend();
    const here = await setup({ shared: true, backend });
    const there = await setup({ shared: true, backend });
    await here.region.set('k', 'v');
    assert.equal(await secondRead(here, 'k', 'v'), 0);
    here.clock.advance(1_000);
    there.clock.advance(1_000);
    there.region.invalidate();
    await there.strategy?.flush();
    const polls = here.strategy?.polls ?? 0;
    while ((here.strategy?.polls ?? 0) < polls + 2) await sleep(5);
    assert.equal(await here.region.get('k'), NO_VALUE);
  });

  it('a subclass of SharedInvalidationStrategy that overrides isInvalidated decides, though never invalidated', async () => {
    class AllInvalid extends SharedInvalidationStrategy {
      override isInvalidated(): boolean {
        return true;
      }
      override wasHardInvalidated(): boolean {
        return true;
      }
    }
    const clock = manualClock();
    const tier = new LocalTier({ clock });
    const strategy = new AllInvalid({ name: 'all-invalid', clock });
    const region = new CacheRegion({ clock }).configure(new DictionaryBackend(), {
      expirationTime: 3600,
      wrap: [tier, strategy],
      regionInvalidator: strategy,
    });
    await strategy.ready();
    await region.set('k', 'v');
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'created'), 'created');
  });

  it("a tier with a clock of its own: the copy's local TTL follows the tier's clock, not the region's", async () => {
    const tierClock = manualClock();
    const s = await setup({ tierClock, ttl: 10 });
    await s.region.set('k', 'v');
    assert.equal(await secondRead(s, 'k', 'v'), 0);
    tierClock.advance(10_000); // the region's clock has not moved
    const before = s.counter.calls;
    assert.equal(await s.region.get('k'), 'v');
    assert.equal(s.counter.calls, before + 1, "past the tier's local TTL: read from the backend again");
  });

  it('a thenable payload is adopted on every local hit, never kept as its outcome', async () => {
    const s = await setup();
    let calls = 0;
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable payload is what this test stores
      then(resolve: (value: unknown) => void): void {
        calls++;
        resolve(`outcome ${calls}`);
      },
    };
    await s.region.set('t', thenable);
    assert.equal(await s.region.get('t'), 'outcome 1');
    assert.equal(await s.region.get('t'), 'outcome 2');
    assert.equal(await s.region.get('t'), 'outcome 3');
  });
});

describe('the Dictionary store-judged hit: the bound on creation times ahead of now', () => {
  it('a compact entry created more than a day ahead is no value, on the shortcut as on the general read', async () => {
    const clock = manualClock();
    const backend: CacheBackend = new DictionaryBackend({ clock });
    const region = new CacheRegion({ clock }).configure(backend, { expirationTime: 60 });
    await region.set('warm', 0);
    assert.equal(await region.get('warm'), 0);
    assert.equal(await region.get('warm'), 0);
    await backend.set('future', makeCachedValue('from the future', clock() + 2 * 86_400_000));
    assert.equal(await region.get('future'), NO_VALUE);
    assert.equal(await region.get('future'), NO_VALUE);
    assert.equal(await region.getOrCreate('future', () => 'created'), 'created');
  });
});
