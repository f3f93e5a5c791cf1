// Expiration as every read applies it (src/region.ts: get, getMulti, getValueMetadata, has and
// getOrCreate's hot path), with a manual clock, on the three read paths a region takes: the Dictionary's
// synchronous store sharing the region's clock, the same store with a clock of its own, and the async
// path through a proxy. Written to kill the mutants the region suites left alive: the exact expiry
// boundary (dogpile: expired when `now - ct > expiration_time`), per-call overrides, an entry's own TTL,
// the one-day bound on a creation time ahead of now, and the hit/miss counts of each call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DictionaryBackend,
  NO_VALUE,
  ProxyBackend,
  manualClock,
  type BackendResult,
  type ManualClock,
  type RegionInvalidationStrategy,
} from '../../src/index.js';
import { VALUE_VERSION } from '../../src/backend.js';

type Path = 'shared clock' | 'own clock' | 'proxy';
const PATHS: Path[] = ['shared clock', 'own clock', 'proxy'];

function regionOn(
  path: Path,
  expirationTime: number | null,
  name = 'reads',
): { region: CacheRegion; clock: ManualClock; backend: DictionaryBackend } {
  const clock = manualClock();
  const backend = new DictionaryBackend(path === 'shared clock' ? { clock } : {});
  const region = new CacheRegion({ clock, name }).configure(backend, {
    expirationTime,
    ...(path === 'proxy' ? { wrap: [new ProxyBackend()] } : {}),
  });
  return { region, clock, backend };
}

/** Every read's answer for `key`, as one comparable record (getOrCreate last: it may store). */
async function readAll(
  region: CacheRegion,
  key: string,
  options?: { expirationTime?: number | null; ignoreExpiration?: boolean },
): Promise<unknown[]> {
  const metadata = await region.getValueMetadata(key, options);
  return [
    await region.get(key, options),
    (await region.getMulti([key], options))[0],
    metadata === null ? null : metadata.payload,
    await region.has(key, options),
  ];
}

