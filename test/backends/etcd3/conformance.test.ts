// Etcd3Backend against a real etcd: the shared conformance suite, oslo's value format, namespaces,
// TTL leases, transactions, deadlines and failures, and the distributed lock.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import { Etcd3 } from 'etcd3';
import { Etcd3Backend, Etcd3Mutex, decodeOsloValue, encodeOsloValue } from '../../../src/backends/etcd3/index.js';
import {
  BackendUnavailableError,
  ConfigurationError,
  NO_VALUE,
  SerializationError,
  ValidationError,
  ValueTooLargeError,
  isNoValue,
  manualClock,
} from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import type { CachedValue } from '../../../src/api.js';
import { runBackendConformance } from '../../../src/testing/index.js';
import { etcdEndpoints } from '../../support/servers.js';
import { freePort, makeTestCertificates, startPrivateEtcd, type PrivateEtcd, type TestCertificates } from '../../support/etcd3.js';

const runner = { describe, it, before, after };
const endpoints = etcdEndpoints();
// Every key this file writes is under RUN, deleted at the end so a shared etcd is left clean.
const RUN = `test-etcd3-${randomUUID().slice(0, 8)}`;
let nsCount = 0;
const ns = (): string => `${RUN}/${nsCount++}/`;
after(async () => {
  const client = new Etcd3({ hosts: endpoints });
  try {
    await client.delete().prefix(`${RUN}/`);
  } finally {
    client.close();
  }
});
const cv = <T>(payload: T, ct = 1795531495.2178211): CachedValue<T> => ({ payload, metadata: { ct, v: 2 } });

runBackendConformance('Etcd3Backend', () => new Etcd3Backend({ endpoints, namespace: ns() }), { mutex: false, bytes: false }, runner);
runBackendConformance(
  'Etcd3Backend with distributed_lock and a lease TTL',
  () => new Etcd3Backend({ endpoints, namespace: ns(), distributed_lock: true, lease_ttl: 60 }),
  { mutex: true, bytes: false },
  runner,
);

/** Backends made by a test, closed after it. */
function backends(): { make(args?: Record<string, unknown>): Etcd3Backend; closeAll(): Promise<void> } {
  const made: Etcd3Backend[] = [];
  return {
    make(args = {}) {
      const backend = new Etcd3Backend({ endpoints, namespace: ns(), ...args });
      made.push(backend);
      return backend;
    },
    async closeAll() {
      await Promise.all(made.splice(0).map((b) => b.close()));
    },
  };
}

type KvMethod = 'range' | 'put' | 'txn' | 'deleteRange';

/** Counts the KV requests a backend's client sends. */
async function countRequests(backend: Etcd3Backend): Promise<Record<KvMethod, number>> {
  const client = await backend.getClient();
  const counts: Record<KvMethod, number> = { range: 0, put: 0, txn: 0, deleteRange: 0 };
  const kv = client.kv as unknown as Record<KvMethod, (...args: unknown[]) => Promise<unknown>>;
  for (const method of Object.keys(counts) as KvMethod[]) {
    const original = kv[method].bind(kv);
    kv[method] = (...args) => {
      counts[method]++;
      return original(...args);
    };
  }
  return counts;
}

/** The etcd key of cache key `key` in `namespace`: `namespace 0xFF key` (see src/backends/etcd3/keys.ts). */
const entryKey = (namespace: string, key: string): Buffer => Buffer.concat([Buffer.from(namespace), Buffer.of(0xff), Buffer.from(key)]);

/** The etcd key of the lock on `key`: `namespace 0xFE lock/ key`, where no cache key reaches. */
const lockKey = (namespace: string, key: string): Buffer =>
  Buffer.concat([Buffer.from(namespace), Buffer.of(0xfe), Buffer.from(`lock/${key}`)]);

async function rawKv(client: Etcd3, key: string | Buffer): Promise<{ value: Buffer; lease: string } | undefined> {
  const response = await client.kv.range({ key: Buffer.from(key) });
  return response.kvs[0];
}

const payloads = (results: unknown[]): unknown[] => results.map((r) => (isNoValue(r) ? NO_VALUE : (r as CachedValue).payload));

