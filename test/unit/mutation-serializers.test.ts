// The JSON and v8 serializers and dogpile's byte format, checked against what Python's dogpile.cache 1.1.8
// writes (issue 23 item 1: tests written to kill the mutants that survived src/serializers.ts). Every
// expected string below was printed by /usr/bin/python3 (`json.dumps`, `repr(float)`) for the same input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, NO_VALUE, SerializationError, ValidationError, jsonSerializer, serializers, v8Serializer } from '../../src/index.js';
import {
  MAX_JSON_DEPTH,
  buildSerialized,
  makeCachedValue,
  metadataJson,
  parseSerialized,
  pythonFloatRepr,
  pythonJsonDumps,
  resolveSerializer,
  type Serializer,
} from '../../src/backend.js';
import { entryTtlOfSerialized, parseJsonEntryText, serverTtlSeconds } from '../../src/serializers.js';

/** Asserts that `run` throws a SerializationError whose message contains every fragment. */
function refuses(run: () => unknown, ...fragments: string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SerializationError, `a SerializationError, not ${String(error)}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" names "${fragment}"`);
    return true;
  });
}

describe('pythonJsonDumps: strings escaped as json.dumps (ensure_ascii) escapes them', () => {
  it('every ASCII character, control characters included (\\b and \\f short, the rest \\u00XX)', () => {
    let ascii = '';
    for (let code = 0; code < 0x80; code++) ascii += String.fromCharCode(code);
    // python3 -c 'import json; print(json.dumps(json.dumps("".join(map(chr, range(128))))))'
    const python = JSON.parse(
      '"\\"\\\\u0000\\\\u0001\\\\u0002\\\\u0003\\\\u0004\\\\u0005\\\\u0006\\\\u0007\\\\b\\\\t\\\\n\\\\u000b\\\\f\\\\r\\\\u000e\\\\u000f\\\\u0010\\\\u0011\\\\u0012\\\\u0013\\\\u0014\\\\u0015\\\\u0016\\\\u0017\\\\u0018\\\\u0019\\\\u001a\\\\u001b\\\\u001c\\\\u001d\\\\u001e\\\\u001f !\\\\\\"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\\\u007f\\""',
    ) as string;
    assert.equal(pythonJsonDumps(ascii), python);
  });

  it('non-ASCII as lowercase \\uXXXX, four digits, astral characters as surrogate pairs, lone surrogates kept', () => {
    const text = '\u0080\u00e9\u00ff\u0100\u07ff\u0800\u2028\ufeff\uffff\u{1f600}\ud800';
    assert.equal(pythonJsonDumps(text), '"\\u0080\\u00e9\\u00ff\\u0100\\u07ff\\u0800\\u2028\\ufeff\\uffff\\ud83d\\ude00\\ud800"');
  });

  it('keys are escaped like values, in insertion order, and an empty key is a key', () => {
    const value = { 'a"b': { 'c\\d': [1, -5, true, false, null, 2.5, -1.5e20] }, '': '' };
    assert.equal(pythonJsonDumps(value), '{"a\\"b": {"c\\\\d": [1, -5, true, false, null, 2.5, -1.5e+20]}, "": ""}');
  });

  it('the serializer writes those ASCII bytes, and reads UTF-8 JSON written by another writer', () => {
    const bytes = jsonSerializer.serialize({ name: 'café ✓' });
    assert.deepEqual(bytes, Buffer.from('{"name": "caf\\u00e9 \\u2713"}', 'ascii'));
    assert.deepEqual(jsonSerializer.deserialize(bytes), { name: 'café ✓' });
    // json.dumps(..., ensure_ascii=False).encode("utf-8"), as another client might write it.
    assert.deepEqual(jsonSerializer.deserialize(Buffer.from('{"name": "café ✓"}', 'utf8')), { name: 'café ✓' });
  });
});

