/**
 * Which JavaScript values survive a BSON round trip unchanged, checked before every write so that a
 * value is either stored faithfully or rejected, never silently altered. Measured against the mongodb
 * driver's BSON serializer: it writes a `Set` as `{}`, a function or symbol as nothing, an invalid
 * `Date` as 1970, a bigint past 64 bits wrapped around, and a class instance as a plain object.
 *
 * Accepted: strings, numbers, booleans, null, bigints within the signed 64-bit range (read back as
 * bigint), plain objects (prototype `Object.prototype` or `null`), arrays, valid `Date`s, `Buffer`s and
 * other `Uint8Array`s (read back as `Buffer`), `RegExp`s, and the driver's BSON value classes
 * (`ObjectId`, `Decimal128`, `Long`, `Binary`, `Timestamp`, …). `undefined` follows JSON: the top-level
 * payload round-trips (the `value` field is left out), an object property is dropped, an array
 * element becomes `null`. `-0` reads back as `0` (BSON stores it as the int32 0), as with JSON.
 *
 * @module
 */
import { SerializationError } from '../../errors.js';

/** MongoDB refuses documents nested deeper than 100 levels (each object or array is one). */
export const MAX_BSON_DEPTH = 100;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

interface Failure {
  reason: string;
  path: (string | number)[];
}

function fail(reason: string): Failure {
  return { reason, path: [] };
}

/** Prefixes a nested failure's path with the key it was found under. */
function within(key: string | number, failure: Failure): Failure {
  failure.path.unshift(key);
  return failure;
}

function checkObject(value: object, depth: number): Failure | null {
  if (depth > MAX_BSON_DEPTH) {
    return fail(`nested more than ${MAX_BSON_DEPTH} levels deep (or circular), which MongoDB cannot store`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const failure = check(value[i], depth + 1);
      if (failure !== null) return within(i, failure);
    }
    return null;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>;
    if ('$ref' in record && '$id' in record) return fail('an object with $ref and $id keys, which the driver reads back as a DBRef');
    for (const key in record) {
      const failure = check(record[key], depth + 1);
      if (failure !== null) return within(key, failure);
    }
    return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail('an invalid Date, which BSON stores as 1970-01-01') : null;
  if (value instanceof Uint8Array || value instanceof RegExp) return null;
  if (typeof (value as { _bsontype?: unknown })._bsontype === 'string') return null;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return fail(
    `an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}, which BSON stores as a plain object ` +
      '(Map, Set and typed arrays other than Uint8Array lose their contents or type); convert it to plain data or use a son_manipulator transform',
  );
}

function check(value: unknown, depth: number): Failure | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return null;
    case 'bigint':
      return value < INT64_MIN || value > INT64_MAX ? fail('a bigint outside the signed 64-bit range, which BSON cannot store') : null;
    case 'function':
      return fail('a function, which BSON drops');
    case 'symbol':
      return fail('a symbol, which BSON drops');
    default:
      return value === null ? null : checkObject(value as object, depth);
  }
}

function formatPath(path: readonly (string | number)[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`))
    .join('');
}

/**
 * Throws a {@link SerializationError} naming the key and the path when `doc` holds a value BSON
 * would not store faithfully (see the module comment for the rules).
 */
export function assertStorable(doc: Record<string, unknown>, key: string): void {
  const failure = checkObject(doc, 1);
  if (failure === null) return;
  throw new SerializationError(`MongoBackend cannot store the value of key "${key}": doc${formatPath(failure.path)} is ${failure.reason}.`);
}