describe('Etcd3Backend: oslo value format', () => {
  const b = backends();
  after(() => b.closeAll());

  it('stores ["value", {"ct": ..., "v": 2}] exactly as oslo jsonutils.dumps writes it', async () => {
    const namespace = ns();
    const backend = b.make({ namespace });
    await backend.set('k', cv('value'));
    const raw = await rawKv(await backend.getClient(), entryKey(namespace, 'k'));
    assert.equal(raw?.value.toString('latin1'), '["value", {"ct": 1795531495.2178211, "v": 2}]');
    assert.equal(raw?.lease, '0', 'no lease without lease_ttl');
  });

  it('writes ct as a Python float and payloads with Python separators and escapes', () => {
    assert.equal(
      encodeOsloValue(cv({ a: [1, 2.5, null, true], ü: 'ключ' }, 1700000000)).toString('latin1'),
      '[{"a": [1, 2.5, null, true], "\\u00fc": "\\u043a\\u043b\\u044e\\u0447"}, {"ct": 1700000000.0, "v": 2}]',
    );
  });

  it('reads an entry written by oslo.cache', async () => {
    const namespace = ns();
    const backend = b.make({ namespace });
    const client = await backend.getClient();
    await client.put(entryKey(namespace, 'from-oslo')).value('[{"x": [1, "two"]}, {"ct": 1795531495.2178211, "v": 2}]');
    const got = await backend.get('from-oslo');
    assert.deepEqual(got, { payload: { x: [1, 'two'] }, metadata: { ct: 1795531495.2178211, v: 2 } });
  });

  it('a key holding something else is a SerializationError, not a silent miss', async () => {
    const namespace = ns();
    const backend = b.make({ namespace });
    await (await backend.getClient()).put(entryKey(namespace, 'foreign')).value('not json');
    await assert.rejects(backend.get('foreign'), SerializationError);
    assert.throws(() => decodeOsloValue(Buffer.from('{"ct": 1}'), 'k'), SerializationError);
  });

  it('dogpile-bytes metadata is read as UTF-8 and bytes that are not UTF-8 are refused, as Python json.loads does', () => {
    const head = (inside: Buffer) => Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "t": "'), inside, Buffer.from('"}|x')]);
    const value = decodeOsloValue(head(Buffer.from('é', 'utf8')), 'k', 2000) as { metadata: unknown };
    assert.deepEqual(value.metadata, { ct: 1.5, v: 2, t: 'é' });
    assert.throws(
      () => decodeOsloValue(head(Buffer.from([0xe9])), 'k', 2000),
      (e: Error) => e instanceof SerializationError && /UTF-8/.test(e.message),
    );
  });

  for (const [label, raw] of [
    ['truncated JSON', '["value", {"ct": 17955'],
    ['metadata without ct', '["value", {"v": 2}]'],
    ['metadata that is not an object', '["value", [1795531495.2, 2]]'],
    ['a ct that is a string', '["value", {"ct": "1795531495", "v": 2}]'],
    ['a ct of 1e999 (Infinity)', '["value", {"ct": 1e999, "v": 2}]'],
    ['a ct far in the future', '["value", {"ct": 99999999999.0, "v": 2}]'],
    ['dogpile bytes without the "|"', '{"ct": 1795531495.2, "v": 2}'],
    ['dogpile bytes with a ct of 1e999', '{"ct": 1e999, "v": 2}|"x"'],
    ['junk bytes', Buffer.from([0x00, 0xff, 0x13, 0x37])],
    ['an empty value', ''],
  ] as const) {
    it(`a poisoned entry (${label}): get raises SerializationError, getMulti returns the good values and NO_VALUE for it`, async () => {
      const namespace = ns();
      const backend = b.make({ namespace });
      await backend.set('good', cv('fine'));
      await (await backend.getClient()).put(entryKey(namespace, 'bad')).value(raw);
      await assert.rejects(backend.get('bad'), SerializationError);
      assert.deepEqual(payloads(await backend.getMulti(['good', 'bad'])), ['fine', NO_VALUE]);
      assert.deepEqual(payloads(await backend.getMulti(['bad'])), [NO_VALUE], 'a multi-get of one key too');
    });
  }

  it('"in the future" is judged by the backend clock', async () => {
    const namespace = ns();
    const ahead = Date.UTC(2040, 0, 1);
    const future = b.make({ namespace, clock: manualClock(ahead) });
    const present = b.make({ namespace });
    await future.set('k', cv('from 2040', ahead / 1000));
    assert.equal(((await future.get('k')) as CachedValue).payload, 'from 2040');
    await assert.rejects(present.get('k'), SerializationError);
  });

  it("a Buffer payload (a region serializer's bytes) is stored as dogpile bytes and read back as a Buffer", async () => {
    const namespace = ns();
    const backend = b.make({ namespace });
    const bytes = Buffer.from([0x7b, 0x7c, 0x00, 0xff, 0x5b]);
    await backend.set('k', cv(bytes, 1700000000));
    const raw = await rawKv(await backend.getClient(), entryKey(namespace, 'k'));
    assert.deepEqual(raw?.value, Buffer.concat([Buffer.from('{"ct": 1700000000.0, "v": 2}|'), bytes]));
    const got = (await backend.get('k')) as CachedValue;
    assert.ok(Buffer.isBuffer(got.payload));
    assert.deepEqual(got, cv(bytes, 1700000000));
    assert.deepEqual(await backend.getMulti(['k', 'k']), [cv(bytes, 1700000000), cv(bytes, 1700000000)]);
  });

  it('a payload JSON cannot hold fails before anything is written', async () => {
    const backend = b.make();
    await assert.rejects(backend.setMulti({ a: cv(1), b: cv(new Map()) }), SerializationError);
    assert.deepEqual(await backend.getMulti(['a', 'b']), [NO_VALUE, NO_VALUE]);
  });
});

