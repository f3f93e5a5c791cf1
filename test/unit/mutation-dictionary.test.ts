// The Dictionary backend's documented contract (docs/backends/dictionary.md): TTL, LRU order on reads and
// overwrites, the bounds, the multi-operations and validation. Written for issue 23 item 1, to kill the
// mutants that survived src/backends/dictionary.ts; each test states behaviour any correct implementation has.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DictionaryBackend,
  MemoryBackend,
  NO_VALUE,
  ValidationError,
  manualClock,
  type CachedValue,
} from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';
import { IN_PROCESS_STORE } from '../../src/storage.js';

const entry = (payload: unknown): CachedValue => makeCachedValue(payload);
const payloadOf = (got: unknown): unknown => (got === NO_VALUE ? got : (got as CachedValue).payload);
/** The keys that still hold a value, read with getSync (a read moves an entry under an LRU bound: read last). */
const present = (backend: DictionaryBackend, keys: string[]): string[] => keys.filter((key) => backend.getSync(key) !== NO_VALUE);
const invalid =
  (...words: string[]) =>
  (error: unknown): boolean =>
    error instanceof ValidationError && words.every((word) => error.message.includes(word));

describe('DictionaryBackend: reads', () => {
  it('getSync: the stored payload in a CachedValue equal to the one set, kept from the first read on, NO_VALUE on a miss, and a miss from the instant the entry expires', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 2, clock });
    const value = entry({ a: 1 });
    assert.equal(backend.getSync('k'), NO_VALUE);
    void backend.set('k', value);
    clock.advance(1999);
    const got = backend.getSync('k') as CachedValue;
    assert.equal(got.payload, value.payload, 'the payload is kept by reference');
    assert.deepEqual(got.metadata, value.metadata);
    // The plain entry was kept compact (no CachedValue); the first read built one, which the table keeps.
    assert.notEqual(got, value);
    assert.equal(backend.getSync('k'), got);
    assert.equal(await backend.get('k'), got);
    clock.advance(1);
    assert.equal(backend.getSync('k'), NO_VALUE);
    assert.equal(backend.size, 0, 'the expired entry was removed by the read');
  });

  it('entries with more than a plain { ct, v } are kept whole: the very CachedValue comes back', async () => {
    const backend = new DictionaryBackend();
    const withTtl = makeCachedValue('t', Date.now(), 60);
    const withTags = makeCachedValue('g', Date.now(), null, ['a']);
    const foreign = { payload: 'f', metadata: { ct: 1, v: 1 } };
    const extra = { payload: 'x', metadata: { ct: 1, v: 2, source: 'python' } };
    // { ct, v: 2 } and nothing else, but not a plain object: a copy would lose its prototype.
    const bare = { payload: 'n', metadata: Object.assign(Object.create(null) as { ct: number; v: number }, { ct: 1, v: 2 }) };
    class Metadata {
      constructor(
        readonly ct: number,
        readonly v: number,
      ) {}
    }
    const instance = { payload: 'i', metadata: new Metadata(1, 2) };
    const all = { withTtl, withTags, foreign, extra, bare, instance };
    for (const [k, v] of Object.entries(all)) await backend.set(k, v);
    for (const [k, v] of Object.entries(all)) assert.equal(await backend.get(k), v, k);
  });

  it('a payload of bytes (a region with a serializer) is kept whole, so getSerialized returns the very bytes stored', async () => {
    const backend = new DictionaryBackend();
    const bytes = Buffer.from('{"ct": 1767225600.5, "v": 2}|payload');
    await backend.setSerialized('k', bytes);
    assert.equal(await backend.getSerialized('k'), bytes);
    assert.equal((await backend.getSerializedMulti(['k']))[0], bytes);
  });

  it('the lent CachedValue of the in-process store is refilled by the next read; get builds one it keeps, which the store then serves', async () => {
    const backend = new DictionaryBackend();
    const store = backend[IN_PROCESS_STORE];
    assert.ok(store !== undefined);
    await backend.set('a', makeCachedValue('A', 1000));
    await backend.set('b', makeCachedValue('B', 2000));
    const first = store.read('a', Number.NaN) as CachedValue;
    assert.deepEqual(first, { payload: 'A', metadata: { ct: 1, v: 2 } });
    const second = store.read('b', Number.NaN) as CachedValue;
    assert.equal(second, first, 'one lent object');
    assert.deepEqual(first, { payload: 'B', metadata: { ct: 2, v: 2 } });
    const kept = await backend.get('a');
    assert.deepEqual(kept, { payload: 'A', metadata: { ct: 1, v: 2 } });
    assert.equal(await backend.get('a'), kept);
    assert.equal(store.read('a', Number.NaN), kept, 'kept whole: the store serves that object, no longer the lent one');
    assert.deepEqual(first, { payload: 'B', metadata: { ct: 2, v: 2 } }, 'and the lent one was not refilled');
  });

  it('getMulti: one result per key in order, hits, misses and expired entries (removed) alike', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.set('old', entry('o'));
    clock.advance(600);
    await backend.set('new', entry('n'));
    clock.advance(400);
    assert.deepEqual((await backend.getMulti(['new', 'absent', 'old', 'new'])).map(payloadOf), ['n', NO_VALUE, NO_VALUE, 'n']);
    assert.equal(backend.size, 1);
    assert.deepEqual(await backend.getMulti([]), []);
  });

  it('reads validate the key: get, getSync and getMulti refuse what is not a non-empty string', async () => {
    const backend = new DictionaryBackend();
    await assert.rejects(backend.get(''), invalid('key must be a non-empty string'));
    await assert.rejects(backend.get(5 as never), invalid('key must be a string'));
    assert.throws(() => backend.getSync(''), invalid('key must be a non-empty string'));
    assert.throws(() => backend.getSync(null as never), invalid('key must be a string'));
    await assert.rejects(backend.getMulti('k' as never), invalid('keys must be an array'));
    await assert.rejects(backend.getMulti(['k', '']), ValidationError);
  });
});

