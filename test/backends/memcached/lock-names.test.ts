/**
 * The names of the memcached lock items, against the shared memcached (src/backends/memcached/keys.ts,
 * `lockKeyFor`): dogpile's `"_lock" + key` for every key whose lock name fits in memcached's 250 bytes
 * (every key a Python dogpile process can lock: its `MemcachedLock` fails on a longer name), and for a key
 * of 246 to 250 bytes, whose `"_lock" + key` does not fit, a hashed name that no other key's lock can have.
 *
 * The hashed name used to be `"_locksha1:" + sha1(key)`, which is also dogpile's name for the lock of the
 * key `"sha1:" + sha1(key)`, and the name a namespaced backend gave a long key's lock was the lock of a key
 * in the `_dogpile_ns:` prefix on a backend without a namespace: two different keys, one lock.
 *
 * One server, so that the lock items of two backends (and of a simulated Python process) meet on it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PooledMemcachedBackend } from '../../../src/backends/memcached/index.js';
import { CacheRegion, sha1MangleKey } from '../../../src/index.js';
import { textCommand } from '../../support/memcached.js';
import { memcachedServers } from '../../support/servers.js';

const [server] = memcachedServers() as [string];
const run = randomUUID().slice(0, 8);
const closing: { close(): Promise<void> }[] = [];
after(async () => {
  for (const each of closing) await each.close();
});

function backend(args: Record<string, unknown> = {}): PooledMemcachedBackend {
  const made = new PooledMemcachedBackend({ url: server, distributed_lock: true, lock_timeout: 30, ...args });
  closing.push(made);
  return made;
}

/** A key of `bytes` ASCII bytes, unique to this run and test. */
function keyOf(bytes: number, tag: string): string {
  return `${run}:${tag}:`.padEnd(bytes, 'k');
}

/** True when the item `name` exists on the server (text protocol, as a Python client would read it). */
async function exists(name: string): Promise<boolean> {
  return (await textCommand(server, `get ${name}`, /END\r\n$/)).startsWith(`VALUE ${name} `);
}

/**
 * What dogpile's `MemcachedLock.acquire` sends for the region key `key`: `add("_lock" + key, 1, timeout)`.
 * True when the lock was taken.
 */
async function dogpileAcquire(key: string): Promise<boolean> {
  const reply = await textCommand(server, `add _lock${key} 0 30 1\r\n1`, /(NOT_STORED|STORED)\r\n$/);
  return reply.startsWith('STORED');
}

async function deleteItem(name: string): Promise<void> {
  await textCommand(server, `delete ${name}`, /(DELETED|NOT_FOUND)\r\n$/);
}

describe('memcached lock names', () => {
  it('a key whose "_lock" + key fits (up to 245 bytes) is locked under that name, so a Python dogpile process and this backend keep each other out', async () => {
    const b = backend();
    for (const bytes of [1 + run.length, 100, 245]) {
      const key = bytes === 1 + run.length ? `${run}x` : keyOf(bytes, 'fits');
      assert.equal(Buffer.byteLength(`_lock${key}`), bytes + 5);
      // Python holds the lock: we wait.
      assert.equal(await dogpileAcquire(key), true);
      assert.equal(await b.getMutex(key)?.acquire(false), false, `${bytes} bytes: Python's lock must keep us out`);
      await deleteItem(`_lock${key}`);
      // We hold it: Python waits, and the item is dogpile's name.
      const mutex = b.getMutex(key);
      assert.equal(await mutex?.acquire(false), true);
      assert.equal(await exists(`_lock${key}`), true);
      assert.equal(await dogpileAcquire(key), false, `${bytes} bytes: our lock must keep Python out`);
      await mutex?.release();
      assert.equal(await exists(`_lock${key}`), false);
    }
  });

  it('a key of 246 to 250 bytes has a lock of its own, not the lock of the key "sha1:" + its SHA-1 (which a Python region without a key mangler locks as "_locksha1:<sha1>")', async () => {
    const b = backend();
    for (const bytes of [246, 248, 250]) {
      const long = keyOf(bytes, 'long');
      const looksHashed = `sha1:${sha1MangleKey(long)}`;
      // Python's dogpile (no key mangler by default) holds the lock of its key "sha1:<sha1 of long>".
      assert.equal(await dogpileAcquire(looksHashed), true);
      const mutex = b.getMutex(long);
      assert.equal(await mutex?.acquire(false), true, `${bytes} bytes: the lock of another key (Python's "${looksHashed}") kept us out`);
      // The name is in a part of the lock prefix that no "_lock" + key reaches (no key starts with "_lock").
      assert.equal(await exists(`_lock_lock:sha1:${sha1MangleKey(long)}`), true);
      // A direct caller (or a region with its own key mangler) locking the key "sha1:<sha1 of long>" here:
      // the same item as Python's, and not ours.
      assert.equal(await b.getMutex(looksHashed)?.acquire(false), false);
      await mutex?.release();
      await deleteItem(`_lock${looksHashed}`);
      assert.equal(await b.getMutex(looksHashed)?.acquire(false), true);
      assert.equal(await b.getMutex(long)?.acquire(false), true, `${bytes} bytes: the lock of "${looksHashed}" kept "${long}" out`);
      await deleteItem(`_lock${looksHashed}`);
      await deleteItem(`_lock_lock:sha1:${sha1MangleKey(long)}`);
    }
  });

  it('a long key of a namespaced region and the key "_dogpile_ns:<namespace>:" + that key of a region without a namespace do not share a lock', async () => {
    const namespace = `locks${run}`;
    const spaced = new CacheRegion().configure(backend({ namespace }), { expirationTime: 600 });
    const plain = new CacheRegion().configure(backend(), { expirationTime: 600 });
    // "_lock_dogpile_ns:<namespace>:" + key is over 250 bytes from a 220-byte key on.
    const key = keyOf(240, 'ns');
    const other = `_dogpile_ns:${namespace}:${key}`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let creating!: () => void;
    const started = new Promise<void>((resolve) => {
      creating = resolve;
    });
    const first = spaced.getOrCreate(key, async () => {
      creating();
      await gate;
      return 'namespaced';
    });
    await started;
    try {
      // The lock retries every 100 ms at most: 5 s only fails when the other region's lock is held against us.
      const second = plain.getOrCreate(other, () => 'plain');
      const outcome = await Promise.race([second, sleep(5000, "waited on the namespaced key's lock", { ref: false })]);
      assert.equal(outcome, 'plain');
    } finally {
      release();
    }
    assert.equal(await first, 'namespaced');
  });
});
