import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  NO_VALUE,
  SerializationError,
  ValidationError,
  buildSerialized,
  jsonSerializer,
  parseSerialized,
  pythonFloatRepr,
  pythonJsonDumps,
  resolveSerializer,
  v8Serializer,
} from '../../src/index.js';

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

  it('follows JSON.stringify for undefined properties, array holes and Dates', () => {
    assert.equal(pythonJsonDumps({ a: undefined, b: [undefined], d: new Date(0) }), '{"b": [null], "d": "1970-01-01T00:00:00.000Z"}');
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
      assert.throws(() => pythonJsonDumps(bad), (error: Error) => error instanceof SerializationError && error.message.includes(fragment));
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
    assert.throws(() => resolveSerializer('pickle'), (e: Error) => e instanceof ValidationError && e.message.includes('serializer must be'));
  });
});
