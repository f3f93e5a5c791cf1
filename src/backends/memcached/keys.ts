/**
 * Where the memcached backend's own items live, apart from every user key.
 *
 * The distributed lock of key `k` is the item `"_lock" + k`: dogpile's `MemcachedLock` uses that
 * name, so a Python process holding dogpile's lock keeps ours out and the other way round. Before,
 * a user key could reach that name: a cached entry `"_lock" + k` (no TTL) made `getOrCreate(k)` wait
 * forever, and `getOrCreate("_lock" + k)` while `k` was locked overwrote the lock item, which its
 * holder then never released. So the prefix is reserved: this backend's key mangler hashes user keys
 * that start with it (like too-long keys, to `"sha1:" + sha1(key)`), and a key that reaches the
 * backend still starting with it is a `ValidationError`. Every lock item starts with the prefix,
 * and no user key does after mangling. A lock name memcached cannot hold is hashed into a part of the
 * prefix no `"_lock" + key` reaches (see {@link lockKeyFor}), so distinct keys never share a lock.
 *
 * @module
 */
import { KEEPS_KEY, MEMCACHED_MAX_KEY_BYTES, memcachedSafeMangler, sha1MangleKey } from '../../keys.js';

/** The prefix of every lock item, as dogpile names them (`"_lock" + key`). Reserved: no user key may start with it. */
export const LOCK_PREFIX = '_lock';

/**
 * The prefix of the items of a backend with a `namespace` (its generation item and its entries, see
 * generation.ts). Reserved like {@link LOCK_PREFIX}: a user key of a backend without a namespace could
 * otherwise overwrite a namespace's generation or read its entries.
 */
export const NAMESPACE_PREFIX = '_dogpile_ns:';

const UNSAFE = /[\x00-\x20\x7f]/;

/** True for a key in the lock items' or the namespaces' reserved prefixes, which user keys may not use. */
export function isReservedKey(key: string): boolean {
  return key.startsWith(LOCK_PREFIX) || key.startsWith(NAMESPACE_PREFIX);
}

/**
 * The backend's key mangler: {@link memcachedSafeMangler} (keys memcached cannot hold become
 * `"sha1:" + sha1(key)`), and keys in the reserved prefixes are hashed the same way, so that a cache
 * entry can never take the place of a lock item or of a namespace's items.
 */
export function memcachedKeyMangler(key: string): string {
  // The region calls this on every read, a local tier's hits too, and V8 inlines it into the region's
  // get: kept tiny, with the plain-key test and the general rules in functions of their own, so only the
  // test (which a hit runs) is compiled into get, not the hashing and prefix checks a hit never reaches.
  return isPlainKey(key) ? key : mangleOtherKey(key);
}

/** Keys of at most this many UTF-16 units are at most 250 UTF-8 bytes (a unit is at most 3 bytes). */
const PLAIN_MAX_LENGTH = Math.floor(MEMCACHED_MAX_KEY_BYTES / 3);

/**
 * True for a key the general rules leave unchanged, told by one scan of its characters: short enough for
 * memcached whatever its characters, no space or control character, and not starting with "_" or "s"
 * (only those can be in a reserved prefix or look hashed, `"sha1:"`). False says nothing: the general
 * rules decide those keys.
 */
function isPlainKey(key: string): boolean {
  const length = key.length;
  if (length > PLAIN_MAX_LENGTH || length === 0) return false;
  let code = key.charCodeAt(0);
  if (code === 0x5f || code === 0x73) return false;
  // Each character read once: the scan is most of what the mangler costs a hit.
  for (let i = 1; ; i++) {
    if (code <= 0x20 || code === 0x7f) return false;
    if (i === length) return true;
    code = key.charCodeAt(i);
  }
}

// The keys the mangler returns as they are, declared for the region's hit path (see KEEPS_KEY): isPlainKey
// is a pure scan of the key's characters, safe on any string.
Object.defineProperty(memcachedKeyMangler, KEEPS_KEY, { value: isPlainKey });

/** The general rules, for the keys {@link isPlainKey} does not vouch for. */
function mangleOtherKey(key: string): string {
  return isReservedKey(key) ? `sha1:${sha1MangleKey(key)}` : memcachedSafeMangler(key);
}

/**
 * The prefix of the lock item of a key whose dogpile lock name, `"_lock" + key`, memcached cannot hold:
 * `"_lock_lock:sha1:"`, then the key's SHA-1. It starts with the lock prefix twice, and no key may start
 * with the lock prefix (the backend rejects such keys and its mangler hashes them), so no `"_lock" + key`
 * has this name. The name used before, `"_locksha1:" + sha1(key)`, was also the lock of the key
 * `"sha1:" + sha1(key)` (locked by its own dogpile name), so two keys could share one lock: a 248-byte key
 * and a Python region's key `"sha1:<its sha1>"`, or a namespaced backend's long key and the key
 * `"_dogpile_ns:<namespace>:" + key` of a backend without a namespace, which the mangler hashes.
 */
export const HASHED_LOCK_PREFIX = `${LOCK_PREFIX}${LOCK_PREFIX}:sha1:`;

/**
 * The lock item of cache key `key` (a namespaced backend passes its namespace's item prefix + key):
 * `"_lock" + key` (dogpile's name, so Python and Node lock each other out) whenever memcached can hold
 * that name, which is every key Python's dogpile can lock (its `MemcachedLock` raises on a longer name);
 * else `"_lock_lock:sha1:" + sha1(key)` ({@link HASHED_LOCK_PREFIX}): keys of 246 to 250 bytes, whose
 * entry memcached holds as it is but whose lock name would be over 250 bytes, and keys with spaces or
 * control characters (only a direct caller can lock those). One-to-one for keys that do not start with
 * {@link LOCK_PREFIX}, short of a SHA-1 collision; the backend never locks a key that does.
 */
export function lockKeyFor(key: string): string {
  const plain = `${LOCK_PREFIX}${key}`;
  if (plain.length * 3 <= MEMCACHED_MAX_KEY_BYTES && !UNSAFE.test(plain)) return plain;
  if (Buffer.byteLength(plain, 'utf8') <= MEMCACHED_MAX_KEY_BYTES && !UNSAFE.test(plain)) return plain;
  return `${HASHED_LOCK_PREFIX}${sha1MangleKey(key)}`;
}
