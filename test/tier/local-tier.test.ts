/**
 * The local tier in one process over a Dictionary backend (issue 18): bounds, TTL, eviction races,
 * the mutex, validation. With real servers: test/backends/remote-tier.test.ts; across processes:
 * test/processes/tier-processes.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CacheBackend,
  CacheRegion,
  DictionaryBackend,
  MemoryPickleBackend,
  ProxyBackend,
  v8Serializer,
  UnsupportedOperationError,
  ValidationError,
  isNoValue,
  type CacheMutex,
} from '../../src/index.js';
import { manualClock } from '../../src/clock.js';
import { LocalTier, RedisNotifications, type NotificationTransport } from '../../src/tier/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { LOCAL_COPIES } from '../../src/storage.js';
import { CountingProxy } from '../support/tier.js';

function tierRegion(tier: LocalTier, backend: CacheBackend = new DictionaryBackend()): { region: CacheRegion; counter: CountingProxy } {
  const counter = new CountingProxy();
  const region = new CacheRegion().configure(backend, { wrap: [tier, counter] });
  return { region, counter };
}

describe('LocalTier', () => {
  it('region.clear() clears the store under the tier and the local copies, not only the copies', async () => {
    const tier = new LocalTier();
    const { region } = tierRegion(tier);
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'v');
    await region.clear();
    assert.equal(tier.stats().size, 0);
    assert.ok(isNoValue(await region.get('k')), 'the store under the tier was cleared too');
  });

  it('region.clear() through the tier over a store that cannot clear is an UnsupportedOperationError', async () => {
    class NoClear extends ProxyBackend {}
    const region = new CacheRegion().configure(new DictionaryBackend(), { wrap: [new LocalTier(), NoClear] });
    const store = region.actualBackend as DictionaryBackend & { clear?: unknown };
    Object.defineProperty(store, 'clear', { value: undefined });
    await assert.rejects(region.clear(), UnsupportedOperationError);
  });

  it('a hit is answered locally: the backend sees one read for many gets', async () => {
    const { region, counter } = tierRegion(new LocalTier());
    await region.set('k', 'v');
    const writes = counter.calls;
    for (let i = 0; i < 50; i++) assert.equal(await region.get('k'), 'v');
    assert.equal(counter.calls - writes, 1);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const tier = new LocalTier({ maxEntries: 3 });
    const { region, counter } = tierRegion(tier);
    for (const key of ['a', 'b', 'c', 'd']) await region.set(key, key);
    for (const key of ['a', 'b', 'c']) await region.get(key);
    await region.get('a'); // a is now the most recent: b is the oldest
    await region.get('d'); // evicts b
    assert.equal(tier.stats().size, 3);
    const before = counter.calls;
    await region.get('a');
    await region.get('c');
    assert.equal(counter.calls, before, 'a and c stayed local');
    await region.get('b');
    assert.equal(counter.calls, before + 1, 'b was dropped');
  });

  it('serves a local copy for at most ttl, then asks the backend again', async () => {
    const clock = manualClock();
    const { region, counter } = tierRegion(new LocalTier({ ttl: '2s', clock }));
    await region.set('k', 'v');
    await region.get('k');
    const before = counter.calls;
    clock.advance(1999);
    await region.get('k');
    assert.equal(counter.calls, before);
    clock.advance(1);
    await region.get('k');
    assert.equal(counter.calls, before + 1);
  });

  it('set and delete in this process evict the local copy at once', async () => {
    const { region } = tierRegion(new LocalTier());
    await region.set('k', 'v1');
    assert.equal(await region.get('k'), 'v1');
    await region.set('k', 'v2');
    assert.equal(await region.get('k'), 'v2');
    await region.delete('k');
    assert.ok(isNoValue(await region.get('k')));
  });

  it('a read that overlaps an eviction does not keep its (possibly older) result', async () => {
    // A proxy that holds reads until told: the only way to order a read around a delete exactly.
    let release: () => void = () => undefined;
    class SlowReads extends ProxyBackend {
      override async get(key: string) {
        const value = await super.get(key);
        await new Promise<void>((resolve) => (release = resolve));
        return value;
      }
    }
    const tier = new LocalTier();
    const backend = new DictionaryBackend();
    const region = new CacheRegion().configure(backend, { wrap: [tier, new SlowReads()] });
    await region.set('k', 'old');
    const reading = region.get('k');
    await sleep(5);
    await tier.delete('k');
    release();
    assert.equal(await reading, 'old');
    assert.equal(tier.stats().size, 0, 'the overlapping read was not kept');
  });

  it('winning the backend mutex evicts the key locally, so the re-read after the lock reaches the backend', async () => {
    let locked = false;
    const mutex: CacheMutex = {
      acquire: async () => {
        locked = true;
        return true;
      },
      release: async () => void (locked = false),
      locked: async () => locked,
    };
    class WithMutex extends ProxyBackend {
      override getMutex(): CacheMutex {
        return mutex;
      }
    }
    const tier = new LocalTier();
    const region = new CacheRegion().configure(new DictionaryBackend(), { wrap: [tier, new WithMutex()] });
    await region.set('k', 'v');
    await region.get('k');
    assert.equal(tier.stats().size, 1);
    const wrapped = tier.getMutex('k') as CacheMutex;
    assert.equal(await wrapped.acquire(false), true);
    assert.equal(tier.stats().size, 0);
    await wrapped.release();
    assert.equal(locked, false);
  });

  it('getMulti mixes local hits and one backend call for the rest, aligned with the keys', async () => {
    const { region, counter } = tierRegion(new LocalTier());
    await region.setMulti({ a: 1, b: 2, c: 3 });
    await region.get('a');
    const before = counter.calls;
    const values = await region.getMulti(['a', 'b', 'x', 'a', 'c']);
    assert.deepEqual(
      values.map((v) => (isNoValue(v) ? null : v)),
      [1, 2, null, 1, 3],
    );
    assert.equal(counter.calls, before + 1);
  });

  it('rejects bad options with a ValidationError naming the option', () => {
    assert.throws(
      () => new LocalTier({ maxEntries: 0 }),
      (e: unknown) => e instanceof ValidationError && /maxEntries/.test(e.message),
    );
    assert.throws(
      () => new LocalTier({ maxBytes: 1.5 }),
      (e: unknown) => e instanceof ValidationError && /maxBytes/.test(e.message),
    );
    assert.throws(
      () => new LocalTier({ ttl: 'soon' }),
      (e: unknown) => e instanceof ValidationError && /ttl/.test(e.message),
    );
    assert.throws(
      () => new LocalTier({ ttl: 0 }),
      (e: unknown) => e instanceof ValidationError && /ttl/.test(e.message),
    );
    assert.throws(
      () => new LocalTier({ transport: {} as NotificationTransport }),
      (e: unknown) => e instanceof ValidationError && /transport/.test(e.message),
    );
    const transport = new RedisNotifications(new RedisBackend({ url: 'redis://localhost:1' }));
    assert.throws(
      () => new LocalTier({ transport }),
      (e: unknown) => e instanceof ValidationError && /channel/.test(e.message),
    );
    assert.throws(
      () => new RedisNotifications({} as RedisBackend),
      (e: unknown) => e instanceof ValidationError && /RedisNotifications/.test(e.message),
    );
    for (const bad of ['yes', 1, null]) {
      assert.throws(
        () => new LocalTier({ shareDecodedValues: bad as never }),
        (e: unknown) => e instanceof ValidationError && /shareDecodedValues/.test(e.message),
      );
    }
  });
});

describe('LocalTier: the synchronous path for local hits (declared LOCAL_COPIES)', () => {
  /** Counts the tier's own async reads: a hit on the declared path calls neither. */
  function spyReads(tier: LocalTier): { reads: number } {
    const seen = { reads: 0 };
    const get = tier.get.bind(tier);
    const getSerialized = tier.getSerialized.bind(tier);
    tier.get = (key) => {
      seen.reads++;
      return get(key);
    };
    tier.getSerialized = (key) => {
      seen.reads++;
      return getSerialized(key);
    };
    return seen;
  }

  it('over a values backend: the first read goes through, every later hit is synchronous and reaches nothing', async () => {
    const tier = new LocalTier();
    const { region, counter } = tierRegion(tier);
    const spy = spyReads(tier);
    const value = { name: 'Ada' };
    await region.set('k', value);
    const writes = counter.calls;
    assert.equal(await region.get('k'), value);
    assert.equal(spy.reads, 1);
    for (let i = 0; i < 50; i++) {
      assert.equal(await region.get('k'), value);
      assert.equal(await region.getOrCreate('k', () => 'created'), value);
      assert.equal(await region.has('k'), true);
    }
    assert.equal(spy.reads, 1, "no hit called the tier's get");
    assert.equal(counter.calls - writes, 1, 'one read reached the backend');
    assert.equal(tier.stats().hits, 150);
  });

  it('over bytes, by default: every hit is synchronous and decodes its own copy (mutating one changes no other read)', async () => {
    const tier = new LocalTier();
    assert.equal(tier.shareDecodedValues, false);
    const { region, counter } = tierRegion(tier, new MemoryPickleBackend());
    const spy = spyReads(tier);
    await region.set('k', { name: 'Ada', tags: ['a'] });
    const writes = counter.calls;
    const first = (await region.get('k')) as { name: string; tags: string[] };
    const second = (await region.get('k')) as { name: string; tags: string[] };
    assert.deepEqual(second, first, 'equal in value');
    assert.notEqual(second, first, 'distinct objects');
    first.name = 'mutated';
    first.tags.push('b');
    second.tags.push('c');
    for (let i = 0; i < 20; i++) assert.deepEqual(await region.get('k'), { name: 'Ada', tags: ['a'] }, 'mutations reach no later hit');
    assert.deepEqual(await region.getOrCreate('k', () => ({ name: 'created', tags: [] })), { name: 'Ada', tags: ['a'] });
    assert.equal(spy.reads, 1, "hits after the first never called the tier's getSerialized");
    assert.equal(counter.calls - writes, 1, 'one read reached the backend');
    assert.equal(tier.stats().hits, 22);
    await region.set('k', { name: 'Bob', tags: [] });
    assert.deepEqual(await region.get('k'), { name: 'Bob', tags: [] }, 'a set evicts the copy');
  });

  it("over bytes with shareDecodedValues: the region's decoding is kept, so later hits parse nothing and share one object", async () => {
    const tier = new LocalTier({ shareDecodedValues: true });
    const { region, counter } = tierRegion(tier, new MemoryPickleBackend());
    const spy = spyReads(tier);
    await region.set('k', { name: 'Ada' });
    const writes = counter.calls;
    const first = await region.get('k');
    assert.deepEqual(first, { name: 'Ada' });
    for (let i = 0; i < 20; i++) assert.equal(await region.get('k'), first, 'the same decoded object');
    assert.equal(spy.reads, 1);
    assert.equal(counter.calls - writes, 1);
    await region.set('k', { name: 'Bob' });
    assert.deepEqual(await region.get('k'), { name: 'Bob' }, 'a set evicts the copy and its decoding');
  });

  it('a decoding is never attached to other bytes than the ones it came from', async () => {
    const tier = new LocalTier({ shareDecodedValues: true });
    const { region } = tierRegion(tier, new MemoryPickleBackend());
    await region.set('k', 'old');
    const copies = tier[LOCAL_COPIES];
    assert.ok(copies !== undefined);
    const someDecoder = {};
    assert.equal(copies.read('k', someDecoder), undefined, 'no copy yet');
    assert.equal(await region.get('k'), 'old');
    copies.decoded('k', Buffer.from('other bytes'), { payload: 'wrong', metadata: { ct: 0, v: 2 } }, someDecoder);
    assert.equal(copies.read('k', someDecoder), undefined, 'not attached to other bytes');
    assert.equal(await region.get('k'), 'old');
  });

  it('a decoding is served only to the decoder that made it: a region whose serializer changed decodes again', async () => {
    const tier = new LocalTier({ shareDecodedValues: true });
    const { region } = tierRegion(tier, new MemoryPickleBackend());
    await region.set('k', { n: 1 });
    const first = await region.get('k');
    assert.equal(await region.get('k'), first, 'served decoded');
    region.serializer = v8Serializer; // a new storage path: the old decoding is not its own
    const again = await region.get('k');
    assert.deepEqual(again, { n: 1 });
    assert.notEqual(again, first, 'decoded again by the new serializer');
    assert.equal(await region.get('k'), again);
  });

  it('expired copies are not served synchronously (manual clock, exact)', async () => {
    const clock = manualClock();
    const tier = new LocalTier({ ttl: 1, clock });
    const { region, counter } = tierRegion(tier);
    await region.set('k', 'v');
    await region.get('k');
    const before = counter.calls;
    clock.advance(999.999);
    await region.get('k');
    assert.equal(counter.calls, before);
    clock.advance(0.001);
    await region.get('k');
    assert.equal(counter.calls, before + 1);
  });

  it('a subclass that overrides get is not bypassed: it declares no synchronous path', async () => {
    let overridden = 0;
    class Watching extends LocalTier {
      override get(key: string) {
        overridden++;
        return super.get(key);
      }
    }
    const tier = new Watching();
    assert.equal(tier[LOCAL_COPIES], undefined);
    const { region } = tierRegion(tier);
    await region.set('k', 'v');
    for (let i = 0; i < 3; i++) assert.equal(await region.get('k'), 'v');
    assert.equal(overridden, 3);
  });

  it('not outermost, the tier is read through the proxy outside it (only the outermost declaration counts)', async () => {
    const tier = new LocalTier();
    const outer = new CountingProxy();
    const region = new CacheRegion().configure(new DictionaryBackend(), { wrap: [outer, tier] });
    await region.set('k', 'v');
    const before = outer.calls;
    for (let i = 0; i < 5; i++) assert.equal(await region.get('k'), 'v');
    assert.equal(outer.calls - before, 5, 'the outer proxy saw every read');
  });
});
