// The memcached lock item names (src/backends/memcached/keys.ts, lockKeyFor): dogpile's "_lock" + key
// wherever memcached can hold it, and otherwise a hashed name that no other key's lock has. Checked over
// everything the backend can be asked to lock: keys of a backend without a namespace (including the
// "sha1:<hex>" forms the key mangler writes, and that a caller with its own mangler may pass), and the
// names a namespaced backend locks ("_dogpile_ns:<namespace>:" + key). The real-server side is
// test/backends/memcached/lock-names.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { NamespaceGeneration } from '../../src/backends/memcached/generation.js';
import { HASHED_LOCK_PREFIX, LOCK_PREFIX, isReservedKey, lockKeyFor } from '../../src/backends/memcached/keys.js';
import { ValidationError } from '../../src/errors.js';
import { MEMCACHED_MAX_KEY_BYTES, sha1MangleKey } from '../../src/keys.js';
import { SEED } from '../support/model-harness.js';

const memcachedAccepts = (name: string): boolean =>
  Buffer.byteLength(name, 'utf8') <= MEMCACHED_MAX_KEY_BYTES && !/[\x00-\x20\x7f]/.test(name) && name.isWellFormed();

const NAMESPACES = ['a', 'n'.repeat(64)];

/** Every lock name the backends make for `key`: without a namespace (unless reserved) and in each namespace. */
function lockNames(key: string): [string, string][] {
  const names: [string, string][] = [];
  if (!isReservedKey(key)) names.push([`no namespace: ${JSON.stringify(key)}`, lockKeyFor(key)]);
  for (const namespace of NAMESPACES) {
    names.push([`namespace ${namespace}: ${JSON.stringify(key)}`, new NamespaceGeneration(namespace, 0, {} as never).lockKey(key)]);
  }
  return names;
}

/** Asserts that no two of `keys` (in any backend) share a lock name, and that every name is a lock name memcached accepts. */
function assertOneLockPerKey(keys: Iterable<string>): void {
  const seen = new Map<string, string>();
  for (const key of new Set(keys)) {
    for (const [who, name] of lockNames(key)) {
      assert.ok(memcachedAccepts(name) && name.startsWith(LOCK_PREFIX), `${who}: ${JSON.stringify(name)}`);
      const other = seen.get(name);
      assert.equal(other, undefined, `${who} and ${other} share the lock ${name}`);
      seen.set(name, who);
    }
  }
}

describe('memcached lock names', () => {
  it('is dogpile\'s "_lock" + key whenever memcached can hold that name (keys up to 245 ASCII bytes), hashed past it', () => {
    for (const length of [1, 100, 245]) assert.equal(lockKeyFor('k'.repeat(length)), `_lock${'k'.repeat(length)}`);
    assert.equal(lockKeyFor('é'.repeat(122)), `_lock${'é'.repeat(122)}`, '244 UTF-8 bytes');
    assert.equal(lockKeyFor('sha1:0123'), '_locksha1:0123', 'a hashed key keeps its dogpile lock name');
    for (const key of ['k'.repeat(246), 'k'.repeat(250), 'é'.repeat(123), 'a b']) {
      assert.equal(lockKeyFor(key), `${HASHED_LOCK_PREFIX}${sha1MangleKey(key)}`, JSON.stringify(key));
    }
    assert.equal(HASHED_LOCK_PREFIX, '_lock_lock:sha1:');
  });

  it('the lock of a 246- to 250-byte key is not the lock of the key "sha1:" + its SHA-1', () => {
    for (const length of [246, 248, 250]) {
      const key = 'k'.repeat(length);
      assert.notEqual(lockKeyFor(key), lockKeyFor(`sha1:${sha1MangleKey(key)}`));
    }
  });

  it('a long key of a namespaced backend and the key "_dogpile_ns:<namespace>:" + key hashed by the mangler have different locks', () => {
    const key = 'k'.repeat(240);
    const spaced = new NamespaceGeneration('a', 0, {} as never).lockKey(key);
    // A backend without a namespace gets that key as "sha1:" + sha1(key) from its mangler.
    assert.notEqual(spaced, lockKeyFor(`sha1:${sha1MangleKey(`_dogpile_ns:a:${key}`)}`));
  });

  it('one lock per key, in every backend, on keys around each length edge and their hashed and namespaced forms', () => {
    const keys: string[] = [];
    for (const fill of ['k', 'é', '€', '😀']) {
      for (const length of [1, 40, 83, 84, 160, 170, 180, 200, 219, 220, 221, 240, 244, 245, 246, 247, 248, 249, 250, 251, 300]) {
        const key = fill.repeat(length);
        keys.push(key, `sha1:${sha1MangleKey(key)}`, `${key} `);
        for (const namespace of NAMESPACES)
          keys.push(`_dogpile_ns:${namespace}:${key}`, `sha1:${sha1MangleKey(`_dogpile_ns:${namespace}:${key}`)}`);
      }
    }
    assertOneLockPerKey(keys);
  });

  it('one lock per key on random keys and their hashed and namespaced forms (property)', () => {
    const unit = fc.constantFrom(
      'k',
      'é',
      '😀',
      ':',
      '_',
      ' ',
      'sha1:',
      '_lock',
      '_dogpile_ns:a:',
      'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk',
    );
    const key = fc.array(unit, { minLength: 1, maxLength: 12 }).map((units) => units.join(''));
    fc.assert(
      fc.property(key, key, (a, b) => {
        assertOneLockPerKey([
          a,
          b,
          `sha1:${sha1MangleKey(a)}`,
          `sha1:${sha1MangleKey(b)}`,
          `_dogpile_ns:a:${a}`,
          `sha1:${sha1MangleKey(`_dogpile_ns:a:${b}`)}`,
        ]);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("getMutex refuses a key in a reserved prefix, as get and set do (its lock could be another key's)", () => {
    const backend = new PooledMemcachedBackend({ url: '127.0.0.1:1', distributed_lock: true, lock_timeout: 1 });
    for (const key of ['_lock:sha1:0123', '_lockx', '_dogpile_ns:a:x']) {
      assert.throws(
        () => backend.getMutex(key),
        (error: unknown) => error instanceof ValidationError && /reserves/.test(error.message),
        key,
      );
    }
    assert.ok(backend.getMutex('k'.repeat(248)));
  });
});