describe('pythonJsonDumps: numbers, objects and arrays as json.dumps writes them', () => {
  it('floats as Python repr: fixed notation from 1e-4 to below 1e16, exponents of at least two digits', () => {
    const cases: [number, string][] = [
      [1e15, '1000000000000000.0'],
      [1.5e15, '1500000000000000.0'],
      [123456789012345.6, '123456789012345.6'],
      [1e16, '1e+16'],
      [1e22, '1e+22'],
      [1e100, '1e+100'],
      [-1.5e20, '-1.5e+20'],
      [1e-4, '0.0001'],
      [-0.000123, '-0.000123'],
      [1.5e-5, '1.5e-05'],
      [4.35e-5, '4.35e-05'],
      [1e-10, '1e-10'],
      [2.5, '2.5'],
      [-2.5, '-2.5'],
      [100, '100.0'],
      [-100, '-100.0'],
      [12345.678, '12345.678'],
      [0.1, '0.1'],
      [0, '0.0'],
      [9007199254740992, '9007199254740992.0'],
    ];
    for (const [value, python] of cases) assert.equal(pythonFloatRepr(value), python, `repr(${value})`);
  });

  it('non-finite floats as json.dumps writes them (Infinity, -Infinity, NaN)', () => {
    assert.equal(pythonFloatRepr(Infinity), 'Infinity');
    assert.equal(pythonFloatRepr(-Infinity), '-Infinity');
    assert.equal(pythonFloatRepr(NaN), 'NaN');
  });

  it('safe integers as ints (negative too), larger integers as Python writes the float', () => {
    assert.equal(
      pythonJsonDumps([0, -7, 1e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]),
      '[0, -7, 1000000000000000, 9007199254740991, -9007199254740991]',
    );
    assert.equal(pythonJsonDumps([2 ** 53, -(2 ** 53)]), '[9007199254740992.0, -9007199254740992.0]');
  });

  it('separators: ", " between items, ": " after keys, none inside empty containers; omitted properties leave no comma', () => {
    assert.equal(pythonJsonDumps({ a: undefined, b: 1, c: undefined, d: [true, false], e: undefined }), '{"b": 1, "d": [true, false]}');
    assert.equal(pythonJsonDumps({ absent: undefined }), '{}');
    assert.equal(pythonJsonDumps([[], {}, [[]]]), '[[], {}, [[]]]');
  });

  it('an array is its items: other properties, string or symbol keyed, are not part of it (as in JSON.stringify and a Python list)', () => {
    const array = Object.assign([1, 2], { extra: 'x', [Symbol('s')]: 'y' });
    assert.equal(pythonJsonDumps({ list: array }), '{"list": [1, 2]}');
  });

  it('objects without a prototype are plain data', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, {
      a: 1,
      b: Object.assign(Object.create(null) as object, { c: 'x' }),
    });
    assert.equal(pythonJsonDumps(bare), '{"a": 1, "b": {"c": "x"}}');
  });

  it('one object reached twice is written twice, at any depth and through toJSON, and is not a cycle', () => {
    const shared = { a: [1] };
    const mapped = { toJSON: () => 'm' };
    assert.equal(pythonJsonDumps([shared, { x: shared }, [shared]]), '[{"a": [1]}, {"x": {"a": [1]}}, [{"a": [1]}]]');
    assert.equal(pythonJsonDumps({ p: mapped, q: mapped, r: [mapped] }), '{"p": "m", "q": "m", "r": ["m"]}');
    const list = [1];
    assert.equal(pythonJsonDumps({ first: list, second: { inner: list } }), '{"first": [1], "second": {"inner": [1]}}');
  });

  it('toJSON is called on its object, and what it returns is written (checked in turn)', () => {
    const money = {
      cents: 250,
      toJSON(this: { cents: number }) {
        return { amount: this.cents / 100, currency: 'EUR' };
      },
    };
    assert.equal(pythonJsonDumps({ price: money }), '{"price": {"amount": 2.5, "currency": "EUR"}}');
    refuses(() => pythonJsonDumps({ when: { toJSON: () => new Map() } }), 'The value at when is a Map');
  });
});

