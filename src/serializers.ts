/**
 * Serializers and dogpile.cache's byte format for stores that keep bytes:
 * `JSON(metadata) + "|" + serializer(payload)`, e.g. `{"ct": 1795531495.2178211, "v": 2}|{"a": 1}`.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { types } from 'node:util';
import * as v8 from 'node:v8';
import type { CachedValue } from './api.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import { SerializationError, ValidationError } from './errors.js';
import { describe, isBuiltinPrototype } from './validate.js';

/** Turns payloads into bytes and back. */
export interface Serializer {
  /** A short name used in error messages and configuration (`"json"`, `"v8"`). */
  readonly name: string;
  /** Encodes a payload; throws {@link SerializationError} for values it cannot represent. */
  serialize(value: unknown): Buffer;
  /** Decodes bytes written by `serialize`; throws {@link SerializationError} for bytes it cannot read. */
  deserialize(bytes: Buffer): unknown;
}

/**
 * Writes JSON exactly as Python's `json.dumps(value)` with its defaults (`", "` and `": "`
 * separators, non-ASCII escaped as `\uXXXX`), so bytes written here and by a Python dogpile region
 * with a JSON serializer are the same for the same data. Safe integers are written as ints, other
 * numbers as Python floats (`-0` as `-0.0`), so every number reads back as the same double.
 *
 * Only what reads back as the same value is written: strings, finite numbers, booleans, null, arrays
 * and plain objects (prototype `Object.prototype` or null). An object property whose value is
 * `undefined` is omitted, as `JSON.stringify` does, so it reads back absent (which reads as
 * `undefined`). An object with its own `toJSON()` (not a Date or Buffer) is written as what `toJSON` returns:
 * your explicit mapping, read back in that form. Everything else throws {@link SerializationError}
 * naming where it is: `undefined` as the whole value or an array item, array holes, functions,
 * symbols, BigInt, NaN/Infinity, Dates (valid or not: they would read back as strings), boxed
 * primitives (`new Number(3)`), Map/Set, RegExp, Error, Promise, WeakMap/WeakSet, typed arrays and
 * ArrayBuffers, instances of other classes (they would read back as plain objects), objects with
 * symbol keys, cycles, and nesting deeper than {@link MAX_JSON_DEPTH} (Python's `json` cannot read
 * deeper). Two references to one object are fine: it is written twice.
 *
 * @example
 * ```ts
 * import { pythonJsonDumps } from 'dogpile-cache/backend';
 * pythonJsonDumps({ name: 'Ada', score: 1.5, tags: ['a'] }); // '{"name": "Ada", "score": 1.5, "tags": ["a"]}' (Python's spacing)
 * pythonJsonDumps(new Date()); // throws SerializationError: a Date would read back as a string
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === undefined) {
    throw new SerializationError(
      'The value is undefined, which JSON cannot hold (a creator that returns undefined cannot be cached with the "json" serializer); ' +
        'return null for "nothing", skip it with shouldCacheFn, or configure the region with the "v8" serializer.',
    );
  }
  try {
    return writeJson(value, []);
  } catch (error) {
    if (error instanceof JsonRefusal) throw unserializable(error.path, error.what, error.why);
    throw error;
  }
}

/**
 * The deepest nesting of arrays and objects the JSON serializer writes. Python's `json` gives up a
 * little under 1,000 levels (its recursion limit), so what is written here stays readable there, and
 * a deep value is a SerializationError instead of a RangeError from the stack.
 */
export const MAX_JSON_DEPTH = 900;

/**
 * A value the JSON writer refuses, thrown up through the levels of {@link writeJson}: each level adds
 * its part of the path (`.key`, `[3]`), so a value that is written pays for no path at all.
 */
class JsonRefusal {
  path = '';
  constructor(
    readonly what: string,
    readonly why: string,
  ) {}
}

/**
 * `value` as Python's json.dumps writes it. `ancestors` are the objects being written around it (for
 * cycles and the depth limit): an array rather than a Set, as values are shallow and a Set would
 * hash every object.
 */
