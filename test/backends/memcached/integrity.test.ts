// PooledMemcachedBackend: what a read hands back, what messages show, and which values configuration
// accepts (issues 15.3, 16.1, 16.4). Against the shared memcached servers (test/support/servers.ts).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PooledMemcachedBackend } from '../../../src/backends/memcached/index.js';
import { checkMemjsShape } from '../../../src/backends/memcached/drivers.js';
import type { MemcachedMutex } from '../../../src/backends/memcached/lock.js';
import {
  BackendUnavailableError,
  CacheRegion,
  ConfigurationError,
  SerializationError,
  ValidationError,
  isNoValue,
} from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { withDeadline } from '../../support/reliability.js';
import { memcachedServers } from '../../support/servers.js';
import { serverStats, usePrivateMemcached } from '../../support/memcached.js';

const servers = memcachedServers();
const one = servers.slice(0, 1);
const run = randomUUID().slice(0, 8);
let counter = 0;
const key = (label = 'k'): string => `mc-int-${run}-${label}-${counter++}`;

/** True when `bytes` is the whole of its backing memory: no one else's bytes are reachable through `.buffer`. */
function ownsItsMemory(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
}

describe('PooledMemcachedBackend reads return memory only the caller owns', () => {
  let backend: PooledMemcachedBackend;
  before(() => {
    backend = new PooledMemcachedBackend({ url: one });
  });
  after(() => backend.close());

  it('getSerialized and getSerializedMulti copy out of the socket chunk', async () => {
    const keys = [key('a'), key('b'), key('c')];
    await backend.setSerializedMulti(new Map(keys.map((k, i) => [k, Buffer.from(`value-${i}-${'x'.repeat(50)}`)])));
    const single = await backend.getSerialized(keys[0] as string);
    assert.ok(!isNoValue(single));
    assert.equal(single.toString(), `value-0-${'x'.repeat(50)}`);
    assert.ok(ownsItsMemory(single), `a get shares ${single.buffer.byteLength} bytes of memory for a ${single.length}-byte value`);
    const multi = await backend.getSerializedMulti(keys);
    for (const [i, value] of multi.entries()) {
      assert.ok(!isNoValue(value));
      assert.equal(value.toString(), `value-${i}-${'x'.repeat(50)}`);
      assert.ok(ownsItsMemory(value), `a multi-get shares ${value.buffer.byteLength} bytes of memory for a ${value.length}-byte value`);
    }
  });

  it("a v8-deserialized typed array does not expose other keys' bytes through .buffer", async () => {
    const region = new CacheRegion({ serializer: 'v8' }).configure(new PooledMemcachedBackend({ url: one }));
    try {
      const mine = key('mine');
      const theirs = key('theirs');
      await region.set(mine, { u: Buffer.from('mine-mine-mine') });
      await region.set(theirs, { u: Buffer.from('THEIR-SECRET-BYTES') });
      // Both replies in one multi-get: they arrive in one socket chunk.
      const [value] = (await region.getMulti([mine, theirs])) as [{ u: Uint8Array }, unknown];
      assert.equal(Buffer.from(value.u).toString(), 'mine-mine-mine');
      const reachable = Buffer.from(value.u.buffer);
      assert.ok(!reachable.includes('THEIR-SECRET-BYTES'), "value.u.buffer holds another key's bytes");
    } finally {
      await region.close();
    }
  });
});

describe('PooledMemcachedBackend keeps secrets out of messages', () => {
  it('a url with a login is refused, and the message shows no password', () => {
    for (const url of [
      'svc:hunter2-planted@10.0.0.1:11211',
      'hunter2-planted@10.0.0.1:11211',
      ['10.0.0.2:11211', 'svc:hunter2-planted@10.0.0.1'],
    ]) {
      let caught: unknown;
      try {
        new PooledMemcachedBackend({ url });
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ValidationError, `${String(url)}: ${String(caught)}`);
      assert.match(caught.message, /username and password arguments/);
      assert.ok(!caught.message.includes('hunter2'), caught.message);
      assert.ok(!String(caught.stack).includes('hunter2'), 'the stack repeats the message');
    }
  });
});