describe('DictionaryBackend: writes and deletes', () => {
  it('set validates the key and the value, and stores nothing when either is wrong', async () => {
    const backend = new DictionaryBackend();
    await assert.rejects(backend.set('', entry(1)), invalid('key'));
    await assert.rejects(backend.set('k', { payload: 1 } as never), invalid('value must be a CachedValue', 'makeCachedValue'));
    await assert.rejects(backend.set('k', 'raw' as never), invalid('value must be a CachedValue'));
    assert.equal(backend.size, 0);
  });

  it('setMulti takes a Map or a plain object, and checks every key and value before writing any', async () => {
    const backend = new DictionaryBackend();
    await backend.setMulti(
      new Map([
        ['a', entry('A')],
        ['b', entry('B')],
      ]),
    );
    await backend.setMulti({ c: entry('C') });
    assert.deepEqual((await backend.getMulti(['a', 'b', 'c'])).map(payloadOf), ['A', 'B', 'C']);
    await assert.rejects(
      backend.setMulti(
        new Map([
          ['d', entry('D')],
          ['e', 'raw' as never],
        ]),
      ),
      invalid('mapping["e"] must be a CachedValue'),
    );
    await assert.rejects(
      backend.setMulti(
        new Map([
          ['d', entry('D')],
          ['', entry('E')],
        ]),
      ),
      invalid('a key of mapping'),
    );
    await assert.rejects(backend.setMulti([['d', entry('D')]] as never), invalid('mapping must be a Map or a plain object'));
    assert.deepEqual(present(backend, ['a', 'b', 'c', 'd', 'e']), ['a', 'b', 'c'], 'the refused calls wrote nothing');
  });

  it('delete and deleteMulti remove only the keys given, accept absent keys and validate keys', async () => {
    const backend = new DictionaryBackend();
    await backend.setMulti({ a: entry(1), b: entry(2), c: entry(3), d: entry(4) });
    await backend.delete('a');
    await backend.delete('absent');
    await backend.deleteMulti(['c', 'absent']);
    assert.deepEqual(present(backend, ['a', 'b', 'c', 'd']), ['b', 'd']);
    await assert.rejects(backend.delete(''), invalid('key'));
    await assert.rejects(backend.deleteMulti('b' as never), invalid('keys must be an array'));
    await assert.rejects(backend.deleteMulti(['b', 7 as never]), ValidationError);
    assert.deepEqual(present(backend, ['b', 'd']), ['b', 'd'], 'a refused deleteMulti deleted nothing');
  });

  it('clear() empties the map and close() empties a map the backend owns; both keep the backend usable', async () => {
    const backend = new DictionaryBackend({ maxEntries: 2 });
    await backend.setMulti({ a: entry(1), b: entry(2) });
    backend.clear();
    assert.equal(backend.size, 0);
    assert.equal(await backend.get('a'), NO_VALUE);
    await backend.set('c', entry(3));
    await backend.set('d', entry(4));
    await backend.set('e', entry(5)); // c is the least recently used after the clear
    assert.deepEqual(present(backend, ['c', 'd', 'e']), ['d', 'e']);
    await backend.close();
    assert.equal(backend.size, 0);
    assert.equal(backend.calculatedSize, 0, 'no size is kept without maxSize');
  });
});

