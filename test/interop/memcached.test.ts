/**
 * A Node region and a Python oslo.cache region (oslo_cache.memcache_pool + dogpile's JSON byte format,
 * test/interop/python/peer.py) share one memcached: each reads what the other wrote, byte for byte, and
 * get-or-create creates once whichever side comes first. One server here; memcached-servers.test.ts shares
 * three servers with Python through server_choice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CacheRegion, jsonSerializer, sha1MangleKey } from '../../src/index.js';
import { buildSerialized } from '../../src/backend.js';
import { memcachedServers } from '../support/servers.js';
import { SAMPLES, memcachedRawGet, runId, runPython, sampleKey, startPython, type PythonRequest } from './python.js';

describe('interop with Python oslo.cache on memcached (one server)', () => {
  let server: string;
  let region: CacheRegion;
  const prefix = `mc-${runId()}`;
  const python = (ops: PythonRequest['ops'], extra: Partial<PythonRequest> = {}) =>
    runPython({ backend: 'memcached', server, ops, ...extra });

  before(() => {
    server = memcachedServers()[0]!;
    region = new CacheRegion({ keyMangler: sha1MangleKey, serializer: 'json' }).configure('oslo_cache.memcache_pool', {
      arguments: { url: server },
    });
  });
  after(() => region.close());

  it('both sides mangle keys, unicode included, to the same sha1', async () => {
    const keys = ['some_key', 'ключ ✓ 日本語 🔑', ...SAMPLES.map((s) => sampleKey(prefix, s))];
    const results = await python(keys.map((key) => ({ op: 'mangle', key })));
    assert.deepEqual(
      results.map((r) => r.mangled),
      keys.map(sha1MangleKey),
    );
    assert.equal(results[0]!.mangled, '53def077a4264bd3183d4eb21b1f56f883e1b572');
  });

  it('Python region.set → our get: same value and metadata, flags 0, same bytes', async () => {
    const keys = SAMPLES.map((s) => sampleKey(`${prefix}-py`, s));
    const results = await python([
      ...SAMPLES.map((s, i) => ({ op: 'set' as const, key: keys[i]!, py: s.py })),
      ...SAMPLES.map((s, i) => ({ op: 'get' as const, key: keys[i]!, py: s.py })),
    ]);
    const written = results.slice(SAMPLES.length);
    for (const [i, sample] of SAMPLES.entries()) {
      const py = written[i]!;
      assert.equal(py.found, true, sample.name);
      const ours = await region.getValueMetadata(keys[i]!);
      assert.ok(ours, `${sample.name}: our region found nothing`);
      assert.deepEqual(ours.payload, sample.js, sample.name);
      assert.deepEqual(ours.metadata, py.metadata, sample.name);
      assert.deepEqual(await region.get(keys[i]!), ours.payload);
      // python-memcached stores bytes with flags 0; our serializer writes back exactly Python's bytes.
      const raw = await memcachedRawGet(server, sha1MangleKey(keys[i]!));
      assert.equal(raw?.flags, 0, sample.name);
      assert.equal(raw.value.toString('latin1'), py.raw, sample.name);
      assert.equal(buildSerialized(ours, jsonSerializer).toString('latin1'), py.raw, `${sample.name}: bytes differ`);
    }
  });

  it('our region.set → Python get: same value (Python types) and metadata, flags 0, same bytes', async () => {
    const keys = SAMPLES.map((s) => sampleKey(`${prefix}-js`, s));
    await region.setMulti(Object.fromEntries(SAMPLES.slice(0, 4).map((s, i) => [keys[i]!, s.js])));
    for (const [i, sample] of SAMPLES.entries()) if (i >= 4) await region.set(keys[i]!, sample.js);
    const results = await python(SAMPLES.map((s, i) => ({ op: 'get' as const, key: keys[i]!, py: s.py })));
    for (const [i, sample] of SAMPLES.entries()) {
      const py = results[i]!;
      const ours = await region.getValueMetadata(keys[i]!);
      assert.equal(py.found, true, sample.name);
      assert.equal(py.same, true, `${sample.name}: Python read ${py.repr}, expected ${sample.py}`);
      assert.deepEqual(py.metadata, ours?.metadata, sample.name);
      assert.equal(py.raw_matches, true, `${sample.name}: Python would write other bytes than ${py.raw}`);
      const raw = await memcachedRawGet(server, sha1MangleKey(keys[i]!));
      assert.equal(raw?.flags, 0, sample.name);
    }
  });

  it('Python floats and tuples arrive as JSON numbers and arrays (3.0 → 3, 1e300 stays a float, (1, "a") → [1, "a"])', async () => {
    const key = `${prefix}:types ü`;
    await python([{ op: 'set', key, py: "{'f': 3.0, 'big': 1e300, 't': (1, 'a'), 'k': {'b': 1, 'a': 2}}" }]);
    const value = (await region.get(key)) as Record<string, unknown>;
    assert.deepEqual(value, { f: 3, big: 1e300, t: [1, 'a'], k: { b: 1, a: 2 } });
    assert.deepEqual(Object.keys(value.k as object), ['b', 'a']);
    // Written back by us, Python reads an int for 3.0 and a list: a JS number has no int/float flag, so
    // safe integers are written as ints; 1e300 (past 2^53) is written as Python writes the float.
    await region.set(key, value);
    const [back] = await python([{ op: 'get', key, py: "{'f': 3, 'big': 1e300, 't': [1, 'a'], 'k': {'b': 1, 'a': 2}}" }]);
    assert.equal(back!.same, true, back!.repr);
    assert.equal(back!.raw_matches, true);
  });

  it('get_or_create: Python creates, ours finds it without creating', async () => {
    const key = `${prefix}:goc-py ✓`;
    const [created] = await python([{ op: 'get_or_create', key, py: "{'by': 'python', 'n': [1, 2.5]}" }]);
    assert.equal(created!.created, true);
    let calls = 0;
    const value = await region.getOrCreate(key, () => {
      calls++;
      return { by: 'node' };
    });
    assert.equal(calls, 0);
    assert.deepEqual(value, { by: 'python', n: [1, 2.5] });
  });

  it('get_or_create: ours creates, Python finds it without creating', async () => {
    const key = `${prefix}:goc-js ✓`;
    let calls = 0;
    const value = await region.getOrCreate(key, () => {
      calls++;
      return { by: 'node', n: [1, 2.5], u: 'ü' };
    });
    assert.equal(calls, 1);
    const [found] = await python([{ op: 'get_or_create', key, py: "{'by': 'python'}" }]);
    assert.equal(found!.created, false);
    assert.deepEqual(found!.value, value);
  });

  it("a Python process holding dogpile's memcached lock (distributed_lock) keeps our getOrCreate from creating", async () => {
    const key = `${prefix}:lock ✓`;
    const locking = new CacheRegion({ keyMangler: sha1MangleKey, serializer: 'json' }).configure('oslo_cache.memcache_pool', {
      arguments: { url: server, distributed_lock: true, lock_timeout: 10 },
    });
    try {
      const peer = startPython({
        backend: 'memcached',
        server,
        distributed_lock: true,
        ops: [{ op: 'get_or_create', key, py: "'made by python'", hold: 1.5 }],
      });
      await peer.creating;
      // Python's creator runs under dogpile's lock item "_lock" + sha1(key) (an ADD with lock_timeout).
      assert.ok(await memcachedRawGet(server, `_lock${sha1MangleKey(key)}`), 'the Python lock item is missing');
      assert.equal(await locking.keyIsLocked(key), true);
      let calls = 0;
      const started = Date.now();
      const value = await locking.getOrCreate(key, () => {
        calls++;
        return 'made by node';
      });
      const [result] = await peer.results;
      assert.equal(result!.created, true);
      assert.equal(value, 'made by python');
      assert.equal(calls, 0);
      assert.ok(Date.now() - started >= 500, 'our getOrCreate did not wait for the Python lock');
      assert.equal(await memcachedRawGet(server, `_lock${sha1MangleKey(key)}`), null);
    } finally {
      await locking.close();
    }
  });
});
