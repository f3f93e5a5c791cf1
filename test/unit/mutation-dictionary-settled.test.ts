// The settled promises of the Dictionary's store-judged hit (src/backends/dictionary.ts EntryTable.fresh):
// a hit on an unchanged entry returns the same already-fulfilled promise, so the hot path allocates
// nothing. What must never happen is a promise outliving its entry: an overwrite, a delete, an eviction,
// an expiry, a clear(), or a slot reused by another key must each be seen by the next hit, and two slots
// sharing a cell (SETTLED_CELLS apart) must each read their own value. A thenable payload keeps the
// behaviour every hit had before: it is adopted on each read, never kept as a promise of its outcome.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, NO_VALUE, manualClock, type ManualClock } from '../../src/index.js';

/** Cells of the table (SETTLED_CELLS in src/backends/dictionary.ts): slots this far apart share one. */
const CELLS = 4096;

/** A region over a Dictionary that shares its manual clock (the shortcut's condition), one hit already served. */
async function warmRegion(
  args: { maxEntries?: number; expirationTime?: number } = {},
): Promise<{ region: CacheRegion; backend: DictionaryBackend; clock: ManualClock }> {
  const clock = manualClock();
  const backend = new DictionaryBackend({ clock, ...args });
  const region = new CacheRegion({ clock, name: 'settled' }).configure(backend, { expirationTime: 60 });
  // The first hit goes the general way (it learns the bound on creation times); later ones take the shortcut.
  await region.set('warm', 0);
  assert.equal(await region.get('warm'), 0);
  return { region, backend, clock };
}

