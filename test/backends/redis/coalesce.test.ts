// Coalesced writes (coalesce_writes, src/backends/redis/connection.ts): the first command a backend sends in
// a tick is written at once, the ones after it in that tick leave together in one socket write at its end;
// with coalesce_writes: false, one write each. Each caller still gets its
// own reply; a connection_pool client and a cluster's sockets are never corked; commands corked when the
// connection drops fail typed at once and the backend recovers. The bounds on a hung server and a blocked
// event loop with coalesced writes are in watchdog.test.ts (which runs with the default, on).
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Redis, type Cluster } from 'ioredis';
import { RedisBackend, RedisClusterBackend } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, type CachedValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { redisClusterNodes, redisUrl, waitUntil } from '../../support/redis.js';
import { guardProcess } from '../../support/reliability.js';

guardProcess();

const prefix = `coalesce-${process.pid}-`;
const payloadOf = (v: unknown): unknown => (v as CachedValue).payload;

/** Counts the socket writes (one `_write` or one `_writev` each) of `client` from now on. */
function countWrites(client: Redis): { readonly writes: number } {
  const stream = client.stream as Socket & { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void };
  const counter = { writes: 0 };
  const write = stream._write.bind(stream);
  stream._write = (...args: unknown[]) => {
    counter.writes++;
    write(...args);
  };
  const writev = stream._writev?.bind(stream);
  if (writev !== undefined)
    stream._writev = (...args: unknown[]) => {
      counter.writes++;
      writev(...args);
    };
  return counter;
}

describe('Redis coalesced writes', () => {
  for (const coalesce of [true, false]) {
    it(`64 gets, 64 sets and a getMulti sent in one tick: ${coalesce ? 'the first written at once, the rest in one write' : 'one write each (coalesce_writes: false)'}; each caller gets its own reply`, async () => {
      const backend = new RedisBackend({ url: redisUrl(), ...(coalesce ? {} : { coalesce_writes: false }) });
      try {
        const keys = Array.from({ length: 64 }, (_, i) => `${prefix}${coalesce}-${i}`);
        await backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(k)])));
        const client = (await backend.getClient()) as Redis;
        const counter = countWrites(client);
        const gets = keys.map((k) => backend.get(k));
        assert.equal(counter.writes, coalesce ? 1 : 64, 'the first command of the tick left at once');
        const sets = keys.map((k, i) => backend.set(`${k}-w`, makeCachedValue(i)));
        const multi = backend.getMulti(keys);
        assert.equal(client.stream.writableCorked, coalesce ? 1 : 0);
        assert.deepEqual((await Promise.all(gets)).map(payloadOf), keys);
        await Promise.all(sets);
        assert.deepEqual((await multi).map(payloadOf), keys);
        assert.equal(counter.writes, coalesce ? 2 : 129);
        assert.equal(client.stream.writableCorked, 0, 'uncorked at the end of the tick');
        assert.deepEqual(
          (await backend.getMulti(keys.map((k) => `${k}-w`))).map(payloadOf),
          keys.map((_, i) => i),
        );
        await backend.deleteMulti([...keys, ...keys.map((k) => `${k}-w`)]);
      } finally {
        await backend.close();
      }
    });
  }

  it('a lone call is written at once; the socket is corked only for the rest of its tick', async () => {
    const backend = new RedisBackend({ url: redisUrl() });
    try {
      await backend.set(`${prefix}lone`, makeCachedValue('v'));
      const client = (await backend.getClient()) as Redis;
      const counter = countWrites(client);
      for (let i = 0; i < 5; i++) {
        const got = backend.get(`${prefix}lone`);
        assert.equal(counter.writes, i + 1, 'written at once');
        assert.equal(client.stream.writableCorked, 1);
        await new Promise((resolve) => process.nextTick(resolve));
        assert.equal(client.stream.writableCorked, 0);
        assert.equal(payloadOf(await got), 'v');
      }
      assert.equal(counter.writes, 5);
      await backend.delete(`${prefix}lone`);
    } finally {
      await backend.close();
    }
  });

  it("a client shared through connection_pool is never corked (its socket is its owner's)", async () => {
    const shared = new Redis(redisUrl());
    const backend = new RedisBackend({ connection_pool: shared });
    try {
      await shared.ping();
      const got = backend.get(`${prefix}shared`);
      assert.equal(shared.stream.writableCorked, 0);
      await got;
    } finally {
      await backend.close();
      await shared.quit();
    }
  });

  it("a cluster's node sockets are never corked (each key's command goes to its own node)", async () => {
    const backend = new RedisClusterBackend({ startup_nodes: redisClusterNodes() });
    try {
      await backend.get(`${prefix}cl`);
      const cluster = (await backend.getClient()) as Cluster;
      const gets = Array.from({ length: 20 }, (_, i) => backend.get(`${prefix}cl-${i}`));
      for (const node of cluster.nodes()) assert.equal(node.stream?.writableCorked ?? 0, 0);
      await Promise.all(gets);
    } finally {
      await backend.close();
    }
  });

  it('commands still corked when the connection drops fail typed at once, and the backend recovers by itself', async () => {
    const backend = new RedisBackend({ url: redisUrl(), socket_timeout: 5 });
    try {
      await backend.set(`${prefix}drop`, makeCachedValue('d'));
      const client = (await backend.getClient()) as Redis;
      const started = performance.now();
      const calls = Array.from({ length: 64 }, () => backend.get(`${prefix}drop`).then(payloadOf, (e: unknown) => e));
      assert.equal(client.stream.writableCorked, 1);
      assert.ok(client.stream.writableLength > 0, 'commands wait in the corked socket');
      client.stream.destroy(); // the connection drops before the tick ends: 63 of these were never written
      const results = await Promise.all(calls);
      assert.ok(performance.now() - started < 2_000, 'failed at once, not at socket_timeout');
      for (const r of results) {
        assert.ok(r instanceof BackendUnavailableError, String(r));
        assert.match(r.message, /Redis GET failed/);
      }
      await waitUntil('reconnected', async () => payloadOf(await backend.get(`${prefix}drop`)) === 'd', 10_000);
      await backend.delete(`${prefix}drop`);
    } finally {
      await backend.close();
    }
  });
});
