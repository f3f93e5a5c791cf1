// The memcached backend's key mangler (src/backends/memcached/keys.ts): its fast path for plain keys
// must give exactly what the general rules give (reserved prefixes hashed, then memcachedSafeMangler).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isReservedKey, memcachedKeyMangler } from '../../src/backends/memcached/keys.js';
import { memcachedSafeMangler, sha1MangleKey } from '../../src/keys.js';

/** The rules as written before the fast path: the reference the fast path must match on every key. */
const reference = (key: string): string => (isReservedKey(key) ? `sha1:${sha1MangleKey(key)}` : memcachedSafeMangler(key));

/** What `mangle(key)` gives, or the name of what it throws (sha1MangleKey refuses a lone surrogate). */
function outcome(mangle: (key: string) => string, key: string): string {
  try {
    return mangle(key);
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

const sameAsReference = (key: string): void =>
  assert.equal(outcome(memcachedKeyMangler, key), outcome(reference, key), JSON.stringify(key));

describe('memcachedKeyMangler', () => {
  it('leaves plain keys unchanged and hashes reserved, hashed-looking, unsafe and too-long keys', () => {
    assert.equal(memcachedKeyMangler('user:1'), 'user:1');
    assert.equal(memcachedKeyMangler('session:1'), 'session:1', 'a key starting with "s" that is not "sha1:" stays');
    assert.equal(memcachedKeyMangler('_private'), '_private', 'a key starting with "_" outside the reserved prefixes stays');
    // Unsafe characters first, last and alone too: the scan reads the first character before its loop.
    const edges = [' user:1', 'user:1 ', '\x7fuser', 'user\x7f', '\x00', ' ', '\x7f', `${'x'.repeat(82)} `];
    for (const key of ['_lockk', '_dogpile_ns:x', 'sha1:abc', 'a b', 'a\tb', 'a\x7fb', 'x'.repeat(251), 'é'.repeat(126), ...edges]) {
      assert.equal(memcachedKeyMangler(key), `sha1:${sha1MangleKey(key)}`, JSON.stringify(key));
    }
  });

  it('matches the general rules on every key of a broad sample (prefixes, lengths 1 to 260, every ASCII byte, non-ASCII)', () => {
    const starts = ['', '_', '_l', '_lock', '_lock:', '_dogpile_ns', '_dogpile_ns:', 's', 'sh', 'sha1', 'sha1:', 'S', 'x', 'é', '😀'];
    const fills = ['a', 'é', '😀', ' ', '\x00', '\x1f', '\x20', '\x21', '\x7e', '\x7f', '\x80', '\u00a0', '\ud800'];
    let checked = 0;
    for (const start of starts) {
      for (const fill of fills) {
        for (const length of [0, 1, 2, 5, 40, 82, 83, 84, 124, 125, 126, 249, 250, 251, 260]) {
          const key = start + fill.repeat(length);
          if (key.length === 0) continue;
          sameAsReference(key);
          checked++;
        }
      }
    }
    for (let code = 0; code < 0x100; code++) {
      for (const key of [`k${String.fromCharCode(code)}`, `${String.fromCharCode(code)}k`, String.fromCharCode(code)]) {
        sameAsReference(key);
        checked++;
      }
    }
    assert.ok(checked > 2000);
  });

  it('matches the general rules on random keys (property)', () => {
    const prefix = fc.constantFrom('', '_lock', '_dogpile_ns:', 'sha1:', 's', '_');
    fc.assert(
      fc.property(prefix, fc.string({ unit: 'binary', maxLength: 300 }), (start, rest) => {
        const key = start + rest;
        if (key.length > 0) sameAsReference(key);
      }),
      { numRuns: 2000 },
    );
  });
});
