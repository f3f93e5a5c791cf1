// The etcd key layout (src/backends/etcd3/keys.ts), checked as properties over arbitrary well-formed
// strings: namespaces are isolated and no cache key reaches a lock key. No server needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyLayout } from '../../../src/backends/etcd3/keys.js';

// Strings of whole characters (multi-byte and astral ones included, never half a surrogate pair).
const chars = fc.array(fc.constantFrom('a', '/', '_', 'l', 'o', 'c', 'k', 'é', '😀'), { maxLength: 12 });
const layout = (namespace: string): KeyLayout => new KeyLayout(Buffer.from(namespace, 'utf8'));

/** The ways to split `units` into a namespace and a non-empty key. */
const split = (units: string[], at: number): [string, string] => [units.slice(0, at).join(''), units.slice(at).join('')];

describe('etcd3 key layout', () => {
  it('two different (namespace, key) pairs never share an etcd key', () => {
    // The same text cut at two places: a raw prefix layout gives both pairs one etcd key.
    fc.assert(
      fc.property(
        chars.filter((u) => u.length >= 2),
        fc.nat(),
        fc.nat(),
        (units, a, b) => {
          const [i, j] = [a % units.length, b % units.length];
          fc.pre(i !== j);
          const [[ns1, k1], [ns2, k2]] = [split(units, i), split(units, j)];
          assert.notDeepEqual(layout(ns1).entry(k1), layout(ns2).entry(k2), `${ns1}+${k1} vs ${ns2}+${k2}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('no cache key of any namespace is the lock key of any key', () => {
    // The text of a lock key as dogpile names it ("_lock" + key), cut anywhere into a namespace and a key.
    fc.assert(
      fc.property(
        chars,
        chars.filter((u) => u.length > 0),
        fc.nat(),
        (ns, k, at) => {
          const units = [...ns, '_lock', ...k];
          const [ns2, k2] = split(units, at % units.length);
          assert.notDeepEqual(layout(ns2).entry(k2), layout(ns.join('')).lock(k.join('')), `${ns2}+${k2}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the examples of issue 16.2: "app/" + "admin/token" vs "app/admin/" + "token"; "_lockk" vs the lock of "k"', () => {
    assert.notDeepEqual(layout('app/').entry('admin/token'), layout('app/admin/').entry('token'));
    assert.notDeepEqual(layout('').entry('_lockk'), layout('').lock('k'));
    assert.notDeepEqual(layout('ns/').entry('_lockk'), layout('ns/').lock('k'));
  });

  it('without a namespace a cache key is its UTF-8 bytes (oslo interop)', () => {
    assert.deepEqual(layout('').entry('clé'), Buffer.from('clé', 'utf8'));
  });
});