describe('Etcd3Backend: namespaces', () => {
  const b = backends();
  after(() => b.closeAll());

  it('isolates backends with different namespaces', async () => {
    const [one, two] = [b.make(), b.make()];
    await one.set('shared', cv('one'));
    await two.set('shared', cv('two'));
    assert.equal(((await one.get('shared')) as CachedValue).payload, 'one');
    assert.equal(((await two.get('shared')) as CachedValue).payload, 'two');
    await one.deleteMulti(['shared']);
    assert.equal(await one.get('shared'), NO_VALUE);
    assert.equal(((await two.get('shared')) as CachedValue).payload, 'two');
  });

  it('a namespace cannot read keys of a longer namespace it prefixes ("app/" vs "app/admin/")', async () => {
    const base = ns();
    const [app, admin] = [b.make({ namespace: `${base}app/` }), b.make({ namespace: `${base}app/admin/` })];
    await admin.set('token', cv('secret'));
    assert.equal(await app.get('admin/token'), NO_VALUE);
    assert.deepEqual(await app.getMulti(['admin/token']), [NO_VALUE]);
    await app.set('admin/token', cv('mine'));
    assert.equal(((await admin.get('token')) as CachedValue).payload, 'secret', 'a write of one namespace never lands in another');
    await app.delete('admin/token');
    assert.equal(((await admin.get('token')) as CachedValue).payload, 'secret');
  });

  it('no cache key reaches a lock key: "_lockk" is not the lock of "k", with or without a namespace', async () => {
    for (const namespace of [ns(), '']) {
      const backend = new Etcd3Backend({ endpoints, namespace, distributed_lock: true });
      const userKey = namespace === '' ? `_lock${RUN}/k` : '_lockk';
      const locked = namespace === '' ? `${RUN}/k` : 'k';
      try {
        const mutex = backend.getMutex(locked) as Etcd3Mutex;
        assert.equal(await mutex.acquire(false), true);
        assert.equal(await backend.get(userKey), NO_VALUE, 'the lock is not visible as a cache entry');
        await backend.set(userKey, cv('user data'));
        assert.equal(mutex.held, true);
        assert.equal(await mutex.locked(), true, 'a cache write does not touch the lock');
        const where = lockKey(namespace, locked);
        assert.ok((await rawKv(await backend.getClient(), where)) !== undefined, 'the lock key is where keys.ts says');
        assert.ok(!Buffer.from(where.toString('utf8')).equals(where), 'the lock key is not UTF-8, so no cache key (always UTF-8) is it');
        await mutex.release();
        assert.equal(((await backend.get(userKey)) as CachedValue).payload, 'user data');
      } finally {
        await backend.delete(userKey);
        await backend.close();
      }
    }
  });

  it('without a namespace, keys are stored as given (oslo interop)', async () => {
    const key = `${RUN}/plain-${randomUUID()}`;
    const backend = new Etcd3Backend({ endpoints });
    try {
      await backend.set(key, cv(1));
      assert.ok(await rawKv(await backend.getClient(), key));
    } finally {
      await backend.delete(key);
      await backend.close();
    }
  });
});

