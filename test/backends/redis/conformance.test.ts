// The Redis backends against real servers (single, Sentinel, Cluster): the shared conformance suite,
// dogpile's byte format, server TTLs, multi-operations in one round trip, the distributed lock, a
// shared client, and bounded failures.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend, keySlot } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, CacheRegion, NO_VALUE, isNoValue, type CachedValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { runBackendConformance } from '../../../src/testing/index.js';
import { redisClusterNodes, redisSentinels, redisUrl } from '../../support/redis.js';

const runner = { describe, it, before, after };
const RUN = `test-redis-${randomUUID().slice(0, 8)}`;
let counter = 0;
const key = (label = 'k'): string => `${RUN}-${label}-${counter++}`;
const payloads = (results: unknown[]): unknown[] => results.map((r) => (isNoValue(r) ? NO_VALUE : (r as CachedValue).payload));

runBackendConformance('RedisBackend', () => new RedisBackend({ url: redisUrl() }), { mutex: false, bytes: true }, runner);
runBackendConformance(
  'RedisBackend with distributed_lock',
  () => new RedisBackend({ url: redisUrl(), distributed_lock: true, lock_timeout: 10 }),
  { mutex: true, bytes: true },
  runner,
);
runBackendConformance(
  'RedisSentinelBackend',
  () => new RedisSentinelBackend({ sentinels: redisSentinels(), lock_timeout: 10 }),
  { mutex: true, bytes: true },
  runner,
);
runBackendConformance(
  'RedisClusterBackend',
  () => new RedisClusterBackend({ startup_nodes: redisClusterNodes() }),
  { mutex: false, bytes: true },
  runner,
);
runBackendConformance(
  'RedisClusterBackend with distributed_lock and a TTL',
  () =>
    new RedisClusterBackend({ startup_nodes: redisClusterNodes(), distributed_lock: true, lock_timeout: 10, redis_expiration_time: 60 }),
  { mutex: true, bytes: true },
  runner,
);

/** Backends made by a test, closed after the file. */
const made: RedisBackend[] = [];
function make<T extends RedisBackend>(backend: T): T {
  made.push(backend);
  return backend;
}
let raw: Redis;
before(() => {
  raw = new Redis(redisUrl());
});
after(async () => {
  await Promise.all(made.map((b) => b.close()));
  const keys = await raw.keys(`*${RUN}*`);
  if (keys.length > 0) await raw.del(...keys);
  await raw.quit();
});

/** Counts the commands a single-server client sends, by name. */
async function countCommands(backend: RedisBackend): Promise<Map<string, number>> {
  const client = (await backend.getClient()) as Redis & { sendCommand(command: { name: string }, stream?: unknown): unknown };
  const counts = new Map<string, number>();
  const original = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    counts.set(command.name, (counts.get(command.name) ?? 0) + 1);
    return original(command, stream);
  };
  return counts;
}

describe('RedisBackend: dogpile byte format and server TTL', () => {
  it('stores JSON(metadata) + "|" + JSON(payload), as dogpile.cache.redis with a JSON serializer', async () => {
    const region = new CacheRegion({ serializer: 'json' }).configure(make(new RedisBackend({ url: redisUrl() })));
    const k = key('format');
    await region.set(k, { a: [1, 'two'] });
    const bytes = (await raw.getBuffer(k))?.toString('utf8') ?? '';
    assert.match(bytes, /^\{"ct": \d+\.\d+, "v": 2\}\|\{"a": \[1, "two"\]\}$/);
    await raw.set(k, '{"ct": 1700000000.5, "v": 2}|"from python"');
    assert.deepEqual(await region.backend.get(k), { payload: 'from python', metadata: { ct: 1700000000.5, v: 2 } });
  });

  it('redis_expiration_time in whole seconds sets a TTL (EX) on set and setMulti', async () => {
    const backend = make(new RedisBackend({ url: redisUrl(), redis_expiration_time: 30 }));
    const counts = await countCommands(backend);
    const [a, b, c] = [key('ttl'), key('ttl'), key('ttl')];
    await backend.set(a, makeCachedValue(1));
    await backend.setMulti({ [b]: makeCachedValue(2), [c]: makeCachedValue(3) });
    for (const k of [a, b, c]) {
      const ttl = await raw.ttl(k);
      assert.ok(ttl > 0 && ttl <= 30, `TTL of ${k} is ${ttl}`);
    }
    assert.equal(counts.get('mset'), undefined, 'a TTL needs SET … EX per key, not MSET');
    assert.equal(counts.get('set'), 3);
  });

  it('a duration string gives sub-second precision (PX)', async () => {
    const backend = make(new RedisBackend({ url: redisUrl(), redisExpirationTime: '1500ms' }));
    const k = key('px');
    await backend.set(k, makeCachedValue(1));
    const pttl = await raw.pttl(k);
    assert.ok(pttl > 0 && pttl <= 1500, `PTTL is ${pttl}`);
  });

  it('without redis_expiration_time entries have no TTL', async () => {
    const backend = make(new RedisBackend({ url: redisUrl() }));
    const k = key('nottl');
    await backend.set(k, makeCachedValue(1));
    assert.equal(await raw.ttl(k), -1);
  });
});

