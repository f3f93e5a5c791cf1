// PooledMemcachedBackend against real memcached servers. The conformance suite and the data tests
// use the shared servers (test/support/servers.ts); the fault tests (a server killed, paused,
// restarted) start private memcached processes of their own so that they disturb no one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PooledMemcachedBackend, type ServerPoolStats } from '../../../src/backends/memcached/index.js';
import { toExptime, MAX_RELATIVE_EXPTIME, ITEM_OVERHEAD_BYTES } from '../../../src/backends/memcached/protocol.js';
import { HashRing } from '../../../src/backends/memcached/ring.js';
import {
  BackendUnavailableError,
  ConfigurationError,
  NO_VALUE,
  QueueEmptyError,
  ValidationError,
  ValueTooLargeError,
  isNoValue,
  memcachedSafeMangler,
  type CachedValue,
} from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { runBackendConformance } from '../../../src/testing/index.js';
import { memcachedServers } from '../../support/servers.js';
import {
  PrivateMemcached,
  canCreateSaslUsers,
  usePrivateMemcached,
  freePort,
  remainingTtl,
  serverStats,
  textCommand,
} from '../../support/memcached.js';

const runner = { describe, it, before, after };
const servers = memcachedServers();
const one = servers.slice(0, 1);
const run = randomUUID().slice(0, 8);
let counter = 0;
const key = (label = 'k'): string => `mc-test-${run}-${label}-${counter++}`;
const cv = <T>(payload: T): CachedValue<T> => makeCachedValue(payload);
const payloadOf = (value: unknown): unknown => (isNoValue(value) ? NO_VALUE : (value as CachedValue).payload);

