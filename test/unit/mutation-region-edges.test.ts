// Edges of src/region.ts the other mutation-region files leave open: a Dictionary that keeps time by a
// clock of its own (the region hands the store its own clock reading only when they share the clock),
// the bounds of the duration options, and the backend a replaced region closes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DictionaryBackend,
  MAX_TIMER_SECONDS,
  NO_VALUE,
  ProxyBackend,
  SerializationError,
  ValidationError,
  manualClock,
} from '../../src/index.js';

/** A region whose clock runs a day ahead of its Dictionary's, which expires entries after 60 s by its own clock. */
function skewed(expirationTime: number | null): { region: CacheRegion; storeClock: ReturnType<typeof manualClock> } {
  const storeClock = manualClock();
  const regionClock = manualClock(storeClock() + 86_400_000);
  const backend = new DictionaryBackend({ clock: storeClock, expirationTime: 60 });
  const region = new CacheRegion({ clock: regionClock }).configure(backend, { expirationTime });
  return { region, storeClock };
}

describe('a Dictionary with a clock of its own', () => {
  for (const expirationTime of [null, 3600]) {
    it(`expires entries by its own clock, for every read and write (region expiration ${expirationTime})`, async () => {
      const { region, storeClock } = skewed(expirationTime);
      await region.set('k', 'v');
      assert.equal(await region.get('k'), 'v', "fresh: the store's 60 s run on the store's clock");
      assert.equal(await region.has('k'), true);
      assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
      storeClock.advance(59_000);
      assert.equal(await region.get('k'), 'v');
      storeClock.advance(2_000);
      assert.equal(await region.get('k'), NO_VALUE, "61 s later by the store's clock: gone");
      assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
      assert.equal(await region.get('k'), 'new');
      storeClock.advance(61_000);
      assert.equal(await region.getOrCreate('k', () => 'newer'), 'newer', 'the value getOrCreate stored expires by the store clock too');
    });
  }
});

describe('duration options are bounded, and the message names the option', () => {
  it('staleIfErrorFor: 0 to the timer limit', () => {
    assert.doesNotThrow(() => new CacheRegion({ staleIfErrorFor: 0 }));
    assert.doesNotThrow(() => new CacheRegion({ staleIfErrorFor: MAX_TIMER_SECONDS }));
    assert.throws(
      () => new CacheRegion({ staleIfErrorFor: MAX_TIMER_SECONDS + 1 }),
      (e: Error) => e instanceof ValidationError && /staleIfErrorFor/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ staleIfErrorFor: -1 }),
      (e: Error) => e instanceof ValidationError && /staleIfErrorFor/.test(e.message),
    );
  });

  it('tagCheckInterval: up to the timer limit', () => {
    assert.doesNotThrow(() => new CacheRegion({ tagCheckInterval: MAX_TIMER_SECONDS }));
    assert.throws(
      () => new CacheRegion({ tagCheckInterval: MAX_TIMER_SECONDS + 1 }),
      (e: Error) => e instanceof ValidationError && /tagCheckInterval/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ tagCheckInterval: 'often' as never }),
      (e: Error) => e instanceof ValidationError && /tagCheckInterval/.test(e.message),
    );
  });

  it('creatorTimeout: from a millisecond to the timer limit', async () => {
    assert.doesNotThrow(() => new CacheRegion({ creatorTimeout: 0.001 }));
    assert.doesNotThrow(() => new CacheRegion({ creatorTimeout: MAX_TIMER_SECONDS }));
    assert.throws(
      () => new CacheRegion({ creatorTimeout: 0.0009 }),
      (e: Error) => e instanceof ValidationError && /creatorTimeout/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ creatorTimeout: MAX_TIMER_SECONDS + 1 }),
      (e: Error) => e instanceof ValidationError && /creatorTimeout/.test(e.message),
    );
    const region = new CacheRegion().configure('dictionary');
    await assert.rejects(
      region.getOrCreate('k', () => 1, { creatorTimeout: 0 }),
      (e: Error) => e instanceof ValidationError && /creatorTimeout/.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => [1], { creatorTimeout: 0 }),
      (e: Error) => e instanceof ValidationError && /creatorTimeout/.test(e.message),
    );
  });

  it('an entry TTL: from a millisecond; the message names the option of the call', async () => {
    const region = new CacheRegion().configure('dictionary');
    await region.set('k', 1, { expirationTime: 0.001 });
    await assert.rejects(
      region.set('k', 1, { expirationTime: 0.0009 }),
      (e: Error) => e instanceof ValidationError && /expirationTime/.test(e.message),
    );
    await assert.rejects(
      region.getOrCreate('k', () => 1, { entryExpirationTime: 0.0009 }),
      (e: Error) => e instanceof ValidationError && /entryExpirationTime/.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => [1], { entryExpirationTime: 0 }),
      (e: Error) => e instanceof ValidationError && /entryExpirationTime/.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => [1], { expirationTime: -2 }),
      (e: Error) => e instanceof ValidationError && /expirationTime/.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => [1], { tags: [''] }),
      (e: Error) => e instanceof ValidationError && /tags/.test(e.message),
    );
  });

  it('a bad option fails on a hit too (it is checked before the read)', async () => {
    const region = new CacheRegion().configure('dictionary');
    await region.set('k', 1);
    await assert.rejects(
      region.getOrCreate('k', () => 2, { creatorTimeout: 'soon' as never }),
      ValidationError,
    );
    await assert.rejects(
      region.getOrCreate('k', () => 2, { entryExpirationTime: -1 }),
      ValidationError,
    );
    await assert.rejects(
      region.getOrCreate('k', () => 2, { tags: 'one' as never }),
      ValidationError,
    );
    await assert.rejects(region.getMulti(['k'], { expirationTime: 'soon' as never }), ValidationError);
    await assert.rejects(region.has('k', { expirationTime: 'soon' as never }), ValidationError);
    await assert.rejects(region.getValueMetadata('k', { expirationTime: 'soon' as never }), ValidationError);
  });
});

