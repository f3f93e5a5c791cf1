// The watchdog (src/backends/redis/watchdog.ts) against a real hung server: a private redis-server
// SIGSTOPped by this test (never a shared one). Every kind of call fails with BackendUnavailableError
// naming the operation, within socket_timeout + a tick (plus scheduling slack), including calls over a
// user's own client shared through connection_pool that has no commandTimeout of its own. The backend's own
// client coalesces its writes (coalesce_writes, the default) in all of them. A command sent just before the
// event loop is blocked past its deadline resolves with its reply; on a hung server it still fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { RedisNotifications } from '../../../src/tier/index.js';
import { BackendUnavailableError, isNoValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { type RedisProcess, waitUntil, usePrivateRedisServer } from '../../support/redis.js';
import { guardProcess } from '../../support/reliability.js';

guardProcess();

const SOCKET_TIMEOUT_MS = 300;
const TICK_MS = 30; // a tenth of socket_timeout
// The upper bound is socket_timeout + tick; the slack is for a loaded 2-core machine (the timer runs late,
// never early). The lower bound is exact: no call fails before its socket_timeout.
const SLACK_MS = 1500;

let server: RedisProcess;
usePrivateRedisServer({ before, after }, (started) => {
  server = started;
});

/** Runs `call` with the server hung; returns its error and how long it took. */
async function whileHung(call: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  server.signal('SIGSTOP');
  // The stop takes effect when the kernel next schedules the server: give it that moment, so the call
  // below is not answered just before.
  await sleep(100);
  try {
    const started = performance.now();
    const error = await call().then(
      (value) => assert.fail(`resolved with ${String(value)} while the server was hung`),
      (e: unknown) => e as Error,
    );
    return { error, ms: performance.now() - started };
  } finally {
    server.signal('SIGCONT');
  }
}

function assertTimedOut({ error, ms }: { error: Error; ms: number }, what: RegExp): void {
  assert.ok(error instanceof BackendUnavailableError, `untyped: ${String(error)}`);
  assert.match(error.message, what);
  assert.match(error.message, /Command timed out \(no reply within socket_timeout, 300 ms\)/);
  assert.ok(ms >= SOCKET_TIMEOUT_MS - 1, `failed after ${ms.toFixed(0)} ms, before socket_timeout`);
  assert.ok(ms < SOCKET_TIMEOUT_MS + TICK_MS + SLACK_MS, `failed after ${ms.toFixed(0)} ms`);
}

describe('Redis watchdog: a hung server (SIGSTOP)', () => {
  it('get, getMulti, set, setMulti, delete and the lock fail typed within socket_timeout + a tick, then work after SIGCONT', async () => {
    const backend = new RedisBackend({
      host: '127.0.0.1',
      port: server.port,
      socket_timeout: SOCKET_TIMEOUT_MS / 1000,
      distributed_lock: true,
      lock_timeout: 5,
    });
    try {
      await backend.set('wd-k', makeCachedValue(1));
      const client = (await backend.getClient()) as Redis;
      assert.equal(client.options.commandTimeout, undefined, 'no ioredis timer per command');
      const probe = backend.get('wd-k');
      assert.equal(client.stream.writableCorked, 1, 'coalesced writes (the default) are on in these tests');
      await probe;
      assertTimedOut(await whileHung(() => backend.get('wd-k')), /Redis GET failed on 127\.0\.0\.1:\d+/);
      assertTimedOut(await whileHung(() => backend.getMulti(['wd-k', 'wd-j'])), /Redis MGET failed/);
      assertTimedOut(await whileHung(() => backend.set('wd-k', makeCachedValue(2))), /Redis SET failed/);
      assertTimedOut(await whileHung(() => backend.setMulti({ a: makeCachedValue(1), b: makeCachedValue(2) })), /Redis MSET failed/);
      assertTimedOut(await whileHung(() => backend.delete('wd-k')), /Redis DEL failed/);
      const mutex = backend.getMutex('wd-lock');
      assert.ok(mutex !== null);
      assertTimedOut(await whileHung(() => mutex.acquire(false)), /Redis lock acquire failed/);
      // The commands that timed out still ran after SIGCONT (the DEL too): only an answer is expected.
      await waitUntil('no answer after SIGCONT', async () => isNoValue(await backend.get('wd-k')), 15_000);
      // So did the SET NX of the acquire that failed, and its late OK was released by its token: no lock
      // is left held by nobody (without lock_timeout it would stay for ever).
      await waitUntil('the stray lock released', async () => !(await mutex.locked()), 15_000);
      assert.equal(await mutex.acquire(false), true, 'free for the next caller');
      await mutex.release();
    } finally {
      await backend.close();
    }
  });

  it('a lock acquire that timed out and succeeded late on the server leaves no lock behind, even without lock_timeout', async () => {
    const backend = new RedisBackend({
      host: '127.0.0.1',
      port: server.port,
      socket_timeout: SOCKET_TIMEOUT_MS / 1000,
      distributed_lock: true,
    });
    try {
      const mutex = backend.getMutex('wd-stray');
      assert.ok(mutex !== null);
      assert.equal(await mutex.locked(), false);
      assertTimedOut(await whileHung(() => mutex.acquire(false)), /Redis lock acquire failed/);
      // The SET NX ran once the server resumed; without lock_timeout its lock would never expire.
      await waitUntil('the stray lock released', async () => !(await mutex.locked()), 3000);
      assert.equal(await mutex.acquire(false), true);
      await mutex.release();
    } finally {
      await backend.close();
    }
  });

  it('64 calls in flight all fail within the bound, and the watchdog is empty afterwards', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await backend.get('wd-warm');
      const outcomes = await whileHung(async () => {
        const results = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => backend.get(`wd-${i}`)));
        throw results;
      });
      const results = outcomes.error as unknown as PromiseSettledResult<unknown>[];
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assertTimedOut({ error: (r as PromiseRejectedResult).reason as Error, ms: outcomes.ms }, /Redis GET failed/);
      }
      await waitUntil('no answer after SIGCONT', async () => isNoValue(await backend.get('wd-after')), 15_000);
    } finally {
      await backend.close();
    }
  });

  it("connection_pool: a user's client without commandTimeout (and with its offline queue) is bounded too", async () => {
    const shared = new Redis({ host: '127.0.0.1', port: server.port });
    await shared.ping();
    assert.equal(shared.options.commandTimeout, undefined);
    const backend = new RedisBackend({ connection_pool: shared, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await backend.set('wd-shared', makeCachedValue('x'));
      assertTimedOut(await whileHung(() => backend.get('wd-shared')), /Redis GET failed on a shared ioredis client/);
      assertTimedOut(await whileHung(() => backend.getMulti(['wd-shared'])), /Redis MGET failed/);
      assertTimedOut(await whileHung(() => backend.set('wd-shared', makeCachedValue('y'))), /Redis SET failed/);
      await waitUntil('no answer after SIGCONT', async () => !isNoValue(await backend.get('wd-shared')), 15_000);
    } finally {
      await backend.close();
      assert.equal(shared.status, 'ready', 'the shared client is left open');
      await shared.quit();
    }
  });

  it('boundedCall: a command of your own gets the same bound', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      assert.equal(await backend.boundedCall('PING', (c) => c.ping()), 'PONG');
      assertTimedOut(await whileHung(() => backend.boundedCall('EXPIRE', (c) => c.expire('wd-own', 60))), /Redis EXPIRE failed/);
      await waitUntil('no answer after SIGCONT', async () => (await backend.boundedCall('PING', (c) => c.ping())) === 'PONG', 15_000);
    } finally {
      await backend.close();
    }
  });

  it('RedisNotifications.publish is bounded by the backend', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    const notifications = new RedisNotifications(backend);
    try {
      await notifications.publish('wd-channel', 'warm');
      const outcome = await whileHung(() => notifications.publish('wd-channel', 'm'));
      assertTimedOut(outcome, /Redis PUBLISH failed/);
    } finally {
      await backend.close();
    }
  });
});

