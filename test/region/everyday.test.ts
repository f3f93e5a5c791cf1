/**
 * Issue 22 in memory: duration helpers and the "looks like milliseconds" warning, clear() through a
 * proxy and on a backend without it, the metadata bytes of an entry with its own TTL. The per-backend
 * behaviour of has/TTL/clear is in the region conformance suite (src/testing/region-conformance.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheBackend,
  CacheRegion,
  DictionaryBackend,
  MILLISECONDS_WARNING_CODE,
  NO_VALUE,
  ProxyBackend,
  UnsupportedOperationError,
  ValidationError,
  jsonSerializer,
  manualClock,
  ms,
  seconds,
  toMilliseconds,
  type BackendResult,
  type CachedValue,
} from '../../src/index.js';
import { buildSerialized, looksLikeMilliseconds, makeCachedValue, parseSerialized } from '../../src/backend.js';
import { entryTtlOfSerialized, serverTtlSeconds } from '../../src/serializers.js';

describe('duration helpers', () => {
  it('ms() turns milliseconds into a duration string the library reads as such', () => {
    assert.equal(ms(600_000), '600000ms');
    assert.equal(ms('10m'), '10m');
    const region = new CacheRegion().configure('oslo_cache.dict', { expirationTime: ms(600_000) });
    assert.equal(region.expirationTime, 600);
    for (const bad of [-1, Number.NaN, Infinity, 'ten minutes']) assert.throws(() => ms(bad as number), ValidationError);
  });

  it('seconds() and toMilliseconds() convert and check', () => {
    assert.equal(seconds(600), 600);
    assert.equal(seconds('10m'), 600);
    assert.equal(toMilliseconds('10m'), 600_000);
    assert.equal(toMilliseconds(1.5), 1500);
    assert.throws(
      () => seconds(-5),
      (e: Error) => e instanceof ValidationError && /seconds\(value\)/.test(e.message),
    );
  });

  it('looksLikeMilliseconds: 30 days or more and a multiple of 1,000', () => {
    assert.equal(looksLikeMilliseconds(3_600_000), true);
    assert.equal(looksLikeMilliseconds(2_592_000), true, '30 days exactly');
    assert.equal(looksLikeMilliseconds(600_000), false, 'under 30 days: a plausible number of seconds');
    assert.equal(looksLikeMilliseconds(2_592_001), false);
    assert.equal(looksLikeMilliseconds('3600000'), false, 'strings say their unit');
  });

  it('a bare expiration that looks like milliseconds warns once per process; the value is still seconds', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      if ((warning as { code?: string }).code === MILLISECONDS_WARNING_CODE) warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const region = new CacheRegion().configure('oslo_cache.dict', { expirationTime: 3_600_000 });
      assert.equal(region.expirationTime, 3_600_000);
      await region.set('k', 'v', { expirationTime: 7_200_000 });
      new CacheRegion().configure('oslo_cache.dict', { expirationTime: '3600000s' });
      // process warnings are delivered on a later tick
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 1, 'once');
      assert.match(warnings[0]?.message ?? '', /expirationTime 3600000 is read as seconds \(41\.7 days\).*ms\(3600000\)/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

/** A store of values with no clear(): what a third-party backend that cannot clear looks like. */
class NoClearBackend extends CacheBackend {
  readonly #map = new Map<string, CachedValue>();
  async get(key: string): Promise<BackendResult> {
    return this.#map.get(key) ?? NO_VALUE;
  }
  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    return keys.map((key) => this.#map.get(key) ?? NO_VALUE);
  }
  async set(key: string, value: CachedValue): Promise<void> {
    this.#map.set(key, value);
  }
  async setMulti(): Promise<void> {}
  async delete(key: string): Promise<void> {
    this.#map.delete(key);
  }
  async deleteMulti(): Promise<void> {}
}