describe('a replaced backend', () => {
  it('is closed at once when nothing is in flight; the same instance configured again is not closed', async () => {
    let closed = 0;
    class Closing extends DictionaryBackend {
      override async close(): Promise<void> {
        closed++;
        await super.close();
      }
    }
    const first = new Closing();
    const region = new CacheRegion().configure(first);
    region.configure(first, { replaceExistingBackend: true });
    assert.equal(closed, 0);
    region.configure(new Closing(), { replaceExistingBackend: true });
    assert.equal(closed, 1);
  });

  it('is closed once the calls made on it have settled (getOrCreate, getOrCreateMulti included)', async () => {
    let closed = 0;
    class Closing extends DictionaryBackend {
      override async close(): Promise<void> {
        closed++;
        await super.close();
      }
    }
    for (const use of [
      (r: CacheRegion) => r.getOrCreate('k', () => 1),
      (r: CacheRegion) => r.getOrCreateMulti(['k'], () => [1]),
      (r: CacheRegion) => r.delete('k'),
    ]) {
      closed = 0;
      const region = new CacheRegion().configure(new Closing());
      await use(region);
      region.configure('dictionary', { replaceExistingBackend: true });
      assert.equal(closed, 1);
    }
  });

  it('replaced while calls are in flight: closed when the last of them settles, not before', async () => {
    let closed = 0;
    class Closing extends DictionaryBackend {
      override async close(): Promise<void> {
        closed++;
        await super.close();
      }
    }
    const gates = new Map<string, () => void>();
    const gated = (key: string) => () =>
      new Promise<string>((resolve) => {
        gates.set(key, () => resolve(key));
      });
    const region = new CacheRegion().configure(new Closing());
    const first = region.getOrCreate('a', gated('a'));
    const second = region.getOrCreate('b', gated('b'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    region.configure('dictionary', { replaceExistingBackend: true });
    assert.equal(closed, 0, 'calls are still in flight on it');
    gates.get('a')?.();
    assert.equal(await first, 'a');
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(closed, 0, 'one call is still in flight');
    gates.get('b')?.();
    assert.equal(await second, 'b');
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(closed, 1);
  });

  it('a failed close is reported as an error event, not thrown', async () => {
    class FailingClose extends DictionaryBackend {
      override async close(): Promise<void> {
        throw new Error('close failed');
      }
    }
    const region = new CacheRegion({ name: 'closing' }).configure(new FailingClose());
    const errors: string[] = [];
    region.on('error', (e) => errors.push(`${e.region} ${e.operation} ${(e.error as Error).message}`));
    region.configure('dictionary', { replaceExistingBackend: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(errors, ['closing close close failed']);
  });
});

describe('closing, corrupt bytes, and a serializer removed', () => {
  it('region.close() closes the backend', async () => {
    let closed = 0;
    class Closing extends DictionaryBackend {
      override async close(): Promise<void> {
        closed++;
        await super.close();
      }
    }
    const region = new CacheRegion().configure(new Closing());
    await region.close();
    assert.equal(closed, 1);
  });

  it('bytes the serializer cannot read are a miss, reported as a "deserialize" error', async () => {
    const backend = new DictionaryBackend();
    const region = new CacheRegion({ serializer: 'json', name: 'bytes' }).configure(backend);
    const errors: string[] = [];
    region.on('error', (e) => errors.push(`${e.region} ${e.operation}`));
    await backend.setSerialized('k', Buffer.from('{"ct": 1, "v": 2}|not json'));
    assert.equal(await region.get('k'), NO_VALUE);
    assert.deepEqual(errors, ['bytes deserialize']);
    assert.equal(await region.getOrCreate('k', () => 'regenerated'), 'regenerated');
  });

  it('a compressing region whose serializer is set to null stores values as they are', async () => {
    const backend = new DictionaryBackend();
    const region = new CacheRegion({ serializer: 'json', compression: { algorithm: 'gzip', threshold: 1 } }).configure(backend);
    region.serializer = null;
    const value = { big: 'x'.repeat(100) };
    await region.set('k', value);
    assert.equal(await region.get('k'), value, 'no serializer: the object itself');
  });
});

describe("another region's tag invalidation", () => {
  it('reaches every read of this region after tagCheckInterval: has, getMulti, getValueMetadata, getOrCreate, getOrCreateMulti', async () => {
    const reads: [string, (r: CacheRegion) => Promise<unknown>, unknown][] = [
      ['has', (r) => r.has('k'), false],
      ['getMulti', (r) => r.getMulti(['k']), [NO_VALUE]],
      ['getValueMetadata', (r) => r.getValueMetadata('k'), null],
      ['getOrCreate', (r) => r.getOrCreate('k', () => 'new'), 'new'],
      ['getOrCreateMulti', (r) => r.getOrCreateMulti(['k'], () => ['new']), ['new']],
    ];
    for (const [name, read, afterInvalidation] of reads) {
      const clock = manualClock();
      const backend = new DictionaryBackend();
      const writer = new CacheRegion({ clock }).configure(backend);
      const reader = new CacheRegion({ clock, tagCheckInterval: '5s' }).configure(backend, { expirationTime: 3600 });
      await writer.set('k', 'v', { tags: ['t'] });
      assert.equal(await reader.get('k'), 'v', 'reads the tag times once, now');
      clock.advance(1000);
      await writer.invalidateTags(['t']);
      clock.advance(5000);
      assert.deepEqual(await read(reader), afterInvalidation, name);
    }
  });

  it('getOrCreate and getOrCreateMulti read the tag times themselves (nothing read them before)', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend();
    const writer = new CacheRegion({ clock }).configure(backend);
    await writer.set('d', 'v', { tags: ['t'] });
    await writer.set('e', 'v', { tags: ['t'] });
    clock.advance(1000);
    await writer.invalidateTags(['t']);
    const single = new CacheRegion({ clock }).configure(backend, { expirationTime: 3600 });
    assert.equal(await single.getOrCreate('d', () => 'new d'), 'new d');
    const multi = new CacheRegion({ clock }).configure(backend, { expirationTime: 3600 });
    assert.deepEqual(await multi.getOrCreateMulti(['e'], () => ['new e']), ['new e']);
  });
});

describe('the backend in use', () => {
  it('is never closed by the calls made on it, only by close() or its replacement', async () => {
    let closed = 0;
    class Closing extends DictionaryBackend {
      override async close(): Promise<void> {
        closed++;
        await super.close();
      }
    }
    const region = new CacheRegion().configure(new Closing(), { expirationTime: 60 });
    await region.set('a', 1);
    await region.get('a');
    await region.getMulti(['a', 'b']);
    await region.getOrCreate('b', () => 2);
    await region.getOrCreateMulti(['c', 'd'], (...keys) => keys);
    await region.delete('a');
    await region.deleteMulti(['b']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(closed, 0);
    assert.equal(await region.get('c'), 'c');
  });

  it('a SerializationError from a backend write rejects the write, under either policy (a read one would be a miss)', async () => {
    class Refusing extends DictionaryBackend {
      override async set(): Promise<void> {
        throw new SerializationError('the backend cannot encode this value');
      }
    }
    for (const onBackendError of ['throw', 'miss'] as const) {
      const region = new CacheRegion({ onBackendError }).configure(new Refusing(), { wrap: [new ProxyBackend()] });
      const errors: string[] = [];
      region.on('error', (e) => errors.push(e.operation));
      await assert.rejects(region.set('k', 1), SerializationError);
      assert.deepEqual(errors, [], onBackendError);
    }
  });
});
