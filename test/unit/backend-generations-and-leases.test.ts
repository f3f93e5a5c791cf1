/**
 * The pure rules behind issue 22 items 1 and 3 on the remote backends, without servers: the first
 * memcached namespace generation (time-based, never 0) and its item keys, and the etcd lease TTL of an
 * entry with its own TTL (the longer of it and lease_ttl, rounded up to two significant figures).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryLeaseTtl, entryLeaseWindowMs } from '../../src/backends/etcd3/leases.js';
import { NamespaceGeneration, initialGeneration } from '../../src/backends/memcached/generation.js';

describe('memcached namespace generation', () => {
  const noServers = { onEach: () => Promise.reject(new Error('no server in a unit test')) };

  it('starts from the time in microseconds: above every generation counted up from an earlier start', () => {
    const earlier = initialGeneration(Date.UTC(2026, 0, 1));
    assert.equal(earlier, Date.UTC(2026, 0, 1) * 1000);
    // 1,000 clears since a start one second earlier are still below a restart now.
    assert.ok(initialGeneration(Date.UTC(2026, 0, 1) + 1000) > earlier + 1000);
    assert.ok(Number.isSafeInteger(initialGeneration(Date.UTC(2100, 0, 1))), 'exact in a double until well past 2100');
  });

  it('folds the generation into every key, hashes keys too long with the prefix, and keeps locks out of generations', () => {
    const generation = new NamespaceGeneration('users', 1000, noServers);
    assert.equal(generation.itemKey, '_dogpile_ns:users');
    assert.equal(generation.entryKey('k', 17), '_dogpile_ns:users:17:k');
    const long = 'x'.repeat(240);
    assert.match(generation.entryKey(long, 17), /^_dogpile_ns:users:17:sha1:[0-9a-f]{40}$/);
    assert.equal(generation.lockKey('k'), '_lock_dogpile_ns:users:k');
  });
});

describe('etcd lease TTL of an entry TTL', () => {
  it('the longer of the entry TTL and lease_ttl; an entry TTL at or under lease_ttl keeps the backend lease', () => {
    assert.equal(entryLeaseTtl(120, 60), 120);
    assert.equal(entryLeaseTtl(120, 120), 120);
    assert.equal(entryLeaseTtl(null, 60), 60);
    assert.equal(entryLeaseTtl(120, 3600), 3600);
  });

  it('rounds up to whole seconds and two significant figures, so computed TTLs share leases', () => {
    assert.deepEqual(
      [0.2, 1, 61, 99.5, 100, 101, 123, 1999, 86401].map((ttl) => entryLeaseTtl(null, ttl)),
      [1, 1, 61, 100, 100, 110, 130, 2000, 87000],
    );
    const distinct = new Set(Array.from({ length: 1000 }, (_, i) => entryLeaseTtl(null, 1000 + i)));
    assert.equal(distinct.size, 11);
  });

  it("no lease past etcd's largest lease TTL; a window of a tenth, at least 1 s", () => {
    assert.equal(entryLeaseTtl(null, 9e9), null);
    assert.equal(entryLeaseWindowMs(5), 1000);
    assert.equal(entryLeaseWindowMs(600), 60_000);
  });
});
