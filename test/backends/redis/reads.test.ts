/**
 * RedisBackend's reads with the JSON serializer go through strings (GET/MGET decoded by ioredis) and
 * fall back to the bytes for metadata outside ASCII: every entry reads as parseSerialized reads its
 * bytes, whatever the path. Needs the shared Redis (REDIS_URL).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { NO_VALUE, SerializationError, jsonSerializer, v8Serializer } from '../../../src/index.js';
import { makeCachedValue, parseSerialized } from '../../../src/backend.js';
import { redisUrl } from '../../support/redis.js';

const prefix = `reads-${randomUUID().slice(0, 8)}:`;

/** Entries as a Python peer, our own writes or a corrupt writer may leave them. */
const entries: Record<string, Buffer> = {
  plain: Buffer.from('{"ct": 1795531495.2178211, "v": 2}|{"id": 1, "s": "caf\\u00e9 | bar"}'),
  utf8Payload: Buffer.from('{"ct": 1700000000.0, "v": 2}|"caf\u00e9 \u{1d11e}"', 'utf8'),
  withTtlAndTags: Buffer.from('{"ct": 1700000000.5, "v": 2, "ttl": 60, "tags": ["a"]}|[1, 2]'),
  utf8Metadata: Buffer.from('{"ct": 1.5, "v": 2, "tags": ["\u00e9"]}|1', 'utf8'),
};

/** Metadata bytes that are not UTF-8: refused, as Python's json.loads refuses them (UnicodeDecodeError). */
const notUtf8: Record<string, Buffer> = {
  notUtf8Metadata: Buffer.concat([Buffer.from('{"ct": 1.5, "v": 2, "tags": ["'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}|{"a": 1}')]),
  latin1Metadata: Buffer.concat([Buffer.from('{"ct": 2.5, "v": 2, "tags": ["'), Buffer.from([0xe9]), Buffer.from('"]}|"x"')]),
};

describe('RedisBackend reads: strings, and bytes when the metadata is not ASCII', () => {
  let raw: Redis;
  let backend: RedisBackend;
  before(async () => {
    raw = new Redis(redisUrl());
    backend = new RedisBackend({ url: redisUrl() });
    for (const [name, bytes] of Object.entries({ ...entries, ...notUtf8 })) await raw.set(prefix + name, bytes);
    await raw.set(`${prefix}corrupt`, 'no bar here');
  });
  after(async () => {
    await raw.del(...Object.keys({ ...entries, ...notUtf8 }).map((name) => prefix + name), `${prefix}corrupt`);
    await backend.close();
    await raw.quit();
  });

  it('get reads every entry as parseSerialized reads its bytes', async () => {
    for (const [name, bytes] of Object.entries(entries)) {
      assert.deepEqual(await backend.get(prefix + name), parseSerialized(bytes, jsonSerializer), name);
    }
  });

  it('getMulti too, aligned with the keys, with misses and repeated keys', async () => {
    const names = [...Object.keys(entries), 'missing', 'plain', 'utf8Metadata'];
    const got = await backend.getMulti(names.map((name) => prefix + name));
    assert.deepEqual(
      got,
      names.map((name) => (name === 'missing' ? NO_VALUE : parseSerialized(entries[name] as Buffer, jsonSerializer))),
    );
  });

  it('metadata bytes that are not UTF-8 are a SerializationError from get and getMulti, as from parseSerialized', async () => {
    const notUtf8Error = (error: unknown) => error instanceof SerializationError && /not valid UTF-8/.test(error.message);
    for (const [name, bytes] of Object.entries(notUtf8)) {
      assert.throws(() => parseSerialized(bytes, jsonSerializer), notUtf8Error, name);
      await assert.rejects(backend.get(prefix + name), notUtf8Error, name);
      await assert.rejects(backend.getMulti([`${prefix}plain`, prefix + name]), notUtf8Error, name);
    }
  });

  it('a corrupt entry is a SerializationError from get and getMulti', async () => {
    await assert.rejects(backend.get(`${prefix}corrupt`), SerializationError);
    await assert.rejects(backend.getMulti([`${prefix}plain`, `${prefix}corrupt`]), SerializationError);
  });

  it('setSerialized stores exactly the bytes given: ASCII (sent as text), and not (sent as a Buffer)', async () => {
    const cases = [
      Buffer.from('{"ct": 1.5, "v": 2}|{"a": "\\u00e9"}'),
      Buffer.from([0x00, 0x7c, 0x7f, 0x0d, 0x0a]),
      Buffer.from([0x7b, 0x7c, 0x80, 0xff]),
      Buffer.alloc(0),
    ];
    for (const [i, bytes] of cases.entries()) {
      await backend.setSerialized(`${prefix}bytes${i}`, bytes);
      assert.deepEqual(await raw.getBuffer(`${prefix}bytes${i}`), bytes);
      assert.deepEqual(await backend.getSerialized(`${prefix}bytes${i}`), bytes);
    }
    await raw.del(...cases.map((_, i) => `${prefix}bytes${i}`));
  });

  it('set writes the bytes buildSerialized builds, and another serializer still reads and writes bytes', async () => {
    const value = makeCachedValue({ name: 'Ada', n: [1.5, -0] }, 1767225600123.25, 30, ['t']);
    await backend.set(`${prefix}written`, value);
    assert.equal(
      (await raw.getBuffer(`${prefix}written`))?.toString('latin1'),
      '{"ct": 1767225600.12325, "v": 2, "ttl": 30, "tags": ["t"]}|{"name": "Ada", "n": [1.5, -0.0]}',
    );
    const ttl = await raw.pttl(`${prefix}written`);
    assert.ok(ttl > 0 && ttl <= 30_000, `the entry's TTL is the server TTL; got ${ttl}`);
    const v8 = new RedisBackend({ url: redisUrl() });
    v8.serializer = v8Serializer;
    try {
      const map = makeCachedValue(new Map([['k', 1]]));
      await v8.set(`${prefix}v8`, map);
      assert.deepEqual(await v8.get(`${prefix}v8`), map);
      assert.deepEqual(await v8.getMulti([`${prefix}v8`]), [map]);
    } finally {
      await raw.del(`${prefix}written`, `${prefix}v8`);
      await v8.close();
    }
  });
});