describe('DictionaryBackend: expiry order and the sweep on set', () => {
  it('size counts expired entries until a read or a set removes them', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.setMulti({ a: entry(1), b: entry(2) });
    clock.advance(5000);
    assert.equal(backend.size, 2, 'expired, not yet removed');
    await backend.set('c', entry(3));
    assert.equal(backend.size, 1, 'the set removed both from the oldest end');
  });

  it('an overwrite moves the key to the newest end, so the sweep still reaches the entries behind it', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.set('a', entry('a1'));
    clock.advance(100);
    await backend.set('b', entry('b'));
    clock.advance(100);
    await backend.set('a', entry('a2')); // a now expires at 1200, after b (1100)
    clock.advance(950); // 1150: b expired, a live
    await backend.set('c', entry('c'));
    assert.equal(backend.size, 2, 'b was swept: it no longer sat behind a live entry');
    assert.deepEqual(present(backend, ['a', 'b', 'c']), ['a', 'c']);
  });

  it('without a bound, reads do not reorder: a read entry is still swept when it expires', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.set('a', entry('a'));
    clock.advance(500);
    await backend.set('b', entry('b'));
    clock.advance(100);
    assert.equal(payloadOf(await backend.get('a')), 'a');
    clock.advance(450); // 1050: a expired, b live
    await backend.set('c', entry('c'));
    assert.equal(backend.size, 2, 'a, the oldest write, was swept');
  });

  it('a set at the very instant the oldest entry expires removes it', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, clock });
    await backend.set('a', entry('a'));
    clock.advance(4000);
    await backend.set('b', entry('b'));
    clock.advance(6000); // a's expiry, exactly
    await backend.set('c', entry('c'));
    assert.equal(backend.size, 2, 'a was swept');
  });

  it('without a bound, a read does not move an entry: it is swept in the order it was written', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.set('x', entry('x')); // expires at 1000
    clock.advance(100);
    await backend.set('a', entry('a')); // 1100
    clock.advance(500);
    await backend.set('b', entry('b')); // 1600
    clock.advance(100);
    assert.equal(payloadOf(await backend.get('a')), 'a');
    clock.set(clock() + 450); // 1150: x and a expired, b live
    await backend.set('c', entry('c'));
    assert.equal(backend.size, 2, 'x and a swept, b and c left');
    assert.deepEqual(present(backend, ['b', 'c']), ['b', 'c']);
  });

  it('each set sweeps again once more entries have expired, after reads, deletes and overwrites of the front', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, clock });
    for (const key of ['a', 'b', 'c', 'd']) {
      await backend.set(key, entry(key));
      clock.advance(1000);
    }
    // t = 4000; expiries: a 10000, b 11000, c 12000, d 13000.
    await backend.delete('a');
    await backend.set('b', entry('b2')); // b moves to the back: 14000
    clock.set(clock() + 8500); // 12500: c expired
    await backend.set('e', entry('e')); // e: 22500
    assert.deepEqual(present(backend, ['a', 'b', 'c', 'd', 'e']), ['b', 'd', 'e']);
    assert.equal(backend.size, 3);
    clock.advance(1000); // 13500: d expired
    await backend.set('f', entry('f'));
    assert.equal(backend.size, 3, 'd swept');
    clock.advance(9000); // 22500: b and e expired
    await backend.set('g', entry('g'));
    assert.equal(backend.size, 2, 'b and e swept, f and g live');
    assert.deepEqual(present(backend, ['f', 'g']), ['f', 'g']);
  });

  it('a sweep after everything was deleted or cleared still finds the entries written since', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, clock });
    await backend.set('a', entry('a'));
    await backend.delete('a');
    clock.advance(2000);
    await backend.set('b', entry('b'));
    clock.advance(2000);
    await backend.set('c', entry('c'));
    assert.equal(backend.size, 1, 'b swept');
    backend.clear();
    await backend.set('d', entry('d'));
    clock.advance(2000);
    await backend.set('e', entry('e'));
    assert.equal(backend.size, 1, 'd swept');
  });
});

