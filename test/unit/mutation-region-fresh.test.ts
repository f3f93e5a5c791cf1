// The region's fastest hit (src/storage.ts FreshRead, DictionaryBackend's EntryTable.fresh): the store
// judges a compact entry fresh by the region's own rules, with the invalidation time the region reads
// from its DefaultInvalidationStrategy (src/invalidation.ts validSince). Each test here holds for the
// general read too; what it guards is that the shortcut decides exactly as that read does: an LRU bound
// still sees the hit, an invalidation strategy that overrides isInvalidated still decides, and a direct
// strategy.invalidate() (not through the region) still counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DefaultInvalidationStrategy, DictionaryBackend, NO_VALUE, manualClock, type ManualClock } from '../../src/index.js';

/** A region over a Dictionary that shares its manual clock (the shortcut's condition), one hit already served. */
async function warmRegion(
  args: { maxEntries?: number; expirationTime?: number } = {},
  expirationTime: number | null = 60,
): Promise<{ region: CacheRegion; backend: DictionaryBackend; clock: ManualClock }> {
  const clock = manualClock();
  const backend = new DictionaryBackend({ clock, ...args });
  const region = new CacheRegion({ clock, name: 'fresh' }).configure(backend, { expirationTime });
  // The first hit goes the general way (it learns the bound on creation times); later ones take the shortcut.
  await region.set('warm', 0);
  assert.equal(await region.get('warm'), 0);
  return { region, backend, clock };
}

