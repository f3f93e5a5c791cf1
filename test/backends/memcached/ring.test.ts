// The ketama ring against libmemcached itself (through ctypes, as python3-pylibmc binds it): the
// recorded placements in test/support/memcached-ring-fixture.ts still match, and so do fresh random keys
// and server lists; and end to end, keys that pylibmc (ketama_weighted) writes to three memcached
// servers are found by PooledMemcachedBackend, and each sits on the server our ring names. This lives
// under test/backends because it needs the Debian packages scripts/services.mjs installs
// (python3-pylibmc, which brings libmemcached11, and memcached). The last test starts three private
// memcached servers on free ports: it reads each server's contents, which other suites would disturb.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isNoValue } from '../../../src/index.js';
import { PooledMemcachedBackend } from '../../../src/backends/memcached/index.js';
import { HashRing } from '../../../src/backends/memcached/ring.js';
import { usePrivateMemcached } from '../../support/memcached.js';
import { LIBMEMCACHED_KETAMA_PY, LIBMEMCACHED_PLACEMENTS, RING_KEYS, RING_SERVER_SETS } from '../../support/memcached-ring-fixture.js';

const PYTHON = '/usr/bin/python3';

/** Sets each key to its own name through pylibmc with ketama_weighted (libmemcached's weighted ketama, MD5). */
const PYLIBMC_SET = `
import json, sys, pylibmc
request = json.load(sys.stdin)
client = pylibmc.Client(request["servers"], binary=True, behaviors={"ketama_weighted": True})
for key in request["keys"]:
    client.set(key, key.encode())
client.disconnect_all()
`;

function libmemcachedOwners(servers: readonly string[], keys: readonly string[]): number[] {
  const output = execFileSync(PYTHON, ['-c', LIBMEMCACHED_KETAMA_PY], {
    input: JSON.stringify({ servers, keys }),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output.toString()) as number[];
}

describe('HashRing against libmemcached (live)', () => {
  const privateServers = usePrivateMemcached(3, { before, after });

  it('the recorded placements are what libmemcached computes now', () => {
    for (const [name, servers] of Object.entries(RING_SERVER_SETS)) {
      assert.equal(libmemcachedOwners(servers, RING_KEYS).join(''), LIBMEMCACHED_PLACEMENTS[name as keyof typeof RING_SERVER_SETS], name);
    }
  });

  it('random keys on random server lists (2 to 12 servers, ports other than 11211) land where libmemcached puts them', () => {
    for (let round = 0; round < 8; round++) {
      const count = 2 + randomInt(11);
      const servers = Array.from(
        { length: count },
        (_, i) => `10.${randomInt(256)}.${randomInt(256)}.${i + 1}:${11212 + randomInt(50_000)}`,
      );
      // Keys up to memcached's 250 bytes, ASCII and not, so multi-block MD5 and UTF-8 encoding both count.
      const keys = Array.from({ length: 2500 }, (_, i) =>
        i % 2 === 0 ? randomBytes(1 + randomInt(180)).toString('base64') : `ключ-${i}-${'é'.repeat(randomInt(60))}`,
      );
      const ring = new HashRing(servers);
      const expected = libmemcachedOwners(servers, keys);
      const mismatches = keys.filter((key, i) => ring.nodeFor(key) !== expected[i]);
      assert.deepEqual(mismatches, [], `servers ${servers.join(',')}`);
    }
  });

  it('keys pylibmc writes to three servers are where our ring says, and PooledMemcachedBackend reads them', async () => {
    const servers = privateServers.map((server) => `127.0.0.1:${server.port}`);
    const keys = Array.from({ length: 300 }, (_, i) => `ring-interop-${randomBytes(4).toString('hex')}-${i}`);
    execFileSync(PYTHON, ['-c', PYLIBMC_SET], { input: JSON.stringify({ servers, keys }) });
    const ring = new HashRing(servers);
    const all = new PooledMemcachedBackend({ url: servers.join(',') });
    const single = servers.map((server) => new PooledMemcachedBackend({ url: server }));
    try {
      const spread = new Set<number>();
      for (const key of keys) {
        const found = await Promise.all(single.map(async (backend) => !isNoValue(await backend.getSerialized(key))));
        const owner = ring.nodeFor(key);
        spread.add(owner);
        assert.deepEqual(
          found.map((here, i) => (here ? i : -1)).filter((i) => i >= 0),
          [owner],
          `${key} is on exactly the server our ring names`,
        );
        assert.deepEqual(await all.getSerialized(key), Buffer.from(key), key);
      }
      assert.equal(spread.size, servers.length, 'the keys used every server, so the placements are really compared');
    } finally {
      await Promise.all([all, ...single].map((backend) => backend.close()));
    }
  });
});
