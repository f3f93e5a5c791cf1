// A payload whose `then` getter throws (or a proxy whose `get` trap does), read through the store-judged hit of
// a Dictionary and of a local tier (FreshRead, src/storage.ts, which never throws) and through the region's
// general read (an option per call turns the shortcut off): each read rejects with the getter's error, the
// hit is counted once per read, and nothing is kept that answers a later read differently.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, manualClock } from '../../src/index.js';
import { isThenable } from '../../src/storage.js';
import { LocalTier } from '../../src/tier/index.js';

function trap(): object {
  const payload = { id: 1 };
  Object.defineProperty(payload, 'then', {
    get() {
      throw new Error('then getter: boom');
    },
  });
  return payload;
}

describe('a payload whose then getter throws', () => {
  it('isThenable counts it (and a throwing proxy) as a thenable, and never throws', () => {
    assert.equal(isThenable(trap()), true);
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    assert.equal(isThenable(proxy), true);
    // biome-ignore lint/suspicious/noThenProperty: a `then` that is not callable is what this line checks
    assert.equal(isThenable({ then: 1 }), false);
    assert.equal(isThenable({}), false);
    assert.equal(isThenable(null), false);
    assert.equal(isThenable(Promise.resolve(1)), true);
    // biome-ignore lint/suspicious/noThenProperty: a thenable function is what this line checks
    assert.equal(isThenable(Object.assign(() => 0, { then: () => 0 })), true);
  });

  const layouts: [string, () => CacheRegion][] = [
    ['a Dictionary', () => new CacheRegion({ clock: manualClock() }).configure(new DictionaryBackend(), { expirationTime: 3600 })],
    [
      'a local tier over a Dictionary',
      () => {
        const clock = manualClock();
        return new CacheRegion({ clock }).configure(new DictionaryBackend(), {
          expirationTime: 3600,
          wrap: [new LocalTier({ clock, ttl: 60, maxEntries: 10 })],
        });
      },
    ],
  ];
  for (const [name, make] of layouts) {
    it(`${name}: each read rejects with the getter's error and counts a hit, on the shortcut as on the general read`, async () => {
      const region = make();
      await region.set('k', trap());
      for (let i = 1; i <= 3; i++) {
        // The first read of a tier fetches the copy; the later ones are store-judged hits.
        await assert.rejects(region.get('k'), /then getter: boom/);
        assert.equal(region.stats().hits, i, `read ${i}`);
      }
      await assert.rejects(region.get('k', { expirationTime: 3600 }), /then getter: boom/);
      assert.equal(region.stats().hits, 4, 'the general read');
      await assert.rejects(
        region.getOrCreate('k', () => 'created'),
        /then getter: boom/,
      );
      await region.close();
    });
  }
});