describe('DictionaryBackend: the maxEntries bound', () => {
  it('evicts in least-recently-used order across deletes, reads (get, getSync, getMulti) and overwrites', async () => {
    const backend = new DictionaryBackend({ maxEntries: 3 });
    await backend.setMulti({ a: entry(1), b: entry(2), c: entry(3) });
    await backend.delete('b');
    await backend.set('d', entry(4)); // a c d: nothing to evict
    assert.equal(backend.size, 3);
    backend.getSync('a'); // c d a
    await backend.set('e', entry(5)); // c evicted: d a e
    await backend.getMulti(['d']); // a e d
    await backend.set('f', entry(6)); // a evicted: e d f
    await backend.set('e', entry(7)); // d f e
    await backend.set('g', entry(8)); // d evicted: f e g
    await backend.get('f'); // e g f
    await backend.setMulti({ h: entry(9), i: entry(10) }); // e and g evicted: f h i
    assert.deepEqual(present(backend, ['a', 'b', 'c', 'd', 'e', 'g']), []);
    assert.deepEqual(present(backend, ['f', 'h', 'i']), ['f', 'h', 'i']);
  });

  it('with a TTL too: expired entries go first, then the least recently used', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, maxEntries: 2, clock });
    await backend.set('a', entry('a'));
    clock.advance(1000);
    await backend.set('b', entry('b'));
    assert.equal(payloadOf(backend.getSync('a')), 'a'); // b a
    await backend.set('c', entry('c')); // b evicted
    assert.deepEqual(present(backend, ['b']), []);
    assert.deepEqual(present(backend, ['a', 'c']), ['a', 'c']);
  });

  it('maxEntries is a positive integer', () => {
    assert.throws(() => new DictionaryBackend({ maxEntries: 1.5 }), invalid('max_entries'));
    assert.throws(() => new DictionaryBackend({ maxEntries: -2 }), invalid('max_entries'));
    assert.doesNotThrow(() => new DictionaryBackend({ maxEntries: 1 }));
  });
});

