// Soak: 64 concurrent clients per backend mixing get / set / getOrCreate / delete on random keys through
// a CacheRegion, checking every value read against what was written.
//
// Duration per backend: SOAK_SECONDS (default 10, to keep `npm test` short; the issue's figure is 30:
//   SOAK_SECONDS=30 node scripts/test.mjs test/reliability/soak.test.ts
// ). The in-process DictionaryBackend runs for at most 3 s (it does millions of operations a second).
//
// Every value embeds its key and a unique version, and a padding derived from the version, so a value
// that belongs to another key, or is corrupted or truncated, is detected. Each read is checked against
// the history of its key: it must return a version that was written for that key, and one that had not
// definitely been overwritten (by a write or delete that completed after it and before the read began)
// — so a lost or stale write is detected too. A miss is checked the same way against deletes and the
// initial "absent" state. At the end every key is read once more, after all traffic stopped.
// The servers are private to this file (three memcached, one etcd, one FerretDB, on free ports): a
// 64-client soak would slow the suites sharing the common servers, and `npm test` runs elsewhere in the
// tree stop those servers when they end, which would read as failures here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from '../../src/backends/redis/index.js';
import { CacheRegion, DictionaryBackend, NO_VALUE, isNoValue, type CacheBackend } from '../../src/index.js';
import { startPrivateEtcd, type PrivateEtcd } from '../support/etcd3.js';
import { PrivateMemcached } from '../support/memcached.js';
import { PrivateRedis } from '../support/redis.js';
import { guardProcess, maxOf, percentile, soakSeconds, withDeadline } from '../support/reliability.js';
import { startControllableFerretDb, type ControllableFerretDb } from '../support/mongo.js';

guardProcess();

const CONCURRENCY = 64;
const KEYS = 256;
const run = randomUUID().slice(0, 8);

interface Payload {
  k: string;
  v: number;
  pad: string;
}
const padFor = (v: number): string => `${v}:`.repeat(v % 40);
const makePayload = (k: string, v: number): Payload => ({ k, v, pad: padFor(v) });

/** One change of a key: a write of version v, or a delete (v = 0). */
interface Change {
  v: number;
  start: number;
  end: number;
}

class History {
  readonly changes = new Map<string, Change[]>();
  reads = 0;
  readonly problems: string[] = [];

  readonly #reads: { key: string; value: unknown; start: number; end: number }[] = [];

  /** Records a change as it begins (end = Infinity until it completes: it may already be visible). */
  begin(key: string, v: number, start: number): Change {
    let list = this.changes.get(key);
    if (list === undefined) this.changes.set(key, (list = [{ v: 0, start: -Infinity, end: -Infinity }]));
    const change = { v, start, end: Infinity };
    list.push(change);
    return change;
  }

  /** Records a read; all reads are checked by {@link check} once the traffic has stopped. */
  read(key: string, value: unknown, start: number, end: number): void {
    this.#reads.push({ key, value, start, end });
  }

  check(): void {
    for (const r of this.#reads) this.#checkRead(r.key, r.value, r.start, r.end);
  }

  /** Checks a read of `key` that ran from `start` to `end` and returned `value`. */
  #checkRead(key: string, value: unknown, start: number, end: number): void {
    this.reads++;
    let v = 0;
    if (!isNoValue(value)) {
      const p = value as Payload;
      if (typeof p !== 'object' || p === null || p.k !== key || typeof p.v !== 'number' || p.pad !== padFor(p.v)) {
        this.problems.push(`read of ${key} returned ${JSON.stringify(value)?.slice(0, 200)}: not a value written for this key`);
        return;
      }
      v = p.v;
    }
    const list = this.changes.get(key) ?? [{ v: 0, start: -Infinity, end: -Infinity }];
    // Candidates: changes that began before the read ended and were not definitely overwritten before it began.
    const ok = list.some((c) => c.v === v && c.start <= end && !list.some((w) => w.start > c.end && w.end < start));
    if (!ok) {
      const known = list.some((c) => c.v === v);
      this.problems.push(
        `read of ${key} [${start.toFixed(1)}, ${end.toFixed(1)}] returned ${v === 0 ? 'a miss' : `version ${v}`}: ` +
          (known ? 'a value already overwritten before the read began (stale / lost write)' : 'a version never written for this key'),
      );
    }
  }
}

