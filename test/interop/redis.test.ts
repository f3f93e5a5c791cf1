/**
 * A Node region and a Python dogpile.cache region (`dogpile.cache.redis` with a JSON serializer,
 * test/interop/python/redis_peer.py, Debian's python3-dogpile.cache 1.1.8 and python3-redis) share one
 * Redis: each reads what the other wrote, byte for byte, and the distributed lock excludes across the two
 * languages in both directions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CacheRegion, jsonSerializer } from '../../src/index.js';
import { buildSerialized } from '../../src/backend.js';
import { redisUrl } from '../support/redis.js';
import { PYTHON, SAMPLES, sampleKey } from './python.js';

const PEER = fileURLToPath(new URL('./python/redis_peer.py', import.meta.url));
// Python's startup (dogpile, redis-py) is well under a second; generous for 2 shared cores.
const PYTHON_TIMEOUT_MS = 30_000;

type Op = { op: string; key: string; py?: string; value?: unknown; hold?: number };
interface Result {
  found?: boolean;
  value?: unknown;
  repr?: string;
  metadata?: { ct: number; v: number };
  raw?: string;
  raw_matches?: boolean;
  same?: boolean | null;
  created?: boolean;
  token?: string | null;
  acquired?: boolean;
}

/** Starts the Python peer; `marker` resolves when it prints CREATING or LOCKED. */
function startPython(ops: Op[], distributedLock = true, keyPrefix?: string): { marker: Promise<void>; results: Promise<Result[]> } {
  const child = spawn(PYTHON, [PEER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let stdout = '';
  let stderr = '';
  let mark: () => void = () => {};
  const marker = new Promise<void>((resolve) => (mark = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (/^(CREATING|LOCKED)$/m.test(stdout)) mark();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const results = new Promise<Result[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python peer timed out; stderr:\n${stderr}`));
    }, PYTHON_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`python peer exited with ${code}; stderr:\n${stderr}`));
      else resolve(JSON.parse(stdout.trimEnd().split('\n').pop() ?? '[]') as Result[]);
    });
  });
  child.stdin.end(JSON.stringify({ url: redisUrl(), distributed_lock: distributedLock, key_prefix: keyPrefix, ops }));
  return { marker, results };
}

const python = (ops: Op[]): Promise<Result[]> => startPython(ops).results;

describe('interop with Python dogpile.cache.redis', () => {
  const prefix = `redis-interop-${randomUUID().slice(0, 8)}`;
  let region: CacheRegion;
  let raw: Redis;

  before(() => {
    raw = new Redis(redisUrl());
    region = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', {
      expirationTime: 600,
      arguments: { url: redisUrl(), distributed_lock: true, lock_timeout: 30, lock_sleep: '20ms' },
    });
  });
  after(async () => {
    await region.close();
    const keys = await raw.keys(`*${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  it('Python region.set → our get: same value and metadata, same bytes', async () => {
    const keys = SAMPLES.map((s) => sampleKey(`${prefix}-py`, s));
    const results = await python([
      ...SAMPLES.map((s, i) => ({ op: 'set', key: keys[i]!, py: s.py })),
      ...SAMPLES.map((s, i) => ({ op: 'get', key: keys[i]!, py: s.py })),
    ]);
    const written = results.slice(SAMPLES.length);
    const ours = await region.backend.getMulti(keys);
    for (const [i, sample] of SAMPLES.entries()) {
      const py = written[i]!;
      assert.equal(py.found, true, sample.name);
      const value = ours[i] as { payload: unknown; metadata: unknown };
      assert.deepEqual(value.payload, sample.js, sample.name);
      assert.deepEqual(value.metadata, py.metadata, sample.name);
      assert.equal(buildSerialized(value as never, jsonSerializer).toString('latin1'), py.raw, `${sample.name}: bytes differ`);
    }
  });

  it('our set and setMulti → Python get: same value (Python types), metadata and bytes', async () => {
    const keys = SAMPLES.map((s) => sampleKey(`${prefix}-js`, s));
    await region.setMulti(Object.fromEntries(SAMPLES.slice(0, 5).map((s, i) => [keys[i]!, s.js])));
    for (const [i, sample] of SAMPLES.entries()) if (i >= 5) await region.set(keys[i]!, sample.js);
    const results = await python(SAMPLES.map((s, i) => ({ op: 'get', key: keys[i]!, py: s.py })));
    for (const [i, sample] of SAMPLES.entries()) {
      const py = results[i]!;
      assert.equal(py.found, true, sample.name);
      assert.equal(py.same, true, `${sample.name}: Python read ${py.repr}, expected ${sample.py}`);
      assert.equal(py.raw_matches, true, `${sample.name}: Python would write other bytes than ${py.raw}`);
      assert.equal(py.raw, (await raw.getBuffer(keys[i]!))?.toString('latin1'));
    }
  });

  it('an entry with its own TTL and tags (extra "ttl" and "tags" metadata fields) is read by Python get and get_or_create', async () => {
    const key = `${prefix}:own-ttl`;
    await region.set(key, { a: [1, 'two'] }, { expirationTime: '1h', tags: ['user:1', 'café'] });
    assert.match(
      (await raw.getBuffer(key))?.toString('latin1') ?? '',
      /^\{"ct": [0-9.]+, "v": 2, "ttl": 3600, "tags": \["user:1", "caf\\u00e9"\]\}\|/,
    );
    const [got, created] = await python([
      { op: 'get', key, py: "{'a': [1, 'two']}" },
      { op: 'get_or_create', key, value: 'from python' },
    ]);
    assert.equal(got?.found, true);
    assert.equal(got?.same, true, `Python read ${got?.repr}`);
    assert.equal((got?.metadata as { ttl?: number } | undefined)?.ttl, 3600, 'Python keeps the extra field as it is');
    assert.deepEqual(created, { value: { a: [1, 'two'] }, repr: "{'a': [1, 'two']}", created: false });
  });

  it("a Python process holding dogpile's Redis lock blocks our creator; we get its value", async () => {
    const key = `${prefix}:py-holds`;
    const run = startPython([{ op: 'get_or_create', key, value: 'from python', hold: 1.5 }]);
    await run.marker;
    // Python's lock: redis-py's token (uuid1().hex) under "_lock" + key.
    assert.match((await raw.get(`_lock${key}`)) ?? '', /^[0-9a-f]{32}$/);
    let ourCalls = 0;
    const value = await region.getOrCreate(key, () => {
      ourCalls++;
      return 'from node';
    });
    assert.equal(ourCalls, 0, 'our creator ran while Python held the lock');
    assert.equal(value, 'from python');
    assert.deepEqual((await run.results)[0], { value: 'from python', repr: "'from python'", created: true });
  });

  it('our lock blocks a Python creator; Python gets our value', async () => {
    const key = `${prefix}:node-holds`;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => {};
    const creating = new Promise<void>((resolve) => (started = resolve));
    const ours = region.getOrCreate(key, async () => {
      started();
      await gate;
      return 'from node';
    });
    await creating;
    assert.equal(await raw.exists(`_lock${key}`), 1);
    const py = startPython([
      { op: 'try_lock', key },
      { op: 'get_or_create', key, value: 'from python' },
    ]);
    // Python's get_or_create blocks on our lock; give it time to be waiting, then let our creator finish.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    release();
    assert.equal(await ours, 'from node');
    const [tried, created] = await py.results;
    assert.equal(tried?.acquired, false, 'Python took the lock we held');
    assert.deepEqual(created, { value: 'from node', repr: "'from node'", created: false });
  });
});

describe('interop with Python dogpile.cache.redis, our backend with a namespace', () => {
  const ns = `redis-interop-ns-${randomUUID().slice(0, 8)}`;
  let region: CacheRegion;

  before(() => {
    region = new CacheRegion({ serializer: 'json' }).configure('dogpile.cache.redis', {
      expirationTime: 600,
      arguments: { url: redisUrl(), namespace: ns, distributed_lock: true, lock_timeout: 30, lock_sleep: '20ms' },
    });
  });
  after(async () => {
    await region.clear();
    await region.close();
  });

  it('a Python region whose key_mangler adds "<namespace>:" shares entries and locks with ours, and our clear() removes its entries', async () => {
    const [ours, theirs, held] = ['ours', 'theirs', 'held'];
    await region.set(ours, { from: 'node' });
    const [got] = await startPython(
      [
        { op: 'get', key: ours, py: "{'from': 'node'}" },
        { op: 'set', key: theirs, value: 'from python' },
      ],
      true,
      `${ns}:`,
    ).results;
    assert.equal(got?.same, true, `Python read ${got?.repr}`);
    assert.equal(await region.get(theirs), 'from python');

    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => {};
    const creating = new Promise<void>((resolve) => (started = resolve));
    const creation = region.getOrCreate(held, async () => {
      started();
      await gate;
      return 'from node';
    });
    await creating;
    const [tried] = await startPython([{ op: 'try_lock', key: held }], true, `${ns}:`).results;
    release();
    assert.equal(tried?.acquired, false, 'Python took the lock we held: the lock keys differ');
    assert.equal(await creation, 'from node');

    await region.clear();
    const after = await startPython(
      [ours, theirs, held].map((key) => ({ op: 'get', key })),
      true,
      `${ns}:`,
    ).results;
    assert.deepEqual(
      after.map((r) => r.found),
      [false, false, false],
    );
  });
});
