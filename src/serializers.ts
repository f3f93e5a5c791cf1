/**
 * Serializers and dogpile.cache's byte format for stores that keep bytes:
 * `JSON(metadata) + "|" + serializer(payload)`, e.g. `{"ct": 1795531495.2178211, "v": 2}|{"a": 1}`.
 *
 * @module
 */
import * as v8 from 'node:v8';
import type { CachedValue } from './api.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import { SerializationError, ValidationError } from './errors.js';
import { describe } from './validate.js';

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
 * numbers as Python floats.
 * Throws {@link SerializationError} for what JSON cannot hold: `undefined` at the top, functions,
 * symbols, BigInt, NaN/Infinity, Map/Set, and cycles. `undefined` object properties are omitted and
 * `undefined` array items become `null`, as `JSON.stringify` does; Dates become ISO strings.
 */
export function pythonJsonDumps(value: unknown): string {
  const out: string[] = [];
  writeJson(value, out, new Set(), '');
  return out.join('');
}

function writeJson(value: unknown, out: string[], stack: Set<object>, path: string): void {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON('');
  }
  switch (typeof value) {
    case 'string':
      out.push(pythonJsonString(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw unserializable(path, `the number ${value}`, 'JSON has no NaN or Infinity');
      // A JS number is a double: safe integers are written as ints (what the writer most likely meant),
      // larger ones as Python writes that float (2 ** 60 → 1.152921504606847e+18, not 19 digits that
      // only look exact).
      out.push(Number.isSafeInteger(value) ? String(value) : pythonFloatRepr(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw unserializable(path, describe(value), 'JSON cannot represent it');
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (stack.has(value)) throw unserializable(path, 'a cycle', 'JSON cannot represent a value that contains itself');
  if (value instanceof Map || value instanceof Set) {
    throw unserializable(path, `a ${value.constructor.name}`, 'JSON would store it as {} and lose its contents');
  }
  stack.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(', ');
      const item: unknown = value[i];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out.push('null');
      else writeJson(item, out, stack, `${path}[${i}]`);
    }
    out.push(']');
  } else {
    out.push('{');
    let first = true;
    for (const key of Object.keys(value)) {
      const item: unknown = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      if (!first) out.push(', ');
      first = false;
      out.push(pythonJsonString(key), ': ');
      writeJson(item, out, stack, `${path}.${key}`);
    }
    out.push('}');
  }
  stack.delete(value);
}

function unserializable(path: string, what: string, why: string): SerializationError {
  const where = path === '' ? 'The value' : `The value at ${path.startsWith('.') ? path.slice(1) : path}`;
  return new SerializationError(
    `${where} is ${what}; ${why}. Store JSON-compatible data, or configure the region with the "v8" serializer.`,
  );
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..15, ".0" on integers. */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${intPart}.${fraction === '' ? '0' : fraction}`;
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
// Python's ensure_ascii escapes everything outside printable ASCII (space to tilde), plus " and \.
const NEEDS_ESCAPE = /["\\]|[^ -~]/g;

function pythonJsonString(text: string): string {
  return `"${text.replace(NEEDS_ESCAPE, (ch) => ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** JSON serializer producing Python `json.dumps` bytes (see {@link pythonJsonDumps}). */
export const jsonSerializer: Serializer = Object.freeze({
  name: 'json',
  serialize(value: unknown): Buffer {
    return Buffer.from(pythonJsonDumps(value), 'utf8');
  },
  deserialize(bytes: Buffer): unknown {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new SerializationError('Stored bytes are not valid JSON (written by another serializer?).', { cause: error });
    }
  },
});

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

/** Resolves a serializer given by name (`"json"`, `"v8"`) or as an object; throws {@link ValidationError} otherwise. */
export function resolveSerializer(value: unknown, name = 'serializer'): Serializer {
  if (typeof value === 'string') {
    const found = serializers[value];
    if (found) return found;
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

/** The metadata part of dogpile's byte format, as Python's `json.dumps(metadata)` writes it. */
export function metadataJson(metadata: CachedValue['metadata']): string {
  return `{"ct": ${pythonFloatRepr(metadata.ct)}, "v": ${Number.isSafeInteger(metadata.v) ? String(metadata.v) : pythonFloatRepr(metadata.v)}}`;
}

/** Builds dogpile's bytes `JSON(metadata) + "|" + serializer(payload)` for a {@link CachedValue}. */
export function buildSerialized(value: CachedValue, serializer: Serializer): Buffer {
  return Buffer.concat([Buffer.from(`${metadataJson(value.metadata)}|`, 'latin1'), serializer.serialize(value.payload)]);
}

/**
 * Parses dogpile's bytes back into a {@link CachedValue} (split on the first `|`); {@link NO_VALUE}
 * passes through. Throws {@link SerializationError} for bytes that are not in that format.
 */
export function parseSerialized(bytes: Buffer | NoValue, serializer: Serializer): CachedValue | NoValue {
  if (isNoValue(bytes)) return NO_VALUE;
  const bar = bytes.indexOf(PIPE);
  if (bar < 0) throw new SerializationError('Stored bytes are not in dogpile format "<metadata json>|<payload>".');
  let metadata: unknown;
  try {
    metadata = JSON.parse(bytes.subarray(0, bar).toString('latin1'));
  } catch (error) {
    throw new SerializationError('Stored metadata is not valid JSON.', { cause: error });
  }
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { ct?: unknown }).ct !== 'number') {
    throw new SerializationError('Stored metadata lacks a numeric "ct".');
  }
  return { payload: serializer.deserialize(bytes.subarray(bar + 1)), metadata: metadata as CachedValue['metadata'] };
}
