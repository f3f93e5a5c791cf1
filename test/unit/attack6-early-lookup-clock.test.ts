// The early lookup of get/getOrCreate (a key the region does not mangle, no options: src/region.ts
// #freshInStore) read the clock for the store's judgement, and when the store could not vouch for the
// entry, the general path read it again: a miss, an entry with its own TTL or tags, and every call of a
// region whose strategy overrides isInvalidated (SharedInvalidationStrategy, any custom one; the store can
// never vouch there, yet the lookup still read the clock and the table) took two readings instead of one.
// A manual clock with tickMs moved twice per call, and those calls paid a second clock read and lookup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DefaultInvalidationStrategy,
  DictionaryBackend,
  manualClock,
  type RegionInvalidationStrategy,
} from '../../src/index.js';

/** The same rule as the default, as an override (the store cannot read its invalidation time). */
class SameRule extends DefaultInvalidationStrategy {
  override isInvalidated(createdAt: number): boolean {
    return super.isInvalidated(createdAt);
  }
}

/** A region over a Dictionary sharing its clock, one value read already (the creation-time bound learnt), and its clock readings. */
async function counted(
  strategy?: (clock: () => number) => RegionInvalidationStrategy,
): Promise<{ region: CacheRegion; readings: () => number }> {
  const base = manualClock(Date.UTC(2026, 0, 1), { tickMs: 1 });
  let count = 0;
  const clock = (): number => {
    count++;
    return base();
  };
  const region = new CacheRegion({ clock }).configure(new DictionaryBackend({ clock }), {
    expirationTime: 600,
    ...(strategy === undefined ? {} : { regionInvalidator: strategy(clock) }),
  });
  await region.set('warm', 0);
  assert.equal(await region.get('warm'), 0);
  return { region, readings: () => count };
}

describe('attack-6: get and getOrCreate read the clock once per call', () => {
  for (const read of ['get', 'getOrCreate'] as const) {
    const call = (region: CacheRegion, key: string): Promise<unknown> =>
      read === 'get' ? region.get(key) : region.getOrCreate(key, () => 'made');

    it(`${read}: a hit through a strategy that overrides isInvalidated`, async () => {
      const { region, readings } = await counted((clock) => new SameRule(clock));
      await region.set('k', 'v');
      const before = readings();
      assert.equal(await call(region, 'k'), 'v');
      assert.equal(readings() - before, 1);
    });

    it(`${read}: a hit on an entry with a TTL of its own (not judged by the store)`, async () => {
      const { region, readings } = await counted();
      await region.set('k', 'v', { expirationTime: 60 });
      const before = readings();
      assert.equal(await call(region, 'k'), 'v');
      assert.equal(readings() - before, 1);
    });
  }

  it('get: a miss', async () => {
    const { region, readings } = await counted();
    const before = readings();
    await region.get('absent');
    assert.equal(readings() - before, 1);
  });
});
