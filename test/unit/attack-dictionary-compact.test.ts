// Adversarial tests of the Dictionary backend's compact entries (src/backends/dictionary.ts, `isCompact`,
// `EntryTable.read`/`lend`), written apart from the code's own tests. The contract (docs/backends/dictionary.md):
// a plain entry, metadata exactly `{ ct, v: 2 }`, is kept without its CachedValue, and a backend read returns
// a CachedValue *equal to the one set*; any other entry is kept and returned as set. So whatever compaction
// cannot rebuild (an enumerable property of the CachedValue itself, a class instance) must keep the entry
// whole. Symbol-keyed and non-enumerable properties are not looked at (documented: seeing them would cost
// every set 25 times what the check costs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CacheRegion, DictionaryBackend, NO_VALUE, manualClock, type CachedValue, type ManualClock } from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';
import { IN_PROCESS_STORE } from '../../src/storage.js';

const tag = Symbol('tag');

/** CachedValues a backend's caller may set whose extra parts compaction would drop. */
function almostPlain(): [string, CachedValue][] {
  class Entry {
    payload = { id: 'class' };
    metadata = { ct: 1_767_225_600.5, v: 2 };
  }
  return [
    ['an own property of the CachedValue', { payload: { id: 1 }, metadata: { ct: 1_767_225_600.5, v: 2 }, source: 'db' } as CachedValue],
    ['a CachedValue of a class', new Entry()],
  ];
}

describe('DictionaryBackend compact entries: what compaction cannot rebuild keeps the entry whole', () => {
  for (const [what, value] of almostPlain()) {
    it(`${what}: get, getSync, getMulti and the in-process read return the very CachedValue set (set or setMulti)`, async () => {
      const backend = new DictionaryBackend();
      await backend.set('k', value);
      assert.equal(backend.getSync('k'), value);
      assert.equal(await backend.get('k'), value);
      assert.deepEqual(await backend.getMulti(['k', 'k']), [value, value]);
      assert.equal(backend[IN_PROCESS_STORE]?.read('k', Number.NaN), value);
      // setMulti too. (The region's synchronous write is not asked: it only ever stores values it built.)
      await backend.setMulti({ m: value });
      assert.equal(backend.getSync('m'), value);
    });
  }

  it('a region value made by makeCachedValue is still kept compact (the contract for plain entries holds)', async () => {
    const backend = new DictionaryBackend();
    const value = makeCachedValue({ id: 9 }, 1_767_225_600_500);
    await backend.set('k', value);
    const got = backend.getSync('k') as CachedValue;
    assert.notEqual(got, value, 'rebuilt, so the entry was compact');
    assert.deepStrictEqual(got, value);
  });
});

describe('DictionaryBackend compact entries: edge payloads and creation times', () => {
  const payloads: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['0', 0],
    ['-0', -0],
    ['NaN', Number.NaN],
    ['""', ''],
    ['false', false],
    ['an ArrayBuffer', new ArrayBuffer(3)],
    ['a function', () => 1],
    ['a symbol', tag],
  ];
  for (const [what, payload] of payloads) {
    it(`payload ${what} round-trips through the region's hit path and the backend's reads`, async () => {
      const clock = manualClock();
      const backend = new DictionaryBackend({ clock, expirationTime: 10 });
      const region = new CacheRegion({ clock }).configure(backend, { expirationTime: 5 });
      await region.set('k', payload);
      assert.ok(Object.is(await region.get('k'), payload));
      assert.ok(Object.is(await region.getOrCreate('k', () => 'created'), payload));
      assert.ok(Object.is(((await backend.get('k')) as CachedValue).payload, payload));
      assert.ok(Object.is(await region.get('k'), payload), 'the entry kept whole serves the same payload');
    });
  }

  it('a ct of -0, a huge ct and a subnormal ct come back as set (Float64Array keeps every double)', async () => {
    const backend = new DictionaryBackend();
    for (const ct of [-0, 1.7976931348623157e308, 5e-324, 2 ** 53 + 2, 1_767_225_600.000001]) {
      await backend.set('k', { payload: 1, metadata: { ct, v: 2 } });
      const lent = backend[IN_PROCESS_STORE]?.read('k', Number.NaN) as CachedValue;
      assert.ok(Object.is(lent.metadata.ct, ct), `lent ct ${ct}`);
      assert.ok(Object.is((backend.getSync('k') as CachedValue).metadata.ct, ct), `read ct ${ct}`);
    }
  });
});

describe('DictionaryBackend compact entries: the lent value and the settled promises keep nothing the table let go of', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  /** Whether a payload a hit read, then `drop` removed from the table, can be collected. */
  async function collectable(
    args: Record<string, unknown>,
    drop: (region: CacheRegion, backend: DictionaryBackend, clock: ManualClock) => Promise<void>,
  ): Promise<boolean> {
    const clock = manualClock();
    const backend = new DictionaryBackend({ clock, ...args });
    const region = new CacheRegion({ clock }).configure(backend);
    // Made inside a function of its own, so that nothing of this test's frame holds the payload.
    const ref = await (async () => {
      const big = { rows: new Array(1000).fill(1) };
      await region.set('k', big);
      await region.set('other', { small: true });
      assert.equal(await region.get('k'), big, 'a hit through the lent value');
      // Hits the store judges itself keep a settled promise of the payload (EntryTable.fresh): it must go too.
      assert.equal(await region.get('k'), big, 'a hit through the settled promise');
      assert.equal(await region.getOrCreate('k', () => 'created'), big, 'a get-or-create hit through the settled promise');
      await drop(region, backend, clock);
      return new WeakRef(big);
    })();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      gc();
    }
    return ref.deref() === undefined;
  }

  const drops: [string, Record<string, unknown>, (region: CacheRegion, backend: DictionaryBackend, clock: ManualClock) => Promise<void>][] =
    [
      ['delete', {}, (region) => region.delete('k')],
      ['an overwrite', {}, (region) => region.set('k', { replaced: true })],
      ['clear()', {}, async (_region, backend) => backend.clear()],
      [
        'an eviction',
        { maxEntries: 2 },
        async (region) => {
          // The hit made k the most recently used: the second write evicts it.
          await region.set('third', 3);
          await region.set('fourth', 4);
          assert.equal(await region.get('k'), NO_VALUE);
        },
      ],
      [
        'an expiry found by a read',
        { expirationTime: 1 },
        async (region, _backend, clock) => {
          clock.advance(1000);
          assert.equal(await region.get('k'), NO_VALUE);
        },
      ],
    ];
  for (const [what, args, drop] of drops) {
    it(`a payload removed by ${what} after a hit can be collected`, async () => {
      assert.ok(await collectable(args, drop));
    });
  }
});

describe('DictionaryBackend compact entries: the lent value written back', () => {
  it('a lent CachedValue written under another key is copied, so the next hit, which refills it, leaves that entry alone', () => {
    const backend = new DictionaryBackend();
    const store = backend[IN_PROCESS_STORE];
    assert.ok(store !== undefined);
    store.write('a', makeCachedValue({ id: 'a' }, 1_767_225_600_000), Number.NaN);
    store.write('b', makeCachedValue({ id: 'b' }, 1_767_225_601_000), Number.NaN);
    const lent = store.read('a', Number.NaN) as CachedValue;
    store.write('copy', lent, Number.NaN);
    store.read('b', Number.NaN); // refills the lent value with b
    assert.deepEqual((backend.getSync('copy') as CachedValue).payload, { id: 'a' });
    assert.equal((backend.getSync('copy') as CachedValue).metadata.ct, 1_767_225_600);
  });
});