describe('RedisBackend: multi-operations in one round trip', () => {
  it('getMulti is one MGET, setMulti one MSET, deleteMulti one DEL, aligned with the keys', async () => {
    const backend = make(new RedisBackend({ url: redisUrl() }));
    const counts = await countCommands(backend);
    const keys = Array.from({ length: 100 }, () => key('multi'));
    await backend.setMulti(new Map(keys.map((k, i) => [k, makeCachedValue(i)])));
    const missing = key('missing');
    const got = await backend.getMulti([keys[5] as string, missing, keys[5] as string, ...keys]);
    assert.deepEqual(payloads(got), [5, NO_VALUE, 5, ...keys.map((_, i) => i)]);
    await backend.deleteMulti([...keys, missing]);
    assert.deepEqual(payloads(await backend.getMulti(keys.slice(0, 3))), [NO_VALUE, NO_VALUE, NO_VALUE]);
    assert.deepEqual(Object.fromEntries(counts), { mset: 1, mget: 2, del: 1 });
  });

  it('empty multi-operations send nothing', async () => {
    const backend = make(new RedisBackend({ url: redisUrl() }));
    const counts = await countCommands(backend);
    assert.deepEqual(await backend.getMulti([]), []);
    await backend.setMulti({});
    await backend.deleteMulti([]);
    assert.equal(counts.size, 0);
  });
});

describe('RedisClusterBackend: multi-operations grouped by slot and node', () => {
  it('getMulti/setMulti/deleteMulti of 200 keys send one pipeline per node and keep results aligned', async () => {
    const backend = make(new RedisClusterBackend({ startupNodes: redisClusterNodes() }));
    const client = (await backend.getClient()) as unknown as { pipeline(): unknown };
    let pipelines = 0;
    const original = client.pipeline.bind(client);
    client.pipeline = () => {
      pipelines++;
      return original();
    };
    const keys = Array.from({ length: 200 }, () => key('cluster'));
    assert.ok(new Set(keys.map(keySlot)).size > 100, 'the keys spread over many slots');
    await backend.setMulti(new Map(keys.map((k, i) => [k, makeCachedValue(i)])));
    assert.equal(pipelines, 3, 'one pipeline per master');
    const got = await backend.getMulti([...keys].reverse());
    assert.deepEqual(payloads(got), keys.map((_, i) => i).reverse());
    assert.equal(pipelines, 6);
    await backend.deleteMulti(keys);
    assert.deepEqual(payloads(await backend.getMulti(keys.slice(0, 5))), Array(5).fill(NO_VALUE));
  });

  it('keys with one hash tag share a slot', async () => {
    const backend = make(new RedisClusterBackend({ url: `redis://${redisClusterNodes()[0]}` }));
    const keys = [`{${RUN}}a`, `{${RUN}}b`];
    assert.equal(keySlot(keys[0] as string), keySlot(keys[1] as string));
    await backend.setMulti({ [keys[0] as string]: makeCachedValue('a'), [keys[1] as string]: makeCachedValue('b') });
    assert.deepEqual(payloads(await backend.getMulti(keys)), ['a', 'b']);
    await backend.deleteMulti(keys);
  });
});

