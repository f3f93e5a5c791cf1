// The region's early lookup with a key mangler that declares the keys it keeps (src/keys.ts KEEPS_KEY;
// the memcached backend's mangler declares its plain keys): such a key is looked up as it is before it is
// validated and mangled, as for a region without a mangler. What this guards: every other key still goes
// through the mangler (a key shaped like another key's hashed form must not read that entry), and keys the
// region refuses are still refused on a hit path that skipped their validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, NO_VALUE, ValidationError, manualClock, sha1MangleKey } from '../../src/index.js';
import { memcachedKeyMangler } from '../../src/backends/memcached/keys.js';
import { KEEPS_KEY, type MayKeepKeys } from '../../src/keys.js';

/** A region with the memcached mangler over a Dictionary on its clock (the store-judged hit), warmed. */
async function manglingRegion(): Promise<{ region: CacheRegion; backend: DictionaryBackend }> {
  const clock = manualClock();
  const backend = new DictionaryBackend({ clock });
  const region = new CacheRegion({ clock, keyMangler: memcachedKeyMangler }).configure(backend, { expirationTime: 60 });
  await region.set('warm', 0);
  assert.equal(await region.get('warm'), 0);
  return { region, backend };
}

describe("the early lookup of a key the region's mangler keeps", () => {
  it('the memcached mangler declares exactly the keys it returns unchanged', () => {
    const keeps = (memcachedKeyMangler as MayKeepKeys)[KEEPS_KEY];
    assert.equal(typeof keeps, 'function');
    const keys = [
      'plain',
      'user:42',
      'a b',
      '_lockX',
      'sha1:abc',
      's',
      '_',
      '',
      'x'.repeat(83),
      'x'.repeat(84),
      'tab\there',
      'del\x7f',
      'é',
      '\ud800',
    ];
    for (const key of keys) {
      if ((keeps as (key: string) => boolean)(key)) assert.equal(memcachedKeyMangler(key), key, `declared kept: ${JSON.stringify(key)}`);
    }
    assert.equal((keeps as (key: string) => boolean)('plain'), true, 'plain keys are declared');
  });

  for (const read of ['get', 'getOrCreate'] as const) {
    const hit = (region: CacheRegion, key: string): Promise<unknown> =>
      read === 'get' ? region.get(key) : region.getOrCreate(key, () => 'created');

    it(`${read}: a key shaped like another key's hashed form reads its own entry, not that one`, async () => {
      const { region } = await manglingRegion();
      // "_lockX" is in the memcached backend's reserved prefix: stored under "sha1:" + its SHA-1.
      await region.set('_lockX', 'lock-shaped key');
      assert.equal(await hit(region, '_lockX'), 'lock-shaped key');
      const hashedForm = `sha1:${sha1MangleKey('_lockX')}`;
      assert.equal(memcachedKeyMangler('_lockX'), hashedForm);
      // That string as a key of its own is hashed again, so it names another (absent) entry.
      assert.equal(await hit(region, hashedForm), read === 'get' ? NO_VALUE : 'created');
      // A key with a space, hashed by the mangler, read back through it.
      await region.set('a b', 'spaced');
      assert.equal(await hit(region, 'a b'), 'spaced');
    });

    it(`${read}: a key with a lone surrogate or in the tag prefix is refused, though the mangler keeps it`, async () => {
      const { region } = await manglingRegion();
      const keeps = (memcachedKeyMangler as MayKeepKeys)[KEEPS_KEY] as (key: string) => boolean;
      assert.equal(keeps('lone\ud800'), true, 'the scan keeps it: only validation refuses it');
      await assert.rejects(hit(region, 'lone\ud800'), ValidationError);
      assert.equal(keeps('dogpile-cache:tag:t'), true);
      await assert.rejects(hit(region, 'dogpile-cache:tag:t'), ValidationError);
      await assert.rejects(hit(region, ''), ValidationError);
    });
  }

  it('a mangler that declares nothing is called on every read, hit or miss', async () => {
    const clock = manualClock();
    let calls = 0;
    const counting = (key: string): string => {
      calls++;
      return `k:${key}`;
    };
    const region = new CacheRegion({ clock, keyMangler: counting }).configure(new DictionaryBackend({ clock }), { expirationTime: 60 });
    await region.set('a', 'A');
    calls = 0;
    assert.equal(await region.get('a'), 'A');
    assert.equal(await region.get('a'), 'A');
    assert.equal(await region.get('b'), NO_VALUE);
    assert.equal(calls, 3);
  });
});
