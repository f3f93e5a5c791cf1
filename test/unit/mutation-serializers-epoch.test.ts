// Creation times written and read by integer arithmetic (src/serializers.ts, epochSecondsRepr and
// epochSecondsOfText): every double in [2^30, 2^34) must be written exactly as String() writes it (the
// shortest digits that read back, the closest, the even one of two) and every text read exactly as
// Number() reads it. Checked against those general conversions over a deterministic spread, the edges
// of each binary exponent, and the half-way cases; Python's repr for a few (printed by /usr/bin/python3).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerializationError, jsonSerializer } from '../../src/index.js';
import { metadataJson, parseSerialized, pythonFloatRepr } from '../../src/backend.js';
import { parseJsonEntryText } from '../../src/serializers.js';

/** What pythonFloatRepr wrote before its creation-time path: V8's shortest digits, ".0" on whole numbers. */
const reference = (value: number): string => (Number.isInteger(value) ? `${value}.0` : String(value));

/** The double `steps` places above (or below) `x`. */
function adjacent(x: number, steps: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(steps));
  return view.getFloat64(0);
}

function randomSource(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

/** Doubles around [2^30, 2^34): random ones, the edges of each exponent and of 1e10, few-bit fractions. */
function epochDoubles(): number[] {
  const random = randomSource(17);
  const out: number[] = [];
  for (const edge of [2 ** 30, 2 ** 31, 2 ** 32, 2 ** 33, 2 ** 34, 1e10]) {
    for (let steps = -1500; steps <= 1500; steps++) out.push(adjacent(edge, steps));
  }
  for (let i = 0; i < 40_000; i++) {
    out.push(2 ** 30 + random() * (2 ** 34 - 2 ** 30));
    out.push((Math.round(random() * 1e8) + 1.7e15) / 1e6); // a microsecond clock around 2026
    out.push(Math.round((1.7e9 + random() * 1e8) * 1000) / 1000); // whole milliseconds
    // Fractions of a few bits: their decimals end in 5, so two shortest candidates can tie.
    out.push(Math.floor(2 ** 30 + random() * (2 ** 34 - 2 ** 30)) + Math.floor(random() * 2 ** 12) / 2 ** 12);
  }
  return out;
}

describe('pythonFloatRepr of creation times (2^30 to 2^34) is the general conversion, digit for digit', () => {
  it('over random values, the edges of every binary exponent and of 1e10, and whole numbers', () => {
    for (const value of epochDoubles()) assert.equal(pythonFloatRepr(value), reference(value), `repr of ${reference(value)}`);
  });

  it("Python's repr for the cases that pick among candidates", () => {
    const cases: [number, string][] = [
      [2 ** 30 + 1 / 256, '1073741824.0039062'], // 1073741824.00390625: two 7-decimal candidates equally close, the even one
      [2 ** 30 + 3 / 256, '1073741824.0117188'], // 1073741824.01171875: here the even one is above
      [1073741824.5, '1073741824.5'],
      [1073741824, '1073741824.0'],
      [2147483647.9999998, '2147483647.9999998'],
      [2 ** 32 + 2 ** -20, '4294967296.000001'], // the double after 2^32
      [9999999999.999998, '9999999999.999998'],
      [10000000000.000002, '10000000000.000002'], // 11 digits before the point: 6 decimals at most
      [17179869183.999998, '17179869183.999998'],
      [1796215113.147339, '1796215113.147339'],
      [1795531495.2178211, '1795531495.2178211'],
    ];
    for (const [value, python] of cases) assert.equal(pythonFloatRepr(value), python, `repr(${python})`);
  });

  it('metadataJson writes the creation time so', () => {
    assert.equal(metadataJson({ ct: 2 ** 30 + 1 / 256, v: 2 }), '{"ct": 1073741824.0039062, "v": 2}');
  });
});

/** What reading the metadata gives: its ct, or the error's class. */
function readCt(text: string): unknown {
  try {
    return parseJsonEntryText(`{"ct": ${text}, "v": 2}|1`)?.metadata.ct;
  } catch (error) {
    return error instanceof SerializationError ? 'SerializationError' : String(error);
  }
}

/** What JSON.parse of the same metadata gives. */
function expectedCt(text: string): unknown {
  try {
    return (JSON.parse(`{"ct": ${text}, "v": 2}`) as { ct: unknown }).ct;
  } catch {
    return 'SerializationError';
  }
}

describe('reading a creation time gives the double JSON.parse gives', () => {
  it('for every text pythonFloatRepr writes in the range, and random digits with 1 to 7 decimals', () => {
    const random = randomSource(29);
    const texts = epochDoubles().map(pythonFloatRepr);
    for (let i = 0; i < 60_000; i++) {
      const decimals = 1 + Math.floor(random() * 7);
      const digits = Array.from({ length: decimals }, () => Math.floor(random() * 10)).join('');
      texts.push(`${Math.floor(2 ** 30 + random() * (2 ** 34 - 2 ** 30))}.${digits}`);
    }
    for (const text of texts) assert.ok(Object.is(readCt(text), expectedCt(text)), text);
  });

  it('for texts outside the fast path: other ranges, more decimals, leading zeros, signs, exponents, garbage', () => {
    const texts = [
      '1073741823.5',
      '1073741824',
      '1073741824.0',
      '1073741824.00000000',
      '1073741824.12345678',
      '17179869184.5',
      '17179869183.9999999',
      '2147483647.9999999',
      '4294967295.99999999',
      '01073741824.5',
      '-1073741824.5',
      '1073741824.',
      '.5',
      '1073741824.5e3',
      '1073741824.-5',
      '1073741824.5.5',
      '10737418x4.5',
      '1073741824.5x',
      '1e10',
      '1.5',
    ];
    for (const text of texts) assert.ok(Object.is(readCt(text), expectedCt(text)), text);
    assert.equal(readCt('01073741824.5'), 'SerializationError');
  });

  it('the same through parseSerialized, from bytes', () => {
    const value = parseSerialized(Buffer.from('{"ct": 1073741824.0039062, "v": 2}|{"a": 1.5}'), jsonSerializer);
    assert.deepEqual(value, { payload: { a: 1.5 }, metadata: { ct: 2 ** 30 + 1 / 256, v: 2 } });
  });
});