describe('Etcd3Backend: TTL leases', () => {
  const b = backends();
  after(() => b.closeAll());

  it('N writes with the same TTL in one window share one lease of TTL ttl + window', async () => {
    const namespace = ns();
    const clock = manualClock();
    const backend = b.make({ namespace, lease_ttl: 60, clock });
    const client = await backend.getClient();
    await Promise.all(Array.from({ length: 20 }, (_, i) => backend.set(`k${i}`, cv(i))));
    await backend.setMulti({ m1: cv(1), m2: cv(2) });
    const keys = [...Array.from({ length: 20 }, (_, i) => `k${i}`), 'm1', 'm2'];
    const leases = new Set(await Promise.all(keys.map(async (k) => (await rawKv(client, entryKey(namespace, k)))?.lease)));
    assert.equal(leases.size, 1, `one lease for every write; got ${[...leases].join(', ')}`);
    const [lease] = [...leases] as [string];
    assert.notEqual(lease, '0');
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: lease });
    assert.equal(ttl.grantedTTL, '66', 'granted TTL = lease_ttl + window (a tenth of 60)');

    clock.advance(6000); // the window is over: the next write takes a new lease
    await backend.set('later', cv('x'));
    const next = (await rawKv(client, entryKey(namespace, 'later')))?.lease;
    assert.ok(next !== undefined && next !== lease && next !== '0');
  });

  it('a lease takes at most lease_max_keys writes, then a new one is granted', async () => {
    const namespace = ns();
    const backend = b.make({ namespace, lease_ttl: 60, lease_max_keys: 5 });
    const client = await backend.getClient();
    for (let i = 0; i < 12; i++) await backend.set(`k${i}`, cv(i));
    await backend.setMulti({ m0: cv(0), m1: cv(1), m2: cv(2), m3: cv(3) }); // 2 + 4 > 5: a fourth lease
    const leaseOf = async (k: string): Promise<string> => (await rawKv(client, entryKey(namespace, k)))?.lease ?? '0';
    const leases = await Promise.all([...Array.from({ length: 12 }, (_, i) => `k${i}`), 'm0', 'm3'].map(leaseOf));
    assert.equal(new Set(leases.slice(0, 5)).size, 1);
    assert.equal(new Set(leases.slice(5, 10)).size, 1);
    assert.equal(new Set(leases.slice(10, 12)).size, 1);
    assert.equal(new Set(leases).size, 4, 'k0-4, k5-9, k10-11, then m0-m3 together on a new lease');
    assert.equal(leases[12], leases[13]);
  });

  it('oslo_compat_lease ties the entry TTL to timeout, as oslo does', async () => {
    const namespace = ns();
    const backend = b.make({ namespace, oslo_compat_lease: true, timeout: 20, lease_window: 1 });
    await backend.set('k', cv(1));
    const client = await backend.getClient();
    const lease = (await rawKv(client, entryKey(namespace, 'k')))?.lease ?? '0';
    assert.equal((await client.leaseClient.leaseTimeToLive({ ID: lease })).grantedTTL, '21');
  });

  it('entries expire on the server', async () => {
    const backend = b.make({ lease_ttl: 1, lease_window: 1 });
    await backend.set('short', cv('gone soon'));
    assert.notEqual(await backend.get('short'), NO_VALUE);
    // Real time is the point here: etcd expires the lease (TTL 2 s, etcd's minimum) on its own clock.
    const deadline = Date.now() + 10_000;
    while (!isNoValue(await backend.get('short'))) {
      assert.ok(Date.now() < deadline, 'the entry should expire within a few seconds');
      await sleep(250);
    }
  });

  it('a lease lost behind the backend’s back is re-granted: later writes keep working', async () => {
    const namespace = ns();
    const backend = b.make({ namespace, lease_ttl: 300 });
    const client = await backend.getClient();
    await backend.set('a', cv('a'));
    const lease = (await rawKv(client, entryKey(namespace, 'a')))?.lease ?? '0';
    await client.leaseClient.leaseRevoke({ ID: lease }); // "requested lease not found" from now on
    assert.equal(await backend.get('a'), NO_VALUE, 'revoking the lease deleted its entries');
    const counts = await countRequests(backend);
    await backend.set('b', cv('b'));
    await backend.setMulti({ c: cv('c'), d: cv('d') });
    assert.deepEqual(payloads(await backend.getMulti(['b', 'c', 'd'])), ['b', 'c', 'd']);
    const fresh = (await rawKv(client, entryKey(namespace, 'b')))?.lease;
    assert.ok(fresh !== undefined && fresh !== lease && fresh !== '0');
    assert.equal(counts.put, 2, 'the first set failed once on the lost lease and was retried once');
  });

  it('leases outlive close() by default; revoke_leases_on_close revokes them', async () => {
    const namespace = ns();
    const keep = new Etcd3Backend({ endpoints, namespace, lease_ttl: 300 });
    await keep.set('kept', cv(1));
    await keep.close();
    const revoking = b.make({ namespace, lease_ttl: 300, revoke_leases_on_close: true });
    await revoking.set('revoked', cv(2));
    await revoking.close();
    const reader = b.make({ namespace });
    assert.deepEqual(payloads(await reader.getMulti(['kept', 'revoked'])), [1, NO_VALUE]);
    await reader.delete('kept');
  });
});

describe('Etcd3Backend: one request per multi-operation', () => {
  const b = backends();
  after(() => b.closeAll());

  it('getMulti, setMulti and deleteMulti of 100 keys are one transaction each', async () => {
    const backend = b.make();
    const counts = await countRequests(backend);
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await backend.setMulti(Object.fromEntries(keys.map((k) => [k, cv(k)])));
    assert.deepEqual(counts, { range: 0, put: 0, txn: 1, deleteRange: 0 });
    assert.deepEqual(payloads(await backend.getMulti([...keys, 'missing', 'k0'])), [...keys, NO_VALUE, 'k0']);
    assert.deepEqual(counts, { range: 0, put: 0, txn: 2, deleteRange: 0 });
    await backend.deleteMulti([...keys, 'k0']);
    assert.deepEqual(counts, { range: 0, put: 0, txn: 3, deleteRange: 0 });
    assert.ok((await backend.getMulti(keys)).every(isNoValue));
  });

  it('chunks above etcd max-txn-ops (128 by default, or max_txn_ops)', async () => {
    const backend = b.make();
    const counts = await countRequests(backend);
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    await backend.setMulti(Object.fromEntries(keys.map((k) => [k, cv(k)])));
    assert.equal(counts.txn, 3, '128 + 128 + 44');
    assert.deepEqual(payloads(await backend.getMulti(keys)), keys);
    await backend.deleteMulti(keys);
    assert.equal(counts.txn, 9);

    const small = b.make({ max_txn_ops: 2 });
    const smallCounts = await countRequests(small);
    await small.setMulti({ a: cv(1), b: cv(2), c: cv(3) });
    assert.deepEqual(smallCounts, { range: 0, put: 1, txn: 1, deleteRange: 0 });
  });

  it('splits writes by size under etcd max-request-bytes; a single oversized value is ValueTooLargeError', async () => {
    const backend = b.make();
    const counts = await countRequests(backend);
    const big = 'x'.repeat(300_000);
    const keys = Array.from({ length: 8 }, (_, i) => `big${i}`);
    await backend.setMulti(Object.fromEntries(keys.map((k) => [k, cv(big)])));
    assert.ok(counts.txn >= 2, `2.4 MB must be split; got ${counts.txn} transaction(s)`);
    assert.deepEqual(
      payloads(await backend.getMulti(keys)),
      keys.map(() => big),
    );
    await assert.rejects(backend.set('huge', cv('y'.repeat(2_000_000))), ValueTooLargeError);
  });

  it('setMulti with one oversized value writes nothing', async () => {
    const backend = b.make();
    const keys = Array.from({ length: 5 }, (_, i) => `small${i}`);
    const mapping = { ...Object.fromEntries(keys.map((k) => [k, cv(k)])), huge: cv('y'.repeat(2_000_000)) };
    await assert.rejects(backend.setMulti(mapping), (error: unknown) => error instanceof ValueTooLargeError && /huge/.test(error.message));
    assert.deepEqual(
      await backend.getMulti([...keys, 'huge']),
      [...keys, 'huge'].map(() => NO_VALUE),
    );
  });

  it('max_request_bytes: an entry above the server limit is refused before it is sent', async () => {
    const backend = b.make({ max_request_bytes: 64 * 1024 });
    await assert.rejects(backend.set('k', cv('y'.repeat(70_000))), ValueTooLargeError);
    await backend.set('k', cv('y'.repeat(60_000)));
    assert.equal(((await backend.get('k')) as CachedValue).payload, 'y'.repeat(60_000));
  });
});

