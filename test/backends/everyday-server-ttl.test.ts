/**
 * An entry's own TTL (`region.set(key, value, { expirationTime })`, issue 22 item 3) also bounds its
 * life on the server, on the backends with a per-write server TTL: Redis (SET … PX) and memcached
 * (exptime). Real servers; the only waits are memcached's (it has no TTL read-back), and they assert
 * that an entry is gone after well over its TTL, never how fast.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CacheRegion, NO_VALUE } from '../../src/index.js';
import { memcachedServers } from '../support/servers.js';
import { redisUrl } from '../support/redis.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);

describe('Redis: the server TTL follows the entry TTL', () => {
  let raw: Redis;
  const regions: CacheRegion[] = [];
  const region = (args: Record<string, unknown> = {}): CacheRegion => {
    const r = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', { expirationTime: 600, arguments: { url: redisUrl(), ...args } });
    regions.push(r);
    return r;
  };
  before(() => {
    raw = new Redis(redisUrl());
  });
  after(async () => {
    for (const r of regions) await r.close();
    const keys = await raw.keys(`everyday-${run}-*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  it('set and setMulti with expirationTime give the key a PTTL of at most that; plain set keeps none', async () => {
    const r = region();
    await r.set(`everyday-${run}-one`, 'v', { expirationTime: 60 });
    await r.setMulti({ [`everyday-${run}-a`]: 1, [`everyday-${run}-b`]: 2 }, { expirationTime: '90s' });
    await r.set(`everyday-${run}-plain`, 'p');
    const one = await raw.pttl(`everyday-${run}-one`);
    assert.ok(one > 0 && one <= 60_000, `PTTL ${one}`);
    for (const k of ['a', 'b']) {
      const ttl = await raw.pttl(`everyday-${run}-${k}`);
      assert.ok(ttl > 60_000 && ttl <= 90_000, `PTTL ${ttl}`);
    }
    assert.equal(await raw.pttl(`everyday-${run}-plain`), -1, 'no TTL of its own, no server TTL configured');
  });

  it('with redis_expiration_time, the longer of the two applies (stale values stay servable)', async () => {
    const r = region({ redis_expiration_time: 120 });
    await r.set(`everyday-${run}-short`, 's', { expirationTime: 60 });
    await r.set(`everyday-${run}-long`, 'l', { expirationTime: '1h' });
    const short = await raw.pttl(`everyday-${run}-short`);
    const long = await raw.pttl(`everyday-${run}-long`);
    assert.ok(short > 60_000 && short <= 120_000, `PTTL ${short}`);
    assert.ok(long > 120_000 && long <= 3_600_000, `PTTL ${long}`);
  });
});

describe('memcached (servers given as memcached:// URLs): the server TTL follows the entry TTL', () => {
  let region: CacheRegion;
  before(() => {
    // memcached://host:port URLs (issue 22 item 8) are accepted: this suite uses them against the real servers.
    region = new CacheRegion().configure('oslo_cache.memcache_pool', { expirationTime: 600, arguments: { url: memcachedServers().map((s) => `memcached://${s}`) } });
  });
  after(() => region.close());

  it('an entry set with a 1 s TTL is gone from the server (even ignoring expiration) after 3 s; one without stays', async () => {
    const [short, multi, plain] = ['short', 'multi', 'plain'].map((k) => `everyday-${run}-${k}`) as [string, string, string];
    await region.set(short, 'gone', { expirationTime: 1 });
    await region.setMulti({ [multi]: 'gone too' }, { expirationTime: 1 });
    await region.set(plain, 'kept');
    // memcached expires by whole seconds of its own clock: 3 s is well past a 1 s exptime.
    await sleep(3000);
    assert.equal(await region.get(short, { ignoreExpiration: true }), NO_VALUE);
    assert.equal(await region.get(multi, { ignoreExpiration: true }), NO_VALUE);
    assert.equal(await region.get(plain), 'kept');
  });
});

describe('Redis: a tag invalidation reaches another process', () => {
  it("region B misses an entry once region A invalidated its tag, within B's tagCheckInterval", async () => {
    const a = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', { expirationTime: 600, arguments: { url: redisUrl() } });
    const b = new CacheRegion({ serializer: 'json', tagCheckInterval: '50ms' }).configure('dogpile.cache.redis', { expirationTime: 600, arguments: { url: redisUrl() } });
    const raw = new Redis(redisUrl());
    const key = `everyday-${run}-tagged`;
    const tag = `everyday-${run}-tag`;
    try {
      await a.set(key, 'v', { tags: [tag] });
      assert.equal(await b.get(key), 'v');
      await a.invalidateTags([tag]);
      // Past B's 50 ms interval (generous: the bound is what is asserted, not the speed).
      await sleep(200);
      assert.equal(await b.get(key), NO_VALUE);
      assert.match((await raw.getBuffer(`dogpile-cache:tag:${tag}`))?.toString('latin1') ?? '', /^\{"ct": [0-9.]+, "v": 2\}\|\{"h": [0-9.]+, "s": 0\}$/);
    } finally {
      await raw.del(key, `dogpile-cache:tag:${tag}`);
      await raw.quit();
      await a.close();
      await b.close();
    }
  });
});

describe('memcached with compression: the 1 MiB item limit applies to the compressed size', () => {
  it('a 2 MiB value that gzips small is stored and read back; without compression it is ValueTooLargeError', async () => {
    const args = { url: memcachedServers() };
    const plain = new CacheRegion().configure('oslo_cache.memcache_pool', { expirationTime: 600, arguments: args });
    const compressing = new CacheRegion({ compression: { algorithm: 'gzip', threshold: 1024 } }).configure('oslo_cache.memcache_pool', { expirationTime: 600, arguments: args });
    const value = { text: 'x'.repeat(2 * 1024 * 1024) };
    const key = `everyday-${run}-compressed`;
    try {
      await assert.rejects(plain.set(key, value), (e: Error) => e.name === 'ValueTooLargeError');
      await compressing.set(key, value);
      assert.deepEqual(await compressing.get(key), value);
    } finally {
      await compressing.delete(key);
      await plain.close();
      await compressing.close();
    }
  });
});