describe('PooledMemcachedBackend in a script that forgets close()', () => {
  it('the script exits soon after its last call, and nothing is written to stderr', async () => {
    // Large but valid durations too: a TimeoutOverflowWarning would show on stderr.
    const script = `
      const { PooledMemcachedBackend } = await import('./src/backends/memcached/index.ts');
      const backend = new PooledMemcachedBackend({
        url: ${JSON.stringify(servers)}, distributed_lock: true, lock_timeout: 30,
        socket_timeout: '24d', pool_connection_get_timeout: '24d', pool_unused_timeout: '24d', dead_retry: '24d',
      });
      const { makeCachedValue } = await import('./src/backend.ts');
      await backend.set('${key('exit')}', makeCachedValue(1));
      await backend.getMulti(['${key('exit')}', '${key('exit')}', '${key('exit')}']);
      const mutex = backend.getMutex('${key('exit-lock')}');
      await mutex.acquire();
      await mutex.release();
      process.stdout.write('done ' + Date.now());
      // no backend.close()`;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Generous: tsx compiles the sources first on a loaded 2-core machine. Before the fix the idle
    // sockets kept the script alive for pool_unused_timeout (here 24 days; 60 s by default).
    const BOUND_MS = 30_000;
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
      sleep(BOUND_MS).then(() => 'still running' as const),
    ]);
    if (exited === 'still running') child.kill('SIGKILL');
    const lastCall = Number(/done (\d+)/.exec(stdout)?.[1] ?? NaN);
    assert.equal(exited, 0, `the script did not exit within ${BOUND_MS} ms of starting (stdout ${stdout}, stderr ${stderr})`);
    assert.equal(stderr, '', 'nothing on stderr');
    assert.ok(Number.isFinite(lastCall) && lastCall >= started, stdout);
  });
});

describe('PooledMemcachedBackend lock items live where no user key reaches (16.2)', () => {
  let region: CacheRegion;
  let backend: PooledMemcachedBackend;
  before(() => {
    backend = new PooledMemcachedBackend({ url: servers, distributed_lock: true, lock_timeout: 30 });
    region = new CacheRegion().configure(backend);
  });
  after(() => region.close());

  it('a cached entry named "_lock" + k does not block getOrCreate(k)', async () => {
    const k = key('blocked');
    await region.set(`_lock${k}`, 'an ordinary entry, no TTL');
    // Before the fix the entry took the lock item's place and this waited forever.
    const value = await withDeadline(
      region.getOrCreate(k, () => 'created'),
      10_000,
      'getOrCreate(k)',
    );
    assert.equal(value, 'created');
    assert.equal(await region.get(`_lock${k}`), 'an ordinary entry, no TTL');
  });

  it('getOrCreate("_lock" + k) while k is locked leaves the lock item alone: it frees on release', async () => {
    const k = key('overwrite');
    const mutex = backend.getMutex(k);
    assert.ok(mutex);
    assert.equal(await mutex.acquire(false), true);
    assert.equal(await region.getOrCreate(`_lock${k}`, () => 'entry'), 'entry');
    assert.equal(await mutex.locked(), true, 'still our lock');
    await mutex.release();
    assert.equal(await mutex.locked(), false, 'the lock item was overwritten and never freed');
  });

  it('the backend refuses a key in the lock namespace that bypassed the key mangler', async () => {
    await assert.rejects(backend.set('_lockfoo', makeCachedValue(1)), (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.match(error.message, /reserves for its distributed lock items.*default key mangler/);
      return true;
    });
    await assert.rejects(backend.getMulti(['ok', '_lockfoo']), ValidationError);
    assert.match(backend.keyMangler('_lockfoo'), /^sha1:[0-9a-f]{40}$/);
  });
});