/** A TCP server that accepts connections and never answers: a hung etcd. */
async function blackHole(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function elapsed(fn: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await fn();
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('Etcd3Backend: deadlines and failures', () => {
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let etcd: PrivateEtcd;
  before(async () => {
    hole = await blackHole();
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await hole.close();
    await etcd.dispose();
  });

  it('a server that never answers is a BackendUnavailableError at the deadline, not a hang', async () => {
    const backend = new Etcd3Backend({ endpoints: [hole.endpoint], timeout: 1 });
    try {
      for (const op of [() => backend.get('k'), () => backend.set('k', cv(1)), () => backend.getMulti(['a', 'b'])]) {
        const { ms, error } = await elapsed(op);
        assert.ok(error instanceof BackendUnavailableError, String(error));
        assert.ok(error.cause !== undefined, 'the driver error is the cause');
        assert.ok(ms < 2500, `failed after ${ms} ms; timeout is 1 s`);
      }
    } finally {
      await backend.close();
    }
  });

  it('a hung server opens the circuit at its first deadline: later calls fail at once until a probe succeeds', async () => {
    const backend = new Etcd3Backend({ endpoints: [hole.endpoint], timeout: 1 });
    try {
      const first = await elapsed(() => backend.get('k'));
      assert.ok(first.error instanceof BackendUnavailableError, String(first.error));
      // Without the breaker each of these would wait its whole 1 s deadline; 500 ms is far above an
      // immediate rejection even on a loaded machine.
      for (let i = 0; i < 5; i++) {
        const { ms, error } = await elapsed(() => backend.set('k', cv(i)));
        assert.ok(error instanceof BackendUnavailableError, String(error));
        assert.match(error.message, /every endpoint is down/);
        assert.ok(ms < 500, `call ${i} took ${ms} ms with the circuit open`);
      }
    } finally {
      await backend.close();
    }
  });

  it('with the default timeout, a call to a hung server settles within 2x the documented 5 s deadline', async () => {
    const backend = new Etcd3Backend({ endpoints: [hole.endpoint] });
    try {
      const { ms, error } = await elapsed(() => backend.get('k'));
      assert.ok(error instanceof BackendUnavailableError, String(error));
      assert.ok(ms < 10_000, `failed after ${ms} ms`);
    } finally {
      await backend.close();
    }
  });

  it('a refused connection fails fast', async () => {
    const backend = new Etcd3Backend({ endpoints: [`http://127.0.0.1:${await freePort()}`], timeout: 10 });
    try {
      const { ms, error } = await elapsed(() => backend.get('k'));
      assert.ok(error instanceof BackendUnavailableError);
      assert.ok(ms < 2000, `failed after ${ms} ms`);
    } finally {
      await backend.close();
    }
  });

  it('a dead endpoint among live ones is skipped', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const backend = new Etcd3Backend({ endpoints: [dead, hole.endpoint, etcd.endpoint], timeout: 3, namespace: ns() });
    try {
      for (let i = 0; i < 20; i++) {
        const { ms, error } = await elapsed(() => backend.set(`k${i}`, cv(i)));
        assert.equal(error, undefined);
        assert.ok(ms < 3000, `set ${i} took ${ms} ms`);
      }
    } finally {
      await backend.close();
    }
  });

  it('a killed etcd: writes fail within the timeout, then recover without a new backend', async () => {
    const backend = new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: 2, namespace: ns(), lease_ttl: 60 });
    try {
      await backend.set('before', cv(1));
      await etcd.kill();
      for (let i = 0; i < 5; i++) {
        const { ms, error } = await elapsed(() => backend.set('during', cv(2)));
        assert.ok(error instanceof BackendUnavailableError, String(error));
        assert.ok(ms < 3000, `failed after ${ms} ms; timeout is 2 s`);
      }
      await etcd.start();
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { error } = await elapsed(() => backend.set('after', cv(3)));
        if (error === undefined) break;
        assert.ok(error instanceof BackendUnavailableError, String(error));
        assert.ok(Date.now() < deadline, 'the backend should recover once etcd is back');
        await sleep(200);
      }
      assert.deepEqual(payloads(await backend.getMulti(['before', 'after'])), [1, 3]);
    } finally {
      await backend.close();
      await etcd.start();
    }
  });

  it('a lock released while etcd is down is deleted once etcd is back, not after lock_timeout', async () => {
    const namespace = ns();
    const [holderBackend, otherBackend] = [0, 1].map(
      () => new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: 1, namespace, distributed_lock: true, lock_timeout: 30 }),
    ) as [Etcd3Backend, Etcd3Backend];
    try {
      const holder = holderBackend.getMutex('k') as Etcd3Mutex;
      assert.equal(await holder.acquire(), true);
      await etcd.kill();
      await holder.release(); // cannot reach etcd: queued, retried on the session's keepalives
      assert.equal(holder.held, false);
      await etcd.start();
      const started = Date.now();
      const other = otherBackend.getMutex('k') as Etcd3Mutex;
      while (!(await other.acquire(false).catch(() => false))) {
        assert.ok(Date.now() - started < 20_000, 'the queued release should land within a few keepalives');
        await sleep(250);
      }
      await other.release();
    } finally {
      await Promise.all([holderBackend.close(), otherBackend.close()]);
      await etcd.start();
    }
  });

  it('a waiting acquire rejects when etcd goes away instead of waiting forever', async () => {
    const namespace = ns();
    const [holderBackend, waiterBackend] = [0, 1].map(
      () => new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: 1, namespace, distributed_lock: true }),
    ) as [Etcd3Backend, Etcd3Backend];
    try {
      assert.equal(await (holderBackend.getMutex('k') as Etcd3Mutex).acquire(), true);
      const waiting = elapsed(() => (waiterBackend.getMutex('k') as Etcd3Mutex).acquire(true));
      await sleep(300);
      await etcd.kill();
      const { ms, error } = await waiting;
      assert.ok(error instanceof BackendUnavailableError, String(error));
      assert.ok(ms < 5000, `rejected after ${ms} ms`);
    } finally {
      await etcd.start();
      await Promise.all([holderBackend.close(), waiterBackend.close()]);
    }
  });

  it('a waiting acquire rejects when etcd hangs (SIGSTOP: the watch goes silent) instead of waiting forever', async () => {
    const namespace = ns();
    const [holderBackend, waiterBackend] = [0, 1].map(
      () => new Etcd3Backend({ endpoints: [etcd.endpoint], timeout: 1, namespace, distributed_lock: true }),
    ) as [Etcd3Backend, Etcd3Backend];
    try {
      assert.equal(await (holderBackend.getMutex('k') as Etcd3Mutex).acquire(), true);
      let settled = false;
      const waiting = elapsed(() => (waiterBackend.getMutex('k') as Etcd3Mutex).acquire(true)).finally(() => (settled = true));
      await sleep(300);
      assert.equal(settled, false, 'the waiter waits while the lock is held');
      etcd.pause();
      // The waiter re-checks every `timeout` (1 s) and that check hits its 1 s deadline: about 2 s.
      // 8 s leaves room for a loaded machine and is far below "forever".
      const { ms, error } = await Promise.race([waiting, sleep(8000).then(() => ({ ms: Infinity, error: 'still waiting after 8 s' }))]);
      assert.ok(error instanceof BackendUnavailableError, String(error));
      assert.ok(ms < 8000, `rejected after ${ms} ms`);
    } finally {
      etcd.resume();
      await Promise.all([holderBackend.close(), waiterBackend.close()]);
    }
  });

  it('close() is idempotent, and a closed backend rejects calls', async () => {
    const backend = new Etcd3Backend({ endpoints });
    await backend.get('k');
    await Promise.all([backend.close(), backend.close()]);
    await assert.rejects(backend.get('k'), BackendUnavailableError);
  });
});