describe('pythonJsonDumps: what is refused, where, why, and the fix', () => {
  it('every refusal names its place (top level, nested keys and indexes) and the fix (plain data or "v8")', () => {
    refuses(
      () => pythonJsonDumps(Symbol('s')),
      'The value is symbol',
      'JSON cannot represent it',
      'configure the region with the "v8" serializer',
    );
    refuses(
      () => pythonJsonDumps({ a: { b: [0, 1, { c: NaN }] } }),
      'The value at a.b[2].c is the number NaN',
      'JSON has no NaN or Infinity',
    );
    refuses(() => pythonJsonDumps([Infinity]), 'The value at [0] is the number Infinity');
    refuses(() => pythonJsonDumps({ x: -Infinity }), 'The value at x is the number -Infinity');
    refuses(() => pythonJsonDumps([[1, undefined]]), 'The value at [0][1] is undefined', 'JSON would write null there');
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test
    refuses(() => pythonJsonDumps({ list: [1, , 3] }), 'The value at list[1] is a hole in the array', 'JSON would write null there');
    refuses(() => pythonJsonDumps({ big: 1n }), 'The value at big is bigint 1', 'JSON cannot represent it');
  });

  it('a cycle is refused wherever it closes, through an object, an array or a toJSON', () => {
    const object: Record<string, unknown> = { a: {} };
    (object.a as Record<string, unknown>).back = object;
    refuses(() => pythonJsonDumps(object), 'The value at a.back is a cycle', 'contains itself');
    const array: unknown[] = [1];
    array.push([array]);
    refuses(() => pythonJsonDumps(array), 'The value at [1][0] is a cycle');
    const selfMapping = {
      toJSON(): unknown {
        return [this];
      },
    };
    refuses(() => pythonJsonDumps(selfMapping), 'is a cycle');
  });

  it('nesting: MAX_JSON_DEPTH levels are written, one more is refused (arrays, objects and toJSON all count)', () => {
    const nest = (levels: number, wrap: (inner: unknown) => unknown): unknown => {
      let value: unknown = 0;
      for (let i = 0; i < levels; i++) value = wrap(value);
      return value;
    };
    for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ k: v })]) {
      assert.equal(typeof pythonJsonDumps(nest(MAX_JSON_DEPTH, wrap)), 'string');
      refuses(
        () => pythonJsonDumps(nest(MAX_JSON_DEPTH + 1, wrap)),
        `nested over ${MAX_JSON_DEPTH} levels deep`,
        "Python's json cannot read it back",
      );
    }
    refuses(() => pythonJsonDumps({ toJSON: () => nest(MAX_JSON_DEPTH, (v) => [v]) }), 'nested over');
  });

  it('each kind of object says why JSON would not give it back', () => {
    const cases: [unknown, string, string][] = [
      [new Date(0), 'a Date', 'store date.toISOString() or date.getTime()'],
      [new Map(), 'a Map', 'JSON would store it as {} and lose its contents'],
      [new Set([1]), 'a Set', 'JSON would store it as {} and lose its contents'],
      [new Uint8Array(1), 'Uint8Array', 'store Array.from(bytes) or base64'],
      [new DataView(new ArrayBuffer(1)), 'a DataView', 'store Array.from(bytes) or base64'],
      [new ArrayBuffer(1), 'an ArrayBuffer', 'store Array.from(bytes) or base64'],
      [new SharedArrayBuffer(1), 'a SharedArrayBuffer', 'store Array.from(bytes) or base64'],
      [new Number(1), 'a boxed Number (new Number(…))', 'JSON would read it back as a primitive (store the primitive)'],
      [new String('s'), 'a boxed String (new String(…))', 'read it back as a primitive'],
      [new (class Order {})(), 'an Order', 'store plain data, or give the class a toJSON()'],
      [new (class ulcer {})(), 'an ulcer', 'give the class a toJSON()'],
      [new (class Item {})(), 'an Item', 'give the class a toJSON()'],
      [new (class Point {})(), 'a Point', 'give the class a toJSON()'],
      [new (class extends Array {})(), 'an object with a custom prototype', 'give the class a toJSON()'],
      [Object.create({ inherited: 1 }) as object, 'an Object', 'give the class a toJSON()'],
      [Object.create(Object.create(null) as object) as object, 'an object with a custom prototype', 'give the class a toJSON()'],
      [new WeakSet(), 'a WeakSet', 'JSON would read it back as a plain object or {}'],
    ];
    for (const [value, kind, why] of cases) refuses(() => pythonJsonDumps({ v: value }), 'The value at v is ', `${kind}; `, why);
  });

  it('a Date or a Buffer is refused although each has its own toJSON', () => {
    refuses(() => pythonJsonDumps([new Date(0)]), 'The value at [0] is a Date');
    refuses(() => pythonJsonDumps({ b: Buffer.from('x') }), 'The value at b is a Buffer');
  });

  it('symbol keys are refused on objects; an array subclass is refused even without a name', () => {
    refuses(
      () => pythonJsonDumps({ o: { [Symbol('hidden')]: 1, shown: 2 } }),
      'The value at o is an object with symbol keys',
      'JSON keeps only string keys',
    );
    class Tuple extends Array<number> {}
    refuses(() => pythonJsonDumps(Tuple.from([1])), 'a Tuple');
  });
});

