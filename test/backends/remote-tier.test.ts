/**
 * The local tier and shared invalidation in one process over real servers (issue 18): the byte bound,
 * shared invalidation by polling, notifications over Redis (single, Sentinel, Cluster), and
 * degradation when the notification transport drops or cannot be made. The cross-process behaviour
 * is in test/processes/tier-processes.test.ts (real processes).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CacheBackend,
  CacheRegion,
  DictionaryBackend,
  ProxyBackend,
  ValidationError,
  isNoValue,
  type CachedValue,
} from '../../src/index.js';
import { manualClock } from '../../src/clock.js';
import {
  LocalTier,
  SharedInvalidationStrategy,
  RedisNotifications,
  SHARED_INVALIDATION_PREFIX,
  type NotificationListener,
  type NotificationTransport,
} from '../../src/tier/index.js';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from '../../src/backends/redis/index.js';
import { SUBSCRIBER_NAME } from '../../src/backends/redis/notifications.js';
import { CountingProxy, makeBackend } from '../support/tier.js';
import { PrivateRedis, redisCli, redisClusterNodes, redisSentinels, redisUrl, waitUntil } from '../support/redis.js';

function tierRegion(tier: LocalTier, backend: CacheBackend = new DictionaryBackend()): { region: CacheRegion; counter: CountingProxy } {
  const counter = new CountingProxy();
  const region = new CacheRegion().configure(backend, { wrap: [tier, counter] });
  return { region, counter };
}

describe('LocalTier over memcached', () => {
  it('keeps at most maxBytes (key length + stored bytes), and never an entry larger than the bound', async () => {
    const tier = new LocalTier({ maxBytes: 100 });
    const { region } = tierRegion(tier, makeBackend('memcached'));
    const prefix = randomUUID();
    await region.set(`${prefix}:big`, 'x'.repeat(500));
    await region.get(`${prefix}:big`);
    assert.equal(tier.stats().size, 0, 'an entry over maxBytes is not kept');
    for (let i = 0; i < 10; i++) {
      await region.set(`${prefix}:${i}`, i);
      await region.get(`${prefix}:${i}`);
    }
    assert.ok(tier.stats().bytes <= 100, `bytes ${tier.stats().bytes}`);
    assert.ok(tier.stats().size >= 1 && tier.stats().size < 10, `size ${tier.stats().size}`);
    await region.close();
  });
});

describe('LocalTier hits touch no network (counted), on every backend', () => {
  for (const kind of ['memcached', 'redis', 'mongo', 'etcd3'] as const) {
    it(`${kind}: 200 hits after one read reach the backend 0 times and return the value`, async () => {
      const tier = new LocalTier({ ttl: 60 });
      const { region, counter } = tierRegion(tier, makeBackend(kind));
      const key = `${randomUUID()}:hot`;
      await region.set(key, { id: 1, name: 'hot' });
      assert.deepEqual(await region.get(key), { id: 1, name: 'hot' });
      const before = counter.calls;
      for (let i = 0; i < 100; i++) {
        assert.deepEqual(await region.get(key), { id: 1, name: 'hot' });
        assert.deepEqual(await region.getOrCreate(key, () => ({ id: 2, name: 'created' })), { id: 1, name: 'hot' });
      }
      assert.equal(counter.calls - before, 0, 'no call reached the backend');
      await region.close();
    });
  }
});

describe('SharedInvalidationStrategy', () => {
  const regions: CacheRegion[] = [];
  after(async () => {
    await Promise.all(regions.map((r) => r.close()));
  });
  const shared = (
    name: string,
    options: Partial<ConstructorParameters<typeof SharedInvalidationStrategy>[0]> = {},
    kind: 'memcached' | 'redis' = 'memcached',
  ) => {
    const strategy = new SharedInvalidationStrategy({ name, interval: 0.05, ...options });
    const region = new CacheRegion().configure(makeBackend(kind), { expirationTime: 600, wrap: [strategy], regionInvalidator: strategy });
    regions.push(region);
    return { strategy, region };
  };

  it('an invalidate() in one region reaches another sharing the backend, by polling within the interval', async () => {
    const name = randomUUID();
    const a = shared(name);
    const b = shared(name);
    await a.region.set('k', 'v');
    await sleep(5);
    assert.equal(await b.region.get('k'), 'v');
    a.region.invalidate();
    await a.strategy.flush();
    // The bound is one interval (50 ms); 2 s of slack because the machine is shared by many sessions.
    const deadline = Date.now() + 2000;
    while (!isNoValue(await b.region.get('k')) && Date.now() < deadline) await sleep(5);
    assert.ok(isNoValue(await b.region.get('k')), 'b still served the invalidated value');
    assert.equal(b.strategy.wasHardInvalidated(), true);
  });

  it('a soft invalidation is shared as soft', async () => {
    const name = randomUUID();
    const a = shared(name);
    const b = shared(name);
    a.region.invalidate(false);
    await a.strategy.flush();
    const deadline = Date.now() + 2000;
    while (!b.strategy.wasSoftInvalidated() && Date.now() < deadline) await sleep(5);
    assert.equal(b.strategy.wasSoftInvalidated(), true);
  });

  it('a region created after the invalidation sees it before its first read', async () => {
    const name = randomUUID();
    const a = shared(name);
    await a.region.set('k', 'v');
    await sleep(5);
    a.region.invalidate();
    await a.strategy.flush();
    const late = shared(name, { interval: 60 });
    assert.ok(isNoValue(await late.region.get('k')));
  });

  it('an older invalidation read late never undoes a newer one', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1), { tickMs: 0.001 });
    const name = randomUUID();
    const a = shared(name, { clock });
    await a.strategy.ready();
    a.region.invalidate();
    await a.strategy.flush();
    const b = shared(name, { clock: manualClock(Date.UTC(2025, 0, 1)) });
    await b.strategy.ready();
    b.region.invalidate(); // older: written over a's stamp in the backend
    await b.strategy.flush();
    await sleep(200);
    assert.equal(a.strategy.isInvalidated(Date.UTC(2026, 0, 1) / 1000 - 1), true, 'a kept its newer invalidation');
  });

  it('a name memcached could not hold as a key (spaces, long) still works: it is hashed', async () => {
    const name = `my region ${randomUUID()} ${'x'.repeat(300)}`;
    const errors: unknown[] = [];
    const a = shared(name, { onError: (e) => errors.push(e) });
    const b = shared(name, { onError: (e) => errors.push(e) });
    assert.match(a.strategy.key, /^_dogpile_cache:invalidation:sha1:[0-9a-f]{40}$/);
    a.region.invalidate();
    await a.strategy.flush();
    const deadline = Date.now() + 2000;
    while (!b.strategy.wasHardInvalidated() && Date.now() < deadline) await sleep(10);
    assert.equal(b.strategy.wasHardInvalidated(), true);
    assert.deepEqual(errors, []);
  });

  it('keys under the reserved prefix are a ValidationError, so no user key reaches the invalidation time', async () => {
    const { region } = shared(randomUUID());
    await assert.rejects(
      region.set(`${SHARED_INVALIDATION_PREFIX}x`, 1),
      (e: unknown) => e instanceof ValidationError && /reserved/.test(e.message),
    );
    await assert.rejects(region.get(`${SHARED_INVALIDATION_PREFIX}x`), ValidationError);
    await assert.rejects(region.delete(`${SHARED_INVALIDATION_PREFIX}x`), ValidationError);
  });

  it('a failed write is reported to onError and retried at the next poll', async () => {
    // A proxy that fails the first two writes: a real server does not fail a single write on cue.
    let failures = 2;
    class FailingWrites extends ProxyBackend {
      override set(key: string, value: CachedValue): Promise<void> {
        if (failures-- > 0) return Promise.reject(new Error('injected write failure'));
        return super.set(key, value);
      }
    }
    const errors: string[] = [];
    const name = randomUUID();
    const strategy = new SharedInvalidationStrategy({ name, interval: 0.05, onError: (_, during) => errors.push(during) });
    const backend = makeBackend('memcached');
    const region = new CacheRegion().configure(backend, { wrap: [strategy, new FailingWrites()], regionInvalidator: strategy });
    regions.push(region);
    await strategy.ready();
    region.invalidate();
    await strategy.flush();
    assert.deepEqual(errors, ['write']);
    const other = shared(name);
    const deadline = Date.now() + 3000;
    while (!other.strategy.wasHardInvalidated() && Date.now() < deadline) await sleep(10);
    assert.equal(other.strategy.wasHardInvalidated(), true, 'the write was retried and reached the other region');
    assert.ok(errors.length >= 2);
  });

  it('rejects bad options with a ValidationError naming the option', () => {
    assert.throws(
      () => new SharedInvalidationStrategy({ name: '' }),
      (e: unknown) => e instanceof ValidationError && /name/.test(e.message),
    );
    assert.throws(
      () => new SharedInvalidationStrategy({ name: 'r', interval: 0 }),
      (e: unknown) => e instanceof ValidationError && /interval/.test(e.message),
    );
    assert.throws(
      () => new SharedInvalidationStrategy({ name: 'r', interval: 'often' }),
      (e: unknown) => e instanceof ValidationError && /interval/.test(e.message),
    );
    assert.throws(() => new SharedInvalidationStrategy(undefined as never), ValidationError);
  });
});

/**
 * Wraps a real transport and drops it on cue: down() to the listeners, and messages lost while down.
 * A mock of the fault only (the messages still travel through the real Redis): the shared Redis
 * server cannot be stopped, and killing only this test's subscriber connection reconnects at once.
 */