describe('the store-judged hit (FreshRead)', () => {
  for (const read of ['get', 'getOrCreate'] as const) {
    const hit = (region: CacheRegion, key: string): Promise<unknown> =>
      read === 'get' ? region.get(key) : region.getOrCreate(key, () => 'created');

    it(`${read}: a hit counts as a use for the LRU bound (the key read is not the one evicted)`, async () => {
      const { region, backend } = await warmRegion({ maxEntries: 3 });
      await region.set('a', 'A');
      await region.set('b', 'B');
      // LRU order now: warm, a, b. Reading a and warm leaves b the least recently used.
      assert.equal(await hit(region, 'a'), 'A');
      assert.equal(await hit(region, 'warm'), 0);
      await region.set('c', 'C');
      assert.equal(backend.getSync('b'), NO_VALUE, 'b, the least recently used, is evicted');
      assert.notEqual(backend.getSync('a'), NO_VALUE, 'a was read: kept');
      assert.notEqual(backend.getSync('warm'), NO_VALUE, 'warm was read: kept');
    });

    it(`${read}: a strategy that overrides isInvalidated decides, even one never invalidated`, async () => {
      const { region } = await warmRegion();
      // Everything hard-invalidated, as this strategy tells it (getOrCreate's lock asks wasHardInvalidated too).
      class AlwaysInvalid extends DefaultInvalidationStrategy {
        override isInvalidated(): boolean {
          return true;
        }
        override wasHardInvalidated(): boolean {
          return true;
        }
      }
      await region.set('k', 'v');
      region.regionInvalidator = new AlwaysInvalid();
      const answer = await hit(region, 'k');
      assert.equal(answer, read === 'get' ? NO_VALUE : 'created');
    });

    it(`${read}: a subclass that keeps the default isInvalidated is judged by its invalidation time`, async () => {
      const { region, clock } = await warmRegion();
      class Counting extends DefaultInvalidationStrategy {
        calls = 0;
        override invalidate(hard = true): void {
          this.calls++;
          super.invalidate(hard);
        }
      }
      const strategy = new Counting(clock);
      region.regionInvalidator = strategy;
      await region.set('k', 'v');
      assert.equal(await hit(region, 'k'), 'v');
      clock.advance(1000);
      region.invalidate();
      assert.equal(strategy.calls, 1);
      assert.equal(await hit(region, 'k'), read === 'get' ? NO_VALUE : 'created');
    });

    it(`${read}: strategy.invalidate() called directly, not through the region, still invalidates`, async () => {
      const { region, clock } = await warmRegion();
      await region.set('k', 'v');
      assert.equal(await hit(region, 'k'), 'v');
      clock.advance(1000);
      region.regionInvalidator.invalidate(true);
      assert.equal(await hit(region, 'k'), read === 'get' ? NO_VALUE : 'created');
      // A value created after the invalidation is fresh again.
      await region.set('k', 'again');
      assert.equal(await hit(region, 'k'), 'again');
    });

    it(`${read}: a value created exactly at the invalidation time is valid (dogpile: invalid when ct < invalidated)`, async () => {
      const { region } = await warmRegion();
      region.invalidate();
      // The manual clock has not moved: this value's ct equals the invalidation time.
      await region.set('k', 'v');
      assert.equal(await hit(region, 'k'), 'v');
    });

    it(`${read}: the store's own TTL ends a hit exactly at its expiry, as the general read does`, async () => {
      const { region, clock } = await warmRegion({ expirationTime: 5 }, null);
      await region.set('k', 'v');
      clock.advance(4999);
      assert.equal(await hit(region, 'k'), 'v');
      clock.advance(1);
      assert.equal(await hit(region, 'k'), read === 'get' ? NO_VALUE : 'created');
    });
  }

  // The shortcut looks a key up before validating it (a key that is not valid was never stored): every key
  // the general path rejects must still be rejected, including one whose entry the store does hold.
  for (const read of ['get', 'getOrCreate'] as const) {
    const call = (region: CacheRegion, key: unknown): Promise<unknown> =>
      read === 'get' ? region.get(key as string) : region.getOrCreate(key as string, () => 'created');

    it(`${read}: keys that are not valid are still rejected, before and after the store holds values`, async () => {
      const { region } = await warmRegion();
      for (const key of ['', 'lone \ud800 surrogate', 42, null, undefined, { toString: () => 'warm' }]) {
        await assert.rejects(call(region, key), { name: 'ValidationError' }, `key ${String(key)}`);
      }
    });

    it(`${read}: a key in the tag entries' prefix is rejected even when that tag entry exists`, async () => {
      const { region } = await warmRegion();
      await region.set('tagged', 'v', { tags: ['t'] });
      await region.invalidateTags(['t']);
      await assert.rejects(call(region, 'dogpile-cache:tag:t'), { name: 'ValidationError', message: /dogpile-cache:tag:/ });
      // Checked after: a backend read keeps the entry whole, which the shortcut would then not serve.
      assert.notEqual(region.backend.getSync?.('dogpile-cache:tag:t'), NO_VALUE, 'the region keeps the tag time under that key (premise)');
    });
  }

  // Per-call options on entries the store keeps compact (no getValueMetadata or backend read first: those keep
  // an entry whole, and the store then vouches for none of its hits).
  it('get: a per-call expirationTime or ignoreExpiration decides on the shortcut too, shorter and longer', async () => {
    const { region, clock } = await warmRegion({}, 10);
    await region.set('k', 'v');
    clock.advance(5000);
    assert.equal(await region.get('k', { expirationTime: 4 }), NO_VALUE, 'shorter: expired');
    assert.equal(await region.get('k'), 'v', "the region's 10 s: fresh");
    assert.equal(await region.get('k', { expirationTime: 5 }), 'v', 'exactly its age: fresh');
    clock.advance(6000);
    assert.equal(await region.get('k'), NO_VALUE, "11 s > the region's 10 s");
    assert.equal(await region.get('k', { expirationTime: 20 }), 'v', 'longer: fresh');
    assert.equal(await region.get('k', { expirationTime: -1 }), 'v', '-1: never expires');
    assert.equal(await region.get('k', { ignoreExpiration: true }), 'v');
    region.invalidate();
    assert.equal(await region.get('k', { expirationTime: 20 }), NO_VALUE, 'invalidated, whatever the expiration');
    assert.equal(await region.get('k', { ignoreExpiration: true }), 'v', 'ignoreExpiration ignores invalidation too');
  });

  it('getOrCreate: a per-call expirationTime decides on the shortcut too', async () => {
    const { region, clock } = await warmRegion({}, 10);
    await region.set('k', 'v');
    clock.advance(5000);
    assert.equal(await region.getOrCreate('k', () => 'created', { expirationTime: 20 }), 'v');
    assert.equal(await region.getOrCreate('k', () => 'shorter', { expirationTime: 4 }), 'shorter');
    clock.advance(11_000);
    assert.equal(await region.getOrCreate('k', () => 'region', {}), 'region', "empty options: the region's 10 s");
  });

  for (const expirationTime of [null, -1] as const) {
    it(`a region with expirationTime ${expirationTime} over a Dictionary without a TTL: hits, and an invalidation still counts`, async () => {
      const { region, clock } = await warmRegion({}, expirationTime);
      await region.set('k', 'v');
      clock.advance(86_400_000);
      assert.equal(await region.get('k'), 'v');
      assert.equal(await region.getOrCreate('k', () => 'created'), 'v');
      region.invalidate();
      assert.equal(await region.get('k'), NO_VALUE);
      assert.equal(await region.getOrCreate('k', () => 'created'), 'created');
    });
  }

  it('a region with a key mangler reads the mangled key, not the caller key, on the shortcut', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ clock });
    const region = new CacheRegion({ clock, keyMangler: (key) => `m:${key}` }).configure(backend, { expirationTime: 60 });
    await region.set('k', 'mangled');
    await backend.set('k', { payload: 'raw', metadata: { ct: clock() / 1000, v: 2 } });
    for (let i = 0; i < 2; i++) assert.equal(await region.get('k'), 'mangled');
    assert.equal(await region.getOrCreate('k', () => 'created'), 'mangled');
  });

  it('getOrCreate: a value with a creation time of 0 is no value (dogpile _has_value), though fresh by age', async () => {
    const clock = manualClock(0);
    const backend = new DictionaryBackend({ clock });
    const region = new CacheRegion({ clock, name: 'zero' }).configure(backend, { expirationTime: 60 });
    await region.set('warm', 1);
    await region.get('warm');
    await region.set('k', 'at zero');
    assert.equal(await region.get('k'), 'at zero', 'get serves it: only getOrCreate asks for a value');
    assert.equal(await region.getOrCreate('k', () => 'created'), 'created');
  });
});