for (const path of PATHS) {
  describe(`reads, ${path}`, () => {
    it('a value exactly expirationTime old is fresh; a millisecond later it is expired (dogpile: now - ct > expiration)', async () => {
      const { region, clock } = regionOn(path, 10);
      await region.set('k', 'v');
      clock.advance(10_000);
      assert.deepEqual(await readAll(region, 'k'), ['v', 'v', 'v', true]);
      const before = region.stats();
      assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
      assert.deepEqual(
        [region.stats().hits - before.hits, region.stats().misses - before.misses],
        [1, 0],
        'getOrCreate counts a fresh value as a hit',
      );
      clock.advance(1);
      assert.deepEqual(await readAll(region, 'k'), [NO_VALUE, NO_VALUE, null, false]);
      assert.deepEqual(await readAll(region, 'k', { ignoreExpiration: true }), ['v', 'v', 'v', true]);
      assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
    });

    it("a per-call expirationTime replaces the region's, shorter or longer; null means the region's", async () => {
      const { region, clock } = regionOn(path, 10);
      await region.set('k', 'v');
      clock.advance(5_000);
      assert.deepEqual(await readAll(region, 'k', { expirationTime: 4 }), [NO_VALUE, NO_VALUE, null, false]);
      assert.deepEqual(await readAll(region, 'k', { expirationTime: 5 }), ['v', 'v', 'v', true]);
      assert.deepEqual(await readAll(region, 'k', { expirationTime: null }), ['v', 'v', 'v', true]);
      clock.advance(10_000);
      assert.deepEqual(await readAll(region, 'k'), [NO_VALUE, NO_VALUE, null, false]);
      assert.deepEqual(await readAll(region, 'k', { expirationTime: 20 }), ['v', 'v', 'v', true]);
      assert.deepEqual(await readAll(region, 'k', { expirationTime: -1 }), ['v', 'v', 'v', true], '-1: never expires');
      assert.equal(await region.getOrCreate('k', () => 'longer', { expirationTime: 20 }), 'v');
      assert.equal(await region.getOrCreate('k', () => 'never', { expirationTime: -1 }), 'v');
      assert.equal(await region.getOrCreate('k', () => 'shorter', { expirationTime: 14 }), 'shorter');
    });

    it('a region without an expiration time never expires a value; -1 neither, in every read', async () => {
      for (const expirationTime of [null, -1]) {
        const { region, clock } = regionOn(path, expirationTime);
        await region.set('k', 'v');
        clock.advance(365 * 86_400_000);
        assert.deepEqual(await readAll(region, 'k'), ['v', 'v', 'v', true], String(expirationTime));
        assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
        assert.equal(region.stats().misses, 0, 'every read a hit');
      }
    });

    it("an entry's own TTL replaces the read's expiration, shorter or longer, and the boundary is inclusive", async () => {
      const { region, clock } = regionOn(path, 10);
      await region.set('short', 's', { expirationTime: 2 });
      await region.set('long', 'l', { expirationTime: 100 });
      clock.advance(2_000);
      assert.deepEqual(await readAll(region, 'short'), ['s', 's', 's', true]);
      assert.equal(await region.getOrCreate('short', () => 'new'), 's');
      clock.advance(1);
      assert.deepEqual(await readAll(region, 'short'), [NO_VALUE, NO_VALUE, null, false]);
      clock.advance(48_000);
      assert.deepEqual(await readAll(region, 'long'), ['l', 'l', 'l', true]);
      const before = region.stats();
      assert.equal(await region.getOrCreate('long', () => 'new'), 'l', "a hit past the region's 10 s");
      assert.deepEqual([region.stats().hits - before.hits, region.stats().misses - before.misses], [1, 0]);
      assert.equal(await region.getOrCreate('short', () => 'recreated'), 'recreated');
    });

    it('without a region expiration, an entry past its own TTL is a miss that getOrCreate regenerates; at its TTL it still counts', async () => {
      const { region, clock } = regionOn(path, null);
      await region.set('k', 'v', { expirationTime: 3 });
      clock.advance(3_000);
      assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
      clock.advance(1);
      assert.deepEqual(await readAll(region, 'k'), [NO_VALUE, NO_VALUE, null, false]);
      assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
      assert.equal(await region.get('k'), 'new');
    });

    it('invalidation: get, getMulti, getValueMetadata and has miss; ignoreExpiration still reads', async () => {
      for (const hard of [true, false]) {
        const { region, clock } = regionOn(path, 60);
        await region.set('k', 'v');
        clock.advance(1);
        region.invalidate(hard);
        assert.deepEqual(await readAll(region, 'k'), [NO_VALUE, NO_VALUE, null, false], `hard ${hard}`);
        assert.deepEqual(await readAll(region, 'k', { ignoreExpiration: true }), ['v', 'v', 'v', true]);
        clock.advance(1);
        await region.set('k', 'after');
        assert.deepEqual(await readAll(region, 'k'), ['after', 'after', 'after', true]);
      }
    });

    it('counts one hit or miss per key read, none for has(), and names the region in the events', async () => {
      const { region, clock } = regionOn(path, 10, 'counted');
      const events: string[] = [];
      region.on('hit', (e) => events.push(`hit ${e.region} ${e.key}`));
      region.on('miss', (e) => events.push(`miss ${e.region} ${e.key}`));
      await region.set('a', 1);
      await region.get('a');
      await region.get('b');
      await region.getMulti(['a', 'b', 'a']);
      await region.has('a');
      await region.has('b');
      await region.getValueMetadata('a');
      clock.advance(11_000);
      await region.get('a');
      assert.deepEqual(region.stats(), { ...region.stats(), hits: 3, misses: 3, creates: 0 });
      assert.deepEqual(events, ['hit counted a', 'miss counted b', 'hit counted a', 'miss counted b', 'hit counted a', 'miss counted a']);
    });

    it('a value created up to a day ahead of now is used; more than a day ahead it is a miss', async () => {
      const { region, clock, backend } = regionOn(path, 10);
      const now = clock() / 1000;
      await backend.set('day', { payload: 'skewed', metadata: { ct: now + 86_400, v: VALUE_VERSION } });
      await backend.set('more', { payload: 'corrupt', metadata: { ct: now + 86_400.5, v: VALUE_VERSION } });
      assert.deepEqual(await readAll(region, 'day'), ['skewed', 'skewed', 'skewed', true]);
      assert.deepEqual(await readAll(region, 'more'), [NO_VALUE, NO_VALUE, null, false]);
      assert.equal(await region.getOrCreate('day', () => 'new'), 'skewed');
      assert.equal(await region.getOrCreate('more', () => 'regenerated'), 'regenerated');
      // Reading the far one first must not make the near one look corrupt (or the reverse).
      await backend.set('more2', { payload: 'corrupt', metadata: { ct: now + 90_000, v: VALUE_VERSION } });
      assert.equal(await region.get('more2'), NO_VALUE);
      assert.equal(await region.get('day'), 'skewed');
    });

    it('a value of another format version is regenerated by getOrCreate, and read by get as dogpile does', async () => {
      const { region, clock, backend } = regionOn(path, 10);
      await backend.set('old', { payload: 'old format', metadata: { ct: clock() / 1000, v: VALUE_VERSION + 1 } });
      assert.equal(await region.get('old'), 'old format');
      assert.equal(await region.getOrCreate('old', () => 'regenerated'), 'regenerated');
      assert.equal(await region.get('old'), 'regenerated');
    });
  });
}

