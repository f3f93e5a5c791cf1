// MongoBackend under 64-way load while a PRIVATE FerretDB is killed and restarted (never the shared one
// on 27117). test/backends/mongo.test.ts covers single calls through a TCP proxy that is cut ("a server
// that goes away"); this is the load version with the real server process going away.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { BackendUnavailableError, isNoValue, makeCachedValue, type CachedValue } from '../../src/index.js';
import { guardProcess, maxOf, minOf, percentile, startRestartableFerretDb, timed, withDeadline, type Outcome, type RestartableFerretDb } from './support.js';

guardProcess();

const CONCURRENCY = 64;
// server_selection_timeout 1 s + socket_timeout 2 s bound every call; the slack is for a loaded machine.
const CALL_BOUND_MS = 1000 + 2000 + 1500;

describe('FerretDB stopped and restarted under load', () => {
  let ferret: RestartableFerretDb;
  before(async () => {
    ferret = await startRestartableFerretDb();
  });
  after(async () => {
    await ferret?.dispose();
  });

  it('64 concurrent sets of one new key all succeed (FerretDB does not retry a lost upsert race)', async () => {
    // Before the fix in src/backends/mongo (retryDuplicateUpsert), some of these failed with
    // "E11000 duplicate key error": two upserts of a new _id both insert, and FerretDB 1.x does not retry
    // the loser as MongoDB >= 4.2 does. Found by the load test below.
    const backend = new MongoBackend({ db_hosts: ferret.url, db_name: 'reliability', cache_collection: `race_${randomUUID().slice(0, 8)}` });
    try {
      for (let round = 0; round < 5; round++) {
        const key = `race-${round}`;
        const results = await withDeadline(Promise.allSettled(Array.from({ length: CONCURRENCY }, (_, i) => backend.set(key, makeCachedValue(`${key}#${i}`)))), 20_000, 'concurrent sets');
        const failed = results.filter((r) => r.status === 'rejected');
        assert.deepEqual(failed.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3), [], `${failed.length} of 64 concurrent sets failed`);
        const got = await withDeadline(backend.get(key), 5000);
        assert.ok(!isNoValue(got) && new RegExp(`^${key}#\\d+$`).test(String(got.payload)), 'one of the written values');
      }
      // setMulti of a single entry takes the bulkWrite path: the same race.
      const results = await withDeadline(Promise.allSettled(Array.from({ length: CONCURRENCY }, (_, i) => backend.setMulti({ 'race-multi': makeCachedValue(i) }))), 20_000, 'concurrent setMulti');
      assert.equal(results.filter((r) => r.status === 'rejected').length, 0, String(results.find((r) => r.status === 'rejected') && (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason));
    } finally {
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });

  it('errors during the outage, recovery afterwards, every call settles within its bound', async (t) => {
    const backend = new MongoBackend({
      db_hosts: ferret.url,
      db_name: 'reliability',
      cache_collection: `outage_${randomUUID().slice(0, 8)}`,
      server_selection_timeout: 1,
      connect_timeout: 1,
      socket_timeout: 2,
    });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    type Rec = Outcome & { key: string; op: string };
    const records: Rec[] = [];
    let stopping = false;
    let version = 0;
    try {
      await withDeadline(backend.set('warm', makeCachedValue(0)), 15_000, 'warm-up');
      const workers = Array.from({ length: CONCURRENCY }, async () => {
        while (!stopping) {
          const key = keys[Math.floor(Math.random() * keys.length)] as string;
          const r = Math.random();
          const op = r < 0.45 ? 'get' : r < 0.9 ? 'set' : 'delete';
          const outcome =
            op === 'get'
              ? await timed(() => backend.get(key), CALL_BOUND_MS + 10_000, `get ${key}`)
              : op === 'set'
                ? await timed(() => backend.set(key, makeCachedValue(`${key}#${++version}`)), CALL_BOUND_MS + 10_000, `set ${key}`)
                : await timed(() => backend.delete(key), CALL_BOUND_MS + 10_000, `delete ${key}`);
          records.push({ ...outcome, key, op });
          if (outcome.error !== undefined) await sleep(20);
        }
      });
      await sleep(1000);
      const stoppedAt = performance.now();
      await ferret.stop();
      await sleep(2500);
      const restartAt = performance.now();
      await ferret.start();
      const listeningAt = performance.now();
      const deadline = Date.now() + 20_000;
      while (!records.some((r) => r.start > listeningAt && r.error === undefined)) {
        assert.ok(Date.now() < deadline, 'calls did not recover within 20 s of the restart');
        await sleep(100);
      }
      const recoveredAt = performance.now();
      await sleep(1500);
      stopping = true;
      await withDeadline(Promise.all(workers), CALL_BOUND_MS + 10_000, 'the load workers (a hung promise)');

      const failures = records.filter((r) => r.error !== undefined);
      const during = records.filter((r) => r.start > stoppedAt + 200 && r.end < restartAt);
      const ms = records.map((r) => r.ms);
      t.diagnostic(
        `${records.length} calls; ${failures.length} failed, between +${(minOf(failures.map((f) => f.end)) - stoppedAt).toFixed(0)} ms and ` +
          `+${(maxOf(failures.map((f) => f.end)) - stoppedAt).toFixed(0)} ms of the stop; ${during.length} calls started and ended while down; ` +
          `first success ${(recoveredAt - listeningAt).toFixed(0)} ms after FerretDB listened again; latency p50 ${percentile(ms, 50).toFixed(1)} ms, ` +
          `max ${maxOf(ms).toFixed(0)} ms; e.g. "${String((failures[0]?.error as Error | undefined)?.message)}"`,
      );
      assert.ok(failures.length > 0, 'the outage is seen as errors');
      for (const f of failures) assert.ok(f.error instanceof BackendUnavailableError, `${f.op}: ${String(f.error)}`);
      assert.ok(during.every((r) => r.error !== undefined), 'no call succeeds while the server is down');
      assert.ok(maxOf(ms) < CALL_BOUND_MS, `every call settles within ${CALL_BOUND_MS} ms (max ${maxOf(ms).toFixed(0)})`);
      const tail = records.filter((r) => r.start > recoveredAt + 500);
      assert.ok(tail.length > 50, `calls after recovery (${tail.length})`);
      assert.ok(tail.every((r) => r.error === undefined), `after recovery every call succeeds: ${String(tail.find((r) => r.error)?.error)}`);
      for (const r of records) {
        if (r.op !== 'get' || r.error !== undefined || isNoValue(r.value)) continue;
        assert.match(String((r.value as CachedValue).payload), new RegExp(`^${r.key}#\\d+$`));
      }
    } finally {
      stopping = true;
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });
});
