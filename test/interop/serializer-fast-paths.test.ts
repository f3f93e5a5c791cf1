/**
 * The byte format's fast paths against Python and against the general code they shortcut: float repr
 * (every creation time goes through it), json.dumps, and the hand-read `{"ct": …, "v": 2}` metadata.
 * Needs Debian's /usr/bin/python3 (no server).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SerializationError, jsonSerializer, v8Serializer, type Serializer } from '../../src/index.js';
import {
  type CachedValue,
  buildSerialized,
  makeCachedValue,
  parseSerialized,
  pythonFloatRepr,
  pythonJsonDumps,
} from '../../src/backend.js';
import { PYTHON } from './python.js';

/** Runs `script` with the JSON of `input` on stdin and returns the JSON it prints. */
function python(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** The double next to `x` (a positive double) downwards (-1) or upwards (1). */
function adjacent(x: number, step: -1 | 1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(step));
  return view.getFloat64(0);
}

/** A deterministic spread of doubles: creation times, both sides of 1e-4 and 1e16, integers, tiny and huge. */
function doubles(): number[] {
  let seed = 17;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const edges = [1e-4, 1e16].flatMap((edge) => [adjacent(edge, -1), edge, adjacent(edge, 1)]);
  const out = [...edges, 1e15, 2 ** 53, 2 ** 53 + 2, 1767225600, 0.1, 0.5, 123456789.123];
  for (let i = 0; i < 400; i++) {
    out.push(1.7e9 + random() * 1e8); // time.time() / systemClock() / 1000
    out.push(Math.round((1.7e9 + random() * 1e8) * 1000) / 1000); // whole milliseconds
    out.push((random() - 0.5) * 10 ** Math.floor(random() * 44 - 22));
    out.push(Math.floor(random() * 2 ** 53) * 10 ** Math.floor(random() * 6));
  }
  for (const v of [...out]) out.push(-v);
  return out;
}

describe('byte-format fast paths agree with Python', () => {
  it("pythonFloatRepr is Python's repr(float) for creation times and every magnitude", () => {
    const values = doubles();
    // JSON carries each double exactly (shortest round-trip digits, read back correctly rounded).
    const expected = python('import json,sys; print(json.dumps([repr(float(v)) for v in json.load(sys.stdin)]))', values) as string[];
    values.forEach((value, i) => {
      assert.equal(pythonFloatRepr(value), expected[i], `repr of ${value}`);
    });
  });

  it("pythonJsonDumps is json.dumps for nested plain data with strings that need escapes and strings that don't", () => {
    const values = [
      { id: 0, name: 'x'.repeat(60), tags: ['a', 'b'] },
      { 'k"ey': 'q"uote\\', ünï: ['cödé', '𝄞', '\u0000\u001f\u007f'], n: [1.5, -2, 1e-7, 1e21, 1.5e300], t: true, f: false, z: null },
      [[], {}, [[{}]], ''],
    ];
    const expected = python('import json,sys; print(json.dumps([json.dumps(v) for v in json.load(sys.stdin)]))', values) as string[];
    values.forEach((value, i) => {
      assert.equal(pythonJsonDumps(value), expected[i]);
    });
  });
});

/**
 * What parseSerialized did before its fast paths: JSON.parse of the metadata, then the payload. The metadata
 * is decoded as Python's json.loads decodes bytes: UTF-8, refusing bytes that are not UTF-8.
 */
function reference(bytes: Buffer, serializer: Serializer): unknown {
  const bar = bytes.indexOf(0x7c);
  if (bar < 0) throw new SerializationError('format');
  let metadata: unknown;
  try {
    metadata = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bar)));
  } catch {
    throw new SerializationError('metadata');
  }
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { ct?: unknown }).ct !== 'number')
    throw new SerializationError('ct');
  return { payload: serializer.deserialize(bytes.subarray(bar + 1)), metadata };
}

const outcome = (read: () => unknown): unknown => {
  try {
    return { value: read() };
  } catch (error) {
    return { threw: error instanceof SerializationError ? 'SerializationError' : String(error) };
  }
};