function writeJson(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return pythonJsonString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new JsonRefusal(`the number ${value}`, 'JSON has no NaN or Infinity');
      // A JS number is a double: safe integers are written as ints (what the writer most likely meant),
      // larger ones as Python writes that float (2 ** 60 → 1.152921504606847e+18, not 19 digits that
      // only look exact). -0 is a float only: "0" would read back as +0.
      return Object.is(value, -0) ? '-0.0' : Number.isSafeInteger(value) ? String(value) : pythonFloatRepr(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    case 'undefined':
      throw new JsonRefusal('undefined', 'JSON would write null there');
    default:
      throw new JsonRefusal(describe(value), 'JSON cannot represent it');
  }
  if (value === null) return 'null';
  if (ancestors.includes(value)) throw new JsonRefusal('a cycle', 'JSON cannot represent a value that contains itself');
  if (ancestors.length >= MAX_JSON_DEPTH) {
    throw new JsonRefusal(`nested over ${MAX_JSON_DEPTH} levels deep`, "Python's json cannot read it back");
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // Date's and Buffer's own toJSON would read back as a string and as { type, data }: refused below.
  if (typeof toJSON === 'function' && !types.isDate(value) && !ArrayBuffer.isView(value)) {
    ancestors.push(value);
    const text = writeJson((toJSON as (key: string) => unknown).call(value, ''), ancestors);
    ancestors.pop();
    return text;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value) && (proto === Array.prototype || isBuiltinPrototype(proto, 'Array'));
  if (!isArray && proto !== Object.prototype && proto !== null && !isBuiltinPrototype(proto, 'Object')) {
    throw new JsonRefusal(objectKind(value), refusalReason(value));
  }
  if (!isArray && Object.getOwnPropertySymbols(value).length > 0) {
    throw new JsonRefusal('an object with symbol keys', 'JSON keeps only string keys');
  }
  ancestors.push(value);
  let text: string;
  if (isArray) {
    const array = value as unknown[];
    let i = 0;
    try {
      text = '[';
      for (; i < array.length; i++) {
        if (i > 0) text += ', ';
        if (!(i in array)) throw new JsonRefusal('a hole in the array', 'JSON would write null there');
        text += writeJson(array[i], ancestors);
      }
      text += ']';
    } catch (error) {
      if (error instanceof JsonRefusal) error.path = `[${i}]${error.path}`;
      throw error;
    }
  } else {
    const keys = Object.keys(value);
    let key = '';
    try {
      text = '{';
      let first = true;
      for (key of keys) {
        const item: unknown = (value as Record<string, unknown>)[key];
        if (item === undefined) continue;
        text += first ? `${pythonJsonString(key)}: ` : `, ${pythonJsonString(key)}: `;
        first = false;
        text += writeJson(item, ancestors);
      }
      text += '}';
    } catch (error) {
      if (error instanceof JsonRefusal) error.path = `.${key}${error.path}`;
      throw error;
    }
  }
  ancestors.pop();
  return text;
}

// node:util's type checks work across realms, where instanceof would not.
function objectKind(value: object): string {
  if (types.isDate(value)) return Number.isNaN(Date.prototype.getTime.call(value)) ? 'an invalid Date' : 'a Date';
  if (types.isBoxedPrimitive(value)) {
    const name = Object.prototype.toString.call(value).slice(8, -1);
    return `a boxed ${name} (new ${name}(…))`;
  }
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== 'string' || name === '') return 'an object with a custom prototype';
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

function refusalReason(value: object): string {
  if (types.isDate(value)) return 'JSON would read it back as a string (store date.toISOString() or date.getTime())';
  if (types.isMap(value) || types.isSet(value)) return 'JSON would store it as {} and lose its contents';
  if (ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value))
    return 'JSON would read it back as a plain object of indexes (store Array.from(bytes) or base64)';
  if (types.isBoxedPrimitive(value)) return 'JSON would read it back as a primitive (store the primitive)';
  return 'JSON would read it back as a plain object or {} (store plain data, or give the class a toJSON())';
}

