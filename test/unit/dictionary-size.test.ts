import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, NO_VALUE, ValidationError, manualClock, type CachedValue } from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';

const sized = (text: string): CachedValue => makeCachedValue(text);
const byLength = (payload: unknown): number => (payload as string).length;
const payloadOf = (got: unknown): unknown => (got === NO_VALUE ? got : (got as CachedValue).payload);

// lru-cache's maxSize + sizeCalculation (issue 22 item 5), beside maxEntries.
describe('DictionaryBackend: maxSize and sizeCalculation', () => {
  it('evicts the least recently used entries until the total size fits', async () => {
    const backend = new DictionaryBackend({ maxSize: 10, sizeCalculation: byLength });
    await backend.set('a', sized('aaaa'));
    await backend.set('b', sized('bbbb'));
    assert.equal(backend.calculatedSize, 8);
    await backend.get('a'); // a is now the most recently used
    await backend.set('c', sized('cccccc')); // 14 > 10: b goes, then 10 fits
    assert.equal(await backend.get('b'), NO_VALUE);
    assert.equal(payloadOf(await backend.get('a')), 'aaaa');
    assert.equal(payloadOf(await backend.get('c')), 'cccccc');
    assert.equal(backend.calculatedSize, 10);
    assert.equal(backend.size, 2);
  });

  it('an overwrite replaces the old size; delete, deleteMulti and clear give sizes back', async () => {
    const backend = new DictionaryBackend({ max_size: 100, size_calculation: byLength });
    await backend.set('a', sized('aaaa'));
    await backend.set('a', sized('aa'));
    assert.equal(backend.calculatedSize, 2);
    await backend.setMulti(
      new Map([
        ['b', sized('bbb')],
        ['c', sized('c')],
      ]),
    );
    assert.equal(backend.calculatedSize, 6);
    await backend.delete('a');
    assert.equal(backend.calculatedSize, 4);
    await backend.deleteMulti(['b', 'absent']);
    assert.equal(backend.calculatedSize, 1);
    backend.clear();
    assert.equal(backend.calculatedSize, 0);
  });

  it("an entry bigger than maxSize is not stored, and the key's older entry goes too (never an outdated read)", async () => {
    const backend = new DictionaryBackend({ maxSize: 5, sizeCalculation: byLength });
    await backend.set('k', sized('old'));
    await backend.set('other', sized('xx'));
    await backend.set('k', sized('far too long'));
    assert.equal(await backend.get('k'), NO_VALUE);
    assert.equal(payloadOf(await backend.get('other')), 'xx');
    assert.equal(backend.calculatedSize, 2);
  });

  it('expired entries give their size back when swept or read', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, maxSize: 10, sizeCalculation: byLength, clock });
    await backend.set('a', sized('aaaa'));
    clock.advance(1000);
    assert.equal(await backend.get('a'), NO_VALUE);
    assert.equal(backend.calculatedSize, 0);
    await backend.set('b', sized('bbbb'));
    clock.advance(1000);
    await backend.set('c', sized('cccc')); // the set sweeps b from the front
    assert.equal(backend.size, 1);
    assert.equal(backend.calculatedSize, 4);
  });

  it("bounds a region too, through the region's synchronous path", async () => {
    const region = new CacheRegion().configure('dictionary', {
      arguments: { maxSize: 6, sizeCalculation: (p: unknown) => String(p).length },
    });
    await region.set('a', 'aaa');
    await region.set('b', 'bbb');
    assert.equal(await region.get('a'), 'aaa');
    await region.set('c', 'ccc'); // b is the least recently used
    assert.equal(await region.get('b'), NO_VALUE);
    assert.equal(await region.get('a'), 'aaa');
    assert.equal(await region.get('c'), 'ccc');
  });

  it('validates: maxSize needs sizeCalculation and the reverse, a positive integer size, no cache_dict', async () => {
    const names = (e: unknown, ...words: string[]): boolean => e instanceof ValidationError && words.every((w) => e.message.includes(w));
    assert.throws(
      () => new DictionaryBackend({ maxSize: 10 }),
      (e) => names(e, 'max_size', 'size_calculation'),
    );
    assert.throws(
      () => new DictionaryBackend({ sizeCalculation: byLength }),
      (e) => names(e, 'size_calculation', 'max_size'),
    );
    assert.throws(
      () => new DictionaryBackend({ maxSize: 0, sizeCalculation: byLength }),
      (e) => names(e, 'max_size'),
    );
    assert.throws(
      () => new DictionaryBackend({ maxSize: 1.5, sizeCalculation: byLength }),
      (e) => names(e, 'max_size'),
    );
    assert.throws(() => new DictionaryBackend({ maxSize: 10, sizeCalculation: 'length' }), ValidationError);
    assert.throws(
      () => new DictionaryBackend({ maxSize: 10, sizeCalculation: byLength, cacheDict: new Map() }),
      (e) => names(e, 'cache_dict', 'max_size'),
    );
    for (const bad of [0, -1, 1.5, Number.NaN, '3']) {
      const backend = new DictionaryBackend({ maxSize: 10, sizeCalculation: () => bad });
      await assert.rejects(backend.set('k', sized('v')), (e) => names(e, 'size_calculation', 'positive integer', '"k"'));
      assert.equal(backend.size, 0);
    }
  });
});