describe('Etcd3Backend: TLS and password authentication', () => {
  let certs: TestCertificates;
  let tlsEtcd: PrivateEtcd;
  let authEtcd: PrivateEtcd;
  before(async () => {
    certs = makeTestCertificates();
    [tlsEtcd, authEtcd] = await Promise.all([startPrivateEtcd({ tls: certs }), startPrivateEtcd()]);
    const admin = new Etcd3({ hosts: [authEtcd.endpoint] });
    try {
      await admin.user('root').create('root-secret');
      await admin.user('root').addRole('root');
      await admin.auth.authEnable({});
    } finally {
      admin.close();
    }
  });
  after(async () => {
    await Promise.all([tlsEtcd.dispose(), authEtcd.dispose()]);
    fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  it('connects over TLS with ca_cert, cert_cert and cert_key (file paths)', async () => {
    const backend = new Etcd3Backend({
      endpoints: [tlsEtcd.endpoint],
      ca_cert: certs.ca,
      cert_cert: certs.clientCert,
      cert_key: certs.clientKey,
      timeout: 5,
    });
    try {
      await backend.set('k', cv('over tls'));
      assert.equal(((await backend.get('k')) as CachedValue).payload, 'over tls');
    } finally {
      await backend.close();
    }
  });

  it('accepts PEM contents, and host/port with protocol https', async () => {
    const port = new URL(tlsEtcd.endpoint).port;
    const backend = new Etcd3Backend({
      host: '127.0.0.1',
      port,
      protocol: 'https',
      timeout: 5,
      caCert: fs.readFileSync(certs.ca),
      certCert: fs.readFileSync(certs.clientCert, 'utf8'),
      certKey: fs.readFileSync(certs.clientKey),
    });
    try {
      assert.equal(await backend.get('nothing-here'), NO_VALUE);
    } finally {
      await backend.close();
    }
  });

  it('without a client certificate the server refuses: BackendUnavailableError, quickly', async () => {
    const backend = new Etcd3Backend({ endpoints: [tlsEtcd.endpoint], ca_cert: certs.ca, timeout: 2 });
    try {
      const { ms, error } = await elapsed(() => backend.get('k'));
      assert.ok(error instanceof BackendUnavailableError, String(error));
      assert.ok(ms < 3000, `${ms} ms`);
    } finally {
      await backend.close();
    }
  });

  it('a missing ca_cert file is a ConfigurationError naming the argument', async () => {
    const backend = new Etcd3Backend({ endpoints: [tlsEtcd.endpoint], ca_cert: '/nonexistent/ca.pem' });
    try {
      await assert.rejects(backend.get('k'), (error: unknown) => error instanceof ConfigurationError && error.message.includes('ca_cert'));
    } finally {
      await backend.close();
    }
  });

  it('authenticates with username and password; without them etcd refuses', async () => {
    const backend = new Etcd3Backend({
      endpoints: [authEtcd.endpoint],
      username: 'root',
      password: 'root-secret',
      timeout: 5,
      distributed_lock: true,
    });
    const anonymous = new Etcd3Backend({ endpoints: [authEtcd.endpoint], timeout: 5 });
    const wrong = new Etcd3Backend({ endpoints: [authEtcd.endpoint], username: 'root', password: 'nope', timeout: 5 });
    try {
      await backend.setMulti({ a: cv(1), b: cv(2) });
      assert.deepEqual(payloads(await backend.getMulti(['a', 'b'])), [1, 2]);
      const mutex = backend.getMutex('k') as Etcd3Mutex;
      assert.equal(await mutex.acquire(), true);
      await mutex.release();
      await assert.rejects(
        anonymous.get('a'),
        (error: unknown) => !(error instanceof BackendUnavailableError) && /user name is empty|permission denied/i.test(String(error)),
      );
      await assert.rejects(wrong.get('a'), (error: unknown) => /authentication failed/i.test(String(error)));
    } finally {
      await Promise.all([backend.close(), anonymous.close(), wrong.close()]);
    }
  });
});

describe('Etcd3Backend: arguments', () => {
  it('accepts oslo snake_case and camelCase, ignores unknown arguments', async () => {
    const backend = new Etcd3Backend({
      host: '127.0.0.1',
      port: '2379',
      timeout: '5',
      memcache_servers: 'x',
      leaseTtl: '10m',
      distributedLock: 'true',
    });
    assert.ok(backend.getMutex('k') instanceof Etcd3Mutex);
    assert.equal(new Etcd3Backend({}).getMutex('k'), null);
    await backend.close();
  });

  for (const [label, args] of [
    ['timeout 0', { timeout: 0 }],
    ['a bad endpoint', { endpoints: ['ftp://x'] }],
    ['hosts and endpoints', { hosts: 'a:1', endpoints: 'b:2' }],
    ['cert_cert without ca_cert', { cert_cert: 'a.pem', cert_key: 'b.pem' }],
    ['username without password', { username: 'root' }],
    ['a bad port', { port: 70000 }],
    ['a bad protocol', { protocol: 'grpc' }],
    ['max_txn_ops 0', { max_txn_ops: 0 }],
  ] as const) {
    it(`rejects ${label} with ValidationError`, () => {
      assert.throws(() => new Etcd3Backend(args as Record<string, unknown>), ValidationError);
    });
  }

  for (const [label, args, pattern] of [
    ['lock_timeout "30d" (past Node\'s longest timer)', { lock_timeout: '30d' }, /lock_timeout must be between 1 s and 2147483 s .*"30d"/],
    [
      "lease_ttl 1e12 (past etcd's largest lease TTL)",
      { lease_ttl: 1e12 },
      /lease_ttl must be between 0 s and 8000000000 s .*1000000000000/,
    ],
    ['timeout "30d"', { timeout: '30d' }, /timeout must be between 0.01 s and 2147483.647 s .*"30d"/],
    ['lease_window 0', { lease_window: 0 }, /lease_window must be between 0.001 s/],
    ['lock_timeout 0.5', { lock_timeout: 0.5 }, /lock_timeout must be between 1 s/],
  ] as const) {
    it(`rejects ${label} with a ValidationError naming the option, the value and the range`, () => {
      assert.throws(
        () => new Etcd3Backend(args as Record<string, unknown>),
        (error: unknown) => error instanceof ValidationError && pattern.test(error.message),
      );
    });
  }

  it('does not connect in the constructor', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const backend = new Etcd3Backend({ endpoints: [`http://127.0.0.1:${port}`], timeout: 1 });
    try {
      await sleep(300);
      assert.equal(connections, 0, 'no connection before the first call');
      // The same server does see the first call: the check above can fail.
      await assert.rejects(backend.get('k'), BackendUnavailableError);
      assert.ok(connections > 0, 'the first call connects');
    } finally {
      await backend.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Etcd3Backend: distributed lock', () => {
  const b = backends();
  after(() => b.closeAll());
  const pair = (args: Record<string, unknown> = {}): [Etcd3Backend, Etcd3Backend] => {
    const namespace = ns();
    return [b.make({ namespace, distributed_lock: true, ...args }), b.make({ namespace, distributed_lock: true, ...args })];
  };

  it('another process (backend) cannot take a held lock; it can after release', async () => {
    const [one, two] = pair();
    const a = one.getMutex('k') as Etcd3Mutex;
    const bm = two.getMutex('k') as Etcd3Mutex;
    assert.equal(await a.acquire(false), true);
    assert.equal(a.held, true);
    assert.equal(await bm.acquire(false), false);
    assert.equal(await bm.locked(), true);
    await a.release();
    assert.equal(a.held, false);
    assert.equal(await bm.acquire(false), true);
    await bm.release();
    assert.equal(await a.locked(), false);
  });

  it('a waiting acquire wakes through the watch when the holder releases (no polling)', async () => {
    const [one, two] = pair();
    const holder = one.getMutex('k') as Etcd3Mutex;
    const waiter = two.getMutex('k') as Etcd3Mutex;
    assert.equal(await holder.acquire(), true);
    const counts = await countRequests(two);
    let acquiredAt = 0;
    const waiting = waiter.acquire(true).then((ok) => {
      acquiredAt = Date.now();
      return ok;
    });
    await sleep(1500);
    assert.equal(acquiredAt, 0, 'still waiting while held');
    assert.equal(counts.txn + counts.range, 1, 'one lock attempt, then a watch: no polling');
    const releasedAt = Date.now();
    await holder.release();
    assert.equal(await waiting, true);
    assert.ok(acquiredAt - releasedAt < 1000, `woke ${acquiredAt - releasedAt} ms after the release`);
    assert.equal(counts.txn, 2, 'one more attempt after the wake-up');
    await waiter.release();
  });

  it('the session lease is kept alive: a lock outlives lock_timeout while its holder runs', async () => {
    const [one, two] = pair({ lock_timeout: 2 });
    const holder = one.getMutex('k') as Etcd3Mutex;
    assert.equal(await holder.acquire(), true);
    await sleep(3500); // real time: keepalives every 2/3 s must keep the 2 s lease
    assert.equal(holder.held, true);
    assert.equal(await (two.getMutex('k') as Etcd3Mutex).acquire(false), false);
    await holder.release();
  });

  it('a lost session lease: waiters wake, the holder is told, its release does not touch the new holder', async () => {
    const namespace = ns();
    const [one, two] = [b.make({ namespace, distributed_lock: true, lock_timeout: 3 }), b.make({ namespace, distributed_lock: true })];
    const holder = one.getMutex('k') as Etcd3Mutex;
    const waiter = two.getMutex('k') as Etcd3Mutex;
    assert.equal(await holder.acquire(), true);
    const signal = holder.signal;
    assert.ok(signal && !signal.aborted);
    const told = once(signal, 'abort');
    const waiting = waiter.acquire(true);
    const client = await one.getClient();
    const lease = (await rawKv(client, lockKey(namespace, 'k')))?.lease ?? '0';
    await client.leaseClient.leaseRevoke({ ID: lease }); // the session dies behind the holder's back
    assert.equal(await waiting, true, 'the waiter wakes when the lock key goes with the lease');
    await Promise.race([told, sleep(5000).then(() => assert.fail('the holder was not told within 5 s'))]);
    assert.equal(holder.held, false);
    assert.equal(holder.lost, true);
    await holder.release(); // must not delete the waiter's lock
    assert.equal(await waiter.locked(), true);
    await waiter.release();
    assert.equal(await holder.acquire(false), true, 'the holder gets a new session');
    await holder.release();
  });

  it('a holder whose process ends releases its locks (close revokes the session)', async () => {
    const [one, two] = pair();
    assert.equal(await (one.getMutex('k') as Etcd3Mutex).acquire(), true);
    const waiting = (two.getMutex('k') as Etcd3Mutex).acquire(true);
    await one.close();
    assert.equal(await waiting, true);
  });

  it('close() rejects a pending wait instead of leaving it hanging', async () => {
    const [one, two] = pair();
    assert.equal(await (one.getMutex('k') as Etcd3Mutex).acquire(), true);
    const waiting = assert.rejects((two.getMutex('k') as Etcd3Mutex).acquire(true), BackendUnavailableError);
    await sleep(100);
    await two.close();
    await waiting;
  });

  it('getMutex is null without distributed_lock', () => {
    assert.equal(b.make().getMutex('k'), null);
  });
});

describe('makeCachedValue round trip through etcd', () => {
  it('keeps a float ct with full precision', async () => {
    const backend = new Etcd3Backend({ endpoints, namespace: ns() });
    try {
      const value = makeCachedValue({ n: 1 });
      await backend.set('k', value);
      assert.deepEqual(await backend.get('k'), value);
    } finally {
      await backend.close();
    }
  });
});
