/**
 * A consistent-hash ring in libketama's layout, which places keys on memcached servers so that
 * adding or removing one server moves only about 1/N of the keys (memjs alone uses
 * `hash(key) % N`, which moves about (N-1)/N of them).
 *
 * Layout (libketama with equal weights): each node named `"host:port"` gets 40 MD5 digests of
 * `"<name>-<i>"` for i = 0..39, and each 16-byte digest gives four 32-bit points (bytes read
 * little-endian), so 160 points per node. A key's point is the first four bytes of MD5(key), read
 * little-endian; its node owns the first point at or after it, wrapping around.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { md5FirstWord } from './md5.js';
import type { ServerChooser } from './server-choice.js';
import { assertRingNodeCount } from './server-choice-names.js';

/** Digests per node; each gives four points (libketama's default for equal weights). */
export const DIGESTS_PER_NODE = 40;

/** The ring: sorted points and, for each point, the index of the node that owns it. */
export class HashRing implements ServerChooser {
  /** The node names, in the order given; lookups return indexes into this list. */
  readonly nodes: readonly string[];
  readonly #points: Uint32Array;
  readonly #owners: Uint16Array;

  /**
   * Builds the ring for `nodes` (names such as `"10.0.0.1:11211"`; the name is what is hashed, so
   * every client must spell a server the same way to agree on placement). `digestsPerNode` digests
   * (4 points each) per node, default {@link DIGESTS_PER_NODE}; a list gives each node its own count
   * (libketama's weights: `floor(weight / total * 40 * nodes)`, see server-choice.ts).
   * Throws `RangeError` for an empty list or more than 65535 nodes.
   */
  constructor(nodes: readonly string[], digestsPerNode: number | readonly number[] = DIGESTS_PER_NODE) {
    assertRingNodeCount(nodes.length);
    const digests = typeof digestsPerNode === 'number' ? nodes.map(() => digestsPerNode) : [...digestsPerNode];
    if (digests.length !== nodes.length || digests.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`digestsPerNode must be a positive integer (or one per node); got ${String(digestsPerNode)}`);
    }
    this.nodes = [...nodes];
    const count = digests.reduce((sum, d) => sum + d * 4, 0);
    const entries: { point: number; owner: number }[] = [];
    nodes.forEach((name, owner) => {
      for (let i = 0; i < (digests[owner] as number); i++) {
        const digest = createHash('md5').update(`${name}-${i}`, 'utf8').digest();
        for (let h = 0; h < 4; h++) entries.push({ point: digest.readUInt32LE(h * 4), owner });
      }
    });
    // Ties (equal points) are ordered by node index, so every client builds the same ring.
    entries.sort((x, y) => x.point - y.point || x.owner - y.owner);
    this.#points = new Uint32Array(count);
    this.#owners = new Uint16Array(count);
    entries.forEach((entry, i) => {
      this.#points[i] = entry.point;
      this.#owners[i] = entry.owner;
    });
  }

  /** Number of points on the ring. */
  get pointCount(): number {
    return this.#points.length;
  }

  /** Index of the first point at or after `hash`, wrapping to 0 past the last point. */
  #position(hash: number): number {
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  /** The index (into {@link nodes}) of the node that owns `key`. */
  nodeFor(key: string): number {
    if (this.nodes.length === 1) return 0;
    return this.#owners[this.#position(md5FirstWord(key))] as number;
  }

  /**
   * The first node, walking the ring clockwise from `key`'s point, for which `usable(index)` is true:
   * the owner when it is usable, otherwise the next usable node on the ring (where its keys go
   * while it is down). Returns -1 when no node is usable.
   */
  findNode(key: string, usable: (index: number) => boolean): number {
    const owners = this.#owners;
    const start = this.nodes.length === 1 ? 0 : this.#position(md5FirstWord(key));
    for (let i = 0; i < owners.length; i++) {
      const owner = owners[(start + i) % owners.length] as number;
      if (usable(owner)) return owner;
    }
    return -1;
  }
}
