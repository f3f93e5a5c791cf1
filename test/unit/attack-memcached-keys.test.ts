// Adversarial tests of the memcached backend's key naming (src/backends/memcached/keys.ts and the
// namespace's item names in generation.ts), written apart from the code's own tests. What must hold:
// distinct keys name distinct memcached items (short of a SHA-1 collision), every item name is one memcached
// accepts (at most 250 UTF-8 bytes, no space or control character), and no user key reaches a reserved item.
// Attacked with the keys the backend itself writes when it hashes: `"sha1:" + sha1(other key)`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NamespaceGeneration } from '../../src/backends/memcached/generation.js';
import { isReservedKey, lockKeyFor, memcachedKeyMangler } from '../../src/backends/memcached/keys.js';
import { MEMCACHED_MAX_KEY_BYTES, sha1MangleKey } from '../../src/keys.js';
import { SEED } from '../support/model-harness.js';

/** True for a name memcached's text protocol accepts as a key. */
const memcachedAccepts = (name: string): boolean =>
  Buffer.byteLength(name, 'utf8') <= MEMCACHED_MAX_KEY_BYTES && !/[\x00-\x20\x7f]/.test(name) && name.isWellFormed();

/** Keys around every rule's edge, plus the hashed form of each: what a caller could pass to the backend. */
function edgeKeys(): string[] {
  const keys: string[] = [];
  for (const fill of ['k', 'é', '€', '😀']) {
    for (const length of [1, 40, 83, 84, 124, 125, 200, 226, 227, 228, 229, 230, 240, 245, 246, 250]) {
      const key = fill.repeat(length);
      if (Buffer.byteLength(key, 'utf8') <= MEMCACHED_MAX_KEY_BYTES) keys.push(key);
    }
  }
  return [...keys, ...keys.map((key) => `sha1:${sha1MangleKey(key)}`)];
}

describe('memcached namespace item names: one item per key', () => {
  it('a key too long with the namespace prefix and the key "sha1:" + its SHA-1 are different items', () => {
    const generation = new NamespaceGeneration('app', 0, {} as never);
    const long = 'k'.repeat(240);
    const looksHashed = `sha1:${sha1MangleKey(long)}`;
    assert.notEqual(generation.entryKey(long, 7), generation.entryKey(looksHashed, 7));
  });

  it('entryKey is one-to-one and memcached accepts every name, on edge keys and their hashed forms, for short and 64-byte namespaces', () => {
    for (const namespace of ['a', 'n'.repeat(64), 'é'.repeat(32)]) {
      const generation = new NamespaceGeneration(namespace, 0, {} as never);
      for (const gen of [1, 1_767_225_600_123, Number.MAX_SAFE_INTEGER]) {
        const seen = new Map<string, string>();
        for (const key of edgeKeys()) {
          const name = generation.entryKey(key, gen);
          assert.ok(memcachedAccepts(name), `${JSON.stringify(name)} (${Buffer.byteLength(name)} bytes)`);
          const other = seen.get(name);
          assert.equal(other, undefined, `${JSON.stringify(key)} and ${JSON.stringify(other)} share ${name}`);
          seen.set(name, key);
        }
      }
    }
  });

  it('entryKey is one-to-one on random keys and their hashed forms (property)', () => {
    const generation = new NamespaceGeneration('ns', 0, {} as never);
    const unit = fc.constantFrom('a', 'Z', ':', '_', 's', 'é', '€', '😀', 'h', '1');
    const key = fc
      .array(unit, { minLength: 1, maxLength: 250, size: 'max' })
      .map((units) => units.join(''))
      .filter((k) => Buffer.byteLength(k, 'utf8') <= MEMCACHED_MAX_KEY_BYTES);
    fc.assert(
      fc.property(key, key, (a, b) => {
        for (const [x, y] of [
          [a, b],
          [a, `sha1:${sha1MangleKey(a)}`],
          [b, `sha1:${sha1MangleKey(a)}`],
        ] as const) {
          if (x !== y) assert.notEqual(generation.entryKey(x, 3), generation.entryKey(y, 3), `${x} / ${y}`);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('memcachedKeyMangler: what reaches the backend', () => {
  it('every result is a name memcached accepts, never in a reserved prefix, and distinct keys stay distinct (property)', () => {
    const unit = fc.constantFrom('a', ' ', '\x00', '\x7f', '_', 's', 'h', '1', ':', 'é', '€', '😀', '_lock', '_dogpile_ns:', 'sha1:');
    const key = fc.array(unit, { minLength: 1, maxLength: 120 }).map((units) => units.join(''));
    fc.assert(
      fc.property(key, key, (a, b) => {
        for (const k of [a, b, `sha1:${sha1MangleKey(a)}`, `_lock${a}`]) {
          const mangled = memcachedKeyMangler(k);
          assert.ok(memcachedAccepts(mangled), JSON.stringify(k));
          assert.ok(!isReservedKey(mangled), JSON.stringify(k));
          // The lock item of a mangled key is a name memcached accepts, in the reserved lock prefix.
          const lock = lockKeyFor(mangled);
          assert.ok(memcachedAccepts(lock) && lock.startsWith('_lock'), JSON.stringify(k));
        }
        if (a !== b) assert.notEqual(memcachedKeyMangler(a), memcachedKeyMangler(b));
        assert.notEqual(memcachedKeyMangler(a), memcachedKeyMangler(`sha1:${sha1MangleKey(a)}`));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});