describe('jsonSerializer, v8Serializer, serializers, resolveSerializer', () => {
  it('the named serializers', () => {
    assert.equal(jsonSerializer.name, 'json');
    assert.equal(v8Serializer.name, 'v8');
    assert.equal(serializers.json, jsonSerializer);
    assert.equal(serializers.v8, v8Serializer);
    assert.deepEqual(Object.keys(serializers).sort(), ['json', 'v8']);
    assert.ok(Object.isFrozen(serializers) && Object.isFrozen(jsonSerializer) && Object.isFrozen(v8Serializer));
  });

  it('json: bytes that are not JSON are a SerializationError naming another serializer, with the parse error as cause', () => {
    assert.throws(
      () => jsonSerializer.deserialize(Buffer.from('{not json')),
      (e: unknown) =>
        e instanceof SerializationError &&
        /not valid JSON \(written by another serializer\?\)/.test(e.message) &&
        e.cause instanceof SyntaxError,
    );
  });

  it('v8: what structured clone refuses is a SerializationError quoting node:v8, with its error as cause', () => {
    assert.throws(
      () => v8Serializer.serialize({ f: () => 1 }),
      (e: unknown) =>
        e instanceof SerializationError &&
        /cannot be serialized by node:v8 \(.+could not be cloned.*\); store plain data/.test(e.message) &&
        e.cause instanceof Error,
    );
    assert.throws(
      () => v8Serializer.deserialize(Buffer.from('{"a": 1}')),
      (e: unknown) =>
        e instanceof SerializationError &&
        /not node:v8 data \(written by another serializer\?\)/.test(e.message) &&
        e.cause instanceof Error,
    );
  });

  it('v8: round-trips what JSON refuses, and a read of a slice of a larger buffer reads only that slice', () => {
    const value = { when: new Date(5), big: 2n ** 70n, set: new Set(['a']), nested: new Map([[1, [1.5, -0]]]) };
    const bytes = v8Serializer.serialize(value);
    assert.deepEqual(v8Serializer.deserialize(bytes), value);
    const framed = Buffer.concat([Buffer.from('head|'), bytes]);
    assert.deepEqual(v8Serializer.deserialize(framed.subarray(5)), value);
  });

  it('resolveSerializer: names, any object with serialize and deserialize, and a ValidationError naming the option otherwise', () => {
    const custom: Serializer = { name: 'custom', serialize: (v) => Buffer.from(String(v)), deserialize: (b) => b.toString() };
    assert.equal(resolveSerializer('json'), jsonSerializer);
    assert.equal(resolveSerializer('v8', 'arguments.serializer'), v8Serializer);
    assert.equal(resolveSerializer(custom), custom);
    const bad: [unknown, string][] = [
      ['yaml', 'got "yaml"'],
      ['toString', 'got "toString"'],
      [null, 'got null'],
      [undefined, 'got undefined'],
      [{ serialize: custom.serialize }, 'got an object'],
      [{ deserialize: custom.deserialize }, 'got an object'],
      [{ serialize: 'no', deserialize: custom.deserialize }, 'got an object'],
      [() => 1, 'got a function'],
    ];
    for (const [value, got] of bad) {
      assert.throws(
        () => resolveSerializer(value, 'arguments.serializer'),
        (e: unknown) =>
          e instanceof ValidationError &&
          e.message.startsWith('arguments.serializer must be "json", "v8" or an object with serialize(value) and deserialize(bytes); ') &&
          e.message.includes(got),
        String(got),
      );
    }
    assert.throws(
      () => resolveSerializer(5),
      (e: unknown) => e instanceof ValidationError && e.message.startsWith('serializer must be'),
    );
  });
});