describe('parseSerialized reads what it read before its fast paths', () => {
  const heads = [
    '{"ct": 1795531495.2178211, "v": 2}',
    '{"ct": 1700000000.0, "v": 2}',
    '{"ct": 1700000000, "v": 2}',
    '{"ct": -0.0, "v": 2}',
    '{"ct": 1.5e3, "v": 2}',
    '{"ct": 1E+3, "v": 2}',
    '{"ct": 1e400, "v": 2}',
    '{"ct": 01, "v": 2}',
    '{"ct": 1., "v": 2}',
    '{"ct": .5, "v": 2}',
    '{"ct": +1, "v": 2}',
    '{"ct": 0x10, "v": 2}',
    '{"ct": Infinity, "v": 2}',
    '{"ct": , "v": 2}',
    '{"ct": 1 , "v": 2}',
    '{"ct": "1", "v": 2}',
    '{"ct": 1, "v": 2, "ct": 3, "v": 2}',
    '{"ct": 1, "v": 2, "ttl": 60.0}',
    '{"ct": 1, "v": 2, "ttl": 60, "tags": ["a", "\\u00e9"]}',
    '{"ct":1,"v":2}',
    '{"v": 2, "ct": 1}',
    '{"v": 2}',
    '[1, 2]',
    'not json',
    '',
  ];
  const payloads = ['{"id": 1, "s": "a|b"}', '"caf\u00e9 \u{1d11e}"', '{broken', ''];
  for (const head of heads) {
    it(head === '' ? '(empty metadata)' : head, () => {
      for (const payload of payloads) {
        const bytes = Buffer.from(`${head}|${payload}`, 'utf8');
        assert.deepEqual(
          outcome(() => parseSerialized(bytes, jsonSerializer)),
          outcome(() => reference(bytes, jsonSerializer)),
          payload,
        );
      }
    });
  }

  it('metadata bytes outside ASCII are read as UTF-8 and bytes that are not UTF-8 refused, as Python json.loads does', () => {
    // Python: json.loads(b'{"ct": 1.5, "v": 2, "tags": ["\xc3\xa9"]}') gives 'é'; a lone 0xe9 raises UnicodeDecodeError.
    const utf8 = Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "tags": ["'), Buffer.from('é', 'utf8'), Buffer.from('"]}|{"a": "é"}')]);
    assert.deepEqual((parseSerialized(utf8, jsonSerializer) as CachedValue).metadata, { ct: 1.5, v: 2, tags: ['é'] });
    for (const inside of [Buffer.from([0xe9]), Buffer.from([0xff, 0x7c])]) {
      const bytes = Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "tags": ["'), inside, Buffer.from('"]}|{"a": "é"}')]);
      assert.throws(
        () => parseSerialized(bytes, jsonSerializer),
        (e: Error) => e instanceof SerializationError && /not valid UTF-8/.test(e.message),
      );
    }
  });

  it('metadata outside ASCII: the fast paths agree with the reference (UTF-8 and not)', () => {
    for (const inside of [Buffer.from('é', 'utf8'), Buffer.from([0xe9]), Buffer.from([0xff, 0x7c])]) {
      const bytes = Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "tags": ["'), inside, Buffer.from('"]}|{"a": "é"}')]);
      assert.deepEqual(
        outcome(() => parseSerialized(bytes, jsonSerializer)),
        outcome(() => reference(bytes, jsonSerializer)),
      );
    }
  });

  it('no "|" at all is a SerializationError, with bytes that are not UTF-8 too', () => {
    for (const bytes of [Buffer.from('{"ct": 1, "v": 2}'), Buffer.from([0xf0, 0x9f, 0x7b, 0xff])]) {
      assert.throws(
        () => parseSerialized(bytes, jsonSerializer),
        (e: Error) => e instanceof SerializationError && /dogpile format/.test(e.message),
      );
    }
  });

  it('other serializers get the payload bytes after the first "|", with the same metadata', () => {
    const value = makeCachedValue(new Map([['a', new Uint8Array([0x7c, 0xff])]]), 1767225600123.5);
    const bytes = buildSerialized(value, v8Serializer);
    assert.deepEqual(parseSerialized(bytes, v8Serializer), reference(bytes, v8Serializer));
    assert.deepEqual(parseSerialized(bytes, v8Serializer), value);
  });
});

describe('buildSerialized builds what it built before', () => {
  it('the JSON entry is metadata, "|", then the payload bytes, for entries with and without TTL and tags', () => {
    for (const value of [
      makeCachedValue({ a: 'é' }),
      makeCachedValue([1.5], 1767225600000, 60, ['t']),
      makeCachedValue('x', 1767225600001.25, 0.5),
    ]) {
      const expected = Buffer.concat([Buffer.from(`${buildHead(value.metadata)}|`, 'latin1'), jsonSerializer.serialize(value.payload)]);
      assert.deepEqual(buildSerialized(value, jsonSerializer), expected);
    }
  });

  it("a custom serializer that returns something other than bytes still fails as it did (Buffer.concat's TypeError)", () => {
    const bad: Serializer = { name: 'bad', serialize: () => 'text' as unknown as Buffer, deserialize: () => null };
    assert.throws(() => buildSerialized(makeCachedValue(1), bad), TypeError);
  });
});

function buildHead(metadata: { ct: number; v: number; ttl?: number; tags?: string[] }): string {
  let head = `{"ct": ${pythonFloatRepr(metadata.ct)}, "v": ${metadata.v}`;
  if (metadata.ttl !== undefined) head += `, "ttl": ${Number.isSafeInteger(metadata.ttl) ? metadata.ttl : pythonFloatRepr(metadata.ttl)}`;
  if (metadata.tags !== undefined) head += `, "tags": ${pythonJsonDumps(metadata.tags)}`;
  return `${head}}`;
}