describe('getMulti', () => {
  it('returns [] for no keys without reading the backend; validates its keys', async () => {
    let reads = 0;
    class Counting extends ProxyBackend {
      override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
        reads++;
        return super.getMulti(keys);
      }
    }
    const region = new CacheRegion().configure('dictionary', { wrap: [new Counting()] });
    assert.deepEqual(await region.getMulti([]), []);
    assert.equal(reads, 0);
    assert.deepEqual(await region.getMulti(['x']), [NO_VALUE]);
    assert.equal(reads, 1);
  });

  it('applies each entry its own TTL and the region expiration, key by key', async () => {
    const { region, clock } = regionOn('proxy', 10);
    await region.set('region', 'r');
    await region.set('short', 's', { expirationTime: 1 });
    await region.set('long', 'l', { expirationTime: 60 });
    clock.advance(5_000);
    assert.deepEqual(await region.getMulti(['region', 'short', 'long']), ['r', NO_VALUE, 'l']);
    clock.advance(10_000);
    assert.deepEqual(await region.getMulti(['region', 'short', 'long']), [NO_VALUE, NO_VALUE, 'l']);
  });
});

describe('set and setMulti', () => {
  it('setMulti of nothing writes nothing; a shared creation time and options for every entry', async () => {
    let writes = 0;
    class Counting extends ProxyBackend {
      override setMulti(mapping: Parameters<ProxyBackend['setMulti']>[0]): Promise<void> {
        writes++;
        return super.setMulti(mapping);
      }
    }
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 100, wrap: [new Counting()] });
    await region.setMulti({});
    await region.setMulti(new Map());
    assert.equal(writes, 0);
    await region.setMulti({ a: 1, b: 2 }, { expirationTime: 2, tags: ['t'] });
    assert.equal(writes, 1);
    const a = await region.getValueMetadata('a');
    const b = await region.getValueMetadata('b');
    assert.equal(a?.metadata.ct, clock() / 1000);
    assert.equal(b?.metadata.ct, clock() / 1000);
    assert.equal(a?.metadata.ttl, 2);
    assert.deepEqual(b?.metadata.tags, ['t']);
    await region.setMulti({ c: 3 });
    const c = await region.getValueMetadata('c');
    assert.equal(c?.metadata.ttl, undefined, 'no options: no TTL of its own');
    assert.equal(c?.metadata.tags, undefined);
  });

  it('set stores the creation time from the region clock, its TTL and tags only when given', async () => {
    for (const path of PATHS) {
      const { region, clock } = regionOn(path, null);
      await region.set('plain', 1);
      await region.set('nullTtl', 1, { expirationTime: null });
      await region.set('full', 1, { expirationTime: '1m', tags: ['x', 'y'] });
      const plain = await region.getValueMetadata('plain');
      assert.deepEqual(plain?.metadata, { ct: clock() / 1000, v: VALUE_VERSION }, path);
      assert.equal((await region.getValueMetadata('nullTtl'))?.metadata.ttl, undefined);
      const full = await region.getValueMetadata('full');
      assert.equal(full?.metadata.ttl, 60);
      assert.deepEqual(full?.metadata.tags, ['x', 'y']);
    }
  });
});