describe("dogpile's byte format: metadata as json.dumps writes it, then | and the payload", () => {
  it('metadata: ct as a Python float, v, then the entry TTL and tags when present (Python reads ct and v only)', () => {
    // python3 -c 'import json; print(json.dumps({"ct": 1767225600.123, "v": 2, "ttl": 30.5, "tags": ["user:42", "café"]}))'
    assert.equal(
      metadataJson({ ct: 1767225600.123, v: 2, ttl: 30.5, tags: ['user:42', 'café'] }),
      '{"ct": 1767225600.123, "v": 2, "ttl": 30.5, "tags": ["user:42", "caf\\u00e9"]}',
    );
    assert.equal(metadataJson({ ct: 1e-5, v: 1.5 }), '{"ct": 1e-05, "v": 1.5}');
    assert.equal(metadataJson({ ct: 5, v: 2, ttl: 60 }), '{"ct": 5.0, "v": 2, "ttl": 60}');
    assert.equal(metadataJson({ ct: 5, v: 2, tags: ['t'] }), '{"ct": 5.0, "v": 2, "tags": ["t"]}');
  });

  it('metadata: a TTL that is not a finite number, or tags that are not an array, are left out', () => {
    for (const ttl of [NaN, Infinity, -Infinity, '30', null, undefined]) {
      assert.equal(metadataJson({ ct: 5, v: 2, ttl: ttl as number }), '{"ct": 5.0, "v": 2}', String(ttl));
    }
    assert.equal(metadataJson({ ct: 5, v: 2, tags: 'a' as unknown as string[] }), '{"ct": 5.0, "v": 2}');
  });

  it('buildSerialized: the bytes Python dogpile writes, and back', () => {
    // python3: json.dumps(m).encode("ascii") + b"|" + json.dumps(p).encode()
    const value = makeCachedValue({ name: 'Zoë', n: [1, 2.5] }, 1767225600123);
    const bytes = buildSerialized(value, jsonSerializer);
    assert.deepEqual(bytes, Buffer.from('{"ct": 1767225600.123, "v": 2}|{"name": "Zo\\u00eb", "n": [1, 2.5]}', 'ascii'));
    assert.deepEqual(parseSerialized(bytes, jsonSerializer), value);
  });

  it('a tag containing "|" still reads back: the metadata never contains the separator', () => {
    const value = makeCachedValue('x', 1000, 60, ['a|b', '||']);
    const bytes = buildSerialized(value, jsonSerializer);
    assert.equal(bytes.indexOf('|'), bytes.indexOf('}|"x"') + 1, 'the first "|" is the separator');
    assert.deepEqual(parseSerialized(bytes, jsonSerializer), value);
    assert.equal(entryTtlOfSerialized(bytes), 60);
  });

  it('a region with the JSON serializer reads back, and invalidates, an entry tagged with "|"', async () => {
    const region = new CacheRegion({ serializer: 'json' }).configure('dictionary');
    const errors: unknown[] = [];
    region.on('error', (event) => errors.push(event));
    await region.set('k', 'v', { tags: ['a|b'] });
    assert.equal(await region.get('k'), 'v');
    await region.invalidateTags(['a|b']);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.deepEqual(errors, []);
    await region.close();
  });

  it('parseSerialized: any payload serializer, the payload being everything after the first "|"', () => {
    const v8Bytes = buildSerialized(makeCachedValue(new Map([['k', '|']]), 2000), v8Serializer);
    assert.deepEqual(parseSerialized(v8Bytes, v8Serializer), { payload: new Map([['k', '|']]), metadata: { ct: 2, v: 2 } });
    assert.deepEqual(
      parseSerialized(Buffer.from('{"ct": 1.0, "v": 2}|'), { name: 'raw', serialize: () => Buffer.alloc(0), deserialize: (b) => b.length }),
      {
        payload: 0,
        metadata: { ct: 1, v: 2 },
      },
    );
    // Metadata keys Python does not write are kept: the region reads ttl and tags from there.
    assert.deepEqual(parseSerialized(Buffer.from('{"v": 2, "ct": 3, "extra": [1]}|1'), jsonSerializer), {
      payload: 1,
      metadata: { v: 2, ct: 3, extra: [1] },
    });
  });

  it('parseSerialized: NO_VALUE passes through; other bytes are a SerializationError saying what is wrong', () => {
    assert.equal(parseSerialized(NO_VALUE, jsonSerializer), NO_VALUE);
    refuses(() => parseSerialized(Buffer.from('{"ct": 1, "v": 2}'), jsonSerializer), 'not in dogpile format "<metadata json>|<payload>"');
    assert.throws(
      () => parseSerialized(Buffer.from('{"ct": 1, |1'), jsonSerializer),
      (e: unknown) =>
        e instanceof SerializationError && e.message === 'Stored metadata is not valid JSON.' && e.cause instanceof SyntaxError,
    );
    assert.throws(
      () => parseSerialized(Buffer.from('|{"ct": 1.0, "v": 2}'), jsonSerializer),
      (e: unknown) => e instanceof SerializationError && e.message === 'Stored metadata is not valid JSON.',
      'an empty metadata part is metadata that is not JSON',
    );
    for (const metadata of ['{"v": 2}', '{"ct": "1", "v": 2}', '{"ct": null}', 'null', '5', '"ct"', '[1.5]', 'true']) {
      refuses(() => parseSerialized(Buffer.from(`${metadata}|1`), jsonSerializer), 'Stored metadata lacks a numeric "ct"');
    }
  });
});

