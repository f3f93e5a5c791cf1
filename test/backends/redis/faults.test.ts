// The Redis backends under load while servers fail: a server killed and restarted, a hung server, a
// Sentinel failover, a cluster node killed. Every server here is a private process
// (PrivateRedis in test/support/redis.ts), never a shared one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend, keySlot } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, CacheRegion, NO_VALUE, isNoValue, type CachedValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { PrivateRedis, redisCli, waitUntil } from '../../support/redis.js';
import { guardProcess, maxOf, timed, withDeadline, type Outcome } from '../../support/reliability.js';

guardProcess();

const CONCURRENCY = 64;
const run = randomUUID().slice(0, 8);
const SOCKET_TIMEOUT_MS = 500;
// A call may take socket_timeout (or the connect deadline, socket_connect_timeout + socket_timeout) plus
// scheduling slack on a loaded 2-core machine; the point is "no hang", so the bound is generous.
const CALL_BOUND_MS = 2 * SOCKET_TIMEOUT_MS + 1500;

const privates: PrivateRedis[] = [];
after(async () => {
  await Promise.all(privates.map((p) => p.dispose()));
});
const own = (): PrivateRedis => {
  const p = new PrivateRedis();
  privates.push(p);
  return p;
};

type Rec = Outcome<unknown> & { phase: string };

/** 64 workers doing get/set on `keys` until stopped; every outcome recorded with the phase it started in. */
function load(backend: RedisBackend, keys: string[]): { records: Rec[]; setPhase(p: string): void; stop(): Promise<void> } {
  const records: Rec[] = [];
  let phase = 'before';
  let stopped = false;
  const worker = async (id: number): Promise<void> => {
    for (let i = 0; !stopped; i++) {
      const key = keys[(id * 7 + i) % keys.length] as string;
      const at = phase;
      const outcome =
        i % 3 === 0
          ? await timed(() => backend.set(key, makeCachedValue(`${key}#${i}`)), 10_000, 'set')
          : await timed(() => backend.get(key), 10_000, 'get');
      records.push({ ...outcome, phase: at });
      if (outcome.error !== undefined) await sleep(10);
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, (_, id) => worker(id));
  return {
    records,
    setPhase: (p) => void (phase = p),
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

function assertTypedAndBounded(records: Rec[]): void {
  for (const r of records) {
    if (r.error !== undefined) assert.ok(r.error instanceof BackendUnavailableError, `untyped error: ${String(r.error)}`);
  }
  const slowest = maxOf(records.map((r) => r.ms));
  assert.ok(slowest < CALL_BOUND_MS, `a call took ${slowest.toFixed(0)} ms (bound ${CALL_BOUND_MS} ms)`);
}

describe('Redis: a server killed and restarted under 64-way load', () => {
  it('calls fail fast and typed while it is down, and succeed again once it is back', async () => {
    const server = await own().server();
    await server.start();
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    const keys = Array.from({ length: 200 }, (_, i) => `fault-${run}-${i}`);
    try {
      const traffic = load(backend, keys);
      await waitUntil('no traffic before the kill', async () => traffic.records.length >= 200, 15_000);
      const killedAt = performance.now();
      traffic.setPhase('down');
      await server.kill();
      await sleep(1500);
      traffic.setPhase('restarting');
      await server.start();
      await waitUntil(
        'the backend did not recover',
        async () => traffic.records.filter((r) => r.phase === 'restarting' && r.error === undefined).length > 100,
        15_000,
      );
      traffic.setPhase('after');
      await sleep(500);
      await traffic.stop();
      const { records } = traffic;
      const of = (phase: string): Rec[] => records.filter((r) => r.phase === phase);
      // Calls still in flight at the kill fail (maxRetriesPerRequest 0); every call that ended before it succeeded.
      const doneBefore = of('before').filter((r) => r.end < killedAt);
      assert.ok(doneBefore.length >= 200, `${doneBefore.length} calls before the kill`);
      assert.deepEqual(
        doneBefore.filter((r) => r.error !== undefined).map((r) => String(r.error)),
        [],
        'all calls succeed before the kill',
      );
      assert.ok(
        of('down').some((r) => r.error !== undefined),
        'calls fail while the server is down',
      );
      assert.ok(of('after').length > 100, 'calls run after the restart');
      assert.deepEqual(
        of('after')
          .filter((r) => r.error !== undefined)
          .map((r) => String(r.error)),
        [],
        'every call succeeds once the server is back',
      );
      assertTypedAndBounded(records);
    } finally {
      await backend.close();
    }
  });

  it('a server not up at the first call: that call fails typed, and the backend connects once the server starts', async () => {
    const server = await own().server();
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      const first = await timed(() => backend.get(`late-${run}`), 10_000);
      assert.ok(first.error instanceof BackendUnavailableError, String(first.error));
      assert.match((first.error as Error).message, /ECONNREFUSED/);
      await server.start();
      await waitUntil(
        'the backend did not connect after the server started',
        async () => isNoValue(await backend.get(`late-${run}`)),
        15_000,
      );
    } finally {
      await backend.close();
    }
  });

  it('a hung server (SIGSTOP): calls fail with BackendUnavailableError within socket_timeout, and work again after SIGCONT', async () => {
    const server = await own().server();
    await server.start();
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await backend.set(`hung-${run}`, makeCachedValue(1));
      server.signal('SIGSTOP');
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => timed(() => backend.get(`hung-${run}-${i}`), 10_000)),
      );
      assert.ok(
        outcomes.every((o) => o.error instanceof BackendUnavailableError),
        String(outcomes.find((o) => !(o.error instanceof BackendUnavailableError))?.error),
      );
      assert.match(String((outcomes[0]!.error as Error).message), /timed out/i);
      assertTypedAndBounded(outcomes.map((o) => ({ ...o, phase: 'hung' })));
      server.signal('SIGCONT');
      await waitUntil('the backend did not answer after SIGCONT', async () => !isNoValue(await backend.get(`hung-${run}`)), 15_000);
    } finally {
      server.signal('SIGCONT');
      await backend.close();
    }
  });
});

