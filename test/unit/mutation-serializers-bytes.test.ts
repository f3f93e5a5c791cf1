// src/serializers.ts after its rewrite for speed (the JSON writer's fast paths, one Buffer per entry, the
// metadata {"ct": n, "v": 2} read by hand): tests written to kill the mutants that survived the re-run of
// `npm run mutation -- serializers` (issue 23). The fast paths must give exactly what the general code
// gives, and refuse exactly what it refuses; expected JSON strings were printed by /usr/bin/python3.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerializationError, jsonSerializer, v8Serializer } from '../../src/index.js';
import { buildSerialized, makeCachedValue, parseSerialized, pythonFloatRepr, pythonJsonDumps, type Serializer } from '../../src/backend.js';
import { entryTtlOfMetadata } from '../../src/serializers.js';

/** Asserts that `run` throws a SerializationError with exactly `message`. */
function refuses(run: () => unknown, message: string, why?: string): void {
  assert.throws(run, (error: unknown) => error instanceof SerializationError && error.message === message, why);
}

describe('pythonJsonDumps: fast paths give what the general code gives', () => {
  it('a string of only quotes and backslashes is escaped (json.dumps: "\\"", "\\\\")', () => {
    assert.equal(pythonJsonDumps('"'), '"\\""');
    assert.equal(pythonJsonDumps('\\'), '"\\\\"');
    assert.equal(pythonJsonDumps('"\\"'), '"\\"\\\\\\""');
    assert.equal(pythonJsonDumps({ '"': '\\' }), '{"\\"": "\\\\"}');
  });

  it('zero as json.dumps writes a float zero: 0.0 and -0.0 (pythonFloatRepr, which metadata uses for ct)', () => {
    assert.equal(pythonFloatRepr(0), '0.0');
    assert.equal(pythonFloatRepr(-0), '-0.0');
  });

  it("an error thrown by the value's own code (toJSON) comes out untouched, at the top, in an array and in an object", () => {
    const mine = new RangeError('mine');
    const throwing = {
      toJSON: () => {
        throw mine;
      },
    };
    for (const value of [throwing, [1, throwing], { a: { b: throwing } }]) {
      assert.throws(
        () => pythonJsonDumps(value),
        (error: unknown) => error === mine && !Object.hasOwn(error, 'path'),
      );
    }
    // A thrown primitive too (a property cannot be set on it).
    const primitive = {
      toJSON: () => {
        throw 'boom';
      },
    };
    for (const value of [primitive, [primitive], { a: primitive }])
      assert.throws(
        () => pythonJsonDumps(value),
        (error: unknown) => error === 'boom',
      );
  });
});

describe('buildSerialized with a serializer of its own', () => {
  it('a serializer that returns something other than bytes is a TypeError from Node (never wrong bytes)', () => {
    const text: Serializer = { name: 'text', serialize: (value) => String(value) as never, deserialize: (bytes) => bytes.toString() };
    assert.throws(() => buildSerialized(makeCachedValue('abc', 1_767_225_600_000), text), TypeError);
  });

  it('bytes are the metadata, "|" and the payload, for a Buffer and a plain Uint8Array alike', () => {
    for (const payload of [Buffer.from([1, 2, 0x7c]), new Uint8Array([1, 2, 0x7c])]) {
      const raw: Serializer = { name: 'raw', serialize: () => payload as Buffer, deserialize: (bytes) => bytes };
      const bytes = buildSerialized(makeCachedValue('ignored', 1_767_225_600_000), raw);
      assert.deepEqual(bytes, Buffer.concat([Buffer.from('{"ct": 1767225600.0, "v": 2}|'), Buffer.from([1, 2, 0x7c])]));
    }
  });
});

