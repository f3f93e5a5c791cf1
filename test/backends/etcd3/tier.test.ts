/**
 * The etcd watch transport of issue 18 against a private etcd that is killed and restarted: the
 * watch reports down, the local tier drops its copies and shared invalidation polls, and once etcd is
 * back everything is notified again. (The shared etcd servers are never stopped.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3Backend } from '../../../src/backends/etcd3/index.js';
import { CacheRegion, isNoValue } from '../../../src/index.js';
import { Etcd3Notifications, LocalTier, SharedInvalidationStrategy } from '../../../src/tier/index.js';
import { startPrivateEtcd, type PrivateEtcd } from '../../support/etcd3.js';

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(20);
  }
}

describe('etcd watch notifications, with the server killed and restarted', () => {
  let etcd: PrivateEtcd;
  const regions: CacheRegion[] = [];
  before(async () => {
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await Promise.all(regions.map((r) => r.close().catch(() => undefined)));
    await etcd?.dispose();
  });

  function build(name: string) {
    const backend = new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: 1 });
    const transport = new Etcd3Notifications(backend, { timeout: 2 });
    const strategy = new SharedInvalidationStrategy({ name, interval: 0.2, transport, onError: () => undefined });
    // A 30 s local TTL: a reader that sees a write within seconds saw it through the watch (or a drop).
    const tier = new LocalTier({ ttl: 30, transport, channel: name, onError: () => undefined });
    const region = new CacheRegion().configure(backend, { expirationTime: 600, wrap: [tier, strategy], regionInvalidator: strategy });
    regions.push(region);
    return { region, strategy, tier };
  }

  it('a set evicts the other region through the watch; a killed etcd reports down and drops the copies; back, it is notified again', async () => {
    const name = randomUUID();
    const a = build(name);
    const b = build(name);
    await Promise.all([a.tier.ready(), b.tier.ready(), a.strategy.ready(), b.strategy.ready()]);
    assert.equal(b.tier.notified, true);
    await a.region.set('k', 'v1');
    assert.equal(await b.region.get('k'), 'v1');
    await a.region.set('k', 'v2');
    // Bounds below: generous (seconds) for a loaded 2-core machine; the local TTL alone would be 30 s.
    await until('b did not see v2 through the watch', async () => (await b.region.get('k')) === 'v2', 3000);

    await etcd.kill();
    await until('the watch did not report the drop', () => !b.tier.notified && !b.strategy.notified, 15_000);
    assert.equal(b.tier.stats().size, 0, 'the copies were dropped with the watch');
    await etcd.start();
    // The backend's circuit breaker probes a downed endpoint every 2 s: writes fail until its next probe.
    await until(
      'a could not write after etcd came back',
      () =>
        a.region.set('k', 'v3').then(
          () => true,
          () => false,
        ),
      15_000,
    );
    a.region.invalidate();
    await a.strategy.flush();
    await until('b did not see the invalidation after etcd came back', () => b.strategy.isInvalidated(Date.now() / 1000 - 60), 15_000);
    assert.ok(isNoValue(await b.region.get('k')), 'v3 predates the invalidation');
    await until('the watch did not come back', () => b.tier.notified && b.strategy.notified, 15_000);
    await a.region.set('k2', 'w1');
    assert.equal(await b.region.get('k2'), 'w1');
    await a.region.set('k2', 'w2');
    await until('b did not see w2 through the restored watch', async () => (await b.region.get('k2')) === 'w2', 3000);
  });
});