describe('RedisBackend: the distributed lock', () => {
  it('is SET _lock<key> <token> NX PX lock_timeout, released by compare-and-delete', async () => {
    const backend = make(new RedisBackend({ url: redisUrl(), distributed_lock: true, lock_timeout: 20 }));
    const k = key('lock');
    const mutex = backend.getMutex(k);
    assert.ok(mutex);
    assert.equal(await mutex.acquire(false), true);
    const token = await raw.get(`_lock${k}`);
    assert.match(token ?? '', /^[0-9a-f]{32}$/);
    const pttl = await raw.pttl(`_lock${k}`);
    assert.ok(pttl > 0 && pttl <= 20_000, `lock PTTL ${pttl}`);
    assert.equal(await backend.getMutex(k)?.acquire(false), false);
    // Our lock expired and someone else took it: our release must leave theirs alone.
    await raw.set(`_lock${k}`, 'someone-else');
    await mutex.release();
    assert.equal(await raw.get(`_lock${k}`), 'someone-else');
    await raw.del(`_lock${k}`);
  });

  it('without lock_timeout the lock has no TTL (dogpile), and lock_prefix changes the key', async () => {
    const backend = make(new RedisBackend({ url: redisUrl(), distributed_lock: true, lock_prefix: '_lok.' }));
    const k = key('prefix');
    const mutex = backend.getMutex(k);
    assert.equal(await mutex?.acquire(), true);
    assert.equal(await raw.pttl(`_lok.${k}`), -1);
    assert.equal(await mutex?.locked(), true);
    await mutex?.release();
    assert.equal(await raw.exists(`_lok.${k}`), 0);
  });

  it('a waiting acquire gets the lock once it is released, polling every lock_sleep', async () => {
    const backend = make(new RedisBackend({ url: redisUrl(), distributed_lock: true, lock_sleep: '20ms' }));
    const k = key('wait');
    const first = backend.getMutex(k);
    await first?.acquire();
    let acquired = false;
    const waiting = backend
      .getMutex(k)
      ?.acquire()
      .then((ok) => (acquired = ok));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(acquired, false);
    await first?.release();
    await waiting;
    assert.equal(acquired, true);
    await raw.del(`_lock${k}`);
  });

  it('closing the backend rejects a waiting acquire', async () => {
    const backend = new RedisBackend({ url: redisUrl(), distributed_lock: true });
    const k = key('close');
    await raw.set(`_lock${k}`, 'held');
    const rejected = assert.rejects(backend.getMutex(k)?.acquire() as Promise<boolean>, BackendUnavailableError);
    await new Promise((r) => setTimeout(r, 50));
    await backend.close();
    await rejected;
    await raw.del(`_lock${k}`);
  });

  it('Sentinel defaults to the distributed lock, as dogpile', () => {
    const backend = make(new RedisSentinelBackend({ sentinels: redisSentinels() }));
    assert.ok(backend.getMutex('x'));
    assert.equal(make(new RedisBackend({ url: redisUrl() })).getMutex('x'), null);
  });
});

describe('RedisBackend: connections', () => {
  it('connection_pool shares an existing ioredis client and close() leaves it open', async () => {
    const shared = new Redis(redisUrl());
    try {
      const backend = new RedisBackend({ connection_pool: shared });
      const k = key('shared');
      await backend.set(k, makeCachedValue('v'));
      await backend.close();
      assert.equal(shared.status, 'ready');
      assert.ok((await shared.get(k))?.endsWith('|"v"'));
    } finally {
      await shared.quit();
    }
  });

  it('calls made while the first connection is being set up wait for it (none fails on a client still connecting)', async () => {
    for (const backend of [
      make(new RedisBackend({ url: redisUrl() })),
      make(new RedisClusterBackend({ startup_nodes: redisClusterNodes() })),
    ]) {
      // One call per event-loop turn, so that some arrive after the client exists but before it is ready.
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        calls.push(backend.get(key(`first-${i}`)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const results = await Promise.allSettled(calls);
      assert.deepEqual(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
        [],
      );
    }
  });

  it('host/port/db select the database', async () => {
    const { hostname, port } = new URL(redisUrl());
    const backend = make(new RedisBackend({ host: hostname, port, db: 3 }));
    const k = key('db');
    await backend.set(k, makeCachedValue(1));
    const db3 = new Redis({ host: hostname, port: Number(port), db: 3 });
    try {
      assert.equal(await db3.exists(k), 1);
      assert.equal(await raw.exists(k), 0);
      await db3.del(k);
    } finally {
      await db3.quit();
    }
  });

  it('a server that does not answer: calls fail with BackendUnavailableError within socket_timeout, no password in the message', async () => {
    const backend = new RedisBackend({ url: 'redis://app:hunter2@127.0.0.1:1/0', socket_timeout: 0.5 });
    const started = Date.now();
    const error = await backend.get('k').then(
      () => assert.fail('get resolved'),
      (e: unknown) => e as Error,
    );
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.doesNotMatch(error.message, /hunter2/);
    assert.match(error.message, /ECONNREFUSED/);
    // Generous bound (2 shared cores): the point is "no hang", the deadline is 0.5 s + 0.5 s.
    assert.ok(Date.now() - started < 10_000);
    await assert.rejects(backend.set('k', makeCachedValue(1)), BackendUnavailableError);
    await backend.close();
    await assert.rejects(backend.get('k'), BackendUnavailableError);
  });
});
