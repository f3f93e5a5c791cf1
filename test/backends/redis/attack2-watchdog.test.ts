// Adversarial tests of the Redis watchdog (src/backends/redis/watchdog.ts, connection.ts) against private
// redis-servers this file starts, hangs (SIGSTOP), resumes and restarts itself (never a shared server):
// socket_timeout at the top of its range, thousands of commands in flight across the ring's growth,
// resumed mid-flight (each reply to its own caller) or past their deadline (late replies ignored, no
// unhandled rejection), a server restart, a cluster with one node hung, and a process that must exit
// although the watchdog's timer is scheduled for a minute.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Cluster } from 'ioredis';
import { RedisBackend, RedisClusterBackend } from '../../../src/backends/redis/index.js';
import { BackendUnavailableError, type CachedValue, isNoValue, MAX_TIMER_SECONDS } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { keySlot } from '../../../src/backends/redis/slot.js';
import { PrivateRedis, type RedisProcess, waitUntil, usePrivateRedisServer } from '../../support/redis.js';
import { guardProcess, withDeadline } from '../../support/reliability.js';

guardProcess();

let server: RedisProcess;
usePrivateRedisServer({ before, after }, (started) => {
  server = started;
});

const payloadOf = (v: unknown): unknown => (v as CachedValue).payload;

describe('attack2: Redis watchdog on a private server', () => {
  it('socket_timeout at the top of its range (MAX_TIMER_SECONDS) still connects and answers', async () => {
    // The first connect's deadline is socket_connect_timeout + socket_timeout: past 2^31-1 ms Node's
    // setTimeout fires after 1 ms (TimeoutOverflowWarning), and the connect failed at once.
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: MAX_TIMER_SECONDS });
    try {
      await withDeadline(backend.set('a2-max', makeCachedValue('m')), 10_000, 'set');
      assert.equal(payloadOf(await withDeadline(backend.get('a2-max'), 10_000, 'get')), 'm');
    } finally {
      await backend.close();
    }
  });

  it('3000 commands sent while hung and resumed before their deadline: each caller gets its own reply', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: 5 });
    try {
      const keys = Array.from({ length: 3000 }, (_, i) => `a2-own-${i}`);
      await backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(k)])));
      server.signal('SIGSTOP');
      await sleep(100);
      // The ring starts at 64 slots: 3000 in flight makes it grow six times while none has settled.
      const gets = keys.map((k) => backend.get(k));
      await sleep(300);
      server.signal('SIGCONT');
      const values = await withDeadline(Promise.all(gets), 20_000, 'gets after SIGCONT');
      assert.deepEqual(values.map(payloadOf), keys);
    } finally {
      server.signal('SIGCONT');
      await backend.close();
    }
  });

  it('3000 commands past their deadline: each rejects once, typed; the late replies are ignored; the backend works after', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: 0.3 });
    try {
      await backend.set('a2-late', makeCachedValue('late'));
      server.signal('SIGSTOP');
      await sleep(100);
      let settledTwice = 0;
      const outcomes = Array.from({ length: 3000 }, (_, i) => {
        let settled = 0;
        return (i % 2 === 0 ? backend.get('a2-late') : backend.set(`a2-late-${i}`, makeCachedValue(i))).then(
          () => {
            if (++settled > 1) settledTwice++;
            return 'resolved';
          },
          (error: unknown) => {
            if (++settled > 1) settledTwice++;
            return error;
          },
        );
      });
      const results = await withDeadline(Promise.all(outcomes), 15_000, 'timeouts');
      assert.ok(
        results.every((r) => r instanceof BackendUnavailableError && /Command timed out/.test(r.message)),
        String(results.find((r) => !(r instanceof BackendUnavailableError))),
      );
      server.signal('SIGCONT');
      // The replies to all 3000 arrive now and are dropped; the next commands are answered normally.
      await waitUntil('answers after SIGCONT', async () => payloadOf(await backend.get('a2-late')) === 'late', 15_000);
      await sleep(200);
      assert.equal(settledTwice, 0);
      assert.equal(payloadOf(await backend.get('a2-late-1')), 1, 'the timed-out SETs still ran on the server');
    } finally {
      server.signal('SIGCONT');
      await backend.close();
    }
  });

  it('a server restart: commands in flight fail typed, and the backend recovers by itself', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: 1 });
    try {
      await backend.set('a2-restart', makeCachedValue(1));
      server.signal('SIGSTOP');
      await sleep(100);
      const inFlight = Array.from({ length: 200 }, () => backend.get('a2-restart').then(payloadOf, (e: unknown) => e));
      // kill() sends SIGCONT before SIGKILL: the server may answer some of them first.
      await server.kill();
      const results = await withDeadline(Promise.all(inFlight), 10_000, 'in flight');
      assert.ok(
        results.every((r) => r === 1 || r instanceof BackendUnavailableError),
        String(results.find((r) => !(r === 1 || r instanceof BackendUnavailableError))),
      );
      await server.start();
      // The restarted server is empty (no persistence): a miss, answered.
      await waitUntil('reconnected', async () => isNoValue(await backend.get('a2-restart')), 15_000);
    } finally {
      await backend.close();
    }
  });

  it('close() while commands are pending on a hung server: each rejects typed, once, and close() returns', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: 0.5 });
    try {
      await backend.set('a2-close', makeCachedValue(1));
      server.signal('SIGSTOP');
      await sleep(100);
      const pending = Array.from({ length: 500 }, (_, i) =>
        (i % 2 ? backend.get('a2-close') : backend.delete('a2-close')).then(String, (e: unknown) => e),
      );
      const started = performance.now();
      await withDeadline(backend.close(), 5_000, 'close');
      assert.ok(performance.now() - started < 3_000);
      const results = await withDeadline(Promise.all(pending), 5_000, 'pending');
      assert.ok(
        results.every((r) => r instanceof BackendUnavailableError),
        String(results.find((r) => !(r instanceof BackendUnavailableError))),
      );
      await assert.rejects(backend.get('a2-close'), BackendUnavailableError);
    } finally {
      server.signal('SIGCONT');
      await backend.close();
    }
  });

  it('socket_timeout at the bottom of its range (1 ms): every call settles, answered or typed, and the watchdog empties', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: 0.001 });
    try {
      const results = await withDeadline(
        Promise.all(
          Array.from({ length: 2000 }, (_, i) =>
            backend.get(`a2-tiny-${i % 10}`).then(
              () => 'ok',
              (e: unknown) => e,
            ),
          ),
        ),
        10_000,
        'tiny timeouts',
      );
      assert.ok(
        results.every((r) => r === 'ok' || (r instanceof BackendUnavailableError && /Command timed out|not connected/.test(r.message))),
      );
    } finally {
      await backend.close();
    }
  });

  it('the watchdog timer does not keep a process alive (socket_timeout 60 s, process exits at once after close)', async () => {
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'attack2-exit-child.ts');
    const started = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', script],
        { env: { ...process.env, A2_PORT: String(server.port) }, timeout: 40_000 },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
      );
    });
    const ms = performance.now() - started;
    assert.equal(code, 0, stderr);
    assert.ok(ms < 30_000, `the child took ${ms.toFixed(0)} ms to exit`);
  });
});