describe('Redis: region error policies with the server down (same as the other backends)', () => {
  // Only without distributed_lock: the region does not apply 'miss' to a failed lock acquire (for every
  // backend, memcached included), so with the lock a getOrCreate while the server is down throws.
  for (const distributedLock of [false]) {
    it(`onBackendError 'miss'${distributedLock ? ' with distributed_lock' : ''}: the creator's value while down, errors counted; cached again once back`, async () => {
      const server = await own().server();
      await server.start();
      const region = new CacheRegion({ onBackendError: 'miss' }).configure(
        new RedisBackend({
          host: '127.0.0.1',
          port: server.port,
          socket_timeout: SOCKET_TIMEOUT_MS / 1000,
          distributed_lock: distributedLock,
          lock_timeout: 10,
        }),
      );
      try {
        await withDeadline(region.set(`${run}-cached`, 'from cache'), 5000);
        await server.kill();
        const outcomes = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) => timed(() => region.getOrCreate(`${run}-m${i}`, () => `created ${i}`), 10_000)),
        );
        for (const [i, o] of outcomes.entries()) {
          assert.equal(o.error, undefined, String(o.error));
          assert.equal(o.value, `created ${i}`);
        }
        assertTypedAndBounded(outcomes.map((o) => ({ ...o, phase: 'down' })));
        assert.equal(await withDeadline(region.get(`${run}-cached`), 5000), NO_VALUE, 'a read while down is a miss');
        assert.ok(region.stats().errors >= CONCURRENCY, `errors counted: ${region.stats().errors}`);
        await server.start();
        await waitUntil(
          'the region did not recover',
          async () => {
            const before = region.stats().errors;
            await region.get(`${run}-probe`);
            return region.stats().errors === before;
          },
          15_000,
        );
        assert.equal(
          await withDeadline(
            region.getOrCreate(`${run}-after`, () => 'stored'),
            5000,
          ),
          'stored',
        );
        assert.equal(await withDeadline(region.get(`${run}-after`), 5000), 'stored', 'cached again once the server is back');
      } finally {
        await withDeadline(region.close(), 5000, 'close');
      }
    });
  }

  it("onBackendError 'throw' (the default): the outage surfaces as BackendUnavailableError and no creator runs", async () => {
    const server = await own().server();
    await server.start();
    const region = new CacheRegion().configure(
      new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 }),
    );
    try {
      await withDeadline(region.set(`${run}-t`, 1), 5000);
      await server.kill();
      let created = 0;
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => timed(() => region.getOrCreate(`${run}-t${i}`, () => ++created), 10_000)),
      );
      assert.ok(
        outcomes.every((o) => o.error instanceof BackendUnavailableError),
        String(outcomes.find((o) => !(o.error instanceof BackendUnavailableError))?.error),
      );
      assertTypedAndBounded(outcomes.map((o) => ({ ...o, phase: 'down' })));
      assert.equal(created, 0);
    } finally {
      await withDeadline(region.close(), 5000, 'close');
    }
  });
});

