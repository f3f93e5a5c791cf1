import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_VALUE, SerializationError, ValidationError, jsonSerializer, v8Serializer } from '../../src/index.js';
import {
  buildSerialized,
  MAX_JSON_DEPTH,
  parseSerialized,
  pythonFloatRepr,
  pythonJsonDumps,
  resolveSerializer,
} from '../../src/backend.js';

// Expected strings were produced by CPython 3.11 `json.dumps(...)` / `repr(float)` for the same input.
describe('pythonJsonDumps matches Python json.dumps byte for byte', () => {
  const cases: [unknown, string][] = [
    [{ a: 1 }, '{"a": 1}'],
    [{ foo: ['bar', 1, false, null] }, '{"foo": ["bar", 1, false, null]}'],
    ['fäké ✓ 𝄞', '"f\\u00e4k\\u00e9 \\u2713 \\ud834\\udd1e"'],
    ['tab\t"q" back\\ nl\n \x7f \x01', '"tab\\t\\"q\\" back\\\\ nl\\n \\u007f \\u0001"'],
    [[1.5, -0.25, 0.00001, 123456789.123, 0.0001, 9007199254740991], '[1.5, -0.25, 1e-05, 123456789.123, 0.0001, 9007199254740991]'],
    // Past 2^53 a JS number is written as Python writes the float: json.dumps([2.0**60, 1.5e300]).
    [[2 ** 60, 1.5e300], '[1.152921504606847e+18, 1.5e+300]'],
    [{ nested: { x: [], y: {} }, s: '' }, '{"nested": {"x": [], "y": {}}, "s": ""}'],
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: Python's float repr of this literal is what is checked
    [3.141592653589793, '3.141592653589793'],
  ];
  for (const [input, expected] of cases) {
    it(expected, () => assert.equal(pythonJsonDumps(input), expected));
  }

  it('formats floats as Python repr', () => {
    assert.equal(pythonFloatRepr(1795531495.2178211), '1795531495.2178211');
    assert.equal(pythonFloatRepr(1700000000), '1700000000.0');
    assert.equal(pythonFloatRepr(1e16), '1e+16');
    assert.equal(pythonFloatRepr(1e21), '1e+21');
    assert.equal(pythonFloatRepr(1e-7), '1e-07');
    assert.equal(pythonFloatRepr(123e-20), '1.23e-18');
    assert.equal(pythonFloatRepr(5e-324), '5e-324');
    assert.equal(pythonFloatRepr(1.7976931348623157e308), '1.7976931348623157e+308');
    assert.equal(pythonFloatRepr(-0), '-0.0');
  });

  it('omits undefined properties, as JSON.stringify does (they read back absent)', () => {
    assert.equal(pythonJsonDumps({ a: undefined, b: 1 }), '{"b": 1}');
  });

  it('refuses what JSON would lose, naming where it is', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [bad, fragment] of [
      [undefined, 'The value is undefined'],
      [{ n: 10n }, 'The value at n is bigint'],
      [{ f: () => 1 }, 'The value at f is a function'],
      [[NaN], 'The value at [0] is the number NaN'],
      [{ m: new Map() }, 'The value at m is a Map'],
      [cyclic, 'a cycle'],
    ] as const) {
      assert.throws(
        () => pythonJsonDumps(bad),
        (error: Error) => error instanceof SerializationError && error.message.includes(fragment),
      );
    }
  });
});

