import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DictionaryBackend,
  MemoryBackend,
  MemoryPickleBackend,
  NO_VALUE,
  ValidationError,
  manualClock,
} from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';

// Ports of oslo.cache tests/unit/test_dict_backend.py, with a manual clock instead of TimeFixture.
describe('DictionaryBackend (oslo test_dict_backend)', () => {
  const value = makeCachedValue('value');

  it('miss, set/get, delete', async () => {
    const backend = new DictionaryBackend({ expiration_time: 0.5 });
    assert.equal(await backend.get('k'), NO_VALUE);
    await backend.set('k', value);
    assert.deepEqual(await backend.get('k'), value);
    await backend.delete('k');
    assert.equal(await backend.get('k'), NO_VALUE);
  });

  it('an entry expires after expiration_time', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expiration_time: 0.5, clock });
    await backend.set('k', value);
    clock.advance(499);
    assert.deepEqual(await backend.get('k'), value);
    clock.advance(1);
    assert.equal(await backend.get('k'), NO_VALUE);
    assert.equal(backend.size, 0, 'an expired entry is removed when read');
  });

  it('expiration_time 0 keeps entries forever', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expiration_time: 0, clock });
    await backend.set('k', value);
    clock.advance(10 * 365 * 86_400_000);
    assert.deepEqual(await backend.get('k'), value);
  });

  it('a set removes entries that have expired (multi keys)', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expiration_time: 0.5, clock });
    await backend.set('k1', value);
    await backend.set('k2', value);
    clock.advance(1000);
    await backend.set('k3', value);
    assert.equal(backend.size, 1);
  });

  it('an overwritten key lives from its last set', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: '1s', clock });
    await backend.set('k1', value);
    clock.advance(600);
    await backend.set('k2', value);
    await backend.set('k1', makeCachedValue('newer'));
    clock.advance(600);
    await backend.set('k3', value);
    assert.deepEqual(
      (await backend.getMulti(['k1', 'k2', 'k3'])).map((v) => (v === NO_VALUE ? v : (v as { payload: unknown }).payload)),
      ['newer', 'value', 'value'],
    );
  });

  it('maxEntries evicts the least recently used entry', async () => {
    const backend = new DictionaryBackend({ max_entries: 2 });
    await backend.set('a', value);
    await backend.set('b', value);
    await backend.get('a'); // a is now the most recently used
    await backend.set('c', value);
    assert.equal(await backend.get('b'), NO_VALUE);
    assert.deepEqual(await backend.get('a'), value);
    assert.deepEqual(await backend.get('c'), value);
  });

  it('validates its arguments', () => {
    assert.throws(
      () => new DictionaryBackend({ expiration_time: -1 }),
      (e: Error) => e instanceof ValidationError && e.message.includes('expiration_time'),
    );
    assert.throws(() => new DictionaryBackend({ expiration_time: 'forever' }), ValidationError);
    assert.throws(
      () => new DictionaryBackend({ max_entries: 0 }),
      (e: Error) => e instanceof ValidationError && e.message.includes('max_entries'),
    );
    assert.throws(() => new DictionaryBackend({ expirationTime: 1, expiration_time: 2 }), ValidationError);
    assert.throws(() => new DictionaryBackend([] as never), ValidationError);
  });

  it('ignores unknown arguments (oslo passes memcache options to every backend) and never mutates them', () => {
    const args = Object.freeze({ expiration_time: 1, url: ['localhost:11211'], dead_retry: 300 });
    assert.doesNotThrow(() => new DictionaryBackend(args));
  });

  it('fromConfigDict takes the arguments under a prefix', async () => {
    const clock = manualClock();
    const backend = DictionaryBackend.fromConfigDict(
      { 'cache.arguments.expiration_time': 1, 'cache.arguments.clock': clock, other: 1 },
      'cache.arguments.',
    );
    await backend.set('k', value);
    clock.advance(1000);
    assert.equal(await backend.get('k'), NO_VALUE);
  });
});

describe('DictionaryBackend: LRU, cache_dict, memory_pickle', () => {
  const value = makeCachedValue('value');

  it("an overwrite refreshes the key's LRU position", async () => {
    const backend = new DictionaryBackend({ max_entries: 2 });
    await backend.set('a', value);
    await backend.set('b', value);
    await backend.set('a', makeCachedValue('again')); // a is now the most recently used
    await backend.set('c', value);
    assert.equal(await backend.get('b'), NO_VALUE, 'b was the least recently used');
    assert.equal(((await backend.get('a')) as { payload: unknown }).payload, 'again');
  });

  it('cache_dict: stores into the Map the caller gives (dogpile.cache.memory), shared and left alone by close()', async () => {
    const store = new Map();
    const region = new CacheRegion().configure('dogpile.cache.memory', { arguments: { cache_dict: store } });
    const other = new CacheRegion().configure('dogpile.cache.memory', { arguments: { cacheDict: store } });
    await region.set('k', 'v');
    assert.equal(store.size, 1);
    assert.equal(await other.get('k'), 'v', 'a second backend on the same map sees the entry');
    await region.close();
    assert.equal(store.size, 1, 'close() does not clear a map the caller owns');
    await other.close();
  });

  it('cache_dict: a plain object or a combination with expiration_time is refused, naming the fix', () => {
    assert.throws(
      () => new MemoryBackend({ cache_dict: {} }),
      (e: Error) => e instanceof ValidationError && /cache_dict must be a Map/.test(e.message),
    );
    assert.throws(
      () => new DictionaryBackend({ cache_dict: new Map(), expiration_time: 5 }),
      (e: Error) => e instanceof ValidationError && /cache_dict cannot be combined with expiration_time/.test(e.message),
    );
  });

  it('dogpile.cache.memory_pickle: every read is a copy (v8 serializer kept in memory)', async () => {
    const region = new CacheRegion().configure('dogpile.cache.memory_pickle');
    assert.ok(region.backend instanceof MemoryPickleBackend);
    assert.equal(region.serializer?.name, 'v8');
    const stored = { list: [1], when: new Date(0), bytes: new Uint8Array([1, 2, 3]) };
    await region.set('k', stored);
    stored.list.push(2);
    const read = (await region.get('k')) as typeof stored;
    assert.deepEqual(read.list, [1]);
    assert.ok(read.when instanceof Date);
    read.list.push(3);
    read.bytes.fill(0);
    const again = (await region.get('k')) as typeof stored;
    assert.deepEqual(again.list, [1]);
    assert.deepEqual([...again.bytes], [1, 2, 3], 'mutating a returned Uint8Array does not reach the cached bytes');
    await region.close();
  });
});