describe('Redis Sentinel: the master killed', () => {
  it('the backend follows the promoted replica; calls in between fail fast and typed', async (t) => {
    const { master, replica, sentinels } = await own().sentinelSetup();
    const backend = new RedisSentinelBackend({ sentinels: sentinels.map((s) => s.address), socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    const keys = Array.from({ length: 100 }, (_, i) => `failover-${run}-${i}`);
    try {
      await backend.set(`${keys[0]}-kept`, makeCachedValue('kept'));
      // WAIT: the entry reached the replica before the master dies, so the new master has it.
      await redisCli(master.port, ['WAIT', '1', '5000']);
      const traffic = load(backend, keys);
      await sleep(500);
      await master.kill();
      const killedAt = performance.now();
      traffic.setPhase('failover');
      await waitUntil(
        'the sentinels did not promote the replica',
        async () =>
          (await redisCli(sentinels[0]!.port, ['SENTINEL', 'get-master-addr-by-name', 'mymaster'])).includes(String(replica.port)),
        30_000,
      );
      await waitUntil(
        'the backend did not follow the new master',
        async () => traffic.records.filter((r) => r.phase === 'failover' && r.error === undefined).length > 50,
        30_000,
      );
      traffic.setPhase('after');
      await sleep(1000);
      await traffic.stop();
      const after = traffic.records.filter((r) => r.phase === 'after');
      assert.ok(after.length > 50);
      assert.deepEqual(
        after.filter((r) => r.error !== undefined).map((r) => String(r.error)),
        [],
      );
      assertTypedAndBounded(traffic.records);
      assert.match(await redisCli(replica.port, ['ROLE']), /^master/);
      const firstSuccess = Math.min(
        ...traffic.records.filter((r) => r.phase === 'failover' && r.error === undefined && r.start > killedAt).map((r) => r.end),
      );
      t.diagnostic(
        `first successful call ${((firstSuccess - killedAt) / 1000).toFixed(1)} s after the master was killed (down-after-milliseconds 1000)`,
      );
      assert.equal(((await backend.get(`${keys[0]}-kept`)) as CachedValue).payload, 'kept');
    } finally {
      await backend.close();
    }
  });
});

describe('Redis Cluster: a node killed', () => {
  it('keys on live nodes keep working; keys on the dead node fail fast with BackendUnavailableError', async () => {
    const nodes = await own().clusterSetup();
    const backend = new RedisClusterBackend({ startup_nodes: nodes.map((n) => n.address), socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `cluster-fault-${run}-${i}`);
      await backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(k)])));
      const cluster = (await backend.getClient()) as Cluster;
      const victim = nodes[0]!;
      const onVictim = (k: string): boolean => cluster.slots[keySlot(k)]?.[0] === victim.address;
      const dead = keys.filter(onVictim);
      const live = keys.filter((k) => !onVictim(k));
      assert.ok(dead.length > 50 && live.length > 100, 'keys on every node');
      await victim.kill();

      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.all([
          ...live.slice(0, CONCURRENCY).map((k) => timed(() => backend.get(k), 10_000)),
          ...dead.slice(0, 16).map((k) => timed(() => backend.get(k), 10_000)),
        ]);
        const liveOutcomes = outcomes.slice(0, Math.min(CONCURRENCY, live.length));
        const deadOutcomes = outcomes.slice(liveOutcomes.length);
        assert.deepEqual(
          liveOutcomes.filter((o) => o.error !== undefined).map((o) => String(o.error)),
          [],
          `round ${round}: live keys fail`,
        );
        assert.ok(
          liveOutcomes.every((o, i) => (o.value as CachedValue).payload === live[i]),
          `round ${round}: live values`,
        );
        assert.ok(
          deadOutcomes.every((o) => o.error instanceof BackendUnavailableError),
          `round ${round}: ${String(deadOutcomes.find((o) => !(o.error instanceof BackendUnavailableError))?.error ?? deadOutcomes[0]?.value)}`,
        );
        assertTypedAndBounded(outcomes.map((o) => ({ ...o, phase: 'down' })));
        await sleep(300);
      }
      // Multi-operations over live keys only still work; one touching a dead key fails as a whole, typed.
      const liveMulti = await withDeadline(backend.getMulti(live.slice(0, 50)), 10_000, 'getMulti');
      assert.deepEqual(
        liveMulti.map((v) => (v as CachedValue).payload),
        live.slice(0, 50),
      );
      await withDeadline(
        backend.setMulti(Object.fromEntries(live.slice(0, 50).map((k) => [k, makeCachedValue('new')]))),
        10_000,
        'setMulti',
      );
      await assert.rejects(
        withDeadline(backend.getMulti([live[0]!, dead[0]!]), 10_000, 'getMulti with a dead key'),
        BackendUnavailableError,
      );
    } finally {
      await backend.close();
    }
  });
});
