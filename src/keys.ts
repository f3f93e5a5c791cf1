/**
 * Key manglers and function key generators (dogpile.cache's `util.py`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';
import { describe } from './validate.js';

/** Turns a region key into the key the backend stores. */
export type KeyMangler = (key: string) => string;

/**
 * SHA-1 hex digest of the UTF-8 key: byte-identical to dogpile's `sha1_mangle_key` and oslo's
 * default mangler, so Python and Node regions compute the same backend keys.
 * `sha1MangleKey("some_key") === "53def077a4264bd3183d4eb21b1f56f883e1b572"`.
 */
export function sha1MangleKey(key: string): string {
  return createHash('sha1').update(key, 'utf8').digest('hex');
}

/** Applies `mangler` only to keys of at least `length` characters (dogpile's `length_conditional_mangler`). */
export function lengthConditionalMangler(length: number, mangler: KeyMangler): KeyMangler {
  if (!Number.isInteger(length) || length < 0) {
    throw new ValidationError(`length must be a non-negative integer; got ${describe(length)}.`);
  }
  if (typeof mangler !== 'function') throw new ValidationError(`mangler must be a function; got ${describe(mangler)}.`);
  return (key) => (key.length >= length ? mangler(key) : key);
}

/** memcached's key limit in bytes. */
export const MEMCACHED_MAX_KEY_BYTES = 250;
// Spaces and control characters end a key in memcached's text protocol.
const MEMCACHED_UNSAFE = /[\x00-\x20\x7f]/;

/**
 * Leaves keys memcached accepts unchanged, and replaces a key longer than 250 UTF-8 bytes or holding
 * spaces or control characters by `"sha1:" + sha1MangleKey(key)`. The prefix keeps hashed keys apart
 * from user keys that happen to be 40 hex characters.
 */
export function memcachedSafeMangler(key: string): string {
  if (key.length * 3 <= MEMCACHED_MAX_KEY_BYTES && !MEMCACHED_UNSAFE.test(key)) return key;
  if (Buffer.byteLength(key, 'utf8') <= MEMCACHED_MAX_KEY_BYTES && !MEMCACHED_UNSAFE.test(key)) return key;
  return `sha1:${sha1MangleKey(key)}`;
}

/** Turns one argument into its part of a key. */
export type ToStr = (arg: unknown) => string;

/** Builds the cache key for one call of a decorated function from its arguments (`this` excluded). */
export type FunctionKeyGenerator = (...args: unknown[]) => string;
/** Builds one cache key per argument, for `cacheMultiOnArguments`. */
export type FunctionMultiKeyGenerator = (...args: unknown[]) => string[];

/**
 * Converts primitives with `String()`. Objects, arrays and functions have no stable text form, so
 * keying them by default would silently collide (`"[object Object]"`): they need a key generator.
 */
export function defaultToStr(arg: unknown): string {
  const type = typeof arg;
  if (arg === null || (type !== 'object' && type !== 'function' && type !== 'symbol')) return String(arg);
  if (arg instanceof Date) return arg.toISOString();
  throw new ValidationError(
    `The default key generator keys arguments with String(), which cannot tell ${describe(arg)} apart from others like it. ` +
      'Pass toStr (e.g. JSON.stringify) or a functionKeyGenerator that says how to key object arguments.',
  );
}

function namespaceOf(namespace: string | undefined | null, fn: { name: string }): string {
  if (namespace !== undefined && namespace !== null) {
    if (typeof namespace !== 'string' || namespace.length === 0) {
      throw new ValidationError(`namespace must be a non-empty string; got ${describe(namespace)}.`);
    }
    return namespace;
  }
  if (typeof fn.name === 'string' && fn.name.length > 0) return fn.name;
  throw new ValidationError(
    'An anonymous function has no name to key its cache entries by; pass a namespace, e.g. cacheOnArguments({ namespace: "users" }).',
  );
}

/**
 * The default key generator: `"<namespace or function name>|<args joined by a space>"`, e.g.
 * `loadUser(1, "a")` → `"loadUser|1 a"`. dogpile prefixes the Python module name; JavaScript has
 * none, so use a namespace to keep same-named functions of different modules apart.
 */
export function functionKeyGenerator(
  namespace: string | undefined | null,
  fn: { name: string },
  toStr: ToStr = defaultToStr,
): FunctionKeyGenerator {
  const prefix = `${namespaceOf(namespace, fn)}|`;
  return (...args) => {
    let key = prefix;
    for (let i = 0; i < args.length; i++) key += (i === 0 ? '' : ' ') + toStr(args[i]);
    return key;
  };
}

/** The default multi key generator: one `"<namespace or name>|<arg>"` key per argument. */
export function functionMultiKeyGenerator(
  namespace: string | undefined | null,
  fn: { name: string },
  toStr: ToStr = defaultToStr,
): FunctionMultiKeyGenerator {
  const prefix = `${namespaceOf(namespace, fn)}|`;
  return (...args) => args.map((arg) => prefix + toStr(arg));
}
