/**
 * memcached `region.clear()` through a namespace generation (issue 22 item 1), against the shared
 * memcached servers: clear removes the namespace's entries and only those; another backend (another
 * process's view: its own connections and cache) sees a clear within its generation_check_interval;
 * concurrent clears converge; the generation item is out of every user key's reach; a lost or stale
 * copy of the generation never makes old entries reachable again; without a namespace nothing changes
 * (keys as given, for Python peers) and clear() is refused.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PooledMemcachedBackend } from '../../../src/backends/memcached/index.js';
import { CacheRegion, NO_VALUE, UnsupportedOperationError, ValidationError } from '../../../src/index.js';
import { runBackendConformance } from '../../../src/testing/index.js';
import { memcachedServers } from '../../support/servers.js';
import { textCommand } from '../../support/memcached.js';

const run = randomUUID().slice(0, 8);
const closing: { close(): Promise<void> }[] = [];
after(async () => {
  for (const each of closing) await each.close();
});

function region(args: Record<string, unknown> = {}): CacheRegion {
  const r = new CacheRegion().configure('oslo_cache.memcache_pool', {
    expirationTime: 600,
    arguments: { url: memcachedServers(), ...args },
  });
  closing.push(r);
  return r;
}

/** The generation item's value on each server (text protocol), null where absent. */
async function generationCopies(namespace: string): Promise<(number | null)[]> {
  return Promise.all(
    memcachedServers().map(async (server) => {
      const reply = await textCommand(server, `get _dogpile_ns:${namespace}`, /END\r\n$/);
      const match = /^VALUE \S+ \d+ \d+\r\n(\d+)\s*\r\n/.exec(reply);
      return match === null ? null : Number(match[1]);
    }),
  );
}

async function deleteEverywhere(key: string): Promise<void> {
  await Promise.all(memcachedServers().map((server) => textCommand(server, `delete ${key}`, /(DELETED|NOT_FOUND)\r\n$/)));
}

async function setOn(server: string, key: string, value: string): Promise<void> {
  await textCommand(server, `set ${key} 0 0 ${value.length}\r\n${value}`, /STORED\r\n$/);
}

// The backend contract holds with every key folded into a generation (and locks in the namespace).
runBackendConformance(
  'PooledMemcachedBackend with a namespace',
  () => new PooledMemcachedBackend({ url: memcachedServers(), namespace: `conformance${run}`, distributed_lock: true, lock_timeout: 30 }),
  { mutex: true, bytes: true },
  { describe, it, before, after },
);

describe('memcached clear() with a namespace', () => {
  it("removes every entry of the namespace, and only those: another namespace's and a plain region's entries stay", async () => {
    const ns = `a${run}`;
    const r = region({ namespace: ns });
    const other = region({ namespace: `b${run}` });
    const plain = region();
    await r.setMulti({ one: 1, two: 2 });
    await r.set('three', 3);
    await other.set('one', 'other namespace');
    await plain.set(`one-${run}`, 'plain');
    assert.deepEqual(await r.getMulti(['one', 'two', 'three']), [1, 2, 3]);
    await r.clear();
    assert.deepEqual(await r.getMulti(['one', 'two', 'three']), [NO_VALUE, NO_VALUE, NO_VALUE]);
    assert.equal(await r.get('one', { ignoreExpiration: true }), NO_VALUE, 'gone, not just expired');
    assert.equal(await other.get('one'), 'other namespace');
    assert.equal(await plain.get(`one-${run}`), 'plain');
    await r.set('one', 'again');
    assert.equal(await r.get('one'), 'again', 'the region works after clear()');
    const copies = await generationCopies(ns);
    assert.equal(new Set(copies).size, 1, `every server holds the same generation: ${copies.join(', ')}`);
    assert.ok((copies[0] as number) > Date.UTC(2026, 0, 1) * 1000, 'started from the time in microseconds, not 0');
  });

  it('another backend on the same servers sees the clear within its generation_check_interval, and never an entry from before it', async () => {
    const ns = `c${run}`;
    const a = region({ namespace: ns, generation_check_interval: '50ms' });
    const b = region({ namespace: ns, generation_check_interval: '50ms' });
    await a.set('k', 'before');
    assert.equal(await b.get('k'), 'before', 'they share the namespace');
    await a.clear();
    assert.equal(await a.get('k'), NO_VALUE, 'the clearing backend sees it at once');
    await sleep(200); // past B's 50 ms interval: the bound is what is asserted, not the speed
    assert.equal(await b.get('k'), NO_VALUE);
    await b.set('k', 'after');
    assert.equal(await a.get('k'), 'after', 'both write and read the new generation');
  });

  it('concurrent clears from two backends converge: both count, and both backends then agree', async () => {
    const ns = `d${run}`;
    const a = region({ namespace: ns, generation_check_interval: 0 });
    const b = region({ namespace: ns, generation_check_interval: 0 });
    await a.set('k', 'v');
    const before = Math.max(...((await generationCopies(ns)).filter((v) => v !== null) as number[]));
    await Promise.all([a.clear(), b.clear(), a.clear(), b.clear()]);
    // Every clear counted on every server (a read racing a clear may also raise a copy that lagged, so a
    // copy can be one or two higher: never lower).
    for (const copy of await generationCopies(ns))
      assert.ok(copy !== null && copy >= before + 4, `copy ${copy} after 4 clears from ${before}`);
    assert.equal(await b.get('k'), NO_VALUE);
    const copies = await generationCopies(ns);
    assert.equal(new Set(copies).size, 1, `the next read raised every copy to the largest: ${copies.join(', ')}`);
    await a.set('k', 'new');
    assert.equal(await b.get('k'), 'new');
  });

  it('a lost generation (evicted from every server) starts again from the time: the old entries stay unreachable', async () => {
    const ns = `e${run}`;
    const r = region({ namespace: ns, generation_check_interval: 0 });
    await r.set('k', 'old');
    await deleteEverywhere(`_dogpile_ns:${ns}`);
    assert.equal(await r.get('k'), NO_VALUE, 'a new generation, not the old one again');
    // A new backend (a process started after the eviction) does not find the old entry either.
    const fresh = region({ namespace: ns });
    assert.equal(await fresh.get('k'), NO_VALUE);
  });

  it('a server with a missing or smaller copy (missed clears, restarted) loses to the others and is repaired; nothing comes back', async () => {
    const servers = memcachedServers();
    const ns = `f${run}`;
    const r = region({ namespace: ns, generation_check_interval: 0 });
    await r.set('k', 'old');
    const [current] = (await generationCopies(ns)) as number[];
    await r.clear();
    await r.set('k', 'new');
    // One server went back to the generation before the clear, another lost its copy.
    await setOn(servers[0] as string, `_dogpile_ns:${ns}`, String(current));
    if (servers.length > 1) await textCommand(servers[1] as string, `delete _dogpile_ns:${ns}`, /(DELETED|NOT_FOUND)\r\n$/);
    const fresh = region({ namespace: ns });
    assert.equal(await fresh.get('k'), 'new', 'the largest copy wins: the entry from before the clear stays unreachable');
    assert.deepEqual(
      await generationCopies(ns),
      servers.map(() => (current as number) + 1),
      'every copy raised to the largest',
    );
  });

  it('locks live in the namespace: two namespaces do not lock each other out', async () => {
    const a = new PooledMemcachedBackend({ url: memcachedServers(), namespace: `g${run}`, distributed_lock: true, lock_timeout: 10 });
    const b = new PooledMemcachedBackend({ url: memcachedServers(), namespace: `h${run}`, distributed_lock: true, lock_timeout: 10 });
    closing.push(a, b);
    const held = a.getMutex('k') as NonNullable<ReturnType<typeof a.getMutex>>;
    assert.equal(await held.acquire(false), true);
    assert.equal(await (b.getMutex('k') as typeof held).acquire(false), true, 'another namespace');
    assert.equal(await (a.getMutex('k') as typeof held).acquire(false), false, 'the same namespace');
    await held.release();
  });
});

