// A bounded Dictionary keeps its list in write order while it is small (at most half maxEntries, at most
// 16,384 entries, and at most half maxSize), numbering each use instead of moving the entry; the first set
// past that puts the list in order of use, and clear() starts over (docs/backends/dictionary.md). Which
// order the list is in shows in what a set's expiry sweep removes: from the head, up to the first live
// entry. Each test below reads an entry so that write order and order of use differ, lets the other
// entry expire first in one order only, and counts what the next set leaves.
// The model test (mutation-dictionary-model) checks the same rules on random sequences; these pin the
// boundaries. Named mutation-dictionary-* so `npm run mutation -- dictionary` runs it too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DictionaryBackend, NO_VALUE, manualClock, type Clock } from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';

const byLength = (payload: unknown): number => (payload as string).length;

/**
 * Sets a, then b half a second later, reads a, and sets c once a (but not b) has expired (TTL 1 s). In
 * write order the sweep finds a first and removes it: 2 entries left. In order of use b comes first and
 * is live, so the sweep stops at once: 3 left.
 */
async function sweepAfterReadingTheOlder(backend: DictionaryBackend, clock: Clock & { advance(ms: number): void }): Promise<number> {
  await backend.set('a', makeCachedValue('aaa', clock() / 1000));
  clock.advance(500);
  await backend.set('b', makeCachedValue('bbb', clock() / 1000));
  clock.advance(100);
  assert.notEqual(await backend.get('a'), NO_VALUE);
  clock.advance(400); // a is 1,000 ms old: expired; b 500 ms: live
  await backend.set('c', makeCachedValue('c', clock() / 1000));
  return backend.size;
}

describe('DictionaryBackend under a bound: write order while small, order of use after', () => {
  it('at half maxEntries the list is still in write order (the set that passes it reorders)', async () => {
    const clock = manualClock();
    // maxEntries 4: write order up to 2 entries; a and b are 2.
    const backend = new DictionaryBackend({ expirationTime: 1, maxEntries: 4, clock });
    assert.equal(await sweepAfterReadingTheOlder(backend, clock), 2);
    assert.equal(await backend.get('a'), NO_VALUE);
    assert.notEqual(await backend.get('b'), NO_VALUE);
  });

  it('past half maxEntries the list is in order of use', async () => {
    const clock = manualClock();
    // maxEntries 3: write order up to 1 entry; setting b passed it.
    const backend = new DictionaryBackend({ expirationTime: 1, maxEntries: 3, clock });
    assert.equal(await sweepAfterReadingTheOlder(backend, clock), 3);
    assert.equal(await backend.get('a'), NO_VALUE); // still expired when read (and removed then)
    assert.equal(backend.size, 2);
  });

  it('past half maxSize the list is in order of use, though nothing is evicted', async () => {
    const clock = manualClock();
    // a and b hold 6 of 10: more than half, less than the bound.
    const backend = new DictionaryBackend({ expirationTime: 1, maxSize: 10, sizeCalculation: byLength, clock });
    assert.equal(await sweepAfterReadingTheOlder(backend, clock), 3);
    assert.equal(backend.calculatedSize, 7);
  });

  it('at half maxSize the list is still in write order', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, maxSize: 12, sizeCalculation: byLength, clock });
    assert.equal(await sweepAfterReadingTheOlder(backend, clock), 2);
    assert.equal(backend.calculatedSize, 4);
  });

  it('clear() puts the table back in write order', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ expirationTime: 1, maxEntries: 4, clock });
    for (const key of ['x', 'y', 'z']) await backend.set(key, makeCachedValue(key, clock() / 1000));
    backend.clear();
    assert.equal(await sweepAfterReadingTheOlder(backend, clock), 2);
  });

  it('after clear() from order of use, reads are numbered again: the next reorder follows them', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ maxEntries: 4, clock });
    for (const key of ['x', 'y', 'z']) await backend.set(key, makeCachedValue(key, clock() / 1000)); // z reorders
    backend.clear();
    for (const key of ['a', 'b']) await backend.set(key, makeCachedValue(key, clock() / 1000));
    await backend.get('a'); // use order: b, a
    for (const key of ['c', 'd', 'e']) await backend.set(key, makeCachedValue(key, clock() / 1000)); // c reorders, e evicts
    assert.equal(await backend.get('b'), NO_VALUE);
    assert.notEqual(await backend.get('a'), NO_VALUE);
  });

  it('the reorder keeps the order of use: the least recently used is evicted first, across it', async () => {
    const clock = manualClock();
    // maxEntries 6: write order up to 3 entries; the 4th set reorders them by the reads before it.
    const backend = new DictionaryBackend({ maxEntries: 6, clock });
    for (const key of ['a', 'b', 'c']) await backend.set(key, makeCachedValue(key, clock() / 1000));
    await backend.get('b');
    await backend.get('a');
    await backend.get('b'); // use order now: c, a, b
    for (const key of ['d', 'e', 'f']) await backend.set(key, makeCachedValue(key, clock() / 1000)); // d reorders
    await backend.set('g', makeCachedValue('g', clock() / 1000)); // evicts c
    assert.equal(await backend.get('c'), NO_VALUE);
    await backend.set('h', makeCachedValue('h', clock() / 1000)); // evicts a
    assert.equal(await backend.get('a'), NO_VALUE);
    assert.notEqual(await backend.get('b'), NO_VALUE);
    assert.equal(backend.size, 6);
  });
});
