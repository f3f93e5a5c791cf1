// Etcd3Backend under 64-way load while etcd fails: the leader of a PRIVATE three-member cluster is
// killed, and a private single-member etcd is stopped and started. The shared cluster and single member
// (ports 23379, 23479-23680) are never touched here.
//
// test/backends/etcd3.test.ts covers one writer against a killed single member ("a killed etcd: writes
// fail within the timeout, then recover"); test/backends/etcd3-cluster.test.ts one writer across a leader
// kill of the shared cluster. These are the load versions.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { BackendUnavailableError, isNoValue, makeCachedValue, type CachedValue } from '../../src/index.js';
import { startPrivateEtcd, type PrivateEtcd } from '../backends/etcd3-support.js';
import { guardProcess, maxOf, minOf, percentile, startPrivateEtcdCluster, timed, withDeadline, type Outcome, type PrivateEtcdCluster } from './support.js';

guardProcess();

const CONCURRENCY = 64;
const TIMEOUT_S = 2;
const SLACK_MS = 1500;

type Rec = Outcome & { key: string; op: 'get' | 'set' };

/** 64 workers mixing set and get over `keys`, each value `key#n`, until stop() is called. */
function load(backend: Etcd3Backend, keys: string[]): { records: Rec[]; stop(): Promise<void> } {
  const records: Rec[] = [];
  let stopping = false;
  let version = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (!stopping) {
      const key = keys[Math.floor(Math.random() * keys.length)] as string;
      const op = Math.random() < 0.5 ? 'set' : 'get';
      const outcome =
        op === 'set'
          ? await timed(() => backend.set(key, makeCachedValue(`${key}#${++version}`)), TIMEOUT_S * 1000 + 10_000, `set ${key}`)
          : await timed(() => backend.get(key), TIMEOUT_S * 1000 + 10_000, `get ${key}`);
      records.push({ ...outcome, key, op });
      if (outcome.error !== undefined) await sleep(20);
    }
  });
  return {
    records,
    async stop() {
      stopping = true;
      await withDeadline(Promise.all(workers), 20_000, 'the load workers');
    },
  };
}

function checkValues(records: Rec[]): void {
  for (const r of records) {
    if (r.op !== 'get' || r.error !== undefined || isNoValue(r.value)) continue;
    assert.match(String((r.value as CachedValue).payload), new RegExp(`^${r.key}#\\d+$`), 'a read returns a value written for that key');
  }
}

describe('etcd: the leader of a three-member cluster killed under load', () => {
  let cluster: PrivateEtcdCluster;
  before(async () => {
    cluster = await startPrivateEtcdCluster();
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('operations fail only inside a short window around the election, then all succeed', async (t) => {
    const backend = new Etcd3Backend({ endpoints: cluster.endpoints, timeout: TIMEOUT_S, namespace: `rel-${randomUUID().slice(0, 8)}/`, lease_ttl: 60 });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    try {
      await withDeadline(backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(`${k}#0`)]))), 10_000, 'warm-up');
      const leader = await cluster.leader();
      const traffic = load(backend, keys);
      await sleep(1000);
      const killedAt = performance.now();
      await cluster.kill(leader);
      const newLeader = await cluster.leader(15_000);
      const electedAt = performance.now();
      await sleep(3000);
      await traffic.stop();

      const records = traffic.records;
      const after = records.filter((r) => r.end >= killedAt);
      const failures = after.filter((r) => r.error !== undefined);
      for (const f of failures) assert.ok(f.error instanceof BackendUnavailableError, String(f.error));
      const firstFail = failures.length ? minOf(failures.map((f) => f.end)) : killedAt;
      const lastFail = failures.length ? maxOf(failures.map((f) => f.end)) : killedAt;
      const slowest = maxOf(records.map((r) => r.ms));
      t.diagnostic(
        `leader ${leader} killed, ${newLeader} elected after ${(electedAt - killedAt).toFixed(0)} ms; ${after.length} operations after the kill, ` +
          `${failures.length} failed (BackendUnavailableError) between +${(firstFail - killedAt).toFixed(0)} ms and +${(lastFail - killedAt).toFixed(0)} ms ` +
          `(failure window ${(lastFail - firstFail).toFixed(0)} ms); latency p50 ${percentile(records.map((r) => r.ms), 50).toFixed(1)} ms, max ${slowest.toFixed(0)} ms (timeout ${TIMEOUT_S} s)`,
      );
      assert.ok(slowest < TIMEOUT_S * 1000 + SLACK_MS, `no operation waits past the timeout (${slowest.toFixed(0)} ms)`);
      assert.ok(lastFail - killedAt < 8000, `failures end within 8 s of the kill (${(lastFail - killedAt).toFixed(0)} ms)`);
      const settled = records.filter((r) => r.start > lastFail);
      assert.ok(settled.length > 100, `operations after the window (${settled.length})`);
      assert.ok(settled.every((r) => r.error === undefined), 'after the window every operation succeeds');
      checkValues(records);
      await cluster.restart(leader);
    } finally {
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });
});

describe('etcd: the single member stopped under load', () => {
  let etcd: PrivateEtcd;
  before(async () => {
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await etcd?.dispose();
  });

  it('clear errors within the deadline while it is down; recovery without restarting the client', async (t) => {
    const backend = new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: TIMEOUT_S, namespace: `rel-${randomUUID().slice(0, 8)}/`, lease_ttl: 60 });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    try {
      await withDeadline(backend.set('warm', makeCachedValue(0)), 10_000, 'warm-up');
      const traffic = load(backend, keys);
      await sleep(500);
      const killedAt = performance.now();
      await etcd.kill();
      await sleep(2500);
      const restartedAt = performance.now();
      await etcd.start();
      const answeringAt = performance.now();
      // Recovery: successes again with the same backend.
      const deadline = Date.now() + 15_000;
      while (!traffic.records.some((r) => r.start > answeringAt && r.error === undefined)) {
        assert.ok(Date.now() < deadline, 'operations did not recover within 15 s of the restart');
        await sleep(100);
      }
      const recoveredAt = performance.now();
      await sleep(1500);
      await traffic.stop();

      const records = traffic.records;
      const down = records.filter((r) => r.start > killedAt + 100 && r.end < restartedAt);
      const failures = records.filter((r) => r.error !== undefined);
      for (const f of failures) {
        assert.ok(f.error instanceof BackendUnavailableError, String(f.error));
        assert.ok((f.error as Error).message.length > 0, 'the error says what happened');
      }
      const failureMs = failures.map((f) => f.ms);
      t.diagnostic(
        `${down.length} operations while etcd was down, ${down.filter((r) => r.error).length} failed; failures took p50 ${percentile(failureMs, 50).toFixed(0)} ms, ` +
          `max ${maxOf([0, ...failureMs]).toFixed(0)} ms (timeout ${TIMEOUT_S} s); first success ${(recoveredAt - answeringAt).toFixed(0)} ms after etcd answered again ` +
          `(${(recoveredAt - killedAt).toFixed(0)} ms after the kill); e.g. "${String((failures[0]?.error as Error | undefined)?.message)}"`,
      );
      assert.ok(down.length > 0 && down.every((r) => r.error !== undefined), 'every operation fails while etcd is down');
      assert.ok(maxOf(records.map((r) => r.ms)) < TIMEOUT_S * 1000 + SLACK_MS, 'no operation waits past the timeout');
      const tail = records.filter((r) => r.start > recoveredAt + 500);
      assert.ok(tail.length > 50 && tail.every((r) => r.error === undefined), 'after recovery every operation succeeds');
      checkValues(records);
    } finally {
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });
});