describe('the entry TTL in dogpile bytes, and the server TTL it gives', () => {
  const bytesOf = (ttl: number | null, tags?: string[]): Buffer =>
    buildSerialized(makeCachedValue('"ttl": 99', 1000, ttl, tags), jsonSerializer);

  it('entryTtlOfSerialized reads the TTL the metadata carries, with or without tags after it', () => {
    assert.equal(entryTtlOfSerialized(bytesOf(30)), 30);
    assert.equal(entryTtlOfSerialized(bytesOf(1.5, ['a', 'b'])), 1.5);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": 7}|1')), 7);
  });

  it('entryTtlOfSerialized: undefined without a TTL in the metadata (one in the payload does not count), or without a metadata part', () => {
    assert.equal(entryTtlOfSerialized(bytesOf(null)), undefined);
    assert.equal(entryTtlOfSerialized(bytesOf(null, ['t'])), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2}|{"ttl": 5}')), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('"ttl": 5')), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": 0}|1')), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": -3}|1')), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": "x"}|1')), undefined);
    // json.dumps writes float("inf") as Infinity; no finite TTL there.
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": Infinity}|1')), undefined);
    assert.equal(entryTtlOfSerialized(Buffer.from('{"ct": 1.0, "v": 2, "ttl": 1e999}|1')), undefined);
  });

  it("serverTtlSeconds: the backend's own, the entry's, or the longer of both", () => {
    assert.equal(serverTtlSeconds(0, undefined), 0);
    assert.equal(serverTtlSeconds(300, undefined), 300);
    assert.equal(serverTtlSeconds(0, 30), 30);
    assert.equal(serverTtlSeconds(300, 30), 300);
    assert.equal(serverTtlSeconds(300, 600), 600);
  });
});

describe("the hand-read metadata layout: one character off is not dogpile's plain layout", () => {
  // parseJsonEntryText reads `{"ct": <number>, "v": 2}` by hand, character by character (the common case,
  // without a JSON.parse); every other metadata goes through JSON.parse. Each character of that fixed
  // layout, replaced, makes the metadata something else: invalid JSON, refused as JSON.parse refuses it, or
  // (the "v" key renamed) valid JSON without a version 2; never read as version 2 with a creation time.
  const open = '{"ct": ';
  const close = ', "v": 2}';
  const ct = '1767225600.5';
  const entryWith = (head: string): string => `${head}|{"id": 1}`;
  /** Refused, or read as JSON.parse reads it: in neither case as the plain layout's `{ ct, v: 2 }`. */
  const notPlain = (read: () => unknown): void => {
    let value: unknown;
    try {
      value = read();
    } catch (error) {
      assert.ok(error instanceof SerializationError, `a SerializationError, not ${String(error)}`);
      return;
    }
    const metadata = (value as { metadata: Record<string, unknown> }).metadata;
    assert.notEqual(metadata.v, 2, `read as version 2: ${JSON.stringify(metadata)}`);
  };
  it('the plain layout itself reads (the control)', () => {
    assert.deepEqual(parseJsonEntryText(entryWith(`${open}${ct}${close}`)), {
      payload: { id: 1 },
      metadata: { ct: 1_767_225_600.5, v: 2 },
    });
  });
  for (let i = 0; i < open.length; i++) {
    const head = `${open.slice(0, i)}X${open.slice(i + 1)}${ct}${close}`;
    it(`opening character ${i} replaced: ${head}`, () => {
      notPlain(() => parseJsonEntryText(entryWith(head)));
      notPlain(() => parseSerialized(Buffer.from(entryWith(head)), jsonSerializer));
    });
  }
  for (let i = 0; i < close.length; i++) {
    const head = `${open}${ct}${close.slice(0, i)}X${close.slice(i + 1)}`;
    it(`closing character ${i} replaced: ${head}`, () => {
      notPlain(() => parseJsonEntryText(entryWith(head)));
      notPlain(() => parseSerialized(Buffer.from(entryWith(head)), jsonSerializer));
    });
  }
});