class DroppableTransport implements NotificationTransport {
  readonly #inner: NotificationTransport;
  readonly #listeners: NotificationListener[] = [];
  down = false;
  constructor(inner: NotificationTransport) {
    this.#inner = inner;
  }
  publish(channel: string, text: string): Promise<void> {
    return this.down ? Promise.resolve() : this.#inner.publish(channel, text);
  }
  async subscribe(channel: string, listener: NotificationListener) {
    this.#listeners.push(listener);
    return this.#inner.subscribe(channel, {
      message: (text) => void (!this.down && listener.message(text)),
      up: listener.up,
      down: listener.down,
    });
  }
  drop(): void {
    this.down = true;
    for (const listener of this.#listeners) listener.down(new Error('injected drop'));
  }
  restore(): void {
    this.down = false;
    for (const listener of this.#listeners) listener.up();
  }
}

describe('a dropped transport degrades to polling and the local TTL', () => {
  const regions: CacheRegion[] = [];
  after(async () => {
    await Promise.all(regions.map((r) => r.close()));
  });

  function build(name: string, ttl: number, interval: number) {
    const backend = new RedisBackend({ url: redisUrl() });
    const transport = new DroppableTransport(new RedisNotifications(backend));
    const strategy = new SharedInvalidationStrategy({ name, interval, transport, onError: () => undefined });
    const tier = new LocalTier({ ttl, transport, channel: name, onError: () => undefined });
    const region = new CacheRegion().configure(backend, { expirationTime: 600, wrap: [tier, strategy], regionInvalidator: strategy });
    regions.push(region);
    return { region, strategy, tier, transport };
  }

  it('with the subscription live, nothing polls; dropped, the strategy polls and sees an invalidation whose message was lost', async () => {
    const name = randomUUID();
    const a = build(name, 30, 0.1);
    const b = build(name, 30, 0.1);
    await Promise.all([a.strategy.ready(), b.strategy.ready(), a.tier.ready(), b.tier.ready()]);
    await sleep(300);
    assert.equal(b.strategy.polls, 1, 'only the initial read while notifications are live');
    await a.region.set('k', 'v');
    await sleep(5);
    assert.equal(await b.region.get('k'), 'v');
    a.transport.drop();
    b.transport.drop();
    assert.equal(b.strategy.notified, false);
    assert.equal(b.tier.stats().size, 0, 'the tier dropped its copies: evictions may be lost from now on');
    a.region.invalidate();
    await a.strategy.flush();
    // Bound: the 100 ms poll interval; 2 s of slack for a loaded machine.
    const deadline = Date.now() + 2000;
    while (!isNoValue(await b.region.get('k')) && Date.now() < deadline) await sleep(10);
    assert.ok(isNoValue(await b.region.get('k')), 'b served an invalidated value past the poll bound');
    assert.ok(b.strategy.polls > 1);
  });

  it('dropped, a set elsewhere (its eviction message lost) is seen within the local TTL', async () => {
    const name = randomUUID();
    const a = build(name, 0.3, 30);
    const b = build(name, 0.3, 30);
    await Promise.all([a.tier.ready(), b.tier.ready(), a.strategy.ready(), b.strategy.ready()]);
    a.transport.drop();
    b.transport.drop();
    await a.region.set('k', 'v1');
    await sleep(5);
    assert.equal(await b.region.get('k'), 'v1');
    await a.region.set('k', 'v2');
    const started = Date.now();
    // Bound: the 300 ms local TTL; 2 s of slack for a loaded machine.
    while ((await b.region.get('k')) !== 'v2' && Date.now() - started < 2300) await sleep(10);
    assert.equal(await b.region.get('k'), 'v2');
    assert.ok(Date.now() - started >= 250, 'the copy was served until its TTL (the message was really lost)');
  });

  it('a subscription that fails at first is tried again until it is live', async () => {
    // A transport whose first subscribe calls fail: a server that is down or slow when the region starts.
    const name = randomUUID();
    const backend = new RedisBackend({ url: redisUrl() });
    const inner = new RedisNotifications(backend);
    let failures = 2;
    const flaky: NotificationTransport = {
      publish: (channel, text) => inner.publish(channel, text),
      subscribe: (channel, listener) =>
        failures-- > 0 ? Promise.reject(new Error('injected subscribe failure')) : inner.subscribe(channel, listener),
    };
    const errors: string[] = [];
    const strategy = new SharedInvalidationStrategy({ name, interval: 0.1, transport: flaky, onError: (_, during) => errors.push(during) });
    const tier = new LocalTier({ ttl: 30, transport: flaky, channel: name, onError: (_, during) => errors.push(during) });
    const region = new CacheRegion().configure(backend, { wrap: [tier, strategy], regionInvalidator: strategy });
    regions.push(region);
    await Promise.all([tier.ready(), strategy.ready()]);
    assert.deepEqual(errors, ['subscribe', 'subscribe']);
    // The tier retries after 1 s, the strategy at its next tick; 5 s of slack for a loaded machine.
    await waitUntil('the subscriptions did not come up', async () => tier.notified && strategy.notified, 6000);
  });

  it('restored, the tier starts clean and the strategy reads the key once before it trusts the subscription', async () => {
    const name = randomUUID();
    const a = build(name, 30, 30);
    await Promise.all([a.tier.ready(), a.strategy.ready()]);
    await a.region.set('k', 'v');
    await a.region.get('k');
    a.transport.drop();
    const polls = a.strategy.polls;
    a.transport.restore();
    assert.equal(a.tier.stats().size, 0);
    // Messages sent while it was down are lost: notified (polling paused) only once the catch-up read succeeded.
    assert.equal(a.strategy.notified, false);
    await waitUntil('the strategy did not go back to notifications', async () => a.strategy.notified, 2000);
    await sleep(100);
    assert.equal(a.strategy.polls, polls + 1);
  });
});

describe('real Redis notifications: Sentinel and Cluster, and a killed subscriber connection', () => {
  const regions: CacheRegion[] = [];
  const privateRedis = new PrivateRedis();
  after(async () => {
    await Promise.all(regions.map((r) => r.close()));
    await privateRedis.dispose();
  });

  function build(backend: RedisBackend, name: string) {
    const transport = new RedisNotifications(backend);
    const strategy = new SharedInvalidationStrategy({ name, interval: 0.1, transport, onError: () => undefined });
    // A 30 s local TTL: a reader that sees a write within 2 s saw it through a message (or a drop).
    const tier = new LocalTier({ ttl: 30, transport, channel: name, onError: () => undefined });
    const region = new CacheRegion().configure(backend, { expirationTime: 600, wrap: [tier, strategy], regionInvalidator: strategy });
    regions.push(region);
    return { region, strategy, tier };
  }

  async function seesWithin(region: CacheRegion, key: string, expected: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if ((await region.get(key)) === expected) return true;
      await sleep(10);
    }
    return (await region.get(key)) === expected;
  }

  for (const [label, make] of [
    ['Sentinel', () => new RedisSentinelBackend({ sentinels: redisSentinels() })],
    ['Cluster', () => new RedisClusterBackend({ startup_nodes: redisClusterNodes() })],
  ] as const) {
    it(`${label}: a set in one region evicts another region's local copy through pub/sub`, async () => {
      const name = randomUUID();
      const a = build(make(), name);
      const b = build(make(), name);
      await Promise.all([a.tier.ready(), b.tier.ready(), a.strategy.ready(), b.strategy.ready()]);
      assert.equal(b.tier.notified, true);
      await a.region.set('k', 'v1');
      assert.equal(await b.region.get('k'), 'v1');
      await a.region.set('k', 'v2');
      // 2 s: slack for a loaded machine; the local TTL (30 s) would be the bound without the message.
      assert.equal(await seesWithin(b.region, 'k', 'v2', 2000), true);
    });
  }

  it('a killed subscriber connection drops the local copies and re-reads the invalidation: writes it was never told of are seen at once', async () => {
    // A private server: this test kills every pub/sub connection on it, and on the shared server it would
    // kill other suites' (and other runs') subscribers too, or have its own killed at a random moment.
    const server = await privateRedis.server();
    await server.start();
    const url = `redis://127.0.0.1:${server.port}`;
    const name = randomUUID();
    const b = build(new RedisBackend({ url }), name);
    // c writes without a transport: nothing tells b, exactly as with a message lost during a drop.
    const cStrategy = new SharedInvalidationStrategy({ name, interval: 60 });
    const c = new CacheRegion().configure(new RedisBackend({ url }), {
      expirationTime: 600,
      wrap: [cStrategy],
      regionInvalidator: cStrategy,
    });
    regions.push(c);
    await Promise.all([b.tier.ready(), b.strategy.ready(), cStrategy.ready()]);
    await c.set('k', 'v1');
    assert.equal(await b.region.get('k'), 'v1');
    // The writes b misses are made before the kill, while b is subscribed: whenever the connections drop and
    // come back (ioredis reconnects after 50 ms, and a loaded machine may take longer than that to run the
    // kill), these writes are older than the drop. Made after the kill instead, they raced the reconnect:
    // once b was subscribed again, a write nobody announces was rightly never seen.
    c.invalidate(false);
    await cStrategy.flush();
    await c.set('k', 'v2');
    assert.equal(await b.region.get('k'), 'v1', 'b was told of the write (the test needs it untold)');
    assert.equal(b.strategy.wasSoftInvalidated(), false, 'b was told of the invalidation (the test needs it untold)');
    const list = await redisCli(server.port, ['CLIENT', 'LIST', 'TYPE', 'pubsub']);
    const ids = list
      .split('\n')
      .filter((line) => line.includes(`name=${SUBSCRIBER_NAME}`))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    assert.equal(ids.length, 2, `b's tier and strategy each have one subscriber connection; found ${ids.length}`);
    for (const id of ids) await redisCli(server.port, ['CLIENT', 'KILL', 'ID', id]);
    // 2 s: slack for a loaded machine; without the drop handling b would serve v1 for its 30 s local TTL,
    // and never see the soft invalidation (its strategy does not poll while notified).
    assert.equal(await seesWithin(b.region, 'k', 'v2', 2000), true, 'b kept serving its copy after its subscription dropped');
    const deadline = Date.now() + 2000;
    while (!b.strategy.wasSoftInvalidated() && Date.now() < deadline) await sleep(10);
    assert.equal(b.strategy.wasSoftInvalidated(), true, 'the invalidation b was not told of was missed after the drop');
    await waitUntil('the subscription did not come back', async () => b.tier.notified && b.strategy.notified, 5000);
  });
});