describe('region.clear()', () => {
  it('reaches the backend under proxies', async () => {
    const region = new CacheRegion().configure(new DictionaryBackend(), { wrap: [ProxyBackend] });
    await region.set('a', 1);
    await region.clear();
    assert.equal(await region.get('a'), NO_VALUE);
  });

  it('on a backend that declares no clear: UnsupportedOperationError naming the backend and the alternative; nothing removed', async () => {
    const region = new CacheRegion().configure(new NoClearBackend());
    await region.set('a', 1);
    await assert.rejects(
      region.clear(),
      (e: Error) => e instanceof UnsupportedOperationError && /NoClearBackend/.test(e.message) && /invalidate\(\)/.test(e.message),
    );
    assert.equal(await region.get('a'), 1);
  });

  it('without a namespace, memcached declares no clear and Redis refuses it naming the argument, before any request', async () => {
    const { PooledMemcachedBackend } = await import('../../src/backends/memcached/index.js');
    const { RedisBackend } = await import('../../src/backends/redis/index.js');
    assert.equal(new PooledMemcachedBackend({ url: '127.0.0.1:1' }).clear, undefined);
    // Nothing listens on port 1: a clear that reached the network would be a BackendUnavailableError.
    const redis = new RedisBackend({ url: 'redis://127.0.0.1:1' });
    await assert.rejects(
      async () => redis.clear(),
      (e: Error) => e instanceof UnsupportedOperationError && /needs a namespace/.test(e.message) && /arguments\.namespace/.test(e.message),
    );
    await redis.close();
  });
});

describe('entry TTL metadata', () => {
  it('an entry without its own TTL keeps dogpile\'s exact bytes; one with it adds "ttl" after ct and v', () => {
    const plain = buildSerialized(makeCachedValue('v', 1_700_000_000_500), jsonSerializer).toString('latin1');
    assert.equal(plain, '{"ct": 1700000000.5, "v": 2}|"v"');
    const bytes = buildSerialized(makeCachedValue('v', 1_700_000_000_500, 90), jsonSerializer);
    assert.equal(bytes.toString('latin1'), '{"ct": 1700000000.5, "v": 2, "ttl": 90}|"v"');
    assert.equal(entryTtlOfSerialized(bytes), 90);
    assert.equal(entryTtlOfSerialized(Buffer.from(plain, 'latin1')), undefined);
    assert.equal(
      entryTtlOfSerialized(Buffer.from('{"ct": 1, "v": 2}|"ttl": 5}', 'latin1')),
      undefined,
      'a payload that looks like the field is not read',
    );
    assert.deepEqual(parseSerialized(bytes, jsonSerializer), { payload: 'v', metadata: { ct: 1_700_000_000.5, v: 2, ttl: 90 } });
  });

  it('serverTtlSeconds: the entry TTL alone, or the longer of the two', () => {
    assert.equal(serverTtlSeconds(0, undefined), 0);
    assert.equal(serverTtlSeconds(0, 60), 60);
    assert.equal(serverTtlSeconds(600, 60), 600);
    assert.equal(serverTtlSeconds(600, 3600), 3600);
  });

  it('a corrupt stored ttl (not a positive number) falls back to the region expiration', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend();
    const region = new CacheRegion({ clock }).configure(backend, { expirationTime: 60 });
    await backend.set('k', { payload: 'v', metadata: { ct: clock() / 1000, v: 2, ttl: Number.NaN } });
    assert.equal(await region.get('k'), 'v');
    clock.advance(61_000);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
  });
});

