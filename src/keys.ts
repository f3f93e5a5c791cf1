/**
 * Key manglers and function key generators (dogpile.cache's `util.py`).
 *
 * @module
 */
import { types } from 'node:util';
import { ValidationError } from './errors.js';
import { describe, isBuiltinPrototype } from './validate.js';

/** Turns a region key into the key the backend stores. */
export type KeyMangler = (key: string) => string;

/**
 * Where a key mangler may declare the keys it leaves unchanged: a function of the key, true only for
 * keys the mangler returns as they are (false says nothing), which never throws and has no effect on
 * anything (it runs on keys not yet validated). The region's hit path looks such keys up as they are,
 * before validating and mangling them, as it does for a region without a mangler. `Symbol.for`, so the
 * ESM and CJS builds agree on it.
 * @internal
 */
export const KEEPS_KEY: unique symbol = Symbol.for('dogpile-cache.keyManglerKeepsKey') as never;

/** A key mangler that may declare {@link KEEPS_KEY}. */
export interface MayKeepKeys {
  readonly [KEEPS_KEY]?: (key: string) => boolean;
}

/**
 * SHA-1 hex digest of the UTF-8 key: byte-identical to dogpile's `sha1_mangle_key` and oslo's
 * default mangler, so Python and Node regions compute the same backend keys.
 * `sha1MangleKey("some_key") === "53def077a4264bd3183d4eb21b1f56f883e1b572"`.
 *
 * A key with a lone UTF-16 surrogate is refused with a {@link ValidationError}, as Python refuses to
 * encode it: hashing its UTF-8 replacement character instead would give `"a\ud800"` and `"a\ufffd"`
 * the same digest.
 *
 * @example
 * ```ts
 * import { CacheRegion, sha1MangleKey } from 'dogpile-cache';
 * sha1MangleKey('some_key'); // "53def077a4264bd3183d4eb21b1f56f883e1b572"
 * const region = new CacheRegion({ keyMangler: sha1MangleKey }); // the backend sees only digests
 * ```
 */
export function sha1MangleKey(key: string): string {
  if (!key.isWellFormed()) {
    throw new ValidationError(
      'sha1MangleKey: key contains a lone UTF-16 surrogate, which has no UTF-8 encoding; use key.toWellFormed() first.',
    );
  }
  createHash ??= process.getBuiltinModule('node:crypto').createHash;
  return createHash('sha1').update(key, 'utf8').digest('hex');
}

// node:crypto costs more to load than the rest of the root entry point: fetched on the first digest
// (process.getBuiltinModule is synchronous), so importing the root does not pay for it (issue 20.3).
let createHash: typeof import('node:crypto').createHash | undefined;

const SHA1_HEX_LENGTH = 40;
const SHA1_HEX = /^[0-9a-f]{40}$/;

/**
 * Applies `mangler` only to keys of at least `length` characters (dogpile's
 * `length_conditional_mangler`). Characters are Unicode code points, as Python's `len()` counts them,
 * so a key with emoji is mangled (or not) the same way by a Python and a Node region.
 *
 * Keys shorter than `length` are left as they are, so they share the space of the mangler's outputs.
 * With {@link sha1MangleKey} and a `length` over 40, a user key of 40 lowercase hex characters would
 * equal the mangled form of some longer key, so such keys are mangled too (dogpile leaves them: a
 * Python region sharing the cache stores them under another key). With your own mangler, keep
 * `length` at most its output length, or use {@link memcachedSafeMangler}, whose outputs no user key
 * can take.
 *
 * @example
 * ```ts
 * import { CacheRegion, lengthConditionalMangler, sha1MangleKey } from 'dogpile-cache';
 * const mangle = lengthConditionalMangler(40, sha1MangleKey);
 * mangle('user:1'); // "user:1" (short keys stay readable)
 * mangle('x'.repeat(50)); // a 40-character SHA-1 hex digest
 * const region = new CacheRegion({ keyMangler: mangle });
 * ```
 */
export function lengthConditionalMangler(length: number, mangler: KeyMangler): KeyMangler {
  if (!Number.isInteger(length) || length < 0) {
    throw new ValidationError(`length must be a non-negative integer; got ${describe(length)}.`);
  }
  if (typeof mangler !== 'function') throw new ValidationError(`mangler must be a function; got ${describe(mangler)}.`);
  if (mangler === sha1MangleKey && length > SHA1_HEX_LENGTH) {
    return (key) => (codePointsAtLeast(key, length) || (key.length === SHA1_HEX_LENGTH && SHA1_HEX.test(key)) ? mangler(key) : key);
  }
  return (key) => (codePointsAtLeast(key, length) ? mangler(key) : key);
}

/** True when `text` has at least `count` code points; counts only when UTF-16 length cannot decide. */
function codePointsAtLeast(text: string, count: number): boolean {
  // A code point is one or two UTF-16 units: fewer units than `count` means fewer code points, and
  // at least twice as many units means at least `count` code points.
  if (text.length < count) return false;
  if (text.length >= count * 2) return true;
  let points = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    if (++points >= count) return true;
  }
  return false;
}

