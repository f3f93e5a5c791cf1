/**
 * How a key picks its memcached server: the `server_choice` argument. Three schemes, each
 * byte-identical to a client that other programs use on the same servers:
 *
 * - `"ketama"` (default): a libketama consistent-hash ring (ring.ts). Adding or removing a server
 *   moves about 1/N of the keys.
 * - `"python_memcached"`: python-memcached's `Client._get_server` (used by oslo's `memcache_pool`
 *   and dogpile's `dogpile.cache.memcached`): `buckets[cmemcache_hash(key) % len(buckets)]`, where
 *   the bucket list holds each server `weight` times.
 * - `"pymemcache"`: pymemcache's `HashClient` with its default `RendezvousHash` (used by
 *   `dogpile.cache.pymemcache`): the server whose murmur3_32 of `"<host>:<port>-<key>"` is highest.
 *
 * Each scheme also says where a key goes while its server is down (`findNode`), the way its Python
 * client does, so that both sides still agree while one server is out.
 *
 * @module
 */
import { HashRing } from './ring.js';
import type { ServerChoice } from './server-choice-names.js';

// The names live in a module of their own, which the argument reader (part of the root entry point) uses.
export { SERVER_CHOICES, type ServerChoice } from './server-choice-names.js';

/** Picks a server index for a key. */
export interface ServerChooser {
  /** The server names (`"host:port"`), in the order given; indexes refer to this list. */
  readonly nodes: readonly string[];
  /** The server for `key` while every server is usable. */
  nodeFor(key: string): number;
  /** The server for `key` among those for which `usable(index)` is true; -1 when the scheme finds none. */
  findNode(key: string, usable: (index: number) => boolean): number;
}

/** One server for a chooser: its name as hashed, and its weight (a positive integer). */
export interface WeightedNode {
  name: string;
  weight: number;
}

/** Builds the chooser for `choice`. Throws `RangeError` for weights a scheme cannot honour. */
export function makeServerChooser(choice: ServerChoice, nodes: readonly WeightedNode[]): ServerChooser {
  switch (choice) {
    case 'ketama':
      return new HashRing(
        nodes.map((node) => node.name),
        ketamaDigests(nodes.map((node) => node.weight)),
      );
    case 'python_memcached':
      return new PythonMemcachedChooser(nodes);
    case 'pymemcache':
      if (nodes.some((node) => node.weight !== 1)) throw new RangeError("pymemcache's HashClient has no server weights");
      return new RendezvousChooser(nodes.map((node) => node.name));
  }
}

/**
 * libketama's digests per server: `floor(weight / totalWeight * 40 * servers)` (40 with equal
 * weights, the unweighted ring).
 */
function ketamaDigests(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  // libketama computes in single-precision floats; Math.fround keeps the same rounding at the floor.
  return weights.map((weight) => Math.max(1, Math.floor(Math.fround(Math.fround(weight / total) * 40 * weights.length))));
}

// ------------------------------------------------------------------ python-memcached

// Built on the first use, not at import: only python_memcached needs it (issue 20.3).
let crcTable: Uint32Array | undefined;

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** zlib's CRC-32 (Python's `binascii.crc32`) of `bytes`, unsigned. */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= buildCrcTable();
  const table = crcTable;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** python-memcached's `cmemcache_hash`: `((crc32(key) & 0xffffffff) >> 16) & 0x7fff or 1`. */
export function cmemcacheHash(bytes: Uint8Array): number {
  return (crc32(bytes) >>> 16) & 0x7fff || 1;
}

/** python-memcached's `Client._SERVER_RETRIES`: how many rehashes `_get_server` tries past dead servers. */
export const PYTHON_MEMCACHED_RETRIES = 10;

/**
 * python-memcached's `_get_server`. While the chosen server is dead (python-memcached: inside its
 * `dead_retry` window; here: its breaker is open or this call could not connect), the next try
 * hashes `str(previous_hash) + str(i)` again, up to 10 tries; then python-memcached gives up on the
 * key (a get misses, a set is dropped), and here the call fails with `BackendUnavailableError`.
 */