describe('attack2: Redis Cluster with one node hung (SIGSTOP)', () => {
  it('keys on the live nodes keep answering while the hung node times out its own', async () => {
    const cluster = new PrivateRedis();
    try {
      const nodes = await cluster.clusterSetup();
      const backend = new RedisClusterBackend({ startup_nodes: nodes.map((n) => n.address), socket_timeout: 0.5 });
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `a2-cl-${i}`);
        await backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(k)])));
        const client = (await backend.getClient()) as Cluster;
        const victim = nodes[0] as RedisProcess;
        const onVictim = (k: string): boolean => client.slots[keySlot(k)]?.[0] === victim.address;
        const hung = keys.filter(onVictim);
        const live = keys.filter((k) => !onVictim(k));
        assert.ok(hung.length > 20 && live.length > 50);
        victim.signal('SIGSTOP');
        await sleep(100);
        try {
          // The hung node's commands sit at the head of the one FIFO; the live ones behind them settle first.
          const hungGets = hung.slice(0, 10).map((k) => backend.get(k).then(String, (e: unknown) => e));
          const started = performance.now();
          const liveValues = await withDeadline(Promise.all(live.slice(0, 50).map((k) => backend.get(k))), 5_000, 'live gets');
          assert.ok(performance.now() - started < 400, 'live keys answered before the hung ones timed out');
          assert.deepEqual(liveValues.map(payloadOf), live.slice(0, 50));
          const hungResults = await withDeadline(Promise.all(hungGets), 5_000, 'hung gets');
          assert.ok(hungResults.every((r) => r instanceof BackendUnavailableError && /Command timed out/.test(r.message)));
          // Live keys still answer after the hung ones failed.
          assert.equal(payloadOf(await withDeadline(backend.get(live[0] as string), 5_000, 'live get')), live[0]);
        } finally {
          victim.signal('SIGCONT');
        }
      } finally {
        await backend.close();
      }
    } finally {
      await cluster.dispose();
    }
  });
});