describe('dogpile byte format', () => {
  it('builds metadata|payload exactly as dogpile does', () => {
    const bytes = buildSerialized({ payload: { a: 1 }, metadata: { ct: 1795531495.2178211, v: 2 } }, jsonSerializer);
    assert.equal(bytes.toString('utf8'), '{"ct": 1795531495.2178211, "v": 2}|{"a": 1}');
    const whole = buildSerialized({ payload: 'x', metadata: { ct: 1700000000, v: 2 } }, jsonSerializer);
    assert.equal(whole.toString('utf8'), '{"ct": 1700000000.0, "v": 2}|"x"');
  });

  it('parses on the first "|" only (payloads may contain "|")', () => {
    const parsed = parseSerialized(Buffer.from('{"ct": 1.5, "v": 2}|"a|b"'), jsonSerializer);
    assert.deepEqual(parsed, { payload: 'a|b', metadata: { ct: 1.5, v: 2 } });
  });

  it('passes NO_VALUE through and rejects bytes in another format', () => {
    assert.equal(parseSerialized(NO_VALUE, jsonSerializer), NO_VALUE);
    assert.throws(() => parseSerialized(Buffer.from('no bar here'), jsonSerializer), SerializationError);
    assert.throws(() => parseSerialized(Buffer.from('{nope}|1'), jsonSerializer), SerializationError);
    assert.throws(() => parseSerialized(Buffer.from('{"ct": 1, "v": 2}|{bad json'), jsonSerializer), SerializationError);
  });

  it('v8 keeps Map, Set, Date and BigInt', () => {
    const value = { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), b: 7n };
    const round = parseSerialized(buildSerialized({ payload: value, metadata: { ct: 1, v: 2 } }, v8Serializer), v8Serializer);
    assert.deepEqual(round, { payload: value, metadata: { ct: 1, v: 2 } });
    assert.throws(() => v8Serializer.serialize({ f: () => 1 }), SerializationError);
  });

  it('resolves serializers by name and rejects unknown ones', () => {
    assert.equal(resolveSerializer('json'), jsonSerializer);
    assert.equal(resolveSerializer('v8'), v8Serializer);
    assert.throws(
      () => resolveSerializer('pickle'),
      (e: Error) => e instanceof ValidationError && e.message.includes('serializer must be'),
    );
  });
});

describe('JSON serializer: what would not round-trip is refused (issue 16.5)', () => {
  const refused: [string, unknown, string][] = [
    ['a boxed Number', new Number(3), 'a boxed Number'],
    ['a boxed String', { s: new String('x') }, 'The value at s is a boxed String'],
    ['a boxed Boolean', [new Boolean(false)], 'The value at [0] is a boxed Boolean'],
    ['a RegExp', /x/, 'a RegExp'],
    ['an Error', new Error('e'), 'an Error'],
    ['a Promise', Promise.resolve(1), 'a Promise'],
    ['a WeakMap', new WeakMap(), 'a WeakMap'],
    ['a Uint8Array', new Uint8Array([1]), 'Uint8Array; JSON would read it back as a plain object of indexes'],
    ['a Buffer', Buffer.from('a'), 'a Buffer'],
    ['an ArrayBuffer', new ArrayBuffer(2), 'an ArrayBuffer'],
    ['a valid Date', new Date(0), 'a Date'],
    ['an invalid Date', new Date(NaN), 'an invalid Date'],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
      'a Point',
    ],
    ['undefined in an array', [1, undefined], 'The value at [1] is undefined'],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the bad input under test
    ['a hole in an array', [1, , 3], 'The value at [1] is a hole'],
    ['a function in an array', [() => 1], 'The value at [0] is a function'],
    ['a symbol key', { [Symbol('s')]: 1 }, 'symbol keys'],
  ];
  for (const [title, value, fragment] of refused) {
    it(`refuses ${title}`, () => {
      assert.throws(
        () => jsonSerializer.serialize(value),
        (error: Error) => error instanceof SerializationError && error.message.includes(fragment),
        title,
      );
    });
  }

  it('top-level undefined (a creator returning undefined) is a SerializationError that says what to do', () => {
    assert.throws(
      () => jsonSerializer.serialize(undefined),
      (e: Error) => e instanceof SerializationError && /return null/.test(e.message),
    );
  });

  it('keeps -0, large numbers and toJSON mappings exactly', () => {
    for (const value of [-0, 2 ** 60, 1e-7, { n: -0 }])
      assert.deepEqual(jsonSerializer.deserialize(jsonSerializer.serialize(value)), value);
    assert.equal(pythonJsonDumps(-0), '-0.0', 'as Python json.dumps(-0.0)');
    const mapped = { toJSON: () => ({ kind: 'mapped' }) };
    assert.equal(pythonJsonDumps([mapped]), '[{"kind": "mapped"}]');
    assert.equal(
      pythonJsonDumps(
        new (class Id {
          toJSON() {
            return 'id-1';
          }
        })(),
      ),
      '"id-1"',
    );
  });

  it('two references to one object are not a cycle', () => {
    const shared = { a: 1 };
    assert.equal(
      pythonJsonDumps({ x: shared, y: shared, z: [shared, shared] }),
      '{"x": {"a": 1}, "y": {"a": 1}, "z": [{"a": 1}, {"a": 1}]}',
    );
  });

  it('a 100,000-deep array is a SerializationError, not a RangeError; the depth limit is readable by Python', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.throws(
      () => jsonSerializer.serialize(deep),
      (e: Error) => e instanceof SerializationError && /nested over 900 levels/.test(e.message),
    );
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    assert.deepEqual(jsonSerializer.deserialize(jsonSerializer.serialize(ok)), ok);
  });

  it('escapes backspace and form feed as Python json.dumps does (\\b and \\f, not \\u0008)', () => {
    assert.equal(pythonJsonDumps('\b\f\x00'), '"\\b\\f\\u0000"');
  });

  it('metadata without a numeric "ct" is refused', () => {
    assert.throws(
      () => parseSerialized(Buffer.from('{"v": 2}|1'), jsonSerializer),
      (e: Error) => e instanceof SerializationError && /"ct"/.test(e.message),
    );
    assert.throws(() => parseSerialized(Buffer.from('{"ct": "1", "v": 2}|1'), jsonSerializer), SerializationError);
    assert.throws(() => parseSerialized(Buffer.from('null|1'), jsonSerializer), SerializationError);
  });
});