// The Dictionary lends the region one CachedValue on its synchronous hit path, refilled by the next read
// (src/storage.ts, InProcessStore.read). User code that runs during a read (a hit listener, an invalidation
// strategy) may read again; each call must still return its own key's value, fresh or stale.
describe('CacheRegion: reads that run user code in the middle keep their own value', () => {
  /** A strategy that reads `other` (synchronously, through the same store) whenever it is asked. */
  function readingStrategy(read: () => void, soft: () => boolean): RegionInvalidationStrategy {
    const readThen = (answer: () => boolean) => (): boolean => {
      read();
      return answer();
    };
    return {
      invalidate() {},
      isHardInvalidated: readThen(() => false),
      isSoftInvalidated: readThen(soft),
      isInvalidated: readThen(soft),
      wasHardInvalidated: () => false,
      wasSoftInvalidated: () => soft(),
    };
  }

  it('a hit listener that reads another key: get and getOrCreate return the key they were asked for', async () => {
    const region = new CacheRegion().configure(new DictionaryBackend());
    await region.set('a', { name: 'A' });
    await region.set('b', { name: 'B' });
    region.on('hit', ({ key }) => {
      if (key === 'a') void region.get('b');
    });
    assert.deepEqual(await region.get('a'), { name: 'A' });
    assert.deepEqual(await region.getOrCreate('a', () => ({ name: 'created' })), { name: 'A' });
  });

  it('an invalidation strategy that reads another key: fresh and stale values stay their own', async () => {
    const clock = manualClock();
    let soft = false;
    const region = new CacheRegion({ clock });
    region.configure(new DictionaryBackend({ clock }), {
      expirationTime: 60,
      regionInvalidator: readingStrategy(
        () => void region.get('b'),
        () => soft,
      ),
    });
    await region.set('a', 'A');
    await region.set('b', 'B');
    assert.equal(await region.get('a'), 'A');
    assert.equal(await region.has('a'), true);
    assert.equal(await region.getOrCreate('a', () => 'created'), 'A');
    // Soft-invalidated: the first caller regenerates while a second is served the stale value it read.
    soft = true;
    let finish: (value: string) => void = () => {};
    const regenerating = region.getOrCreate('a', () => new Promise<string>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const stale = await region.getOrCreate('a', () => 'second creator');
    assert.equal(stale, 'A', 'the stale value of a, not the b read in between');
    soft = false;
    finish('new A');
    assert.equal(await regenerating, 'new A');
    assert.equal(await region.get('a'), 'new A');
  });
});

describe('get and getOrCreate answer with a promise, never a synchronous throw', () => {
  // Both return their promise themselves (not async functions, for the hit path): every failure must
  // still reach the caller as a rejection, whatever path it happens on.
  const rejection = (call: () => Promise<unknown>): Promise<string> => {
    let promise: Promise<unknown>;
    try {
      promise = call();
    } catch (error) {
      return Promise.resolve(`threw ${(error as Error).name}`);
    }
    return promise.then(
      () => 'resolved',
      (error: Error) => `rejected ${error.name}`,
    );
  };

  it('bad input, an unconfigured region, and an invalidation strategy that throws on the synchronous hit path', async () => {
    const region = new CacheRegion().configure(new DictionaryBackend(), { expirationTime: 60 });
    await region.set('k', 'v');
    assert.equal(await rejection(() => region.get(1 as never)), 'rejected ValidationError');
    assert.equal(await rejection(() => region.get('k', { expirationTime: 'soon' } as never)), 'rejected ValidationError');
    assert.equal(await rejection(() => region.getOrCreate(1 as never, () => 1)), 'rejected ValidationError');
    assert.equal(await rejection(() => region.getOrCreate('k', 'v' as never)), 'rejected ValidationError');
    assert.equal(await rejection(() => new CacheRegion().get('k')), 'rejected RegionNotConfiguredError');
    assert.equal(await rejection(() => new CacheRegion().getOrCreate('k', () => 1)), 'rejected RegionNotConfiguredError');
    const failing = (): boolean => {
      throw new RangeError('a strategy failed');
    };
    const strict = new CacheRegion().configure(new DictionaryBackend(), {
      expirationTime: 60,
      regionInvalidator: {
        invalidate() {},
        isHardInvalidated: failing,
        isSoftInvalidated: failing,
        isInvalidated: failing,
        wasHardInvalidated: () => false,
        wasSoftInvalidated: () => false,
      },
    });
    await strict.set('k', 'v');
    assert.equal(await rejection(() => strict.get('k')), 'rejected RangeError');
    assert.equal(await rejection(() => strict.getOrCreate('k', () => 'new')), 'rejected RangeError');
  });
});