function unserializable(path: string, what: string, why: string): SerializationError {
  const where = path === '' ? 'The value' : `The value at ${path.startsWith('.') ? path.slice(1) : path}`;
  return new SerializationError(
    `${where} is ${what}; ${why}. Store JSON-compatible data, or configure the region with the "v8" serializer.`,
  );
}

/**
 * Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..15, ".0" on integers.
 *
 * @example
 * ```ts
 * import { pythonFloatRepr } from 'dogpile-cache/backend';
 * pythonFloatRepr(1); // "1.0"
 * pythonFloatRepr(1767225600.25); // "1767225600.25"
 * pythonFloatRepr(1e16); // "1e+16", as Python's repr()
 * ```
 */
export function pythonFloatRepr(value: number): string {
  // Creation times have a faster path of their own. Between 1e-4 and 1e16 both languages write the same
  // shortest round-trip digits in fixed notation (JS up to 1e21); only Python's ".0" on whole numbers differs.
  if (value >= EPOCH_LOW && value < EPOCH_HIGH) return epochSecondsRepr(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e16) return Number.isInteger(value) ? `${value}.0` : String(value);
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  // Only exponents below -4 or from 16 up get here (the fast path above has the rest): exponent notation.
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exponent).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${m}e${exponent < 0 ? '-' : '+'}${e}`;
}

// Creation times (epoch seconds, years 2004 to 2514) lie in [2^30, 2^34): there a double's last bit is
// worth 2^-22 to 2^-19, so its fraction is a whole number of those units, small enough that the digits
// below are computed exactly with doubles.
const EPOCH_LOW = 2 ** 30;
const EPOCH_HIGH = 2 ** 34;
const POWERS_OF_TEN = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7];

/**
 * {@link pythonFloatRepr} of `value` in [2^30, 2^34): the digits `String(value)` writes (the shortest that
 * read back as `value`, the closest of those, the even one of two), computed with integers. A clock with
 * microseconds makes every creation time a new double of 16 or 17 digits, which V8's general
 * double-to-text conversion writes about twice as slowly (measured in bench/redis.ts's set).
 */
function epochSecondsRepr(value: number): string {
  const whole = Math.floor(value);
  if (whole === value) return `${value}.0`;
  // value = whole + units / unitsPerOne exactly: the subtraction is exact (both in the same binade).
  const unitsPerOne = value < 2 ** 31 ? 2 ** 22 : value < 2 ** 32 ? 2 ** 21 : value < 2 ** 33 ? 2 ** 20 : 2 ** 19;
  const units = (value - whole) * unitsPerOne;
  // 7 decimals always read back (17 significant digits with 10 before the point; 11 before it need only
  // 6). Then fewer, down to the shortest: when d decimals read back as value, so do d + 1. It ends by 0
  // decimals at the latest (value is not a whole number).
  let decimals = 7;
  let digits = decimalsNear(units, unitsPerOne, decimals);
  for (;;) {
    const shorter = decimalsNear(units, unitsPerOne, decimals - 1);
    if (shorter < 0) break;
    decimals--;
    digits = shorter;
  }
  const fraction = String(digits);
  return `${whole}.${'0'.repeat(decimals - fraction.length)}${fraction}`;
}

/**
 * The `decimals`-digit fraction closest to `units / unitsPerOne` (of two, the even one) as a whole
 * number, when it reads back as the same double (within half a unit of it), else -1. Every product
 * here is below 2^53, so exact. (Exactly half a unit away, where reading would round to the even double,
 * cannot happen: a point half-way between two doubles here has at least 20 decimals.)
 */
function decimalsNear(units: number, unitsPerOne: number, decimals: number): number {
  const scale = POWERS_OF_TEN[decimals] as number;
  const scaled = units * scale;
  let digits = Math.floor(scaled / unitsPerOne);
  const twiceRest = 2 * (scaled - digits * unitsPerOne);
  if (twiceRest > unitsPerOne || (twiceRest === unitsPerOne && digits % 2 === 1)) digits++;
  return 2 * Math.abs(digits * unitsPerOne - scaled) < scale ? digits : -1;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};
// Python's ensure_ascii escapes everything outside printable ASCII (space to tilde), plus " and \: one
// character class of what stays (space to tilde without " and \), which the regexp engine scans faster
// than an alternation.
const NEEDS_ESCAPE = /[^ !#-[\]-~]/g;
const HAS_ESCAPE = /[^ !#-[\]-~]/;

function pythonJsonString(text: string): string {
  if (!HAS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(NEEDS_ESCAPE, (ch) => ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** JSON serializer producing Python `json.dumps` bytes (see {@link pythonJsonDumps}). */
export const jsonSerializer: Serializer = Object.freeze({
  name: 'json',
  serialize(value: unknown): Buffer {
    return Buffer.from(pythonJsonDumps(value), 'utf8');
  },
  deserialize(bytes: Buffer): unknown {
    return parseJsonText(bytes.toString('utf8'));
  },
});

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SerializationError('Stored bytes are not valid JSON (written by another serializer?).', { cause: error });
  }
}

/**
 * Node's structured-clone serializer (`node:v8`): keeps Map, Set, Date, BigInt, typed arrays and
 * cycles. Node-only: a Python region cannot read it, and its format may change between Node majors.
 * Each `deserialize` returns memory of its own: typed arrays and Buffers in the value never share
 * bytes with the stored copy or with another read.
 */
export const v8Serializer: Serializer = Object.freeze({
  name: 'v8',
  serialize(value: unknown): Buffer {
    try {
      return v8.serialize(value);
    } catch (error) {
      throw new SerializationError(`The value cannot be serialized by node:v8 (${(error as Error).message}); store plain data.`, {
        cause: error,
      });
    }
  },
  deserialize(bytes: Buffer): unknown {
    try {
      // node:v8 returns typed arrays and Buffers as views of the input bytes: a caller mutating one
      // would change (or, through a shared pool slab, wipe) the stored entry. Deserializing an
      // unpooled copy gives every read memory only that caller holds.
      const copy = Buffer.allocUnsafeSlow(bytes.length);
      bytes.copy(copy);
      return v8.deserialize(copy);
    } catch (error) {
      throw new SerializationError('Stored bytes are not node:v8 data (written by another serializer?).', { cause: error });
    }
  },
});

/** Serializers selectable by name in configuration. */
export const serializers: Readonly<Record<string, Serializer>> = Object.freeze({ json: jsonSerializer, v8: v8Serializer });

/**
 * Resolves a serializer given by name (`"json"`, `"v8"`) or as an object; throws {@link ValidationError} otherwise.
 *
 * @example
 * ```ts
 * import { resolveSerializer } from 'dogpile-cache/backend';
 * resolveSerializer('json').name; // "json"
 * resolveSerializer('v8').serialize(new Map([['a', 1]])); // a Buffer (v8 keeps Maps)
 * resolveSerializer('yaml', 'arguments.serializer'); // throws ValidationError naming "arguments.serializer"
 * ```
 */
export function resolveSerializer(value: unknown, name = 'serializer'): Serializer {
  if (typeof value === 'string') {
    // Own names only: "toString" or "constructor" would otherwise find Object.prototype's methods.
    if (Object.hasOwn(serializers, value)) return serializers[value] as Serializer;
  } else if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Serializer).serialize === 'function' &&
    typeof (value as Serializer).deserialize === 'function'
  ) {
    return value as Serializer;
  }
  throw new ValidationError(
    `${name} must be "json", "v8" or an object with serialize(value) and deserialize(bytes); got ${describe(value)}.`,
  );
}

const PIPE = 0x7c;

/**
 * The metadata part of dogpile's byte format, as Python's `json.dumps(metadata)` writes it.
 *
 * @example
 * ```ts
 * import { metadataJson } from 'dogpile-cache/backend';
 * metadataJson({ ct: 1767225600, v: 2 }); // '{"ct": 1767225600.0, "v": 2}', byte for byte what Python writes
 * ```
 */
export function metadataJson(metadata: CachedValue['metadata']): string {
  const head = `{"ct": ${pythonFloatRepr(metadata.ct)}, "v": ${numberJson(metadata.v)}`;
  // An entry's own TTL is an extra key: Python dogpile reads only "ct" and "v", so it still reads the entry.
  const ttl = metadata.ttl;
  const withTtl = typeof ttl === 'number' && Number.isFinite(ttl) ? `${head}, "ttl": ${numberJson(ttl)}` : head;
  const tags = metadata.tags;
  // A "|" in a tag is written as \u007c (the same JSON): the first "|" of the bytes must stay the separator.
  return Array.isArray(tags) ? `${withTtl}, "tags": ${pythonJsonDumps(tags).replaceAll('|', '\\u007c')}}` : `${withTtl}}`;
}

function numberJson(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : pythonFloatRepr(value);
}

/**
 * Builds dogpile's bytes `JSON(metadata) + "|" + serializer(payload)` for a {@link CachedValue}.
 *
 * @example
 * ```ts
 * import { buildSerialized, jsonSerializer, makeCachedValue } from 'dogpile-cache/backend';
 * const bytes = buildSerialized(makeCachedValue({ id: 1 }, Date.UTC(2026, 0, 1)), jsonSerializer);
 * bytes.toString(); // '{"ct": 1767225600.0, "v": 2}|{"id": 1}'
 * ```
 */
export function buildSerialized(value: CachedValue, serializer: Serializer): Buffer {
  // Node's UTF-8 encoder is its fastest for ASCII, and gives the same bytes as latin1 there.
  if (serializer === jsonSerializer) return Buffer.from(serializedJsonText(value), 'utf8');
  const metadata = metadataJson(value.metadata);
  const payload = serializer.serialize(value.payload);
  if (!(payload instanceof Uint8Array)) return Buffer.concat([Buffer.from(`${metadata}|`, 'latin1'), payload]); // Node's TypeError
  const bytes = Buffer.allocUnsafe(metadata.length + 1 + payload.length);
  bytes.write(metadata, 0, 'latin1');
  bytes[metadata.length] = PIPE;
  bytes.set(payload, metadata.length + 1);
  return bytes;
}

/**
 * {@link buildSerialized} with the JSON serializer, as text: it is ASCII only (see
 * {@link pythonJsonDumps}), so its UTF-8 bytes are exactly the entry's bytes. For clients that take
 * strings (ioredis writes a string argument with less work than a Buffer).
 */
export function serializedJsonText(value: CachedValue): string {
  return `${metadataJson(value.metadata)}|${pythonJsonDumps(value.payload)}`;
}

/**
 * Parses dogpile's bytes back into a {@link CachedValue} (split on the first `|`); {@link NO_VALUE}
 * passes through. Throws {@link SerializationError} for bytes that are not in that format.
 *
 * @example
 * ```ts
 * import { jsonSerializer, parseSerialized } from 'dogpile-cache/backend';
 * const bytes = Buffer.from('{"ct": 1767225600.0, "v": 2}|{"id": 1}');
 * parseSerialized(bytes, jsonSerializer); // { payload: { id: 1 }, metadata: { ct: 1767225600, v: 2 } }
 * parseSerialized(Buffer.from('garbage'), jsonSerializer); // throws SerializationError
 * ```
 */
export function parseSerialized(bytes: Buffer | NoValue, serializer: Serializer): CachedValue | NoValue {
  if (isNoValue(bytes)) return NO_VALUE;
  if (serializer === jsonSerializer) {
    const value = parseJsonEntryText(bytes.toString('utf8'));
    if (value !== null) return value;
  }
  const bar = bytes.indexOf(PIPE);
  if (bar < 0) throw notDogpileFormat();
  const metadata = readMetadata(metadataText(bytes, bar));
  return { payload: serializer.deserialize(bytes.subarray(bar + 1)), metadata };
}

/**
 * The metadata bytes (before the first `|`) as text, decoded as UTF-8 as Python's `json.loads` decodes
 * them; bytes that are not UTF-8 are refused, as Python refuses them (`UnicodeDecodeError`). Python and
 * this library write ASCII metadata, so only another writer's entries reach the check.
 */
function metadataText(bytes: Buffer, end: number): string {
  const text = bytes.toString('utf8', 0, end);
  if (text.includes('\ufffd') && !isUtf8(bytes.subarray(0, end))) {
    throw new SerializationError('Stored metadata is not valid UTF-8; the entry was not written by dogpile.cache or this library.');
  }
  return text;
}

/**
 * {@link parseSerialized} with the JSON serializer, from the entry's bytes decoded as UTF-8 (for clients
 * that read strings). The first "|" of the text is the first 0x7c byte (UTF-8 never hides an ASCII byte
 * in another character), and when the metadata before it is ASCII the text holds the entry exactly:
 * then the value, else null, and the caller parses the bytes (metadata outside ASCII is checked to be
 * UTF-8 there, which the decoded text can no longer show). Throws {@link SerializationError} as parseSerialized does.
 */
export function parseJsonEntryText(text: string): CachedValue | null {
  const bar = text.indexOf('|');
  if (bar < 0) throw notDogpileFormat();
  const plain = plainMetadata(text, bar);
  if (plain !== undefined) return { payload: parseJsonText(text.slice(bar + 1)), metadata: plain };
  const head = text.slice(0, bar);
  if (NON_ASCII.test(head)) return null;
  const metadata = readMetadata(head);
  return { payload: parseJsonText(text.slice(bar + 1)), metadata };
}

function notDogpileFormat(): SerializationError {
  return new SerializationError('Stored bytes are not in dogpile format "<metadata json>|<payload>".');
}

const NON_ASCII = /[^\0-\x7f]/;
const CT_OPEN = '{"ct": ';
const V2_CLOSE = ', "v": 2}';
const CT_OPEN_CODES = Array.from(CT_OPEN, (c) => c.charCodeAt(0));
const V2_CLOSE_CODES = Array.from(V2_CLOSE, (c) => c.charCodeAt(0));

/** True when `text` holds the characters `codes` from `at` on (`startsWith`, without its cost: read for every entry). */
function holds(text: string, at: number, codes: readonly number[]): boolean {
  for (let i = 0; i < codes.length; i++) if (text.charCodeAt(at + i) !== codes[i]) return false;
  return true;
}
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * The metadata `text` holds before `bar` when it is exactly `{"ct": <number>, "v": 2}`, the layout
 * that both this module and Python's json.dumps write for an entry without TTL or tags; else
 * undefined. Read by hand, it spares a JSON.parse on every read; the number is checked against JSON's
 * grammar, so Number() reads it exactly as JSON.parse would.
 */
function plainMetadata(text: string, bar: number): CachedValue['metadata'] | undefined {
  const end = bar - V2_CLOSE.length;
  if (end <= CT_OPEN.length || !holds(text, 0, CT_OPEN_CODES) || !holds(text, end, V2_CLOSE_CODES)) return undefined;
  const epochSeconds = epochSecondsOfText(text, CT_OPEN.length, end);
  if (epochSeconds >= 0) return { ct: epochSeconds, v: 2 };
  const ct = text.slice(CT_OPEN.length, end);
  return JSON_NUMBER.test(ct) ? { ct: Number(ct), v: 2 } : undefined;
}

/**
 * `Number(text.slice(start, end))` when that text is a creation time as {@link epochSecondsRepr} and
 * Python write it: a whole number in [2^30, 2^34) without leading zero, ".", 1 to 7 decimals. Otherwise
 * -1 (the caller then checks the text against JSON's grammar and reads it with Number()). The double
 * nearest to whole + decimals / 10^n, computed exactly with integers: V8's general text-to-double
 * conversion is slower on the 16 or 17 digits a microsecond clock gives.
 */
function epochSecondsOfText(text: string, start: number, end: number): number {
  const point = text.indexOf('.', start);
  const decimals = end - point - 1;
  if (point < 0 || decimals < 1 || decimals > 7 || text.charCodeAt(start) === 0x30) return -1;
  const whole = digitsValue(text, start, point);
  const fraction = digitsValue(text, point + 1, end);
  if (!(whole >= EPOCH_LOW && whole < EPOCH_HIGH) || fraction < 0) return -1;
  // The doubles in [whole, whole + 1) are whole + units / unitsPerOne; the nearest to fraction / scale:
  const unitsPerOne = whole < 2 ** 31 ? 2 ** 22 : whole < 2 ** 32 ? 2 ** 21 : whole < 2 ** 33 ? 2 ** 20 : 2 ** 19;
  const scale = POWERS_OF_TEN[decimals] as number;
  const scaled = fraction * unitsPerOne; // below 2^46: exact
  // The floor is exact: the quotient is below 2^22, where doubles are 2^-30 apart, and one that is not
  // whole lies at least 1/5^7 from a whole number. Never exactly half-way either (20 decimals at least).
  const units = Math.floor(scaled / scale);
  const nearest = 2 * (scaled - units * scale) > scale ? units + 1 : units;
  return whole + nearest / unitsPerOne; // exact: at most 53 significant bits
}

/** The whole number the ASCII digits of `text` from `start` to `end` write, or -1 when another character is there. */
function digitsValue(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Parses the metadata JSON `head`. */
function readMetadata(head: string): CachedValue['metadata'] {
  const plain = plainMetadata(head, head.length);
  if (plain !== undefined) return plain;
  let metadata: unknown;
  try {
    metadata = JSON.parse(head);
  } catch (error) {
    throw new SerializationError('Stored metadata is not valid JSON.', { cause: error });
  }
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { ct?: unknown }).ct !== 'number') {
    throw new SerializationError('Stored metadata lacks a numeric "ct".');
  }
  return metadata as CachedValue['metadata'];
}

const TTL_FIELD = Buffer.from('"ttl": ', 'latin1');

/**
 * The entry's own TTL (seconds) written by {@link metadataJson} in dogpile bytes, or undefined when the
 * metadata has none. Bytes backends call it on every write to give the entry a matching server TTL; it
 * searches only the metadata (before the first `|`), so an entry without a TTL costs two `indexOf`s.
 */
export function entryTtlOfSerialized(bytes: Buffer): number | undefined {
  const bar = bytes.indexOf(PIPE);
  if (bar < 0) return undefined;
  const at = bytes.indexOf(TTL_FIELD);
  if (at < 0 || at > bar) return undefined;
  let end = at + TTL_FIELD.length;
  // The number ends at the next "," (more fields follow) or "}" (the last field).
  while (end < bar && bytes[end] !== 0x2c && bytes[end] !== 0x7d) end++;
  const ttl = Number(bytes.subarray(at + TTL_FIELD.length, end).toString('latin1'));
  return Number.isFinite(ttl) && ttl > 0 ? ttl : undefined;
}

/**
 * The entry's own TTL (seconds) that {@link entryTtlOfSerialized} reads back from the bytes
 * {@link metadataJson} writes for `metadata`, without building them: undefined when it has none.
 */
export function entryTtlOfMetadata(metadata: CachedValue['metadata']): number | undefined {
  const ttl = metadata.ttl;
  return typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl : undefined;
}

/**
 * The server TTL (seconds, 0 for none) to give an entry: the backend's own (`configured`, 0 when it has
 * none) or the entry's TTL. With both, the longer: a backend's server TTL is usually set above the
 * region's expiration so that an expired value can still be served stale while one caller regenerates.
 */
export function serverTtlSeconds(configured: number, entryTtl: number | undefined): number {
  if (entryTtl === undefined) return configured;
  return configured === 0 ? entryTtl : Math.max(configured, entryTtl);
}