describe('soak checker (it must catch what it claims to)', () => {
  it("flags another key's value, a corrupted value, a never-written version and a stale read; accepts overlapping writes", () => {
    const h = new History();
    h.begin('a', 1, 0).end = 10; // a=1 during [0, 10]
    h.begin('a', 2, 20).end = 30; // a=2 during [20, 30]
    h.begin('a', 3, 25).end = Infinity; // a=3 still in flight
    h.read('a', makePayload('a', 2), 40, 41); // ok: latest
    h.read('a', makePayload('a', 3), 40, 41); // ok: in flight, may be visible
    h.read('a', makePayload('a', 1), 15, 22); // ok: read began before a=2 completed
    h.read('a', makePayload('b', 2), 40, 41); // another key's value
    h.read('a', { ...makePayload('a', 2), pad: 'x' }, 40, 41); // corrupted
    h.read('a', makePayload('a', 9), 40, 41); // never written
    h.read('a', makePayload('a', 1), 40, 41); // stale: overwritten by a=2 before the read began
    h.read('a', NO_VALUE, 40, 41); // a miss after a completed write: lost
    h.check();
    assert.equal(h.reads, 8);
    assert.equal(h.problems.length, 5, h.problems.join('\n'));
  });
});

async function soak(name: string, backend: CacheBackend, seconds: number): Promise<string> {
  const region = new CacheRegion({ name: `soak-${name}` }).configure(backend);
  const history = new History();
  const keys = Array.from({ length: KEYS }, (_, i) => `soak-${run}-${name}-${i}`);
  let version = 0;
  const counts = { get: 0, set: 0, getOrCreate: 0, created: 0, delete: 0 };
  const latencies: number[] = [];
  const errors: string[] = [];
  const until = performance.now() + seconds * 1000;
  try {
    const client = async (): Promise<void> => {
      while (performance.now() < until) {
        const key = keys[Math.floor(Math.random() * keys.length)] as string;
        const r = Math.random();
        const start = performance.now();
        try {
          if (r < 0.4) {
            counts.get++;
            const value = await withDeadline(region.get(key), 10_000, `get ${key}`);
            history.read(key, value, start, performance.now());
          } else if (r < 0.7) {
            counts.set++;
            const change = history.begin(key, ++version, start);
            try {
              await withDeadline(region.set(key, makePayload(key, change.v)), 10_000, `set ${key}`);
            } finally {
              change.end = performance.now();
            }
          } else if (r < 0.9) {
            counts.getOrCreate++;
            let created: Change | undefined;
            try {
              const value = await withDeadline(
                region.getOrCreate(key, () => {
                  created = history.begin(key, ++version, performance.now());
                  return makePayload(key, created.v);
                }),
                10_000,
                `getOrCreate ${key}`,
              );
              if (created !== undefined && (value as Payload).v === created.v) counts.created++;
              else history.read(key, value, start, performance.now());
            } finally {
              if (created !== undefined) (created as Change).end = performance.now();
            }
          } else {
            counts.delete++;
            const change = history.begin(key, 0, start);
            try {
              await withDeadline(region.delete(key), 10_000, `delete ${key}`);
            } finally {
              change.end = performance.now();
            }
          }
        } catch (error) {
          errors.push(`${key}: ${String(error)}`);
        }
        latencies.push(performance.now() - start);
      }
    };
    await withDeadline(Promise.all(Array.from({ length: CONCURRENCY }, client)), seconds * 1000 + 30_000, 'the soak clients');
    // Nothing lost: after the traffic, every key reads as its last write (or a miss after a delete).
    for (const key of keys) {
      const start = performance.now();
      const value = await withDeadline(region.get(key), 10_000, `final get ${key}`);
      history.read(key, value, start, performance.now());
    }
    history.check();
  } finally {
    await withDeadline(region.close(), 10_000, 'close');
  }
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} operations failed`);
  assert.deepEqual(history.problems.slice(0, 10), [], `${history.problems.length} reads were wrong`);
  const total = counts.get + counts.set + counts.getOrCreate + counts.delete;
  return (
    `${name}: ${seconds} s, 64 clients, ${total} operations (${(total / seconds).toFixed(0)}/s: get ${counts.get}, set ${counts.set}, ` +
    `getOrCreate ${counts.getOrCreate} of which ${counts.created} created, delete ${counts.delete}); ${history.reads} reads checked, 0 wrong; ` +
    `latency p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${maxOf(latencies).toFixed(0)} ms`
  );
}

describe(`soak: 64 clients per backend (SOAK_SECONDS=${soakSeconds()})`, () => {
  const seconds = soakSeconds();
  const memcached: PrivateMemcached[] = [];
  let etcd: PrivateEtcd | undefined;
  let ferret: ControllableFerretDb | undefined;
  before(async () => {
    memcached.push(...(await Promise.all([PrivateMemcached.start(), PrivateMemcached.start(), PrivateMemcached.start()])));
    [etcd, ferret] = await Promise.all([startPrivateEtcd(), startControllableFerretDb()]);
  });
  after(async () => {
    for (const server of memcached) await server.kill();
    await etcd?.dispose();
    await ferret?.dispose();
  });
  it('DictionaryBackend', async (t) => {
    t.diagnostic(await soak('dictionary', new DictionaryBackend(), Math.min(seconds, 3)));
  });
  it('PooledMemcachedBackend (3 servers)', async (t) => {
    t.diagnostic(await soak('memcached', new PooledMemcachedBackend({ url: memcached.map((m) => m.address) }), seconds));
  });
  it('Etcd3Backend', async (t) => {
    t.diagnostic(await soak('etcd3', new Etcd3Backend({ endpoints: [etcd!.endpoint], namespace: `soak-${run}/` }), seconds));
  });
  it('MongoBackend', async (t) => {
    const backend = new MongoBackend({ db_hosts: ferret!.url, db_name: 'soak', cache_collection: `soak_${run}` });
    t.diagnostic(await soak('mongo', backend, seconds));
  });
});

describe(`soak: 64 clients on each Redis topology (SOAK_SECONDS=${soakSeconds()})`, () => {
  const seconds = soakSeconds();
  const redis = new PrivateRedis();
  after(() => redis.dispose());
  it('RedisBackend', async (t) => {
    const server = await redis.server();
    await server.start();
    t.diagnostic(await soak('redis', new RedisBackend({ host: '127.0.0.1', port: server.port }), seconds));
  });
  it('RedisSentinelBackend (master, replica, 3 sentinels)', async (t) => {
    // The soak checks our reads against our acknowledged writes. With the failover tests' 1 s
    // down-after, a CPU-starved master (CI runs suites side by side) can be failed over mid-soak, and
    // Redis replication is asynchronous: the promoted replica lacks the last acknowledged writes, which
    // the checker then reports as lost (seen once in CI). Redis Sentinel promises no more; this soak is
    // not a failover test (test/backends/redis/faults.test.ts is), so the sentinels here wait 60 s.
    const { sentinels } = await redis.sentinelSetup(60_000);
    t.diagnostic(await soak('redis sentinel', new RedisSentinelBackend({ sentinels: sentinels.map((s) => s.address) }), seconds));
  });
  it('RedisClusterBackend (3 masters)', async (t) => {
    const nodes = await redis.clusterSetup();
    t.diagnostic(await soak('redis cluster', new RedisClusterBackend({ startup_nodes: nodes.map((n) => n.address) }), seconds));
  });
});