describe('DictionaryBackend: the maxSize bound', () => {
  const byLength = (payload: unknown): number => String(payload).length;

  it('sizeCalculation gets the payload and the key, once per set', async () => {
    const calls: [unknown, string][] = [];
    const backend = new DictionaryBackend({
      maxSize: 100,
      sizeCalculation: (payload: unknown, key: string) => {
        calls.push([payload, key]);
        return 1;
      },
    });
    await backend.set('k', entry('p'));
    await backend.setMulti({ m: entry('q') });
    await backend.get('k');
    assert.deepEqual(calls, [
      ['p', 'k'],
      ['q', 'm'],
    ]);
  });

  it('an entry exactly maxSize is stored alone; an overwrite does not count the old size', async () => {
    const backend = new DictionaryBackend({ maxSize: 4, sizeCalculation: byLength });
    await backend.set('a', entry('aa'));
    await backend.set('b', entry('bbbb'));
    assert.deepEqual(present(backend, ['a', 'b']), ['b']);
    assert.equal(backend.calculatedSize, 4);
    await backend.set('b', entry('bbb'));
    await backend.set('c', entry('c'));
    assert.deepEqual(present(backend, ['b', 'c']), ['b', 'c'], '3 + 1 fits: the old 4 was given back');
    assert.equal(backend.calculatedSize, 4);
  });

  it('with maxEntries too, whichever bound is reached evicts', async () => {
    const backend = new DictionaryBackend({ maxEntries: 2, maxSize: 10, sizeCalculation: byLength });
    await backend.setMulti({ a: entry('a'), b: entry('b'), c: entry('c') });
    assert.deepEqual(present(backend, ['a', 'b', 'c']), ['b', 'c']);
    await backend.set('d', entry('dddddddddd'));
    assert.deepEqual(present(backend, ['b', 'c', 'd']), ['d']);
    assert.equal(backend.calculatedSize, 10);
  });

  it('a size that is not a positive integer is refused before anything changes', async () => {
    let size: unknown = 2;
    const backend = new DictionaryBackend({ maxSize: 10, sizeCalculation: () => size });
    await backend.set('k', entry('old'));
    for (const bad of [0, -1, 2.5, Infinity, 2 ** 53, '2', null]) {
      size = bad;
      await assert.rejects(
        backend.set('k', entry('new')),
        invalid('size_calculation must return a positive integer', '"k"', 'Round the size up'),
      );
    }
    assert.equal(payloadOf(backend.getSync('k')), 'old');
    assert.equal(backend.calculatedSize, 2);
  });

  it('the arguments: max_size needs size_calculation and the reverse, each message naming the fix', () => {
    assert.throws(() => new DictionaryBackend({ max_size: 10 }), invalid('max_size needs size_calculation', '(payload, key) => size'));
    assert.throws(
      () => new DictionaryBackend({ size_calculation: byLength }),
      invalid('size_calculation does nothing without max_size', 'drop size_calculation'),
    );
    assert.throws(
      () => new DictionaryBackend({ max_size: 10, size_calculation: byLength, cache_dict: new Map() }),
      invalid('cache_dict cannot be combined with max_size', 'max_entries works with cache_dict'),
    );
  });
});

