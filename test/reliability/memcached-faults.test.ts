// PooledMemcachedBackend under 64-way load while servers fail. All servers here are private memcached
// processes (test/backends/memcached-support.ts), never the shared ones.
//
// Already covered one request at a time in test/backends/memcached.test.ts ("a stopped server", "a hung
// server", "every server dead", "no connection within pool_connection_get_timeout"); these are the load
// versions the reliability issue asks for.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { HashRing } from '../../src/backends/memcached/ring.js';
import { BackendUnavailableError, QueueEmptyError, isNoValue, makeCachedValue, type CachedValue } from '../../src/index.js';
import { PrivateMemcached, usePrivateMemcached } from '../backends/memcached-support.js';
import { guardProcess, maxOf, minOf, percentile, timed, withDeadline, type Outcome } from './support.js';

guardProcess();

const CONCURRENCY = 64;
const run = randomUUID().slice(0, 8);
const SOCKET_TIMEOUT_MS = 500;
// A request may take socket_timeout plus scheduling slack on a loaded 2-core machine.
const SLACK_MS = 400;

describe('memcached: a server killed under 64-way load', () => {
  const own = usePrivateMemcached(3, { before, after });

  it('no request waits past socket_timeout; live keys keep hitting; dead keys fall over or miss; the server is used again after dead_retry', async (t) => {
    const addresses = own.map((s) => s.address);
    const ring = new HashRing(addresses);
    const backend = new PooledMemcachedBackend({ url: addresses, dead_retry: 2, socket_timeout: SOCKET_TIMEOUT_MS / 1000, pool_maxsize: 4 });
    const keys = Array.from({ length: 300 }, (_, i) => `rel-mc-${run}-${i}`);
    const owner = new Map(keys.map((k) => [k, ring.nodeFor(k)]));
    const victimIndex = 0;
    const victim = own[victimIndex] as PrivateMemcached;
    const liveKeys = keys.filter((k) => owner.get(k) !== victimIndex);
    const deadKeys = keys.filter((k) => owner.get(k) === victimIndex);
    assert.ok(deadKeys.length > 30 && liveKeys.length > 100, 'keys on every server');
    try {
      await withDeadline(backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(`${k}#v0`)]))), 5000, 'warm-up setMulti');

      type Rec = Outcome<unknown> & { key: string; op: 'get' | 'set'; phase: 'before' | 'after' };
      const records: Rec[] = [];
      let phase: 'before' | 'after' = 'before';
      let stop = false;
      let version = 0;
      const worker = async (id: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          // Live keys are only read (their value must stay v0); dead-server keys are read and written.
          const useDead = (id + i) % 4 === 0;
          const pool = useDead ? deadKeys : liveKeys;
          const key = pool[Math.floor(Math.random() * pool.length)] as string;
          const op = useDead && i % 2 === 0 ? 'set' : 'get';
          const at = phase;
          const outcome =
            op === 'get'
              ? await timed(() => backend.get(key), 5000, `get ${key}`)
              : await timed(() => backend.set(key, makeCachedValue(`${key}#v${++version}`)), 5000, `set ${key}`);
          records.push({ ...outcome, key, op, phase: at });
          if (outcome.error !== undefined) await sleep(5);
        }
      };
      const workers = Array.from({ length: CONCURRENCY }, (_, id) => worker(id));
      await sleep(500);
      const killedAt = performance.now();
      phase = 'after';
      await victim.kill(); // SIGKILL to the memcached PID
      await sleep(1500);
      stop = true;
      await withDeadline(Promise.all(workers), 10_000, 'the load workers');

      const slowest = maxOf(records.map((r) => r.ms));
      const latencies = records.map((r) => r.ms);
      const afterKill = records.filter((r) => r.phase === 'after');
      const liveAfter = afterKill.filter((r) => liveKeys.includes(r.key));
      const deadAfter = afterKill.filter((r) => deadKeys.includes(r.key));
      const failures = afterKill.filter((r) => r.error !== undefined);
      const lastFailure = maxOf([killedAt, ...failures.map((r) => r.end)]);
      t.diagnostic(
        `${records.length} requests (${afterKill.length} after the kill); latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${slowest.toFixed(1)} ms (socket_timeout ${SOCKET_TIMEOUT_MS} ms); ` +
          `${failures.length} failed after the kill, all within ${(lastFailure - killedAt).toFixed(0)} ms of it`,
      );

      assert.ok(slowest < SOCKET_TIMEOUT_MS + SLACK_MS, `slowest request ${slowest.toFixed(0)} ms`);
      for (const r of records.filter((x) => x.error !== undefined)) {
        assert.ok(r.error instanceof BackendUnavailableError, `only BackendUnavailableError: ${String(r.error)}`);
        assert.ok(deadKeys.includes(r.key), `a request for a key on a live server failed: ${r.key} ${String(r.error)}`);
      }
      // Keys on live servers keep hitting, with the value written for them.
      for (const r of records.filter((x) => liveKeys.includes(x.key))) {
        assert.equal(r.error, undefined);
        assert.ok(!isNoValue(r.value), `live key ${r.key} missed`);
        assert.equal((r.value as CachedValue).payload, `${r.key}#v0`);
      }
      assert.ok(liveAfter.length > 200, `load on live keys went on (${liveAfter.length})`);
      // Dead-server keys: an error only around the kill; afterwards a miss or a value written for that key.
      assert.ok(lastFailure - killedAt < SOCKET_TIMEOUT_MS + SLACK_MS, `failures stop within socket_timeout of the kill`);
      for (const r of deadAfter.filter((x) => x.op === 'get' && x.error === undefined)) {
        if (isNoValue(r.value)) continue;
        assert.match(String((r.value as CachedValue).payload), new RegExp(`^${r.key}#v\\d+$`), 'a dead key reads its own value or a miss');
      }
      const deadOk = deadAfter.filter((x) => x.error === undefined && x.start > lastFailure);
      assert.ok(deadOk.length > 50, `dead-server keys are served by the next server (${deadOk.length})`);

      // Restart plus dead_retry: the owner is used again.
      await victim.restart();
      await sleep(2100);
      const probe = deadKeys.slice(0, 20);
      await withDeadline(Promise.all(probe.map((k) => backend.set(k, makeCachedValue(`${k}#back`)))), 5000, 'writes after restart');
      const direct = new PooledMemcachedBackend({ url: victim.address, socket_timeout: 1 });
      try {
        const got = await withDeadline(direct.getMulti(probe), 5000, 'direct read');
        assert.deepEqual(got.map((v) => (isNoValue(v) ? null : v.payload)), probe.map((k) => `${k}#back`), 'the restarted owner holds its keys again');
      } finally {
        await direct.close();
      }
      assert.equal(backend.poolStats()[victimIndex]?.alive, true);
    } finally {
      await withDeadline(backend.close(), 5000, 'close');
    }
  });

  it('pool exhaustion under load: every request fails with QueueEmptyError after pool_connection_get_timeout', async (t) => {
    const frozen = own[1] as PrivateMemcached;
    frozen.pause(); // accepts TCP connections (the kernel does) but never answers: connections never become usable
    const backend = new PooledMemcachedBackend({ url: frozen.address, pool_maxsize: 2, pool_connection_get_timeout: 0.3, socket_timeout: 5 });
    try {
      const outcomes = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => timed(() => backend.get(`rel-q-${run}-${i}`), 5000)));
      const ms = outcomes.map((o) => o.ms);
      t.diagnostic(`64 requests, pool_maxsize 2, pool_connection_get_timeout 300 ms: QueueEmptyError after ${minOf(ms).toFixed(0)}–${maxOf(ms).toFixed(0)} ms`);
      for (const o of outcomes) {
        assert.ok(o.error instanceof QueueEmptyError, String(o.error));
        assert.ok(o.ms >= 250 && o.ms < 300 + SLACK_MS + 300, `${o.ms.toFixed(0)} ms`);
      }
    } finally {
      const closing = timed(() => backend.close(), 5000);
      frozen.resume();
      assert.equal((await closing).error, undefined);
    }
  });

  it('every server dead under load: BackendUnavailableError fast, no hang; recovery after restart and dead_retry', async (t) => {
    const backend = new PooledMemcachedBackend({ url: own.map((s) => s.address), dead_retry: 1, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await withDeadline(backend.set(`rel-all-${run}`, makeCachedValue(1)), 5000);
      await Promise.all(own.map((s) => s.kill()));
      const outcomes: Outcome[] = [];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, w) => {
          for (let i = 0; i < 10; i++) outcomes.push(await timed(() => backend.get(`rel-all-${run}-${w}-${i}`), 5000));
        }),
      );
      const ms = outcomes.map((o) => o.ms);
      t.diagnostic(`${outcomes.length} requests with every server dead: p50 ${percentile(ms, 50).toFixed(2)} ms, max ${maxOf(ms).toFixed(1)} ms`);
      for (const o of outcomes) assert.ok(o.error instanceof BackendUnavailableError, String(o.error));
      assert.ok(maxOf(ms) < SOCKET_TIMEOUT_MS + SLACK_MS, `slowest ${maxOf(ms).toFixed(0)} ms`);
      assert.ok(percentile(ms, 50) < 50, 'requests fail at once while every server is marked dead');

      await Promise.all(own.map((s) => s.restart()));
      await sleep(1100);
      const deadline = Date.now() + 5000;
      for (;;) {
        const o = await timed(() => backend.set(`rel-all-${run}`, makeCachedValue(2)), 2000);
        if (o.error === undefined) break;
        assert.ok(Date.now() < deadline, `no recovery after restart: ${String(o.error)}`);
        await sleep(100);
      }
      const got = await withDeadline(backend.get(`rel-all-${run}`), 2000);
      assert.equal(isNoValue(got) ? null : got.payload, 2);
    } finally {
      await withDeadline(backend.close(), 5000, 'close');
    }
  });
});