describe('PooledMemcachedBackend lock waits (15.6)', () => {
  const own = usePrivateMemcached(1, { before, after });

  it('an acquire whose caller gave up (signal aborted) stops polling the server', async () => {
    const backend = new PooledMemcachedBackend({ url: own[0]?.address, distributed_lock: true, lock_timeout: 30 });
    try {
      const k = key('abandoned');
      const holder = backend.getMutex(k) as MemcachedMutex;
      const waiter = backend.getMutex(k) as MemcachedMutex;
      assert.equal(await holder.acquire(false), true);
      const controller = new AbortController();
      const waiting = waiter.acquire(true, controller.signal);
      await sleep(300);
      const before = Number((await serverStats(own[0]?.address as string)).get('cmd_set'));
      assert.ok(before > 2, 'the waiter polls with ADDs while the lock is held');
      controller.abort(new Error('the caller left'));
      // Never granted: false, as the CacheMutex contract says (it rejected with the reason before).
      assert.equal(await waiting, false);
      const settled = Number((await serverStats(own[0]?.address as string)).get('cmd_set'));
      await sleep(500); // ~6 ADDs would arrive in this time if the wait went on polling
      const later = Number((await serverStats(own[0]?.address as string)).get('cmd_set'));
      assert.equal(later, settled, `${later - settled} ADDs after the caller left`);
      assert.equal(await holder.locked(), true);
      await holder.release();
    } finally {
      await backend.close();
    }
  });

  it("a region's getOrCreate whose signal aborts while the lock is held: rejects with the reason, no lock error under onBackendError 'miss'", async () => {
    // The mutex rejected with the reason before, which the region's lenient lock under 'miss' counted as a
    // lock failure: an error event and an unlocked create for a caller who had just left.
    const holding = new PooledMemcachedBackend({ url: own[0]?.address, distributed_lock: true, lock_timeout: 30 });
    const waiting = new PooledMemcachedBackend({ url: own[0]?.address, distributed_lock: true, lock_timeout: 30 });
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(waiting, { expirationTime: 60 });
    try {
      const k = key('abandoned-region');
      const errors: string[] = [];
      region.on('error', (event) => void errors.push(event.operation));
      const holder = holding.getMutex(k) as MemcachedMutex;
      assert.equal(await holder.acquire(false), true);
      const controller = new AbortController();
      const reason = new Error('the caller left');
      let ran = false;
      const getting = region.getOrCreate(
        k,
        async () => {
          ran = true;
          return 1;
        },
        { signal: controller.signal },
      );
      await sleep(200);
      controller.abort(reason);
      await assert.rejects(getting, (e: unknown) => e === reason);
      assert.equal(ran, false);
      assert.deepEqual(errors, []);
      assert.equal(region.stats().unlockedCreates, 0);
      await holder.release();
    } finally {
      await region.close();
      await holding.close();
    }
  });

  it('24 waits with a signal on one backend: no MaxListenersExceededWarning, and each aborted one resolves false', async () => {
    const backend = new PooledMemcachedBackend({ url: own[0]?.address, distributed_lock: true, lock_timeout: 30 });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const k = key('many-waits');
      const holder = backend.getMutex(k) as MemcachedMutex;
      assert.equal(await holder.acquire(false), true);
      const controllers = Array.from({ length: 24 }, () => new AbortController());
      const waits = controllers.map((c) => (backend.getMutex(k) as MemcachedMutex).acquire(true, c.signal));
      await sleep(100);
      for (const c of controllers) c.abort();
      assert.deepEqual(await Promise.all(waits), new Array(24).fill(false));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
      await holder.release();
    } finally {
      process.off('warning', onWarning);
      await backend.close();
    }
  });

  it('distributed_lock without lock_timeout warns once per process, with a code', async () => {
    const script = `
      const { PooledMemcachedBackend } = await import('./src/backends/memcached/index.ts');
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code));
      new PooledMemcachedBackend({ url: 'a:1', distributed_lock: true });
      new PooledMemcachedBackend({ url: 'a:1', distributed_lock: true, lock_timeout: 0 });
      new PooledMemcachedBackend({ url: 'a:1', distributed_lock: true, lock_timeout: 30 });
      new PooledMemcachedBackend({ url: 'a:1' });
      await new Promise((resolve) => setImmediate(resolve));
      process.stdout.write(JSON.stringify(warnings));`;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--no-warnings', '-e', script],
      { cwd: root },
    );
    assert.deepEqual(JSON.parse(stdout), ['DOGPILE_CACHE_MEMCACHED_LOCK_NO_TIMEOUT']);
  });
});