describe('DictionaryBackend: cache_dict and MemoryBackend', () => {
  it('cache_dict: the Map holds the entries by key, and maxEntries bounds it', async () => {
    const store = new Map<string, CachedValue>();
    const backend = new DictionaryBackend({ cacheDict: store, maxEntries: 2 });
    const a = entry('a');
    await backend.set('a', a);
    assert.equal(store.get('a'), a);
    await backend.setMulti({ b: entry('b'), c: entry('c') });
    assert.deepEqual([...store.keys()].sort(), ['b', 'c']);
    store.set('outside', entry('o'));
    assert.equal(payloadOf(await backend.get('outside')), 'o', 'entries others put in the map are read');
    await backend.close();
    assert.equal(store.size, 3, 'close() leaves the map');
  });

  it('cache_dict must be a Map; null is no map', () => {
    assert.throws(() => new DictionaryBackend({ cacheDict: [] }), invalid('cache_dict must be a Map', 'got an array'));
    assert.throws(
      () => new DictionaryBackend({ cache_dict: new Map(), expirationTime: 1 }),
      invalid('cache_dict cannot be combined with expiration_time', 'drop one'),
    );
    assert.doesNotThrow(() => new DictionaryBackend({ cacheDict: null }));
  });

  it('MemoryBackend: entries never expire on their own, whatever expiration_time says', async () => {
    const clock = manualClock();
    for (const args of [{ expiration_time: 1, clock }, { expirationTime: '1s', clock }, { clock }]) {
      const backend = new MemoryBackend(args);
      await backend.set('k', entry('v'));
      clock.advance(86_400_000);
      assert.equal(payloadOf(await backend.get('k')), 'v');
    }
    assert.equal(new MemoryBackend().size, 0);
  });

  it('MemoryBackend validates its arguments like the Dictionary backend', () => {
    assert.doesNotThrow(() => new DictionaryBackend(null as never));
    assert.doesNotThrow(() => new MemoryBackend(null as never), 'null is no arguments, for both');
    assert.throws(() => new DictionaryBackend({ max_entries: 0 }), invalid('DictionaryBackend argument max_entries'));
    assert.throws(() => new MemoryBackend([] as never), ValidationError);
    assert.throws(() => new MemoryBackend(5 as never), ValidationError);
    assert.throws(() => new MemoryBackend({ max_entries: 0 }), invalid('max_entries'));
  });
});

