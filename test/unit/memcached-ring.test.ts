// The ketama ring (src/backends/memcached/ring.ts) needs no server, so it runs with `npm run test:unit`.
// Placements are checked against libmemcached's (recorded in memcached-ring-fixture.ts, and re-derived
// live by test/backends/memcached/ring.test.ts), not against a second copy of our own reading.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { md5FirstWord } from '../../src/backends/memcached/md5.js';
import { DIGESTS_PER_NODE, HashRing } from '../../src/backends/memcached/ring.js';
import { LIBMEMCACHED_PLACEMENTS, RING_KEYS, RING_SERVER_SETS } from '../support/memcached-ring-fixture.js';

const THREE = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
const keys = (n: number, prefix = 'key'): string[] => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

function cryptoWord(text: string): number {
  return createHash('md5').update(text, 'utf8').digest().readUInt32LE(0);
}

/** Placements as one digit per key, the fixture's format. */
const placements = (ring: HashRing): string => RING_KEYS.map((key) => ring.nodeFor(key)).join('');

describe('md5FirstWord', () => {
  it('equals the first four MD5 bytes (little-endian) from node:crypto', () => {
    const samples = ['', 'a', 'abc', 'fäké-ключ-🔑', 'ü'.repeat(150), 'ü'.repeat(300), 'x'.repeat(1000)];
    for (let length = 50; length <= 130; length++) samples.push('k'.repeat(length)); // around the 55/56 and 119/120 padding boundaries
    for (let length = 300; length <= 320; length++) samples.push('s'.repeat(length)); // around the scratch buffer's size
    for (let i = 0; i < 500; i++) samples.push(randomBytes(1 + (i % 200)).toString('base64'));
    for (const sample of samples) assert.equal(md5FirstWord(sample), cryptoWord(sample), `length ${sample.length}`);
  });

  it('is unaffected by a previous longer key (the scratch buffer is reused)', () => {
    md5FirstWord('z'.repeat(250));
    assert.equal(md5FirstWord('short'), cryptoWord('short'));
  });
});