describe('the settled promise of a store-judged hit', () => {
  for (const read of ['get', 'getOrCreate'] as const) {
    const hit = (region: CacheRegion, key: string): Promise<unknown> =>
      read === 'get' ? region.get(key) : region.getOrCreate(key, () => 'created');

    it(`${read}: hits on an unchanged entry share one fulfilled promise, and count as hits each`, async () => {
      const { region } = await warmRegion();
      await region.set('k', { n: 1 });
      const first = hit(region, 'k');
      const second = hit(region, 'k');
      assert.equal(first, second, 'the same settled promise');
      assert.deepEqual(await first, { n: 1 });
      assert.equal(region.stats().hits, 3, 'the warm-up hit and these two');
    });

    it(`${read}: an overwrite, through the region or the backend, is read at once`, async () => {
      const { region, backend } = await warmRegion();
      await region.set('k', 'old');
      assert.equal(await hit(region, 'k'), 'old');
      await region.set('k', 'new');
      assert.equal(await hit(region, 'k'), 'new');
      const { makeCachedValue } = await import('../../src/backend.js');
      await backend.set('k', makeCachedValue('direct', Date.UTC(2026, 0, 1)));
      assert.equal(await hit(region, 'k'), 'direct');
    });

    it(`${read}: a deleted key whose slot another key reuses reads that key's value, never the old one`, async () => {
      const { region } = await warmRegion();
      await region.set('gone', 'old value');
      assert.equal(await hit(region, 'gone'), 'old value');
      await region.delete('gone');
      await region.set('other', 'other value'); // takes the freed slot
      assert.equal(await hit(region, 'other'), 'other value');
      assert.equal(await region.get('gone'), NO_VALUE);
    });

    it(`${read}: an evicted entry's slot, reused, reads the new key's value`, async () => {
      const { region } = await warmRegion({ maxEntries: 2 });
      await region.set('a', 'A');
      assert.equal(await hit(region, 'a'), 'A');
      assert.equal(await hit(region, 'warm'), 0); // a is now the least recently used
      await region.set('b', 'B'); // evicts a; b takes its slot
      assert.equal(await hit(region, 'b'), 'B');
      assert.equal(await region.get('a'), NO_VALUE);
    });

    it(`${read}: an entry past the store's TTL, swept and its slot reused, is not served`, async () => {
      const { region, clock } = await warmRegion({ expirationTime: 10 });
      await region.set('a', 'A');
      assert.equal(await hit(region, 'a'), 'A');
      clock.advance(11_000);
      await region.set('b', 'B'); // sweeps warm and a; b takes a freed slot
      assert.equal(await hit(region, 'b'), 'B');
      assert.equal(await region.get('a'), NO_VALUE);
      assert.equal(await region.get('warm'), NO_VALUE);
    });

    it(`${read}: clear() drops every promise`, async () => {
      const { region, backend } = await warmRegion();
      await region.set('a', 'A');
      assert.equal(await hit(region, 'a'), 'A');
      backend.clear();
      await region.set('b', 'B'); // the first slot of the emptied table
      assert.equal(await hit(region, 'b'), 'B');
      assert.equal(await region.get('a'), NO_VALUE);
    });
  }

  it('an entry the table keeps whole (read through the backend, or with a TTL of its own) is never served as a payload', async () => {
    // The store-judged hit serves compact entries only: a whole entry's slot holds the CachedValue, and its
    // creation-time cell may still hold the time it had while compact. A region with no expiration time and
    // one with one, so that neither the age check nor its absence can hide a CachedValue served as payload.
    for (const expirationTime of [null, 60]) {
      const clock = manualClock();
      const backend = new DictionaryBackend({ clock });
      const region = new CacheRegion({ clock }).configure(backend, { expirationTime });
      await region.set('warm', 0);
      assert.equal(await region.get('warm'), 0);
      await region.set('read whole', 'payload 1');
      assert.equal(await region.get('read whole'), 'payload 1');
      await backend.get('read whole'); // the backend's own read keeps the entry whole from now on
      assert.equal(await region.get('read whole'), 'payload 1', `expirationTime ${expirationTime}`);
      assert.equal(await region.getOrCreate('read whole', () => 'created'), 'payload 1', `expirationTime ${expirationTime}`);
      await region.set('own ttl', 'payload 2', { expirationTime: 30 });
      assert.equal(await region.get('own ttl'), 'payload 2', `expirationTime ${expirationTime}`);
      assert.equal(await region.getOrCreate('own ttl', () => 'created'), 'payload 2', `expirationTime ${expirationTime}`);
    }
  });

  it('two slots that share a cell each read their own value, in any order, after overwrites', async () => {
    const { region } = await warmRegion();
    // warm holds slot 0; key i holds slot i + 1, so key:0 and key:4096 are CELLS slots apart.
    for (let i = 0; i <= CELLS; i++) await region.set(`key:${i}`, i);
    const low = 'key:0';
    const high = `key:${CELLS}`;
    for (let round = 0; round < 3; round++) {
      assert.equal(await region.get(low), round === 0 ? 0 : `low ${round}`);
      assert.equal(await region.get(high), round === 0 ? CELLS : `high ${round}`);
      assert.equal(await region.get(low), round === 0 ? 0 : `low ${round}`);
      await region.set(low, `low ${round + 1}`);
      assert.equal(await region.get(high), round === 0 ? CELLS : `high ${round}`);
      await region.set(high, `high ${round + 1}`);
    }
  });

  it('a thenable payload is adopted on every hit, as before, and never kept as its outcome', async () => {
    const { region } = await warmRegion();
    let calls = 0;
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable payload is what this test stores
      then(resolve: (value: unknown) => void): void {
        calls++;
        resolve(`outcome ${calls}`);
      },
    };
    await region.set('t', thenable);
    assert.equal(await region.get('t'), 'outcome 1');
    assert.equal(await region.get('t'), 'outcome 2');
    assert.equal(await region.getOrCreate('t', () => 'created'), 'outcome 3');
  });

  it('the promise is fulfilled with the stored object itself, as every Dictionary hit is', async () => {
    const { region } = await warmRegion();
    const payload = { big: 'x'.repeat(10) };
    await region.set('p', payload);
    assert.equal(await region.get('p'), payload, 'the Dictionary hands out the object it holds, as before');
  });
});