describe('DictionaryBackend under a region', () => {
  it('a region reads a subclass that overrides getSync through that getSync (the synchronous path is not declared)', async () => {
    const calls: string[] = [];
    class Logged extends DictionaryBackend {
      override getSync(key: string): ReturnType<DictionaryBackend['getSync']> {
        calls.push(`getSync ${key}`);
        return super.getSync(key);
      }
    }
    const region = new CacheRegion().configure(new Logged());
    await region.set('k', 1);
    assert.equal(await region.get('k'), 1);
    assert.equal(await region.getOrCreate('k', () => 2), 1);
    assert.deepEqual(calls, ['getSync k', 'getSync k']);
  });

  it("a region's getMulti and getOrCreateMulti read it through the synchronous path, each value its own (the lent one is refilled per key)", async () => {
    const backend = new DictionaryBackend();
    const region = new CacheRegion().configure(backend);
    await region.set('a', { name: 'A' });
    await region.set('b', { name: 'B' });
    // Set after the region was configured (the Dictionary decides its store then), so the synchronous path stays declared: the region must not need the backend's getMulti.
    backend.getMulti = () => Promise.reject(new Error('the region read through the backend getMulti'));
    assert.deepEqual(await region.getMulti(['a', 'b', 'missing']), [{ name: 'A' }, { name: 'B' }, NO_VALUE]);
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b', 'c'], (...keys) => keys.map((key) => ({ name: key.toUpperCase() }))), [
      { name: 'A' },
      { name: 'B' },
      { name: 'C' },
    ]);
  });

  it("a region's getOrCreateMulti keeps stale values of its own: a caller that finds the lock held gets each key's own", async () => {
    const region = new CacheRegion().configure(new DictionaryBackend(), { expirationTime: 60 });
    await region.set('a', 'A');
    await region.set('b', 'B');
    region.invalidate(false);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = region.getOrCreateMulti(['a', 'b'], async (...keys) => {
      await gate;
      return keys.map((key) => `${key}2`);
    });
    // The first caller holds the lock while it regenerates: this one is served the stale values.
    const second = await region.getOrCreateMulti(['a', 'b'], (...keys) => keys.map(() => 'not called'));
    assert.deepEqual(second, ['A', 'B']);
    release();
    assert.deepEqual(await first, ['a2', 'b2']);
    assert.deepEqual(await region.getMulti(['a', 'b']), ['a2', 'b2']);
  });

  it('a region reads a subclass that overrides getMulti through that getMulti (the synchronous path is not declared)', async () => {
    const calls: string[] = [];
    class Logged extends DictionaryBackend {
      override async getMulti(keys: readonly string[]): ReturnType<DictionaryBackend['getMulti']> {
        calls.push(`getMulti ${keys.join(',')}`);
        return super.getMulti(keys);
      }
    }
    const backend = new Logged();
    assert.equal(backend[IN_PROCESS_STORE], undefined);
    const region = new CacheRegion().configure(backend);
    await region.set('k', 1);
    assert.deepEqual(await region.getMulti(['k', 'x']), [1, NO_VALUE]);
    assert.deepEqual(calls, ['getMulti k,x']);
  });

  it('a region reads a subclass that overrides only get (a method) through that get, not the inherited getSync', async () => {
    const calls: string[] = [];
    class Logged extends DictionaryBackend {
      override async get(key: string): ReturnType<DictionaryBackend['get']> {
        calls.push(`get ${key}`);
        return super.get(key);
      }
    }
    class Both extends Logged {
      override getSync(key: string): ReturnType<DictionaryBackend['getSync']> {
        calls.push(`getSync ${key}`);
        return super.getSync(key);
      }
    }
    const region = new CacheRegion().configure(new Logged());
    await region.set('k', 1);
    assert.equal(await region.get('k'), 1);
    assert.equal(await region.getOrCreate('k', () => 2), 1);
    assert.deepEqual(calls, ['get k', 'get k']);
    // A getSync defined below (or beside) the get it goes with is the synchronous read again.
    calls.length = 0;
    const both = new CacheRegion().configure(new Both());
    await both.set('k', 1);
    assert.equal(await both.get('k'), 1);
    assert.deepEqual(calls, ['getSync k']);
  });

  it('a region calls get and set overridden as class fields (set after the constructor: the store is decided on first use)', async () => {
    const calls: string[] = [];
    class Fields extends DictionaryBackend {
      override get = async (key: string): ReturnType<DictionaryBackend['get']> => {
        calls.push(`get ${key}`);
        return super.get(key);
      };
      override set = async (key: string, value: Parameters<DictionaryBackend['set']>[1]): Promise<void> => {
        calls.push(`set ${key}`);
        return super.set(key, value);
      };
    }
    const backend = new Fields();
    assert.equal(backend[IN_PROCESS_STORE], undefined);
    const region = new CacheRegion().configure(backend);
    await region.set('k', 1);
    assert.equal(await region.get('k'), 1);
    assert.equal(await region.getOrCreate('k', () => 2), 1);
    assert.deepEqual(calls, ['set k', 'get k', 'get k']);
    // A plain Dictionary still declares it, once, and the same object on every read.
    const plain = new DictionaryBackend();
    assert.ok(plain[IN_PROCESS_STORE] !== undefined);
    assert.equal(plain[IN_PROCESS_STORE], plain[IN_PROCESS_STORE]);
  });

  it('a DictionaryBackend behind a JavaScript Proxy is refused at configure with a ValidationError that names the fix', () => {
    const proxied = new Proxy(new DictionaryBackend(), {});
    assert.throws(
      () => new CacheRegion().configure(proxied),
      (error: unknown) => error instanceof ValidationError && /JavaScript Proxy/.test(error.message) && /ProxyBackend/.test(error.message),
    );
  });

  it('a region reads and writes it (synchronous path), with the backend TTL and the LRU bound applied', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 10, maxEntries: 2, clock });
    const region = new CacheRegion({ clock }).configure(backend);
    await region.set('a', 'A');
    await region.set('b', 'B');
    assert.equal(await region.get('a'), 'A');
    await region.set('c', 'C'); // b is the least recently used
    assert.equal(await region.get('b'), NO_VALUE);
    assert.equal(await region.getOrCreate('c', () => 'other'), 'C');
    clock.advance(10_000);
    assert.equal(await region.get('a'), NO_VALUE);
    assert.equal(await region.getOrCreate('c', () => 'C2'), 'C2');
  });
});