describe("DictionaryBackend: the region's synchronous path", () => {
  it('a TTL set skips the sweep only while nothing can have expired (entries still expire on time)', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, clock });
    for (const key of ['a', 'b', 'c']) {
      await backend.set(key, sized(key));
      clock.advance(1000);
    }
    clock.advance(7500); // a expired (10 s after its set), b and c are live
    await backend.set('d', sized('d'));
    assert.equal(backend.size, 3, "the set at a's expiry swept it");
    clock.advance(2000); // b and c expire too
    await backend.set('e', sized('e'));
    assert.equal(backend.size, 2, 'b and c expired and were swept');
    assert.equal(await backend.get('b'), NO_VALUE);
    assert.equal(payloadOf(await backend.get('e')), 'e');
  });

  it('a region writes a subclass that overrides set through that set (the sync path is not declared)', async () => {
    const calls: string[] = [];
    class Logged extends DictionaryBackend {
      override async set(key: string, value: CachedValue): Promise<void> {
        calls.push(`set ${key}`);
        return super.set(key, value);
      }
    }
    const region = new CacheRegion().configure(new Logged());
    await region.set('k', 1);
    assert.equal(await region.getOrCreate('k', () => 2), 1);
    assert.deepEqual(calls, ['set k']);
  });

  it('a region with its own clock and a backend with another each read their own', async () => {
    const regionClock = manualClock();
    const backendClock = manualClock();
    const region = new CacheRegion({ clock: regionClock }).configure('dictionary', {
      expirationTime: 100,
      arguments: { expirationTime: 10, clock: backendClock },
    });
    await region.set('k', 'v');
    regionClock.advance(50_000); // fresh for the region (100 s), and the backend's clock has not moved
    assert.equal(await region.get('k'), 'v');
    backendClock.advance(10_000); // the backend's TTL is over
    assert.equal(await region.get('k'), NO_VALUE);
  });
});

describe('DictionaryBackend: expiry kept with the value or derived from its creation time', () => {
  it('a value created before its set lives the full TTL from the set (the expiry is not its ct + TTL)', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, clock });
    await backend.set('k', makeCachedValue('old', clock() - 5000));
    clock.advance(9999);
    assert.equal(payloadOf(await backend.get('k')), 'old');
    clock.advance(1);
    assert.equal(await backend.get('k'), NO_VALUE);
  });

  it("a region sharing the backend's clock: entries expire exactly TTL after their set, and the sweep removes them", async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1), { tickMs: 0.001 });
    const backend = new DictionaryBackend({ expirationTime: 10, clock });
    const region = new CacheRegion({ clock }).configure(backend, { expirationTime: 100 });
    await region.set('a', 'A');
    clock.advance(9998);
    assert.equal(await region.get('a'), 'A');
    clock.advance(2);
    assert.equal(await region.get('a'), NO_VALUE);
    await region.set('b', 'B');
    clock.advance(10_000);
    await region.set('c', 'C'); // b expired: swept from the front
    assert.equal(backend.size, 1);
    assert.equal(await region.getOrCreate('b', () => 'B2'), 'B2');
  });
});
