/**
 * Argument checks shared by every public entry point, so that each failure is a
 * {@link ValidationError} naming the argument and the fix, and nothing is stored half-way.
 *
 * @module
 */
import type { CachedValue, Mapping } from './api.js';
import { ValidationError } from './errors.js';
import { redactUrl } from './secrets.js';

/**
 * Short, safe description of a value for error messages: long strings by length only, URL userinfo
 * redacted (`"mongodb://***@db"`). A secret option's value must not be passed here at all: use
 * `hiddenValue` from src/secrets.ts.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(redactUrl(value));
  }
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'null prototype'})`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}

/** Throws unless `key` is a non-empty, well-formed string. */
export function assertKey(key: unknown, name = 'key'): asserts key is string {
  if (!isValidKey(key)) throw new ValidationError(badKeyMessage(key, name));
}

function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length !== 0 && key.isWellFormed();
}

function badKeyMessage(key: unknown, name: string): string {
  if (typeof key !== 'string') return `${name} must be a string; got ${describe(key)}. Convert it with String() or use a key generator.`;
  if (key.length === 0) return `${name} must be a non-empty string; got "".`;
  return `${name} contains a lone UTF-16 surrogate, which no store can encode faithfully; use key.toWellFormed() or hash the key.`;
}

/** Throws unless `keys` is an array of valid keys. */
export function assertKeys(keys: unknown, name = 'keys'): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) throw new ValidationError(`${name} must be an array of strings; got ${describe(keys)}.`);
  // The name of a bad key ("keys[3]") is built only when one is found: getMulti checks every key of every call.
  for (let i = 0; i < keys.length; i++) {
    const key: unknown = keys[i];
    if (!isValidKey(key)) throw new ValidationError(badKeyMessage(key, `${name}[${i}]`));
  }
}

/** Throws unless `value` is a {@link CachedValue}: `{ payload, metadata: { ct: number, v: number } }`. */
export function assertCachedValue(value: unknown, name = 'value'): asserts value is CachedValue {
  if (typeof value === 'object' && value !== null && 'payload' in value) {
    const metadata = (value as { metadata?: unknown }).metadata as { ct?: unknown; v?: unknown } | undefined;
    if (typeof metadata === 'object' && metadata !== null && Number.isFinite(metadata.ct) && typeof metadata.v === 'number') return;
  }
  throw new ValidationError(
    `${name} must be a CachedValue { payload, metadata: { ct, v } }; got ${describe(value)}. ` +
      'Backends store CachedValues; use makeCachedValue(payload) or a CacheRegion, which wraps values for you.',
  );
}

/**
 * The entries of a `Map` or plain-object mapping, with every key checked. Never mutates `mapping`.
 */
export function mappingEntries<V>(mapping: Mapping<V>, name = 'mapping'): [string, V][] {
  let entries: [string, V][];
  if (mapping instanceof Map) entries = [...mapping.entries()];
  else if (typeof mapping === 'object' && mapping !== null && !Array.isArray(mapping)) entries = Object.entries(mapping);
  else throw new ValidationError(`${name} must be a Map or a plain object of key -> value; got ${describe(mapping)}.`);
  for (const [key] of entries) assertKey(key, `a key of ${name}`);
  return entries;
}

/**
 * `object[name]` when `object` holds that property itself, `undefined` otherwise. User option objects
 * are read through this so a polluted `Object.prototype` (`Object.prototype.url = …`) cannot supply
 * options nobody passed.
 */
export function ownProperty(object: unknown, name: string): unknown {
  return typeof object === 'object' && object !== null && Object.hasOwn(object, name)
    ? (object as Record<string, unknown>)[name]
    : undefined;
}

/**
 * The most arguments a multi call takes (`cacheMultiOnArguments`' ids, the keys a multi creator
 * receives). JavaScript passes spread arguments on the stack, and V8 throws a RangeError somewhere
 * past 100,000 of them (fewer when the caller is already deep, or when two spreads are on the stack at
 * once): a fixed limit with a clear error keeps failures predictable. Split larger calls.
 */
export const MAX_SPREAD_ARGUMENTS = 65_536;

/** Throws a {@link ValidationError} naming the limit when `count` exceeds {@link MAX_SPREAD_ARGUMENTS}. */
export function assertSpreadable(count: number, what: string): void {
  if (count > MAX_SPREAD_ARGUMENTS) {
    throw new ValidationError(
      `${what} takes at most ${MAX_SPREAD_ARGUMENTS} arguments per call (they are spread into function calls, which JavaScript bounds); got ${count}. Split the call into batches.`,
    );
  }
}

/**
 * The own enumerable properties of a user's options object, on an object without a prototype, so a
 * polluted `Object.prototype` cannot supply an option. `undefined`/`null` give no options.
 * @throws {ValidationError} when `options` is not an object.
 */
export function ownOptions<T extends object>(options: T | undefined | null, name: string): Partial<T> {
  if (options === undefined || options === null) return Object.create(null) as Partial<T>;
  if (typeof options !== 'object' || Array.isArray(options))
    throw new ValidationError(`${name} must be an object; got ${describe(options)}.`);
  return Object.assign(Object.create(null) as Partial<T>, options);
}

/**
 * True for `Object.prototype` or `Array.prototype` of another realm (a `node:vm` context, a test
 * runner's sandbox): plain data made there is plain data here too.
 */
export function isBuiltinPrototype(proto: unknown, name: 'Object' | 'Array'): boolean {
  if (typeof proto !== 'object' || proto === null) return false;
  const parent: unknown = Object.getPrototypeOf(proto);
  const ctor = (proto as { constructor?: unknown }).constructor;
  const expectedParent = name === 'Object' ? null : undefined;
  if (name === 'Object' ? parent !== expectedParent : !isBuiltinPrototype(parent, 'Object')) return false;
  return (
    typeof ctor === 'function' &&
    ctor.name === name &&
    Object.getPrototypeOf(ctor) !== null &&
    /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(ctor))
  );
}