/** Blocks the event loop for `ms`, as a long synchronous task of the application would. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no I/O callback runs meanwhile
  }
}

describe('Redis watchdog: the event loop blocked past socket_timeout', () => {
  // Node runs expired timers before it reads the sockets: without the grace in watchdog.ts, the timer that
  // runs when the block ends rejects commands whose replies already wait in the socket or, with coalesced
  // writes (the default), that left only when the block ended.
  for (const coalesce of [true, false]) {
    it(`a command sent just before a block of 2 × socket_timeout resolves with its reply, from any phase of the loop (coalesce_writes: ${coalesce})`, async () => {
      const backend = new RedisBackend({
        host: '127.0.0.1',
        port: server.port,
        socket_timeout: SOCKET_TIMEOUT_MS / 1000,
        coalesce_writes: coalesce,
      });
      try {
        await backend.set('wd-blocked', makeCachedValue('answered'));
        await backend.setMulti({ 'wd-blocked-a': makeCachedValue('a'), 'wd-blocked-b': makeCachedValue('b') });
        // The block starts in a continuation of an I/O callback, of a timer, and of an immediate.
        const phases: [string, () => Promise<unknown>][] = [
          ['after a reply', () => backend.get('wd-warm')],
          ['after a timer', () => sleep(5)],
          ['after an immediate', () => new Promise((resolve) => setImmediate(resolve))],
        ];
        for (const [phase, before] of phases) {
          await before();
          const get = backend.get('wd-blocked');
          const getMulti = backend.getMulti(['wd-blocked-a', 'wd-blocked-b']);
          const set = backend.set('wd-blocked-set', makeCachedValue(phase));
          const many = Array.from({ length: 64 }, () => backend.get('wd-blocked'));
          blockLoop(2 * SOCKET_TIMEOUT_MS);
          const outcomes = await Promise.allSettled([get, getMulti, set, ...many]);
          const failed = outcomes.find((o) => o.status === 'rejected');
          assert.equal(failed, undefined, `${phase}: ${String((failed as PromiseRejectedResult | undefined)?.reason)}`);
          assert.equal(((await get) as { payload: unknown }).payload, 'answered', phase);
          assert.deepEqual(
            (await getMulti).map((v) => (v as { payload: unknown }).payload),
            ['a', 'b'],
            phase,
          );
          assert.equal(((await backend.get('wd-blocked-set')) as { payload: unknown }).payload, phase);
        }
      } finally {
        await backend.close();
      }
    });
  }

  it('commands coalesced behind a block get the whole socket_timeout from when they leave: a server that answers only after the grace still answers them', async () => {
    // The CI failure this pins: a write coalesced to the end of a tick that blocked leaves only when the block
    // ends, and a loaded machine's server took longer than the one-tick grace to answer it. Here the server is
    // stopped for that time on purpose: a process of its own resumes it (this one's loop is blocked), 0.5 s
    // after the block ends: past the first command's grace (0.1 s, so it fails at about 1.6 s, 0.4 s before the
    // resume) and 0.5 s within the timeout (1 s) of the coalesced commands, counted from when they left.
    const timeoutMs = 1000;
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: timeoutMs / 1000 });
    try {
      await backend.set('wd-late', makeCachedValue('answered'));
      await backend.setMulti({ 'wd-late-a': makeCachedValue('a'), 'wd-late-b': makeCachedValue('b') });
      const pid = server.pid;
      assert.ok(pid !== undefined);
      server.signal('SIGSTOP');
      await sleep(100);
      const resumer = spawn('sh', ['-c', `sleep 2; kill -CONT ${pid}`], { stdio: 'ignore' });
      const resumed = once(resumer, 'exit');
      try {
        const started = performance.now();
        const first = backend.get('wd-late'); // the tick's first command: written at once, before the block
        const firstFailedAt = first.then(
          () => null,
          () => performance.now() - started,
        );
        const getMulti = backend.getMulti(['wd-late-a', 'wd-late-b']); // corked until the block ends
        const set = backend.set('wd-late-set', makeCachedValue('late'));
        const many = Array.from({ length: 16 }, () => backend.get('wd-late'));
        blockLoop(1500);
        const outcomes = await Promise.allSettled([getMulti, set, ...many]);
        const failed = outcomes.find((o) => o.status === 'rejected');
        assert.equal(failed, undefined, String((failed as PromiseRejectedResult | undefined)?.reason));
        assert.deepEqual(
          (await getMulti).map((v) => (v as { payload: unknown }).payload),
          ['a', 'b'],
        );
        // The first command had its whole timeout before the block, on a stopped server: it still fails at
        // the end of the grace, before the server resumed.
        const failedAt = await firstFailedAt;
        assert.ok(failedAt !== null, 'the command sent before the block was answered by a stopped server');
        assert.ok(failedAt < 2000, `the command sent before the block failed after ${failedAt.toFixed(0)} ms`);
      } finally {
        await resumed;
        server.signal('SIGCONT');
      }
      assert.equal(((await backend.get('wd-late-set')) as { payload: unknown }).payload, 'late');
    } finally {
      await backend.close();
    }
  });

  it('a hung server and a blocked loop: the call still fails, at the end of the block (not a timeout later)', async () => {
    const backend = new RedisBackend({ host: '127.0.0.1', port: server.port, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await backend.set('wd-k', makeCachedValue(1));
      const outcome = await whileHung(async () => {
        const get = backend.get('wd-k');
        blockLoop(2 * SOCKET_TIMEOUT_MS);
        return get;
      });
      assertTimedOut(outcome, /Redis GET failed/);
      assert.ok(outcome.ms < 2 * SOCKET_TIMEOUT_MS + TICK_MS + SLACK_MS, `failed after ${outcome.ms.toFixed(0)} ms`);
      await waitUntil('an answer after SIGCONT', async () => !isNoValue(await backend.get('wd-k')), 15_000);
    } finally {
      await backend.close();
    }
  });
});