describe('PooledMemcachedBackend with a corrupt entry on the server (16.6)', () => {
  it('get rejects with SerializationError; getMulti returns the good values and NO_VALUE for the corrupt one', async () => {
    const backend = new PooledMemcachedBackend({ url: servers });
    try {
      const [good1, bad, good2] = [key('good'), key('corrupt'), key('good')];
      await backend.setMulti({ [good1]: makeCachedValue('one'), [good2]: makeCachedValue('two') });
      await backend.setSerialized(bad, Buffer.from('not the dogpile format')); // what another client may leave there
      await assert.rejects(backend.get(bad), SerializationError);
      const values = await backend.getMulti([good1, bad, good2]);
      assert.deepEqual(
        values.map((v) => (isNoValue(v) ? 'NO_VALUE' : v.payload)),
        ['one', 'NO_VALUE', 'two'],
      );
    } finally {
      await backend.close();
    }
  });
});

describe('PooledMemcachedBackend checks the memjs internals it drives at load', () => {
  it('the installed memjs passes; one without them is a ConfigurationError naming what is missing and the tested range', async () => {
    const memjs = await import('memjs');
    checkMemjsShape((memjs as { default?: unknown }).default ?? memjs);
    const older = { Server: function Server() {}, Utils: { timestamp: () => 0 } };
    assert.throws(
      () => checkMemjsShape(older),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError, String(error));
        assert.match(error.message, /Server\.prototype\.appendToBuffer/);
        assert.match(error.message, /memjs >=1\.3\.0 <1\.4\.0/);
        return true;
      },
    );
    assert.throws(() => checkMemjsShape({}), ConfigurationError);
  });
});

describe('PooledMemcachedBackend close() against a hung server (15.1)', () => {
  const own = usePrivateMemcached(1, { before, after });

  it('settles within socket_timeout with requests in flight, and at once while connecting', async () => {
    const server = own[0] as NonNullable<(typeof own)[0]>;
    const SOCKET_TIMEOUT_MS = 1000;
    // Slack for a loaded 2-core machine; the bug this guards against is a close() that waits for ever.
    const SLACK_MS = 1500;
    const warm = new PooledMemcachedBackend({ url: server.address, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    const cold = new PooledMemcachedBackend({ url: server.address, socket_timeout: SOCKET_TIMEOUT_MS / 1000 });
    try {
      await warm.set(key('warm'), makeCachedValue(1)); // an open connection
      server.pause();
      const inFlight = Array.from({ length: 10 }, () =>
        warm.get(key('hung')).then(
          () => 'answered',
          (error: unknown) => error,
        ),
      );
      const connecting = cold.get(key('hung')).then(
        () => 'answered',
        (error: unknown) => error,
      );
      await sleep(50);
      let started = performance.now();
      await withDeadline(warm.close(), 2 * SOCKET_TIMEOUT_MS + SLACK_MS, 'close() with requests in flight');
      const warmMs = performance.now() - started;
      started = performance.now();
      await withDeadline(cold.close(), 2 * SOCKET_TIMEOUT_MS + SLACK_MS, 'close() while connecting');
      const coldMs = performance.now() - started;
      assert.ok(warmMs < SOCKET_TIMEOUT_MS + SLACK_MS, `close() with requests in flight took ${warmMs.toFixed(0)} ms`);
      assert.ok(coldMs < SLACK_MS, `close() while connecting took ${coldMs.toFixed(0)} ms`);
      for (const outcome of [...(await Promise.all(inFlight)), await connecting]) {
        assert.ok(outcome instanceof BackendUnavailableError, String(outcome));
      }
    } finally {
      server.resume();
    }
  });
});