/** memcached's key limit in bytes. */
export const MEMCACHED_MAX_KEY_BYTES = 250;
// Spaces and control characters end a key in memcached's text protocol.
const MEMCACHED_UNSAFE = /[\x00-\x20\x7f]/;

/** The prefix of every key {@link memcachedSafeMangler} hashes. */
const HASHED_PREFIX = 'sha1:';

/**
 * Leaves keys memcached accepts unchanged, and replaces a key longer than 250 UTF-8 bytes or holding
 * spaces or control characters by `"sha1:" + sha1MangleKey(key)`. The prefix keeps hashed keys apart
 * from user keys that happen to be 40 hex characters; a user key that itself starts with `"sha1:"` is
 * hashed too, so no user key can equal the hashed form of another (outputs are one-to-one short of a
 * SHA-1 collision).
 *
 * @example
 * ```ts
 * import { CacheRegion, memcachedSafeMangler } from 'dogpile-cache';
 * memcachedSafeMangler('user:1'); // "user:1"
 * memcachedSafeMangler('user 1'); // "sha1:" + the key's SHA-1 (memcached keys cannot hold spaces)
 * const region = new CacheRegion({ keyMangler: memcachedSafeMangler });
 * ```
 */
export function memcachedSafeMangler(key: string): string {
  if (MEMCACHED_UNSAFE.test(key) || key.startsWith(HASHED_PREFIX)) return HASHED_PREFIX + sha1MangleKey(key);
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no byte count.
  if (key.length * 3 <= MEMCACHED_MAX_KEY_BYTES || Buffer.byteLength(key, 'utf8') <= MEMCACHED_MAX_KEY_BYTES) return key;
  return HASHED_PREFIX + sha1MangleKey(key);
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
 *
 * @example
 * ```ts
 * import { defaultToStr } from 'dogpile-cache';
 * defaultToStr(42); // "42"
 * defaultToStr(new Date(0)); // "1970-01-01T00:00:00.000Z"
 * defaultToStr({ id: 1 }); // throws ValidationError: pass toStr or a key generator for objects
 * ```
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
 *
 * **Different calls can share a key**, exactly as in dogpile (this format is kept so Node and Python
 * regions compute the same keys): `f("a b")` and `f("a", "b")` both give `"f|a b"`, `f(1)` and
 * `f("1")` both `"f|1"`, and a namespace holding `|` can meet another namespace's arguments. When
 * arguments can contain spaces or mix numbers and numeric strings, use
 * {@link uniqueFunctionKeyGenerator}, which gives every distinct call its own key.
 *
 * @example
 * ```ts
 * import { functionKeyGenerator } from 'dogpile-cache';
 * async function loadUser(id: number, lang: string) { return { id, lang }; }
 * const keyOf = functionKeyGenerator(undefined, loadUser);
 * keyOf(1, 'en'); // "loadUser|1 en"
 * functionKeyGenerator('users', loadUser)(1, 'en'); // "users|1 en"
 * ```
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

/**
 * The default multi key generator: one `"<namespace or name>|<arg>"` key per argument.
 *
 * @example
 * ```ts
 * import { functionMultiKeyGenerator } from 'dogpile-cache';
 * async function loadUsers(...ids: number[]) { return ids.map((id) => ({ id })); }
 * const keysOf = functionMultiKeyGenerator(undefined, loadUsers);
 * keysOf(1, 2, 3); // ["loadUsers|1", "loadUsers|2", "loadUsers|3"]
 * ```
 */
export function functionMultiKeyGenerator(
  namespace: string | undefined | null,
  fn: { name: string },
  toStr: ToStr = defaultToStr,
): FunctionMultiKeyGenerator {
  const prefix = `${namespaceOf(namespace, fn)}|`;
  return (...args) => args.map((arg) => prefix + toStr(arg));
}

const MAX_KEY_DEPTH = 64;

/**
 * One argument as a self-delimiting token: strings JSON-quoted, numbers and the other primitives by
 * name (`1`, `-0`, `NaN`, `undefined`, `10n`), Dates as `Date("…")`, arrays and plain objects
 * (keys sorted) nested. Distinct values give distinct tokens, and no token holds a bare `,`, so a
 * comma-joined list of tokens can be read back one way only.
 */
function keyToken(arg: unknown, depth: number, seen: Set<object>): string {
  switch (typeof arg) {
    case 'string':
      return JSON.stringify(arg);
    case 'number':
      return Object.is(arg, -0) ? '-0' : String(arg);
    case 'bigint':
      return `${arg}n`;
    case 'boolean':
    case 'undefined':
      return String(arg);
    case 'object':
      if (arg === null) return 'null';
      break;
    default:
      throw uniqueKeyError(arg);
  }
  if (types.isDate(arg)) {
    const time = Date.prototype.getTime.call(arg);
    return `Date(${Number.isNaN(time) ? 'NaN' : JSON.stringify(new Date(time).toISOString())})`;
  }
  const proto: unknown = Object.getPrototypeOf(arg);
  if (!Array.isArray(arg) && proto !== Object.prototype && proto !== null && !isBuiltinPrototype(proto, 'Object'))
    throw uniqueKeyError(arg);
  if (seen.has(arg) || depth >= MAX_KEY_DEPTH) {
    throw new ValidationError(
      `uniqueFunctionKeyGenerator cannot key an argument that contains itself or is nested over ${MAX_KEY_DEPTH} levels; pass toStr.`,
    );
  }
  seen.add(arg);
  let token: string;
  if (Array.isArray(arg)) {
    const items: string[] = [];
    for (let i = 0; i < arg.length; i++) items.push(keyToken(arg[i], depth + 1, seen));
    token = `[${items.join(',')}]`;
  } else {
    const record = arg as Record<string, unknown>;
    token = `{${Object.keys(record)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${keyToken(record[name], depth + 1, seen)}`)
      .join(',')}}`;
  }
  seen.delete(arg);
  return token;
}

function uniqueKeyError(arg: unknown): ValidationError {
  return new ValidationError(
    `uniqueFunctionKeyGenerator keys primitives, Dates, arrays and plain objects; got ${describe(arg)}. Pass toStr to say how to key it.`,
  );
}

function uniquePrefix(namespace: string | undefined | null, fn: { name: string }): string {
  // Escaping `|` and `\` makes the first bare `|` the end of the namespace.
  return `${namespaceOf(namespace, fn).replace(/[\\|]/g, '\\$&')}|`;
}

function uniqueToken(arg: unknown, toStr: ToStr | undefined): string {
  return toStr === undefined ? keyToken(arg, 0, new Set()) : JSON.stringify(toStr(arg));
}

/**
 * A key generator that gives every distinct call its own key, unlike dogpile's format
 * ({@link functionKeyGenerator}): `"<namespace>|<arguments, comma-separated>"` with strings quoted,
 * so `f("a b")` → `f|"a b"`, `f("a", "b")` → `f|"a","b"`, `f(1)` → `f|1`, `f("1")` → `f|"1"`.
 * `|` and `\` in the namespace are escaped. Arguments may be primitives, Dates, arrays and plain
 * objects (keys sorted, so `{a, b}` and `{b, a}` share a key); anything else, a cycle, or nesting over
 * 64 levels is a {@link ValidationError} unless `toStr` is given (its result is then quoted).
 * Keys differ from a Python region's: use it for caches only Node reads. Pass it as the region's
 * `functionKeyGenerator` or a memoizer's.
 * @throws {ValidationError} for an anonymous function without a namespace, or an argument it cannot key.
 *
 * @example
 * ```ts
 * import { CacheRegion, uniqueFunctionKeyGenerator } from 'dogpile-cache';
 * async function search(query: string, page: number) { return [query, page]; }
 * uniqueFunctionKeyGenerator(undefined, search)('a b', 1); // 'search|"a b",1'
 * uniqueFunctionKeyGenerator(undefined, search)('1', 1); // 'search|"1",1' (not the key of (1, 1))
 * const region = new CacheRegion({ functionKeyGenerator: uniqueFunctionKeyGenerator });
 * ```
 */
export function uniqueFunctionKeyGenerator(
  namespace: string | undefined | null,
  fn: { name: string },
  toStr?: ToStr,
): FunctionKeyGenerator {
  const prefix = uniquePrefix(namespace, fn);
  return (...args) => {
    let key = prefix;
    for (let i = 0; i < args.length; i++) key += (i === 0 ? '' : ',') + uniqueToken(args[i], toStr);
    return key;
  };
}

/**
 * The multi counterpart of {@link uniqueFunctionKeyGenerator}: the key of each argument `a` is the key
 * that generator gives the single call `f(a)`.
 *
 * @example
 * ```ts
 * import { CacheRegion, uniqueFunctionMultiKeyGenerator } from 'dogpile-cache';
 * async function loadUsers(...ids: (number | string)[]) { return ids; }
 * uniqueFunctionMultiKeyGenerator(undefined, loadUsers)(1, '1'); // ['loadUsers|1', 'loadUsers|"1"']
 * const region = new CacheRegion({ functionMultiKeyGenerator: uniqueFunctionMultiKeyGenerator });
 * ```
 */
export function uniqueFunctionMultiKeyGenerator(
  namespace: string | undefined | null,
  fn: { name: string },
  toStr?: ToStr,
): FunctionMultiKeyGenerator {
  const prefix = uniquePrefix(namespace, fn);
  return (...args) => args.map((arg) => prefix + uniqueToken(arg, toStr));
}