describe('memcached: the generation item is out of every user key’s reach', () => {
  it('a plain region writing the generation item’s name (and an entry’s) stores elsewhere: the namespace is unharmed', async () => {
    const ns = `i${run}`;
    const r = region({ namespace: ns, generation_check_interval: 0 });
    await r.set('k', 'mine');
    const [generation] = (await generationCopies(ns)) as number[];
    const plain = region();
    await plain.set(`_dogpile_ns:${ns}`, 'not a number');
    await plain.set(`_dogpile_ns:${ns}:${generation}:k`, 'hijacked');
    assert.equal(await plain.get(`_dogpile_ns:${ns}`), 'not a number', 'the plain region keeps its own entry (hashed)');
    assert.deepEqual(
      await generationCopies(ns),
      memcachedServers().map(() => generation),
      'the generation item is untouched',
    );
    assert.equal(await r.get('k'), 'mine');
  });

  it('a key in the reserved prefix that reaches the backend is a ValidationError naming the prefix', async () => {
    const backend = new PooledMemcachedBackend({ url: memcachedServers() });
    closing.push(backend);
    for (const call of [
      () => backend.getSerialized('_dogpile_ns:x'),
      () => backend.setSerialized('_dogpile_ns:x:1:k', Buffer.from('{"ct": 1, "v": 2}|1')),
    ]) {
      await assert.rejects(
        call(),
        (e: Error) => e instanceof ValidationError && e.message.includes('"_dogpile_ns:"') && /keyMangler/.test(e.message),
      );
    }
    assert.equal(backend.keyMangler('_dogpile_ns:x').startsWith('sha1:'), true);
  });
});

describe('memcached without a namespace (the default)', () => {
  it('stores keys as given, for Python peers on the same servers, and refuses clear() with UnsupportedOperationError', async () => {
    const r = region();
    const key = `plain-${run}`;
    await r.set(key, 'v');
    const replies = await Promise.all(memcachedServers().map((server) => textCommand(server, `get ${key}`, /END\r\n$/)));
    assert.equal(replies.filter((reply) => reply.startsWith(`VALUE ${key} `)).length, 1, 'the item is the key itself, on one server');
    assert.equal(r.actualBackend.clear, undefined);
    await assert.rejects(r.clear(), UnsupportedOperationError);
    assert.equal(await r.get(key), 'v');
  });

  it('namespace and generation_check_interval are checked at configure time', () => {
    for (const namespace of ['a:b', 'with space', 'x'.repeat(65), 42]) {
      assert.throws(() => new PooledMemcachedBackend({ url: '127.0.0.1:1', namespace }), ValidationError);
    }
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:1', generation_check_interval: 1 }),
      /generation_check_interval needs a namespace/,
    );
    assert.throws(() => new PooledMemcachedBackend({ url: '127.0.0.1:1', namespace: 'n', generation_check_interval: -1 }), ValidationError);
    assert.equal(typeof new PooledMemcachedBackend({ url: '127.0.0.1:1', namespace: 'n' }).clear, 'function');
  });
});