export class PythonMemcachedChooser implements ServerChooser {
  readonly nodes: readonly string[];
  readonly #buckets: readonly number[];

  constructor(nodes: readonly WeightedNode[]) {
    if (nodes.length === 0) throw new RangeError('python_memcached server choice needs at least one server');
    this.nodes = nodes.map((node) => node.name);
    this.#buckets = nodes.flatMap((node, index) => Array.from({ length: node.weight }, () => index));
  }

  nodeFor(key: string): number {
    if (this.nodes.length === 1) return 0;
    return this.#buckets[cmemcacheHash(Buffer.from(key, 'utf8')) % this.#buckets.length] as number;
  }

  findNode(key: string, usable: (index: number) => boolean): number {
    let hash = cmemcacheHash(Buffer.from(key, 'utf8'));
    for (let i = 0; i < PYTHON_MEMCACHED_RETRIES; i++) {
      const index = this.#buckets[hash % this.#buckets.length] as number;
      if (usable(index)) return index;
      hash = cmemcacheHash(Buffer.from(`${hash}${i}`, 'ascii'));
    }
    return -1;
  }
}

// ------------------------------------------------------------------ pymemcache

/**
 * pymemcache's pure-Python `murmur3_32(data, seed=0)` over a `str`. It reads `ord(ch)` per code
 * point and only the low 32 bits of its unbounded Python integers survive the final mask, so it is
 * MurmurHash3 over the low byte of each code point (plain MurmurHash3 of the bytes for ASCII keys).
 */
export function murmur3Python(text: string, seed = 0): number {
  const data = Array.from(text, (ch) => (ch.codePointAt(0) as number) & 0xff);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const length = data.length;
  let h1 = seed >>> 0;
  const roundedEnd = length & 0xfffffffc;
  for (let i = 0; i < roundedEnd; i += 4) {
    let k1 = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  const tail = length & 3;
  if (tail === 3) k1 = (data[roundedEnd + 2] as number) << 16;
  if (tail >= 2) k1 |= (data[roundedEnd + 1] as number) << 8;
  if (tail >= 1) {
    k1 |= data[roundedEnd] as number;
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/**
 * pymemcache's `RendezvousHash.get_node` over the nodes `HashClient` names `"<host>:<port>"`: the
 * highest `murmur3_32("<node>-<key>")` wins, a tie goes to the greater node name. While a server is
 * dead (pymemcache: removed from the hasher for `dead_timeout` after `retry_attempts` failures; here:
 * its breaker is open or this call could not connect), its keys go to the highest-scoring live
 * server, as pymemcache's does after `remove_node`.
 */
export class RendezvousChooser implements ServerChooser {
  readonly nodes: readonly string[];
  /** The names pymemcache hashes: `"host:port"` with an IPv6 host unbracketed (`'%s:%s' % (host, port)`). */
  readonly #hashNames: readonly string[];

  constructor(nodes: readonly string[]) {
    if (nodes.length === 0) throw new RangeError('pymemcache server choice needs at least one server');
    this.nodes = [...nodes];
    this.#hashNames = nodes.map((name) => name.replace(/^\[([^\]]+)\]/, '$1'));
  }

  nodeFor(key: string): number {
    return this.nodes.length === 1 ? 0 : this.findNode(key, () => true);
  }

  findNode(key: string, usable: (index: number) => boolean): number {
    let winner = -1;
    let highScore = -1;
    this.#hashNames.forEach((name, index) => {
      if (!usable(index)) return;
      const score = murmur3Python(`${name}-${key}`);
      if (score > highScore || (score === highScore && name > (this.#hashNames[winner] as string))) {
        highScore = score;
        winner = index;
      }
    });
    return winner;
  }
}
