/**
 * A Node region on Etcd3Backend (`oslo_cache.etcd3gw`) and a Python oslo.cache region on oslo's
 * etcd3gw backend (test/interop/python/peer.py, etcd3gw with api_path /v3/) share one etcd: values are
 * oslo's JSON `[payload, metadata]`, read both ways byte for byte, and get-or-create creates once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CacheRegion, sha1MangleKey } from '../../src/index.js';
import { type Etcd3Backend, encodeOsloValue } from '../../src/backends/etcd3/index.js';
import type { DeferredBackend } from '../../src/backends/deferred.js';
import { etcdEndpoints } from '../support/servers.js';
import { SAMPLES, runId, runPython, sampleKey, type PythonRequest } from './python.js';

describe('interop with Python oslo.cache on etcd (oslo_cache.etcd3gw)', () => {
  let server: string;
  let region: CacheRegion;
  const prefix = `etcd-${runId()}`;
  const python = (ops: PythonRequest['ops']) => runPython({ backend: 'etcd', server, ops });
  const leaseOf = async (key: string): Promise<string | undefined> => {
    // Configured by name, the region holds a loader in front of the backend (src/backends/lazy.ts).
    const backend = await (region.actualBackend as DeferredBackend).ready();
    const client = await (backend as Etcd3Backend).getClient();
    const response = await client.get(sha1MangleKey(key)).exec();
    return response.kvs[0]?.lease;
  };

  before(() => {
    const url = new URL(etcdEndpoints()[0]!);
    server = `${url.hostname}:${url.port}`;
    // As oslo configures it: host and port, sha1 keys, no namespace.
    region = new CacheRegion({ keyMangler: sha1MangleKey }).configure('oslo_cache.etcd3gw', {
      arguments: { host: url.hostname, port: Number(url.port) },
    });
  });
  after(() => region.close());

  it('Python region.set → our get: same value and metadata, same bytes', async () => {
    const keys = SAMPLES.map((s) => sampleKey(`${prefix}-py`, s));
    const results = await python([
      ...SAMPLES.map((s, i) => ({ op: 'set' as const, key: keys[i]!, py: s.py })),
      ...SAMPLES.map((s, i) => ({ op: 'get' as const, key: keys[i]!, py: s.py })),
    ]);
    const written = results.slice(SAMPLES.length);
    for (const [i, sample] of SAMPLES.entries()) {
      const py = written[i]!;
      assert.equal(py.found, true, sample.name);
      assert.equal(py.mangled, sha1MangleKey(keys[i]!));
      const ours = await region.getValueMetadata(keys[i]!);
      assert.ok(ours, `${sample.name}: our region found nothing`);
      assert.deepEqual(ours.payload, sample.js, sample.name);
      assert.deepEqual(ours.metadata, py.metadata, sample.name);
      assert.deepEqual(await region.get(keys[i]!), sample.js, sample.name);
      assert.equal(encodeOsloValue(ours).toString('latin1'), py.raw, `${sample.name}: bytes differ`);
    }
    // oslo grants a lease of `timeout` (30 s) with every set: Python's entries expire on the server.
    assert.notEqual(await leaseOf(keys[0]!), '0');
  });

  it('our region.set → Python get: same value (Python types) and metadata, same bytes', async () => {
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
      assert.equal(py.raw_matches, true, `${sample.name}: oslo would write other bytes than ${py.raw}`);
    }
    // Without lease_ttl (or oslo_compat_lease) our entries have no lease.
    assert.equal(await leaseOf(keys[0]!), '0');
  });

  it('Python floats and tuples arrive as JSON numbers and arrays', async () => {
    const key = `${prefix}:types ü`;
    await python([{ op: 'set', key, py: "{'f': 3.0, 't': (1, 'a'), 'k': {'b': 1, 'a': 2}}" }]);
    const value = (await region.get(key)) as Record<string, unknown>;
    assert.deepEqual(value, { f: 3, t: [1, 'a'], k: { b: 1, a: 2 } });
    assert.deepEqual(Object.keys(value.k as object), ['b', 'a']);
    await region.set(key, value);
    const [back] = await python([{ op: 'get', key, py: "{'f': 3, 't': [1, 'a'], 'k': {'b': 1, 'a': 2}}" }]);
    assert.equal(back!.same, true, back!.repr);
    assert.equal(back!.raw_matches, true);
  });

  it('get_or_create: Python creates, ours finds it without creating', async () => {
    const key = `${prefix}:goc-py ✓ 日本`;
    const [created] = await python([{ op: 'get_or_create', key, py: "{'by': 'python', 'n': [1, 2.5], 'none': None}" }]);
    assert.equal(created!.created, true);
    let calls = 0;
    const value = await region.getOrCreate(key, () => {
      calls++;
      return { by: 'node' };
    });
    assert.equal(calls, 0);
    assert.deepEqual(value, { by: 'python', n: [1, 2.5], none: null });
  });

  it('get_or_create: ours creates, Python finds it without creating', async () => {
    const key = `${prefix}:goc-js ✓ 日本`;
    let calls = 0;
    const value = await region.getOrCreate(key, () => {
      calls++;
      return { by: 'node', n: [1, 2.5], u: 'ü', ok: true };
    });
    assert.equal(calls, 1);
    const [found] = await python([{ op: 'get_or_create', key, py: "{'by': 'python'}" }]);
    assert.equal(found!.created, false);
    assert.deepEqual(found!.value, value);
  });

  it('deletes are seen by the other side', async () => {
    const key = `${prefix}:delete ✓`;
    await region.set(key, 'x');
    const [, gone] = await python([
      { op: 'delete', key },
      { op: 'get', key },
    ]);
    assert.equal(gone!.found, false);
    assert.equal(await region.getValueMetadata(key), null);
  });
});
