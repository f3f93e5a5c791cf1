// The ketama ring against libmemcached itself (through ctypes, as python3-pylibmc binds it): the
// recorded placements in test/unit/memcached-ring-fixture.ts still match, and so do fresh random keys
// and server lists. No memcached is contacted; this lives under test/backends because it needs the
// Debian packages scripts/services.mjs installs (python3-pylibmc, which brings libmemcached11).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { HashRing } from '../../src/backends/memcached/ring.js';
import { LIBMEMCACHED_KETAMA_PY, LIBMEMCACHED_PLACEMENTS, RING_KEYS, RING_SERVER_SETS } from '../unit/memcached-ring-fixture.js';

const PYTHON = '/usr/bin/python3';

function libmemcachedOwners(servers: readonly string[], keys: readonly string[]): number[] {
  const output = execFileSync(PYTHON, ['-c', LIBMEMCACHED_KETAMA_PY], { input: JSON.stringify({ servers, keys }), maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(output.toString()) as number[];
}

describe('HashRing against libmemcached (live)', () => {
  it('the recorded placements are what libmemcached computes now', () => {
    for (const [name, servers] of Object.entries(RING_SERVER_SETS)) {
      assert.equal(libmemcachedOwners(servers, RING_KEYS).join(''), LIBMEMCACHED_PLACEMENTS[name as keyof typeof RING_SERVER_SETS], name);
    }
  });

  it('random keys on random server lists (2 to 12 servers, ports other than 11211) land where libmemcached puts them', () => {
    for (let round = 0; round < 8; round++) {
      const count = 2 + randomInt(11);
      const servers = Array.from({ length: count }, (_, i) => `10.${randomInt(256)}.${randomInt(256)}.${i + 1}:${11212 + randomInt(50_000)}`);
      // Keys up to memcached's 250 bytes, ASCII and not, so multi-block MD5 and UTF-8 encoding both count.
      const keys = Array.from({ length: 2500 }, (_, i) => (i % 2 === 0 ? randomBytes(1 + randomInt(180)).toString('base64') : `ключ-${i}-${'é'.repeat(randomInt(60))}`));
      const ring = new HashRing(servers);
      const expected = libmemcachedOwners(servers, keys);
      const mismatches = keys.filter((key, i) => ring.nodeFor(key) !== expected[i]);
      assert.deepEqual(mismatches, [], `servers ${servers.join(',')}`);
    }
  });
});