describe('parseSerialized: the hand-read metadata accepts exactly what JSON.parse reads as {"ct": <number>, "v": 2}', () => {
  it('a ct that is not a JSON number is refused as JSON.parse refuses it (never read as NaN)', () => {
    for (const ct of ['1x', 'x1', 'a5', '01', '1.x', '1x5', '1ex2', '1e+x', '1ex', '1.', '.5', '+1', '1e', '--1', 'NaN', 'Infinity', '']) {
      refuses(() => parseSerialized(Buffer.from(`{"ct": ${ct}, "v": 2}|1`), jsonSerializer), 'Stored metadata is not valid JSON.', ct);
    }
    // JSON numbers in every form read as JSON.parse reads them.
    for (const ct of ['0', '-0', '5', '-5', '15', '1.5', '1.55', '-1.25e3', '1E+2', '2e-3', '1767225600.25']) {
      const value = parseSerialized(Buffer.from(`{"ct": ${ct}, "v": 2}|1`), jsonSerializer);
      assert.deepEqual(value, { payload: 1, metadata: { ct: JSON.parse(ct), v: 2 } }, ct);
    }
  });

  it('metadata that only starts or only ends like the plain form is read whole', () => {
    // Another version, another first key, a missing close: the hand reader must not take them for {"ct": n, "v": 2}.
    assert.deepEqual(parseSerialized(Buffer.from('{"ct": 5, "v": 3}|1'), jsonSerializer), { payload: 1, metadata: { ct: 5, v: 3 } });
    refuses(() => parseSerialized(Buffer.from('{"xx": 5, "v": 2}|1'), jsonSerializer), 'Stored metadata lacks a numeric "ct".');
    refuses(() => parseSerialized(Buffer.from('{"ct": 5|1'), jsonSerializer), 'Stored metadata is not valid JSON.');
    refuses(() => parseSerialized(Buffer.from('5, "v": 2}|1'), jsonSerializer), 'Stored metadata is not valid JSON.');
    assert.deepEqual(parseSerialized(Buffer.from('{"ct": 1.5, "v": 2, "ttl": 5}|[1]'), jsonSerializer), {
      payload: [1],
      metadata: { ct: 1.5, v: 2, ttl: 5 },
    });
  });

  it('metadata with bytes outside ASCII (another writer) is still read, payload and ct included', () => {
    const value = parseSerialized(Buffer.from('{"ct": 1.5, "v": 2, "x": "\u00e9"}|"\u00e9"', 'utf8'), jsonSerializer);
    assert.ok(value !== null && typeof value === 'object' && 'payload' in value, 'a CachedValue');
    assert.equal(value.payload, '\u00e9');
    assert.equal(value.metadata.ct, 1.5);
    assert.equal(value.metadata.v, 2);
    // Its metadata bytes are read as UTF-8, as Python's json.loads reads them.
    assert.equal((value.metadata as unknown as { x: string }).x, '\u00e9');
  });

  it('metadata bytes that are not UTF-8 are refused, as Python json.loads refuses them; a real U+FFFD is read', () => {
    // Python: json.loads(b'{"ct": 1.5, "v": 2, "x": "\xe9"}') raises UnicodeDecodeError.
    for (const serializer of [jsonSerializer, v8Serializer]) {
      const bad = Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "x": "'), Buffer.from([0xe9]), Buffer.from('"}|"a"')]);
      refuses(
        () => parseSerialized(bad, serializer),
        'Stored metadata is not valid UTF-8; the entry was not written by dogpile.cache or this library.',
      );
    }
    // U+FFFD written as UTF-8 is a character like any other (only undecodable bytes decode to it as well).
    const replacement = parseSerialized(Buffer.from('{"ct": 1.5, "v": 2, "x": "\ufffd"}|"a"', 'utf8'), jsonSerializer);
    assert.equal((replacement as unknown as { metadata: { x: string } }).metadata.x, '\ufffd');
  });

  it('with another serializer: bytes without "|" are not dogpile bytes, an empty metadata part is not JSON', () => {
    refuses(
      () => parseSerialized(Buffer.from('garbage'), v8Serializer),
      'Stored bytes are not in dogpile format "<metadata json>|<payload>".',
    );
    refuses(() => parseSerialized(Buffer.from('|garbage'), v8Serializer), 'Stored metadata is not valid JSON.');
  });
});

describe('entryTtlOfMetadata: the TTL entryTtlOfSerialized would read from the bytes metadataJson writes', () => {
  it('a positive finite number only', () => {
    const meta = (ttl: unknown) => ({ ct: 1, v: 2, ttl }) as never;
    assert.equal(entryTtlOfMetadata(meta(5)), 5);
    assert.equal(entryTtlOfMetadata(meta(0.5)), 0.5);
    for (const ttl of [undefined, 0, -1, Number.NaN, Infinity, -Infinity, '5', null])
      assert.equal(entryTtlOfMetadata(meta(ttl)), undefined, String(ttl));
    assert.equal(entryTtlOfMetadata({ ct: 1, v: 2 }), undefined);
  });
});