/** Elapsed milliseconds of `promise`, and how it settled. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

runBackendConformance(
  'PooledMemcachedBackend, 1 server',
  () => new PooledMemcachedBackend({ url: one }),
  { mutex: false, bytes: true },
  runner,
);
runBackendConformance(
  'PooledMemcachedBackend, 1 server, distributed_lock',
  () => new PooledMemcachedBackend({ url: one, distributed_lock: true, lock_timeout: 30 }),
  { mutex: true, bytes: true },
  runner,
);
runBackendConformance(
  `PooledMemcachedBackend, ${servers.length} servers`,
  () => new PooledMemcachedBackend({ url: servers.join(',') }),
  { mutex: false, bytes: true },
  runner,
);
runBackendConformance(
  `PooledMemcachedBackend, ${servers.length} servers, distributed_lock`,
  () => new PooledMemcachedBackend({ url: servers, distributedLock: true, lockTimeout: '30s' }),
  { mutex: true, bytes: true },
  runner,
);

describe('PooledMemcachedBackend arguments', () => {
  it('reads snake_case and camelCase names, ignores unknown oslo options, and connects nothing', async () => {
    const backend = new PooledMemcachedBackend({
      url: ' 127.0.0.1:1 , [::1]:2,inet6:[::1]:3, inet:localhost ',
      pool_maxsize: '4',
      poolUnusedTimeout: '90s',
      dead_retry: 10,
      socket_timeout: '250ms',
      pool_flush_on_reconnect: true,
      sasl_enabled: false,
      username: 'ignored-when-sasl-disabled',
    });
    assert.deepEqual(backend.servers, ['127.0.0.1:1', '[::1]:2', '[::1]:3', 'localhost:11211']);
    assert.deepEqual(backend.poolStats(), [], 'nothing is loaded or opened before the first operation');
    await backend.close();
  });

  it('requires url, and rejects malformed servers, duplicates and wrong types', () => {
    assert.throws(() => new PooledMemcachedBackend({}), ConfigurationError);
    for (const url of ['', 'host:', 'host:0', 'host:70000', 'host:12a', '::1:11211', 'unix:/tmp/mc.sock', 'a b:1', 42, [1]]) {
      assert.throws(() => new PooledMemcachedBackend({ url }), ValidationError, String(url));
    }
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1,a:1' }), ValidationError);
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', pool_maxsize: 0 }), ValidationError);
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', socket_timeout: 0 }), ValidationError);
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', dead_retry: 'soon' }), ValidationError);
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', distributed_lock: 'maybe' }), ValidationError);
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', poolMaxsize: 2, pool_maxsize: 3 }), ValidationError);
  });

  it('rejects configurations it cannot serve: a Python tls_context (TLS takes tls_enabled and tls_* files: tls.test.ts), SASL without both credentials', () => {
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', tls_context: {} }), ConfigurationError);
    assert.throws(
      () => new PooledMemcachedBackend({ url: 'a:1', sasl_enabled: true, username: 'u' }),
      /username and password should be configured/,
    );
    assert.throws(() => new PooledMemcachedBackend({ url: 'a:1', password: 'p' }), ConfigurationError);
  });

  it('recommends the memcached-safe key mangler and offers no mutex without distributed_lock', async () => {
    const backend = new PooledMemcachedBackend({ url: one });
    assert.equal(backend.keyMangler('k'), memcachedSafeMangler('k'));
    assert.equal(backend.keyMangler('x'.repeat(300)), memcachedSafeMangler('x'.repeat(300)));
    assert.equal(backend.getMutex('k'), null);
    await backend.close();
  });

  it('importing the module loads no driver; the first operation does', async () => {
    const script = `
      const { PooledMemcachedBackend } = await import('./src/backends/memcached/index.ts');
      const { createRequire } = await import('node:module');
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/(memjs|generic-pool)\\//.test(p)).length > 0;
      const backend = new PooledMemcachedBackend({ url: ${JSON.stringify(one[0])} });
      const before = loaded();
      await backend.get('driver-probe');
      const afterOp = loaded();
      await backend.close();
      process.stdout.write(JSON.stringify({ before, afterOp }));`;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    assert.deepEqual(JSON.parse(stdout), { before: false, afterOp: true });
  });
});

describe('PooledMemcachedBackend data path', () => {
  let backend: PooledMemcachedBackend;
  before(() => {
    backend = new PooledMemcachedBackend({ url: servers });
  });
  after(() => backend.close());

  it('spreads keys over every server, each key on exactly the server the ring names', async () => {
    const keys = Array.from({ length: 300 }, () => key('spread'));
    await backend.setMulti(new Map(keys.map((k, i) => [k, cv(i)])));
    const perServer = servers.map((url) => new PooledMemcachedBackend({ url }));
    try {
      const found = await Promise.all(perServer.map((single) => single.getMulti(keys)));
      keys.forEach((k, i) => {
        const holders = servers.filter((_, s) => !isNoValue(found[s]?.[i]));
        assert.deepEqual(holders, [backend.serverFor(k)], `${k} is on exactly its ring server`);
      });
      for (const [s, results] of found.entries()) {
        const share = results.filter((r) => !isNoValue(r)).length / keys.length;
        if (servers.length > 1) assert.ok(share > 0.15, `server ${servers[s]} holds ${share.toFixed(2)} of the keys`);
      }
    } finally {
      await Promise.all(perServer.map((single) => single.close()));
      await backend.deleteMulti(keys);
    }
  });

  it('getMulti across servers: aligned with keys, with misses and duplicates', async () => {
    const keys = Array.from({ length: 200 }, () => key('multi'));
    const stored = keys.filter((_, i) => i % 3 !== 0);
    await backend.setMulti(Object.fromEntries(stored.map((k) => [k, cv(`v:${k}`)])));
    const asked = [...keys, ...keys.slice(0, 20).reverse()];
    const got = await backend.getMulti(asked);
    assert.equal(got.length, asked.length);
    for (const [i, k] of asked.entries()) assert.deepEqual(payloadOf(got[i]), stored.includes(k) ? `v:${k}` : NO_VALUE, k);
    await backend.deleteMulti(asked);
    assert.ok((await backend.getMulti(keys)).every(isNoValue));
  });

  it('stores items with flags 0 and the bytes it was given (python-memcached reads them as bytes)', async () => {
    const k = key('flags');
    const bytes = Buffer.from('{"ct": 1700000000.25, "v": 2}|{"a": 1}', 'utf8');
    await backend.setSerialized(k, bytes);
    const owner = backend.serverFor(k);
    const reply = await textCommand(owner, `get ${k}`, /END\r\n$/);
    assert.ok(reply.startsWith(`VALUE ${k} 0 ${bytes.length}\r\n`), reply);
    assert.ok(reply.includes(bytes.toString('utf8')));
  });

  it('keys over 250 bytes or with spaces are a ValidationError; the mangler makes them storable', async () => {
    const long = `${key('long')}-${'x'.repeat(300)}`;
    const spaced = `${key('spaced')} with spaces`;
    const unicode = `${key('ü')}-${'ü'.repeat(120)}`; // 240+ characters, over 250 bytes
    for (const bad of [long, spaced, unicode, `${key()}\n`]) {
      await assert.rejects(backend.set(bad, cv(1)), ValidationError);
      await assert.rejects(backend.get(bad), ValidationError);
      await assert.rejects(backend.getMulti([key(), bad]), ValidationError);
    }
    for (const raw of [long, spaced, unicode]) {
      const mangled = backend.keyMangler(raw);
      await backend.set(mangled, cv(raw));
      assert.equal(payloadOf(await backend.get(mangled)), raw);
      await backend.delete(mangled);
    }
    const exactly250 = `${key('e')}-`.padEnd(250, 'y');
    await backend.set(exactly250, cv('edge'));
    assert.equal(payloadOf(await backend.get(exactly250)), 'edge');
  });

  it('large values: a multi-get of 4 MB in one batch, replies split across many reads', async () => {
    const keys = Array.from({ length: 20 }, () => key('large'));
    const blobs = keys.map((_, i) => Buffer.alloc(200_000 + i, 0x41 + i));
    await backend.setSerializedMulti(new Map(keys.map((k, i) => [k, blobs[i] as Buffer])));
    const got = await backend.getSerializedMulti(keys);
    for (const [i, value] of got.entries()) assert.ok(Buffer.isBuffer(value) && value.equals(blobs[i] as Buffer), `value ${i}`);
    await backend.deleteMulti(keys);
  });

  it('a value over the item size is a ValueTooLargeError before anything is sent; the largest that fits is stored', async () => {
    const k = key('big');
    const room = 1_048_576 - Buffer.byteLength(k) - ITEM_OVERHEAD_BYTES;
    await backend.setSerialized(k, Buffer.alloc(room, 0x61));
    assert.equal(((await backend.getSerialized(k)) as Buffer).length, room);
    await assert.rejects(backend.setSerialized(k, Buffer.alloc(room + 1, 0x62)), ValueTooLargeError);
    assert.equal(((await backend.getSerialized(k)) as Buffer)[0], 0x61, 'the old value is untouched');
    // Nothing is sent: the same check fails on a backend whose server does not exist.
    const nowhere = new PooledMemcachedBackend({ url: `127.0.0.1:${await freePort()}` });
    await assert.rejects(nowhere.setSerialized(k, Buffer.alloc(room + 1)), ValueTooLargeError);
    await nowhere.close();
    // A multi-set with one oversized value stores nothing.
    const [k1, k2] = [key(), key()];
    await assert.rejects(backend.setSerializedMulti({ [k1]: Buffer.from('small'), [k2]: Buffer.alloc(2_000_000) }), ValueTooLargeError);
    assert.deepEqual(await backend.getSerializedMulti([k1, k2]), [NO_VALUE, NO_VALUE]);
    await backend.delete(k);
  });

  it('a server whose item limit is below server_max_value_length answers too-large: still ValueTooLargeError', async () => {
    const generous = new PooledMemcachedBackend({ url: one, server_max_value_length: 4_194_304 });
    try {
      await assert.rejects(generous.setSerialized(key('e2big'), Buffer.alloc(2_000_000)), ValueTooLargeError);
      await assert.rejects(
        generous.setSerializedMulti({ [key('e2big')]: Buffer.alloc(2_000_000), [key()]: Buffer.from('ok') }),
        ValueTooLargeError,
      );
    } finally {
      await generous.close();
    }
  });

  it('shares one pipelined connection: pool_maxsize 1 serves 500 concurrent requests', async () => {
    const small = new PooledMemcachedBackend({ url: one, pool_maxsize: 1 });
    try {
      const keys = Array.from({ length: 50 }, () => key('shared'));
      await small.setMulti(Object.fromEntries(keys.map((k) => [k, cv(k)])));
      const got = await Promise.all(Array.from({ length: 500 }, (_, i) => small.get(keys[i % 50] as string)));
      for (const [i, value] of got.entries()) assert.equal(payloadOf(value), keys[i % 50]);
      assert.equal(small.poolStats()[0]?.connections, 1);
      await small.deleteMulti(keys);
    } finally {
      await small.close();
    }
  });
});

describe('PooledMemcachedBackend expiry', () => {
  it('toExptime: 0 = none, fractions round up (never to 0 = forever), over 30 days = absolute unix time', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(toExptime(0, now), 0);
    assert.equal(toExptime(0.001, now), 1);
    assert.equal(toExptime(0.5, now), 1);
    assert.equal(toExptime(1, now), 1);
    assert.equal(toExptime(1.2, now), 2);
    assert.equal(toExptime(MAX_RELATIVE_EXPTIME, now), 2_592_000);
    assert.equal(toExptime(MAX_RELATIVE_EXPTIME + 1, now), now / 1000 + 2_592_001);
    assert.equal(toExptime(1e12, now), 0xffff_ffff);
  });

  it('memcached_expire_time: none by default, sub-second rounds up to 1 s (and expires), 31 days is kept', async () => {
    const address = one[0] as string;
    const never = new PooledMemcachedBackend({ url: address });
    const brief = new PooledMemcachedBackend({ url: address, memcached_expire_time: 0.3 });
    const long = new PooledMemcachedBackend({ url: address, memcachedExpireTime: '31d' });
    const [kNever, kBrief, kLong] = [key('never'), key('brief'), key('long')];
    try {
      await never.set(kNever, cv('stays'));
      await brief.set(kBrief, cv('goes'));
      await long.set(kLong, cv('month'));
      assert.equal(await remainingTtl(address, kNever), -1);
      const briefTtl = await remainingTtl(address, kBrief);
      assert.ok(
        briefTtl === null || (briefTtl >= 0 && briefTtl <= 1),
        `sub-second TTL sent as 1 s, not 0 (forever); server says ${briefTtl}`,
      );
      // Sent as-is, 31 days would be read as a unix time in January 1970: expired at once.
      assert.equal(payloadOf(await long.get(kLong)), 'month');
      const longTtl = (await remainingTtl(address, kLong)) as number;
      assert.ok(Math.abs(longTtl - 31 * 86_400) < 10, `31-day TTL, server says ${longTtl}`);
      await sleep(2100); // memcached's clock ticks once a second: a 1 s item is gone within 2 s
      assert.equal(await brief.get(kBrief), NO_VALUE);
      assert.equal(payloadOf(await never.get(kNever)), 'stays');
    } finally {
      await never.deleteMulti([kNever, kBrief, kLong]);
      await Promise.all([never.close(), brief.close(), long.close()]);
    }
  });
});

describe('PooledMemcachedBackend distributed lock', () => {
  // lock_timeout 30: memcached's clock ticks once a second, so an item with a 1 s expiry can vanish
  // within milliseconds of being written; a test that needs a held lock must not race that (23.4).
  // Only the expiry test uses a 1 s lock, and it asserts the lock is freed, never that it is still held.
  let backend: PooledMemcachedBackend;
  before(() => {
    backend = new PooledMemcachedBackend({ url: servers, distributed_lock: true, lock_timeout: 30 });
  });
  after(() => backend.close());
  const deleteItem = (name: string): Promise<string> => textCommand(backend.serverFor(name), `delete ${name}`, /\r\n$/);

  it('locks the item "_lock" + key (dogpile\'s name) with lock_timeout as its expiry', async () => {
    const k = key('lock');
    const mutex = backend.getMutex(k);
    assert.ok(mutex);
    assert.equal(await mutex.acquire(), true);
    const lockKey = `_lock${k}`;
    const ttl = await remainingTtl(backend.serverFor(lockKey), lockKey);
    // 30 s minus memcached's 1 s clock and however long a loaded machine took to get here.
    assert.ok(ttl !== null && ttl >= 20 && ttl <= 30, `lock TTL ${ttl}`);
    await mutex.release();
    assert.equal(await remainingTtl(backend.serverFor(lockKey), lockKey), null);
  });

  it('a waiting acquire gets the lock soon after it is released (bounded backoff)', async () => {
    const k = key('wait');
    const holder = backend.getMutex(k);
    const waiter = backend.getMutex(k);
    assert.ok(holder && waiter);
    assert.equal(await holder.acquire(), true);
    let acquiredAt = 0;
    const waiting = waiter.acquire().then((got) => {
      acquiredAt = performance.now();
      return got;
    });
    await sleep(1500); // dogpile's 2**i backoff would next try at 3 s, 1.5 s after the release
    const releasedAt = performance.now();
    await holder.release();
    assert.equal(await waiting, true);
    const lag = acquiredAt - releasedAt;
    // Retries are at most 100 ms apart; 1 s of slack for a loaded machine still tells it from dogpile's 1.5 s.
    assert.ok(lag < 1000, `acquired ${lag.toFixed(0)} ms after the release`);
    await waiter.release();
  });

  it('release deletes only its own lock: an expired-then-retaken lock survives the old holder', async () => {
    const k = key('steal');
    const old = backend.getMutex(k);
    const next = backend.getMutex(k);
    assert.ok(old && next);
    assert.equal(await old.acquire(), true);
    assert.match(await deleteItem(`_lock${k}`), /^DELETED/); // what expiry (or eviction) does to the old holder's lock
    assert.equal(await next.acquire(false), true);
    await old.release();
    assert.equal(await next.locked(), true, 'the new holder still holds the lock');
    await next.release();
    assert.equal(await next.locked(), false);
  });

  it('lock_timeout frees a lock whose holder never releases it', async () => {
    const brief = new PooledMemcachedBackend({ url: servers, distributed_lock: true, lock_timeout: 1 });
    try {
      const k = key('crash');
      const crashed = brief.getMutex(k);
      const other = brief.getMutex(k);
      assert.ok(crashed && other);
      assert.equal(await crashed.acquire(), true);
      const lockKey = `_lock${k}`;
      const ttl = await remainingTtl(brief.serverFor(lockKey), lockKey);
      assert.ok(ttl === null || (ttl >= 0 && ttl <= 1), `a 1 s lock has ${ttl} s to live`); // null: already expired
      // memcached's clock ticks once a second, so a 1 s item lives 0 to 2 s; 10 s leaves room for a loaded machine.
      const deadline = Date.now() + 10_000;
      while (!(await other.acquire(false))) {
        assert.ok(Date.now() < deadline, 'the lock was not freed by lock_timeout');
        await sleep(100);
      }
      await other.release();
    } finally {
      await brief.close();
    }
  });

  it('a long key gets a lock item in the lock namespace that memcached accepts', async () => {
    const k = `${key('long')}-`.padEnd(250, 'z');
    const mutex = backend.getMutex(k);
    assert.ok(mutex);
    assert.equal(await mutex.acquire(false), true);
    assert.equal(await mutex.locked(), true);
    // Hashed into a part of the lock prefix no "_lock" + key reaches (keys.ts, lockKeyFor; lock-names.test.ts).
    const lockKey = `_lock_lock:sha1:${createHash('sha1').update(k).digest('hex')}`;
    assert.ok((await remainingTtl(backend.serverFor(lockKey), lockKey)) !== null, `no item ${lockKey}`);
    await mutex.release();
  });

  it('close() rejects an acquire that is still waiting', async () => {
    const closing = new PooledMemcachedBackend({ url: one, distributed_lock: true, lock_timeout: 5 });
    const k = key('closing');
    const holder = closing.getMutex(k);
    const waiter = closing.getMutex(k);
    assert.ok(holder && waiter);
    assert.equal(await holder.acquire(), true);
    const waiting = timed(waiter.acquire());
    await sleep(50);
    await closing.close();
    const result = await waiting;
    assert.ok(result.error instanceof BackendUnavailableError, String(result.error));
    // The wait sleeps at most 100 ms between tries and close() aborts the sleep; 1 s is slack for load.
    assert.ok(result.ms < 50 + 1000, `${result.ms.toFixed(0)} ms`);
    await textCommand(one[0] as string, `delete _lock${k}`, /\r\n$/);
  });
});

describe('PooledMemcachedBackend with failing servers (private memcached processes)', () => {
  const own = usePrivateMemcached(3, { before, after });

  /** A key the ring puts on `own[index]` (and where it goes when that server is dead). */
  function keyOn(index: number, label: string): { key: string; next: number } {
    const ring = new HashRing(own.map((s) => s.address));
    for (;;) {
      const k = key(label);
      if (ring.nodeFor(k) === index) return { key: k, next: ring.findNode(k, (i) => i !== index) };
    }
  }

  it('a stopped server: its keys go to the next server at once, and come back once a probe connects', async () => {
    const backend = new PooledMemcachedBackend({ url: own.map((s) => s.address), dead_retry: 1, socket_timeout: 0.5 });
    const victim = own[0] as PrivateMemcached;
    const { key: k, next } = keyOn(0, 'failover');
    const [onB, onC] = [keyOn(1, 'stays').key, keyOn(2, 'stays').key];
    const direct = (index: number): PooledMemcachedBackend => new PooledMemcachedBackend({ url: (own[index] as PrivateMemcached).address });
    try {
      await backend.setMulti({ [k]: cv('before'), [onB]: cv('b'), [onC]: cv('c') });
      assert.equal(payloadOf(await backend.get(k)), 'before');
      await victim.kill();
      await sleep(50); // let the client see the connection close

      // The first request after the kill is a multi-get: the dead server's share goes to the next server.
      const read = await timed(backend.getMulti([k, onB, onC]));
      assert.deepEqual(read.value?.map(payloadOf), [NO_VALUE, 'b', 'c'], `a miss on the next server, not an error: ${String(read.error)}`);
      // Sanity bound: a refused connection fails in milliseconds; 1 s is slack for a loaded machine.
      assert.ok(read.ms < 1000, `no wait for the dead server (${read.ms.toFixed(0)} ms)`);
      // Each call tried the dead server once (a refused connect, then the next server); the third
      // consecutive failure opens its circuit, and calls skip it from then on.
      assert.equal(await backend.get(k), NO_VALUE);
      assert.equal(await backend.get(k), NO_VALUE);
      assert.equal(backend.poolStats()[0]?.alive, false);

      await backend.set(k, cv('during'));
      const fallback = direct(next);
      assert.equal(payloadOf(await fallback.get(k)), 'during', 'written to the next server on the ring');
      await fallback.close();

      await victim.restart();
      // The first call after the probe interval (dead_retry, 1 s here) starts a probe and still goes to the
      // next server; the owner takes requests once the probe has connected. 10 s: slack for a loaded machine.
      const deadline = Date.now() + 10_000;
      while (backend.poolStats()[0]?.alive !== true) {
        assert.ok(Date.now() < deadline, 'the restarted server was not probed back into use');
        assert.equal(payloadOf(await backend.get(k)), 'during', 'until then its keys stay on the next server');
        await sleep(100);
      }
      await backend.set(k, cv('after'));
      const owner = direct(0);
      assert.equal(payloadOf(await owner.get(k)), 'after', 'the owner is used again once the probe connected');
      await owner.close();
      assert.equal(backend.poolStats()[0]?.alive, true);
    } finally {
      await backend.close();
    }
  });

  it('a hung server: no request waits past socket_timeout, even while new requests keep coming', async () => {
    // memjs alone re-arms its inactivity timer on every write, so this traffic would never time out.
    const backend = new PooledMemcachedBackend({ url: own.map((s) => s.address), dead_retry: 30, socket_timeout: 0.3 });
    const frozen = own[1] as PrivateMemcached;
    const keys = Array.from({ length: 40 }, (_, i) => keyOn(1, `hung${i}`).key);
    try {
      await backend.setMulti(Object.fromEntries(keys.map((k) => [k, cv(k)]))); // warm connections
      frozen.pause();
      const results: { ms: number; error?: unknown; value?: unknown }[] = [];
      const requests: Promise<void>[] = [];
      for (const k of keys) {
        requests.push(timed(backend.get(k)).then((r) => void results.push(r)));
        await sleep(10);
      }
      await Promise.all(requests);
      const slowest = Math.max(...results.map((r) => r.ms));
      // memjs alone never times out here; the documented bound is 2 x socket_timeout (+400 ms of load slack).
      assert.ok(slowest < 2 * 300 + 400, `slowest request ${slowest.toFixed(0)} ms (socket_timeout 300 ms)`);
      const failed = results.filter((r) => r.error !== undefined);
      assert.ok(failed.length > 0, 'requests in flight on the hung server fail');
      for (const r of failed) assert.ok(r.error instanceof BackendUnavailableError, String(r.error));
      // Under one socket_timeout: they did not wait on the hung server (its circuit is open).
      assert.ok(
        results.slice(-5).every((r) => r.value === NO_VALUE && r.ms < 300),
        'once its circuit is open, its keys go to the next server at once',
      );
    } finally {
      frozen.resume();
      await backend.close();
    }
  });

  it('every server dead: BackendUnavailableError at once once the breakers open; one probe per server per interval', async () => {
    // Three listeners that hang up on every connection (a fault a healthy memcached never shows),
    // counting the connection attempts.
    let attempts = 0;
    const hangUps = await Promise.all(
      [0, 1, 2].map(async () => {
        const server = net.createServer((socket) => {
          attempts++;
          socket.destroy();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    const urls = hangUps.map((server) => `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const backend = new PooledMemcachedBackend({ url: urls, dead_retry: 60, socket_timeout: 1 });
    try {
      // Three consecutive failures open a server's circuit (as on etcd and Mongo); each call tries each server once.
      for (let i = 1; i <= 3; i++) {
        const first = await timed(backend.get(key('dead')));
        assert.ok(first.error instanceof BackendUnavailableError, String(first.error));
        assert.ok(first.ms < 1000, `request ${i} took ${first.ms.toFixed(0)} ms`);
        assert.equal(attempts, 3 * i, 'each server was tried once');
      }
      assert.ok(backend.poolStats().every((s) => !s.alive));
      const openedAt = Date.now();
      for (let i = 0; i < 50; i++) {
        const again = await timed(backend.getMulti([key('dead'), key('dead')]));
        assert.ok(again.error instanceof BackendUnavailableError);
        assert.match((again.error as Error).message, /Every memcached server/);
        // A generous sanity bound: no connection attempt is made, so this is a few microseconds.
        assert.ok(again.ms < 200, `request ${i} took ${again.ms.toFixed(1)} ms`);
      }
      if (Date.now() - openedAt < 2000) {
        assert.equal(attempts, 9, 'no connection attempts while every circuit is open (oslo 3.2 marked them all live again)');
      }
      // After the probe interval (2 s: dead_retry 60 is longer) the next call starts one probe per server
      // in the background and still fails at once; the probes run beside it.
      await sleep(Math.max(0, openedAt + 2100 - Date.now()));
      const before = attempts;
      const probed = await timed(backend.get(key('dead')));
      assert.ok(probed.error instanceof BackendUnavailableError, String(probed.error));
      assert.ok(probed.ms < 200, `the call that starts the probes does not wait for them (${probed.ms.toFixed(1)} ms)`);
      const deadline = Date.now() + 5000; // the probes' connections arrive shortly; slack for a loaded machine
      while (attempts < before + 3 && Date.now() < deadline) await sleep(10);
      for (let i = 0; i < 10; i++) await timed(backend.get(key('dead')));
      assert.equal(attempts, before + 3, 'one probe per server per interval');
    } finally {
      await backend.close();
      await Promise.all(hangUps.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('every server hung while connecting: a call costs one socket_timeout, not one per server', async () => {
    // Listeners that accept connections and never answer (what a SIGSTOPped memcached's kernel does).
    const held: net.Socket[] = [];
    const silent = await Promise.all(
      [0, 1, 2].map(async () => {
        const server = net.createServer((socket) => void held.push(socket));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    const urls = silent.map((server) => `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const backend = new PooledMemcachedBackend({ url: urls, socket_timeout: 0.5 });
    try {
      const first = await timed(backend.get(key('hung-connect')));
      assert.ok(first.error instanceof BackendUnavailableError, String(first.error));
      // One hung connect is 500 ms; moving on to the next hung server and the next would be 1500 ms.
      assert.ok(first.ms < 1000, `the first call took ${first.ms.toFixed(0)} ms`);
      assert.equal(backend.poolStats().filter((s) => !s.alive).length, 1, 'the hung server is skipped from now on');
      const second = await timed(backend.get(key('hung-connect')));
      assert.ok(second.error instanceof BackendUnavailableError && second.ms < 1000, `${second.ms.toFixed(0)} ms`);
    } finally {
      await backend.close();
      for (const socket of held) socket.destroy();
      await Promise.all(silent.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('no connection within pool_connection_get_timeout: QueueEmptyError', async () => {
    // Shared connections are never checked out exclusively, so the pool cannot run dry of free
    // connections; what can exceed the timeout is obtaining one. A paused memcached accepts the
    // TCP connection (the kernel does) but never answers the handshake.
    const frozen = own[2] as PrivateMemcached;
    frozen.pause();
    const backend = new PooledMemcachedBackend({
      url: frozen.address,
      pool_maxsize: 1,
      pool_connection_get_timeout: 0.2,
      socket_timeout: 3,
    });
    try {
      const result = await timed(backend.get(key('queue')));
      assert.ok(result.error instanceof QueueEmptyError, String(result.error));
      assert.ok(result.ms >= 150 && result.ms < 1000, `${result.ms.toFixed(0)} ms`);
    } finally {
      const closing = timed(backend.close());
      frozen.resume();
      assert.ok((await closing).ms < 1000, 'close() abandons the connection still opening');
    }
  });

  it('an unused connection goes back to generic-pool and is closed after pool_unused_timeout', async () => {
    const backend = new PooledMemcachedBackend({ url: (own[0] as PrivateMemcached).address, pool_unused_timeout: 0.3 });
    try {
      await backend.get(key('idle'));
      assert.deepEqual(pick(backend.poolStats()[0]), { connections: 1, active: 1 });
      await sleep(2000); // ~0.6 s to leave the active set, 0.3 s idle, eviction every 75 ms
      assert.deepEqual(pick(backend.poolStats()[0]), { connections: 0, active: 0 });
      assert.equal(await backend.get(key('idle')), NO_VALUE, 'a new connection is opened on demand');
    } finally {
      await backend.close();
    }
    function pick(stats: ServerPoolStats | undefined): { connections?: number; active?: number } {
      return { connections: stats?.connections, active: stats?.active } as { connections?: number; active?: number };
    }
  });

  describe('SASL (memcached -S)', () => {
    let secured: PrivateMemcached;
    before(async () => {
      secured = await PrivateMemcached.start({ username: 'alice', password: 's3cret' });
    });
    after(() => secured.kill());

    it('the right login stores and reads', async () => {
      // Never skipped: a missing tool is a failure that says how to provide it.
      assert.ok(
        canCreateSaslUsers,
        'this test needs saslpasswd2 to create a login: apt-get install sasl2-bin (scripts/services.mjs installs it)',
      );
      const login = new PooledMemcachedBackend({ url: secured.address, username: 'alice', password: 's3cret' });
      try {
        const k = key('sasl');
        await login.set(k, cv('authenticated'));
        assert.equal(payloadOf(await login.get(k)), 'authenticated');
      } finally {
        await login.close();
      }
    });

    it('a wrong password, or none, fails with a message that says so', async () => {
      const wrong = new PooledMemcachedBackend({ url: secured.address, username: 'alice', password: 'nope' });
      const none = new PooledMemcachedBackend({ url: secured.address });
      try {
        await assert.rejects(
          wrong.get(key()),
          (error: unknown) => error instanceof BackendUnavailableError && /authentication/i.test(error.message),
        );
        await assert.rejects(none.get(key()), (error: unknown) => error instanceof BackendUnavailableError && /SASL/.test(error.message));
      } finally {
        await Promise.all([wrong.close(), none.close()]);
      }
    });
  });

  it('close(): lets requests in flight finish, then leaves no socket or timer behind', async () => {
    // Idle sockets are unref'd, so process.getActiveResourcesInfo() does not list them: count them at the servers.
    const serverConnections = async (): Promise<number> =>
      (await Promise.all(own.map(async (s) => Number((await serverStats(s.address)).get('curr_connections'))))).reduce((a, b) => a + b, 0);
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await sleep(50); // sockets destroyed by earlier tests finish closing
    const [connectionsBefore, timersBefore] = [await serverConnections(), timers()];
    const backend = new PooledMemcachedBackend({ url: own.map((s) => s.address), distributed_lock: true, lock_timeout: 30 });
    const keys = Array.from({ length: 30 }, () => key('close'));
    await backend.setMulti(Object.fromEntries(keys.map((k) => [k, cv(k)])));
    assert.equal(await serverConnections(), connectionsBefore + 3);
    const inFlight = backend.getMulti(keys);
    await backend.close();
    assert.deepEqual((await inFlight).map(payloadOf), keys);
    await backend.close();
    await assert.rejects(backend.get(keys[0] as string), BackendUnavailableError);
    // memcached notices a closed connection on its next event-loop turn: poll for a while (load slack).
    const deadline = Date.now() + 5000;
    while ((await serverConnections()) !== connectionsBefore && Date.now() < deadline) await sleep(20);
    assert.equal(await serverConnections(), connectionsBefore, 'connections left open after close()');
    assert.equal(timers(), timersBefore, String(process.getActiveResourcesInfo()));
    const cleanup = new PooledMemcachedBackend({ url: own.map((s) => s.address) });
    await cleanup.deleteMulti(keys);
    await cleanup.close();
  });
});
