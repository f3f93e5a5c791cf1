/**
 * An entry's own TTL (`region.set(key, value, { expirationTime })`, issue 22 item 3) also bounds its
 * life on the server, on the backends with a per-write server TTL: Redis (SET … PX), memcached
 * (exptime), Mongo (the `doc_date` its TTL index or sweep uses) and etcd (a lease per TTL, shared by the
 * writes of that TTL). Real servers; the only waits are memcached's (it has no TTL read-back), and they
 * assert that an entry is gone after well over its TTL, never how fast.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CacheRegion, NO_VALUE } from '../../src/index.js';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { etcdEndpoints, memcachedServers } from '../support/servers.js';
import { DB, closeRawClient, collectionName, rawCollection, url as mongoUrl } from '../support/mongo.js';
import { redisUrl } from '../support/redis.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);

describe('Redis: the server TTL follows the entry TTL', () => {
  let raw: Redis;
  const regions: CacheRegion[] = [];
  const region = (args: Record<string, unknown> = {}): CacheRegion => {
    const r = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', {
      expirationTime: 600,
      arguments: { url: redisUrl(), ...args },
    });
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
    region = new CacheRegion().configure('oslo_cache.memcache_pool', {
      expirationTime: 600,
      arguments: { url: memcachedServers().map((s) => `memcached://${s}`) },
    });
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
    const a = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', {
      expirationTime: 600,
      arguments: { url: redisUrl() },
    });
    const b = new CacheRegion({ serializer: 'json', tagCheckInterval: '50ms' }).configure('dogpile.cache.redis', {
      expirationTime: 600,
      arguments: { url: redisUrl() },
    });
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
      assert.match(
        (await raw.getBuffer(`dogpile-cache:tag:${tag}`))?.toString('latin1') ?? '',
        /^\{"ct": [0-9.]+, "v": 2\}\|\{"h": [0-9.]+, "s": 0\}$/,
      );
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
    const compressing = new CacheRegion({ compression: { algorithm: 'gzip', threshold: 1024 } }).configure('oslo_cache.memcache_pool', {
      expirationTime: 600,
      arguments: args,
    });
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

describe('Mongo: doc_date follows the entry TTL', () => {
  const backends: MongoBackend[] = [];
  const collections: string[] = [];
  let now = Date.UTC(2026, 0, 1);
  const clock = (): number => now;
  const region = (args: Record<string, unknown> = {}): { region: CacheRegion; collection: string } => {
    const collection = collectionName('everyday');
    collections.push(collection);
    const backend = new MongoBackend({ db_hosts: mongoUrl(), db_name: DB, cache_collection: collection, clock, ...args });
    backends.push(backend);
    return { region: new CacheRegion({ clock }).configure(backend, { expirationTime: 600 }), collection };
  };
  const docDate = async (collection: string, key: string): Promise<number> => {
    const doc = await (await rawCollection(collection)).findOne({ _id: key });
    assert.ok(doc?.doc_date instanceof Date, `doc_date of ${key}: ${String(doc?.doc_date)}`);
    return doc.doc_date.getTime();
  };
  after(async () => {
    for (const backend of backends) await backend.close();
    for (const collection of collections) await (await rawCollection(collection)).drop().catch(() => undefined);
    await closeRawClient();
  });

  it('set and setMulti with expirationTime write doc_date = now + that TTL; plain set never expires', async () => {
    const { region: r, collection } = region();
    await r.set('one', 'v', { expirationTime: 60 });
    await r.setMulti({ a: 1, b: 2 }, { expirationTime: '90s' });
    await r.set('plain', 'p');
    assert.equal(await docDate(collection, 'one'), now + 60_000);
    assert.equal(await docDate(collection, 'a'), now + 90_000);
    assert.equal(await docDate(collection, 'b'), now + 90_000);
    assert.equal(await docDate(collection, 'plain'), Date.UTC(9999, 11, 31, 23, 59, 59, 999), 'no TTL of its own, no mongo_ttl_seconds');
  });

  it('with mongo_ttl_seconds, the longer of the two applies (stale values stay servable)', async () => {
    const { region: r, collection } = region({ mongo_ttl_seconds: 120 });
    await r.set('short', 's', { expirationTime: 60 });
    await r.set('long', 'l', { expirationTime: '1h' });
    await r.set('plain', 'p');
    assert.equal(await docDate(collection, 'short'), now + 120_000);
    assert.equal(await docDate(collection, 'long'), now + 3_600_000);
    assert.equal(await docDate(collection, 'plain'), now + 120_000);
  });

  it('without mongo_ttl_seconds, the first write with a TTL asks for the doc_date TTL index, or sweeps where the server has none', async () => {
    const { region: r, collection } = region({ sweep_interval: '50ms' });
    await r.set('plain', 'kept');
    const raw = await rawCollection(collection);
    assert.equal(
      (await raw.indexes()).some((index) => index.name === 'doc_date_1'),
      false,
      'no index before a write with a TTL',
    );
    await r.set('short', 'gone', { expirationTime: 1 });
    const ttlIndex = (await raw.indexes().catch(() => [])).find((index) => index.name === 'doc_date_1');
    if (ttlIndex !== undefined) {
      // MongoDB: its TTL monitor (once a minute, on real time) deletes the document.
      assert.deepEqual([ttlIndex.key, ttlIndex.expireAfterSeconds], [{ doc_date: 1 }, 0]);
    } else {
      // FerretDB has no TTL indexes: the sweep deletes the document once the (injected) clock passes doc_date.
      now += 5_000;
      for (let i = 0; i < 100 && (await raw.countDocuments({ _id: 'short' })) > 0; i++) await sleep(50);
      assert.equal(await raw.countDocuments({ _id: 'short' }), 0, 'swept');
    }
    assert.equal(await raw.countDocuments({ _id: 'plain' }), 1, 'an entry without a TTL stays');
  });
});

describe('etcd: a lease per entry TTL, shared by the writes of that TTL', () => {
  const backends: Etcd3Backend[] = [];
  const region = (args: Record<string, unknown> = {}): { region: CacheRegion; backend: Etcd3Backend; namespace: string } => {
    const namespace = `everyday-${run}-${backends.length}/`;
    const backend = new Etcd3Backend({ endpoints: etcdEndpoints(), namespace, ...args });
    backends.push(backend);
    return { region: new CacheRegion().configure(backend, { expirationTime: 600 }), backend, namespace };
  };
  /** The lease of the stored key and the TTL etcd granted it (0 and 0: no lease). */
  const leaseOf = async (backend: Etcd3Backend, namespace: string, key: string): Promise<{ id: string; granted: number }> => {
    const client = await backend.getClient();
    const stored = Buffer.concat([Buffer.from(namespace), Buffer.of(0xff), Buffer.from(key)]);
    const kv = (await client.kv.range({ key: stored })).kvs[0];
    assert.ok(kv !== undefined, `${key} is stored`);
    if (kv.lease === '0') return { id: '0', granted: 0 };
    const { grantedTTL } = await client.leaseClient.leaseTimeToLive({ ID: kv.lease });
    return { id: kv.lease, granted: Number(grantedTTL) };
  };
  after(async () => {
    for (const backend of backends) {
      await backend.clear().catch(() => undefined);
      await backend.close();
    }
  });

  it('set and setMulti with expirationTime attach a lease of that TTL (plus its window), one lease for the writes of one TTL; plain set none', async () => {
    const { region: r, backend, namespace } = region({ revoke_leases_on_close: true });
    await r.set('one', 'v', { expirationTime: 60 });
    await r.set('two', 'v', { expirationTime: 60 });
    await r.setMulti({ a: 1, b: 2 }, { expirationTime: '90s' });
    await r.set('plain', 'p');
    const [one, two, a, b, plain] = await Promise.all(['one', 'two', 'a', 'b', 'plain'].map((k) => leaseOf(backend, namespace, k)));
    assert.equal(one?.granted, 66, 'TTL 60 + a window of a tenth');
    assert.equal(two?.id, one?.id, 'writes of the same TTL share the lease');
    assert.equal(a?.granted, 99);
    assert.equal(b?.id, a?.id);
    assert.notEqual(a?.id, one?.id, 'another TTL, another lease');
    assert.deepEqual(plain, { id: '0', granted: 0 }, 'no TTL of its own, no lease_ttl');
  });

  it('with lease_ttl, the longer of the two applies: a shorter entry TTL keeps the backend lease, a longer one gets its own', async () => {
    const { region: r, backend, namespace } = region({ lease_ttl: 120, revoke_leases_on_close: true });
    await r.set('short', 's', { expirationTime: 60 });
    await r.set('plain', 'p');
    await r.set('long', 'l', { expirationTime: '1h' });
    const [short, plain, long] = await Promise.all(['short', 'plain', 'long'].map((k) => leaseOf(backend, namespace, k)));
    assert.equal(short?.id, plain?.id, 'the backend lease');
    assert.equal(plain?.granted, 132, 'lease_ttl 120 + its window');
    assert.equal(long?.granted, 3960, '1 h + a tenth');
  });

  it('TTLs computed per entry share leases: 1000 writes with TTLs from 1000 to 1999 s take 11 leases (one per rounded TTL)', async () => {
    const { region: r, backend, namespace } = region({ revoke_leases_on_close: true });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => r.set(`computed-${i}`, i, { expirationTime: 1000 + i })));
    const client = await backend.getClient();
    const all = new Set(
      (
        await client.kv.range({
          key: Buffer.concat([Buffer.from(namespace), Buffer.of(0xff)]),
          range_end: Buffer.concat([Buffer.from(namespace.slice(0, -1)), Buffer.from('0')]),
        })
      ).kvs.map((kv) => kv.lease),
    );
    assert.equal(all.size, 11, `${all.size} leases for 1000 TTLs (rounded up to two significant figures: 1000, 1100, ... 2000)`);
    const first = await leaseOf(backend, namespace, 'computed-0');
    assert.equal(first.granted, 1000 + 100, 'rounded to 1000, plus a window of a tenth');
    const last = await leaseOf(backend, namespace, 'computed-999');
    assert.equal(last.granted, 2000 + 200, '1999 rounds up to 2000');
  });
});