describe('tags across regions sharing a backend (processes, in effect)', () => {
  it("another region's invalidateTags reaches this one within tagCheckInterval, never later", async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend();
    const writer = new CacheRegion({ clock }).configure(backend);
    const reader = new CacheRegion({ clock, tagCheckInterval: '5s' }).configure(backend);
    await writer.set('k', 'v', { tags: ['user:1'] });
    assert.equal(await reader.get('k'), 'v', 'reads the tag times once, now');
    clock.advance(1000);
    await writer.invalidateTags(['user:1']);
    assert.equal(await writer.get('k'), NO_VALUE, 'the invalidating region sees it at once');
    assert.equal(await reader.get('k'), 'v', 'within the bound the reader may still serve it');
    clock.advance(5000);
    assert.equal(await reader.get('k'), NO_VALUE, 'after the interval the reader has read the new times');
    await writer.close();
    await reader.close();
  });

  it('two invalidations of one tag from two regions both hold (times only move forward)', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend();
    const one = new CacheRegion({ clock }).configure(backend, { expirationTime: 600 });
    const two = new CacheRegion({ clock }).configure(backend, { expirationTime: 600 });
    await one.set('k', 'v', { tags: ['t'] });
    clock.advance(1000);
    await one.invalidateTags(['t']);
    await two.invalidateTags(['t'], false);
    const stored = await backend.get('dogpile-cache:tag:t');
    assert.ok(!NO_VALUE_IS(stored));
    const payload = (stored as CachedValue<{ h: number; s: number }>).payload;
    assert.ok(payload.h > 0 && payload.s > 0, 'the soft invalidation kept the hard one');
  });
});

function NO_VALUE_IS(value: unknown): boolean {
  return value === NO_VALUE;
}

describe('compression', () => {
  const big = { text: 'abc'.repeat(10_000) };

  it('gzip and brotli: payloads over the threshold are stored compressed behind a marker, smaller ones as they are; both read back', async () => {
    for (const algorithm of ['gzip', 'brotli'] as const) {
      const backend = new DictionaryBackend();
      const region = new CacheRegion({ serializer: 'json', compression: { algorithm, threshold: 100 } }).configure(backend);
      await region.set('big', big);
      await region.set('small', 'tiny');
      const stored = await backend.getSerialized('big');
      const bytes = stored as Buffer;
      const payload = bytes.subarray(bytes.indexOf(0x7c) + 1);
      assert.equal(payload.subarray(0, 5).toString('latin1'), `\u0000dpz${algorithm === 'gzip' ? 'g' : 'b'}`);
      assert.ok(payload.length < 1000, `compressed to ${payload.length} bytes`);
      assert.equal(((await backend.getSerialized('small')) as Buffer).toString('latin1').endsWith('|"tiny"'), true);
      assert.deepEqual(await region.get('big'), big);
      assert.equal(await region.get('small'), 'tiny');
    }
  });

  it('a compressing region reads entries written without compression; a corrupt compressed entry is a miss', async () => {
    const backend = new DictionaryBackend();
    const plain = new CacheRegion({ serializer: 'json' }).configure(backend);
    const compressing = new CacheRegion({ serializer: 'json', compression: { algorithm: 'gzip' } }).configure(backend);
    await plain.set('k', big);
    assert.deepEqual(await compressing.get('k'), big);
    await backend.setSerialized('bad', Buffer.from('{"ct": 1700000000.5, "v": 2}|\u0000dpzgnot gzip', 'latin1'));
    assert.equal(await compressing.get('bad', { ignoreExpiration: true }), NO_VALUE);
  });

  it('bad options are ValidationErrors; a backend of values with no serializer is a ConfigurationError at configure()', async () => {
    for (const bad of [{ algorithm: 'zstd' }, 'gzip', { algorithm: 'gzip', threshold: -1 }, { algorithm: 'gzip', threshold: 1.5 }]) {
      assert.throws(
        () => new CacheRegion({ compression: bad as never }),
        (e: Error) => e instanceof ValidationError && /compression/.test(e.message),
      );
    }
    assert.throws(
      () => new CacheRegion({ compression: { algorithm: 'gzip' } }).configure(new DictionaryBackend()),
      (e: Error) => e.name === 'ConfigurationError' && /serializer/.test(e.message),
    );
  });
});

describe('clear() refused under onBackendError "miss"', () => {
  it('an UnsupportedOperationError from the backend is thrown, never swallowed as a backend failure', async () => {
    const { Etcd3Backend } = await import('../../src/backends/etcd3/index.js');
    // No namespace: the backend refuses before sending anything, so no server is needed here.
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(new Etcd3Backend({ endpoints: ['http://127.0.0.1:1'] }));
    try {
      await assert.rejects(region.clear(), (e: Error) => e instanceof UnsupportedOperationError && /namespace/.test(e.message));
    } finally {
      await region.close();
    }
  });
});