describe('HashRing', () => {
  it('has 160 points per node (40 digests of 4 points), as libketama', () => {
    assert.equal(new HashRing(THREE).pointCount, 480);
    assert.equal(new HashRing(THREE, 10).pointCount, 120);
  });

  it("places keys as libmemcached's weighted ketama does (servers not on port 11211)", () => {
    assert.equal(placements(new HashRing(RING_SERVER_SETS.threeOn11212)), LIBMEMCACHED_PLACEMENTS.threeOn11212);
    assert.equal(placements(new HashRing(RING_SERVER_SETS.fourLocal)), LIBMEMCACHED_PLACEMENTS.fourLocal);
  });

  it('on port 11211 libmemcached hashes the bare host: the same ring over bare host names matches it, "host:11211" does not', () => {
    const bare = RING_SERVER_SETS.threeOnDefaultPort.map((server) => server.replace(/:11211$/, ''));
    assert.equal(placements(new HashRing(bare)), LIBMEMCACHED_PLACEMENTS.threeOnDefaultPort);
    assert.notEqual(placements(new HashRing(RING_SERVER_SETS.threeOnDefaultPort)), LIBMEMCACHED_PLACEMENTS.threeOnDefaultPort);
  });

  it('a key whose hash equals a point belongs to that point\'s node ("at or after", not "after")', () => {
    // "<node>-<i>" hashes to the first point of that node's i-th digest, so it lands exactly on a point.
    const ring = new HashRing(THREE);
    for (const [owner, name] of THREE.entries()) {
      for (let i = 0; i < DIGESTS_PER_NODE; i++) assert.equal(ring.nodeFor(`${name}-${i}`), owner, `${name}-${i}`);
    }
  });

  it('does not depend on the order the servers are listed in', () => {
    const a = new HashRing(THREE);
    const b = new HashRing([...THREE].reverse());
    for (const key of keys(2000)) assert.equal(a.nodes[a.nodeFor(key)], b.nodes[b.nodeFor(key)]);
  });

  it('spreads keys roughly evenly over three servers', () => {
    const ring = new HashRing(THREE);
    const counts = [0, 0, 0];
    const sample = keys(30_000);
    for (const key of sample) counts[ring.nodeFor(key)]!++;
    for (const count of counts) {
      const share = count / sample.length;
      assert.ok(share > 0.25 && share < 0.42, `share ${share.toFixed(3)} of ${counts.join('/')}`);
    }
  });

  it('moves about a quarter of the keys (at most 0.3), all to the new server, when a fourth joins three', () => {
    const before = new HashRing(THREE);
    const after = new HashRing([...THREE, '10.0.0.4:11211']);
    const sample = keys(50_000, 'remap');
    let moved = 0;
    for (const key of sample) {
      const was = before.nodes[before.nodeFor(key)];
      const now = after.nodes[after.nodeFor(key)];
      if (was !== now) {
        moved++;
        assert.equal(now, '10.0.0.4:11211', 'a key only ever moves to the new server');
      }
    }
    const fraction = moved / sample.length;
    assert.ok(fraction > 0.15 && fraction <= 0.3, `remapped fraction ${fraction.toFixed(3)}`);
  });

  it('moves only the removed server’s keys when one of four leaves', () => {
    const four = [...THREE, '10.0.0.4:11211'];
    const before = new HashRing(four);
    const after = new HashRing(THREE);
    for (const key of keys(10_000)) {
      const was = before.nodes[before.nodeFor(key)];
      if (was !== '10.0.0.4:11211') assert.equal(after.nodes[after.nodeFor(key)], was);
    }
  });

  it('findNode: the owner when usable, else the next usable server clockwise, spread over the survivors', () => {
    const ring = new HashRing(THREE);
    const withoutOwner = THREE.map((_, owner) => THREE.filter((__, i) => i !== owner));
    const ringsWithout = withoutOwner.map((nodes) => new HashRing(nodes));
    const fallbacks = new Map<number, number>();
    for (const key of keys(6000)) {
      const owner = ring.nodeFor(key);
      assert.equal(
        ring.findNode(key, () => true),
        owner,
      );
      const next = ring.findNode(key, (i) => i !== owner);
      assert.notEqual(next, owner);
      assert.notEqual(next, -1);
      // Removing the owner from the ring gives the same answer: "next server on the ring".
      const without = ringsWithout[owner] as HashRing;
      assert.equal(THREE.indexOf(without.nodes[without.nodeFor(key)] as string), next);
      if (owner === 0) fallbacks.set(next, (fallbacks.get(next) ?? 0) + 1);
    }
    assert.equal(fallbacks.size, 2, 'a dead server’s keys are shared by the remaining servers, not dumped on one');
    assert.equal(
      ring.findNode('any', () => false),
      -1,
    );
  });

  it('a one-server ring sends every key to it without hashing', () => {
    const ring = new HashRing(['127.0.0.1:11211']);
    assert.equal(ring.nodeFor('a'), 0);
    assert.equal(
      ring.findNode('b', () => true),
      0,
    );
    assert.equal(
      ring.findNode('b', () => false),
      -1,
    );
  });

  it('rejects an empty server list', () => {
    assert.throws(() => new HashRing([]), RangeError);
    assert.throws(() => new HashRing(THREE, 0), RangeError);
  });

  it('accepts 1 to 65535 servers and one digest per server; the errors name the argument and what it got', () => {
    assert.equal(new HashRing(THREE, 1).pointCount, 12);
    const most = Array.from({ length: 0xffff }, (_, i) => `10.${i >> 8}.${i & 0xff}.1:11211`);
    assert.equal(new HashRing(most, 1).pointCount, 0xffff * 4); // owner indexes are 16 bits: 65535 fits
    assert.throws(() => new HashRing([...most, '10.255.255.2:11211'], 1), {
      name: 'RangeError',
      message: 'a ring needs 1 to 65535 nodes; got 65536',
    });
    assert.throws(() => new HashRing([]), { message: 'a ring needs 1 to 65535 nodes; got 0' });
    assert.throws(() => new HashRing(THREE, 0), { message: 'digestsPerNode must be a positive integer (or one per node); got 0' });
    assert.throws(() => new HashRing(THREE, 1.5), { message: 'digestsPerNode must be a positive integer (or one per node); got 1.5' });
  });

  it('digestsPerNode as a list (libketama weights): one count per node, each a positive integer', () => {
    // The same count for every node, given as a list, is the same ring as the number.
    const listed = new HashRing(THREE, [DIGESTS_PER_NODE, DIGESTS_PER_NODE, DIGESTS_PER_NODE]);
    assert.equal(placements(listed), placements(new HashRing(THREE)));
    // Each node gets its own count of points (4 per digest).
    assert.equal(new HashRing(THREE, [1, 2, 3]).pointCount, (1 + 2 + 3) * 4);
    for (const bad of [
      [1, 2],
      [1, 0, 1],
      [1, 1.5, 1],
      [2, 2, 2, 2],
    ]) {
      assert.throws(() => new HashRing(THREE, bad), {
        name: 'RangeError',
        message: `digestsPerNode must be a positive integer (or one per node); got ${String(bad)}`,
      });
    }
  });

  it('equal points are ordered by server index, so a server listed twice gets none of the keys', () => {
    // Two names that hash alike give equal points; the documented tie rule puts the first listed
    // server first, which every client building the same list must agree on.
    const ring = new HashRing(['10.0.0.1:11211', '10.0.0.1:11211', '10.0.0.2:11211']);
    const owners = new Set(keys(3000).map((key) => ring.nodeFor(key)));
    assert.deepEqual([...owners].sort(), [0, 2]);
    // With the first copy unusable, findNode walks to the next point: the second copy, at the same place.
    const fallbacks = new Set(
      keys(3000)
        .filter((key) => ring.nodeFor(key) === 0)
        .map((key) => ring.findNode(key, (i) => i !== 0)),
    );
    assert.deepEqual([...fallbacks], [1]);
  });
});