describe('v8 serializer: every read owns its memory (issue 16.4)', () => {
  it('mutating a returned Uint8Array or Buffer changes neither the stored bytes nor the next read', () => {
    const bytes = v8Serializer.serialize({ u: new Uint8Array([1, 2, 3]), b: Buffer.from('abc') });
    const before = Buffer.from(bytes);
    const first = v8Serializer.deserialize(bytes) as { u: Uint8Array; b: Buffer };
    first.u.fill(9);
    first.b.fill(0);
    assert.deepEqual(bytes, before, 'the stored bytes are untouched');
    const second = v8Serializer.deserialize(bytes) as { u: Uint8Array; b: Buffer };
    assert.deepEqual([...second.u], [1, 2, 3]);
    assert.equal(second.b.toString(), 'abc');
    assert.notEqual(second.u.buffer, bytes.buffer);
    assert.notEqual(second.u.buffer, first.u.buffer);
  });
});

describe('JSON serializer: plain data from another realm', () => {
  it('accepts objects and arrays made in a node:vm context, and still refuses its class instances and Dates', async () => {
    const vm = await import('node:vm');
    const made = vm.runInNewContext(
      '({ plain: { a: [1, "x", { b: null }] }, date: new Date(0), instance: new (class Widget {})() })',
    ) as Record<string, unknown>;
    assert.equal(pythonJsonDumps(made.plain), '{"a": [1, "x", {"b": null}]}');
    assert.throws(() => pythonJsonDumps(made.date), SerializationError);
    assert.throws(() => pythonJsonDumps(made.instance), SerializationError);
    // biome-ignore lint/suspicious/noShadowRestrictedNames: a user class named Object is the case under test
    assert.throws(() => pythonJsonDumps(new (class Object {})()), SerializationError, 'a user class named Object is not plain data');
  });
});
