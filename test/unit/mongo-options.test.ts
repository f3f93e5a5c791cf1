// MongoBackend pieces that need no server: argument parsing and mapping to driver options, db_hosts,
// the BSON value check, driver error mapping and the TTL index outcomes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BackendUnavailableError,
  ConfigurationError,
  QueueEmptyError,
  SerializationError,
  ValidationError,
  ValueTooLargeError,
} from '../../src/errors.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { mapDriverError } from '../../src/backends/mongo/errors.js';
import {
  ensureTtlIndex,
  expiryDate,
  isLive,
  NEVER_EXPIRES,
  ttlIndexSpec,
  type MongoBackendWarning,
} from '../../src/backends/mongo/expiry.js';
import { detectServer, keyBatches, replaceMany } from '../../src/backends/mongo/writes.js';
import { connectionString } from '../../src/backends/mongo/hosts.js';
import { MAX_TTL_SECONDS, readMongoArguments } from '../../src/backends/mongo/options.js';
import { sharedClientCount } from '../../src/backends/mongo/client-cache.js';
import { collectSecrets, scrubError } from '../../src/backends/mongo/redact.js';
import { MAX_TIMER_SECONDS } from '../../src/duration.js';
import { assertStorable } from '../../src/backends/mongo/storable.js';
import { decodeEntry, encodeEntry, resolveTransform, type MongoDocumentTransform } from '../../src/backends/mongo/transform.js';
import { isNoValue, makeCachedValue } from '../../src/api.js';

const base = { db_hosts: 'localhost:27017', db_name: 'db', cache_collection: 'cache' };

/** Fake driver error classes, recognised by name like the real ones. */
class MongoError extends Error {
  code?: number;
  constructor(message: string, code?: number) {
    super(message);
    if (code !== undefined) this.code = code;
  }
}
class MongoNetworkError extends MongoError {}
class MongoNetworkTimeoutError extends MongoNetworkError {}
class MongoServerSelectionError extends MongoError {}
class MongoServerError extends MongoError {}
class MongoBulkWriteError extends MongoServerError {
  writeErrors: { index: number; code: number; errmsg: string }[] = [];
}
class BSONError extends Error {}
class WaitQueueTimeoutError extends MongoError {}

describe('MongoBackend arguments', () => {
  it('constructs without connecting or loading the driver, with snake_case or camelCase names', () => {
    // The constructor returned a backend without connecting: no shared client was created.
    const before = sharedClientCount();
    assert.ok(new MongoBackend(base) instanceof MongoBackend);
    assert.equal(sharedClientCount(), before);
    const snake = readMongoArguments(base);
    assert.deepEqual([snake.uri, snake.dbName, snake.collectionName], ['mongodb://localhost:27017/', 'db', 'cache']);
    const camel = readMongoArguments({ dbHosts: 'localhost', dbName: 'db', cacheCollection: 'c', maxPoolSize: 3, mongoTtlSeconds: 60 });
    assert.deepEqual(
      [camel.uri, camel.dbName, camel.collectionName, camel.clientOptions.maxPoolSize, camel.ttlMs],
      ['mongodb://localhost/', 'db', 'c', 3, 60_000],
    );
  });

  for (const missing of ['db_hosts', 'db_name', 'cache_collection']) {
    it(`a missing ${missing} is a ConfigurationError naming it`, () => {
      const args: Record<string, unknown> = { ...base };
      delete args[missing];
      assert.throws(
        () => new MongoBackend(args),
        (error: unknown) => error instanceof ConfigurationError && error.message.includes(missing),
      );
      assert.throws(() => new MongoBackend({ ...args, [missing]: '' }), ConfigurationError);
    });
  }

  it('w must be an integer (or "majority"); -1 leaves the server default', () => {
    for (const bad of ['abc', 1.5, -2, {}, true]) {
      assert.throws(
        () => new MongoBackend({ ...base, w: bad }),
        (e: unknown) => e instanceof ConfigurationError && /integer value expected for w/.test(e.message),
        String(bad),
      );
    }
    assert.deepEqual(readMongoArguments({ ...base, w: 2 }).writeConcern, { w: 2 });
    assert.deepEqual(readMongoArguments({ ...base, w: '0' }).writeConcern, { w: 0 });
    assert.deepEqual(readMongoArguments({ ...base, w: 'majority' }).writeConcern, { w: 'majority' });
    assert.equal(readMongoArguments({ ...base, w: -1 }).writeConcern, null);
  });

  it('read_preference is checked at construction; the five modes in any case or snake_case', () => {
    assert.throws(() => new MongoBackend({ ...base, read_preference: 'fastest' }), ConfigurationError);
    assert.throws(() => new MongoBackend({ ...base, readPreference: 7 }), ConfigurationError);
    const modes = {
      primary: 'primary',
      PRIMARY_PREFERRED: 'primaryPreferred',
      secondary: 'secondary',
      secondaryPreferred: 'secondaryPreferred',
      Nearest: 'nearest',
    };
    for (const [given, mode] of Object.entries(modes)) {
      assert.equal(readMongoArguments({ ...base, read_preference: given }).readPreference?.mode, mode);
    }
    assert.deepEqual(
      readMongoArguments({ ...base, read_preference: 'nearest', tag_sets: [{ dc: 'east' }, {}], max_staleness_seconds: 120 })
        .readPreference,
      {
        mode: 'nearest',
        tags: [{ dc: 'east' }, {}],
        maxStalenessSeconds: 120,
      },
    );
    assert.throws(() => new MongoBackend({ ...base, tag_sets: ['east'] }), ValidationError);
  });

  it('use_replica requires replicaset_name; the name becomes replicaSet', () => {
    assert.throws(
      () => new MongoBackend({ ...base, use_replica: true }),
      (e: unknown) => e instanceof ConfigurationError && /replicaset_name required/.test(e.message),
    );
    assert.equal(readMongoArguments({ ...base, use_replica: 'true', replicaset_name: 'rs0' }).clientOptions.replicaSet, 'rs0');
    assert.equal(readMongoArguments({ ...base, replicaset_name: 'rs0' }).clientOptions.replicaSet, undefined);
  });

  it('mongo_ttl_seconds: -1/0 off, positive seconds or durations on, anything else a ConfigurationError', () => {
    assert.equal(readMongoArguments(base).ttlMs, null);
    assert.equal(readMongoArguments({ ...base, mongo_ttl_seconds: -1 }).ttlMs, null);
    assert.equal(readMongoArguments({ ...base, mongo_ttl_seconds: '0' }).ttlMs, null);
    assert.equal(readMongoArguments({ ...base, mongo_ttl_seconds: 600 }).ttlMs, 600_000);
    assert.equal(readMongoArguments({ ...base, mongo_ttl_seconds: '600' }).ttlMs, 600_000);
    assert.equal(readMongoArguments({ ...base, mongoTtlSeconds: '1.5s' }).ttlMs, 1500);
    for (const bad of ['abc', -5, Number.NaN, Infinity, {}, true]) {
      assert.throws(() => new MongoBackend({ ...base, mongo_ttl_seconds: bad }), ConfigurationError, String(bad));
    }
  });

  it('ssl_cert_reqs must be NONE, OPTIONAL or REQUIRED (also when ssl is off)', () => {
    for (const bad of ['MAYBE', 1, 'CERT_SOMETIMES']) {
      assert.throws(
        () => new MongoBackend({ ...base, ssl: true, ssl_cert_reqs: bad }),
        (e: unknown) => e instanceof ConfigurationError && /ssl_cert_reqs/.test(e.message),
      );
    }
    assert.throws(() => new MongoBackend({ ...base, ssl_cert_reqs: 'bogus' }), ConfigurationError);
    for (const ok of ['none', 'Optional', 'REQUIRED', 'ssl.CERT_NONE', 'CERT_REQUIRED']) {
      assert.equal(readMongoArguments({ ...base, ssl: true, ssl_cert_reqs: ok }).clientOptions.tls, true, ok);
    }
  });

  it('maps the ssl arguments to the driver TLS options and files', () => {
    const off = readMongoArguments({ ...base, ssl_ca_certs: '/ca.pem' });
    assert.equal(off.clientOptions.tls, undefined);
    assert.equal(off.tlsFiles, null);
    const required = readMongoArguments({ ...base, ssl: true, ssl_ca_certs: '/ca.pem', ssl_certfile: '/c.pem', ssl_keyfile: '/k.pem' });
    assert.equal(required.clientOptions.tls, true);
    assert.equal(required.clientOptions.tlsAllowInvalidCertificates, undefined);
    assert.deepEqual(required.tlsFiles, { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' });
    const combined = readMongoArguments({ ...base, ssl: true, ssl_certfile: '/both.pem' });
    assert.deepEqual(combined.tlsFiles, { cert: '/both.pem', key: '/both.pem' });
    const none = readMongoArguments({ ...base, ssl: true, ssl_cert_reqs: 'NONE' });
    assert.equal(none.clientOptions.tlsAllowInvalidCertificates, true);
    assert.equal(none.clientOptions.tlsAllowInvalidHostnames, true);
    assert.throws(() => new MongoBackend({ ...base, ssl: true, ssl_keyfile: '/k.pem' }), ConfigurationError);
  });

  it('maps pool size, timeouts (seconds or durations) and credentials', () => {
    const defaults = readMongoArguments(base).clientOptions;
    assert.equal(defaults.maxPoolSize, 10);
    assert.equal(defaults.serverSelectionTimeoutMS, 5000);
    assert.equal(defaults.connectTimeoutMS, 5000);
    assert.equal(defaults.socketTimeoutMS, 10000);
    assert.equal(defaults.auth, undefined);
    const set = readMongoArguments({
      ...base,
      max_pool_size: '4',
      server_selection_timeout: '250ms',
      socket_timeout: 1,
      username: 'u',
      password: 'p',
    }).clientOptions;
    assert.equal(set.maxPoolSize, 4);
    assert.equal(set.serverSelectionTimeoutMS, 250);
    assert.equal(set.socketTimeoutMS, 1000);
    assert.deepEqual(set.auth, { username: 'u', password: 'p' });
    assert.equal(set.authSource, 'db', 'oslo authenticated against db_name');
    assert.equal(
      readMongoArguments({ ...base, db_hosts: 'mongodb://h/?authSource=admin', username: 'u', password: 'p' }).clientOptions.authSource,
      undefined,
    );
    // oslo passes memcache_username/password = "" to every backend: no credentials.
    assert.equal(readMongoArguments({ ...base, username: '', password: '' }).clientOptions.auth, undefined);
    assert.throws(() => new MongoBackend({ ...base, username: 'u' }), ConfigurationError);
    assert.throws(() => new MongoBackend({ ...base, max_pool_size: 0 }), ValidationError);
  });

  it('passes the CRUD allow-list through and ignores oslo memcache options', () => {
    const s = readMongoArguments({
      ...base,
      wtimeout: 500,
      j: true,
      comment: 'dogpile',
      max_time_ms: 800,
      bypass_document_validation: true,
      read_concern_level: 'majority',
      secondary_acceptable_latency_ms: 20,
      // what oslo's config builder sends to every backend:
      url: ['localhost:11211'],
      dead_retry: 300,
      pool_maxsize: 10,
      pool_unused_timeout: 60,
      pool_connection_get_timeout: 10,
      pool_flush_on_reconnect: false,
      sasl_enabled: false,
      continue_on_error: true,
    });
    assert.deepEqual(s.writeConcern, { wtimeoutMS: 500, journal: true });
    assert.deepEqual(s.readOptions, { comment: 'dogpile', maxTimeMS: 800 });
    assert.deepEqual(s.writeOptions, { comment: 'dogpile', maxTimeMS: 800, bypassDocumentValidation: true });
    assert.equal(s.readConcernLevel, 'majority');
    assert.equal(s.clientOptions.localThresholdMS, 20);
    assert.deepEqual(readMongoArguments({ ...base, fsync: true }).writeConcern, { journal: true });
    assert.throws(() => new MongoBackend({ ...base, read_concern_level: 'eventually' }), ConfigurationError);
  });

  it('client_options are applied last; identical plain settings share a client key', () => {
    const a = readMongoArguments({ ...base, client_options: { appName: 'x', maxPoolSize: 2 } });
    assert.equal(a.clientOptions.maxPoolSize, 2);
    assert.equal(a.clientOptions.appName, 'x');
    assert.equal(readMongoArguments(base).clientKey, readMongoArguments({ ...base, db_name: 'other', cache_collection: 'x' }).clientKey);
    assert.notEqual(readMongoArguments(base).clientKey, readMongoArguments({ ...base, max_pool_size: 3 }).clientKey);
    assert.equal(
      readMongoArguments({ ...base, client_options: { monitorCommands: true, appName: 'a' } }).clientKey,
      readMongoArguments({ ...base, client_options: { appName: 'a', monitorCommands: true } }).clientKey,
    );
    assert.equal(
      readMongoArguments({ ...base, client_options: { autoEncryption: { keyVaultClient: new (class K {})() } } }).clientKey,
      null,
    );
    assert.throws(() => new MongoBackend({ ...base, client_options: 'x' }), ValidationError);
  });

  it('every duration option has a range; out of range is a ValidationError naming the option, the value and the range', () => {
    // Before the ranges, "30d" passed and overflowed Node's timers (fired after 1 ms: ~500 sweeps/s,
    // server selection failing at once), and lock_timeout 1e13 made an Invalid Date stored as 1970.
    const timers = [
      'server_selection_timeout',
      'connect_timeout',
      'socket_timeout',
      'operation_timeout',
      'idle_timeout',
      'sweep_interval',
      'lock_timeout',
    ];
    for (const name of timers) {
      for (const bad of ['30d', 1e13, 2 ** 31 / 1000]) {
        assert.throws(
          () => new MongoBackend({ ...base, [name]: bad }),
          (e: unknown) =>
            e instanceof ValidationError &&
            e.message.includes(name) &&
            e.message.includes(String(bad)) &&
            /between .* and 2147483\.647 s \(24\.8 days\)/.test(e.message),
          `${name}: ${bad}`,
        );
      }
      assert.throws(() => new MongoBackend({ ...base, [name]: -1 }), ValidationError, `${name}: -1`);
      assert.doesNotThrow(() => new MongoBackend({ ...base, [name]: MAX_TIMER_SECONDS }), `${name}: the limit itself`);
    }
    for (const name of ['server_selection_timeout', 'operation_timeout'])
      assert.throws(() => new MongoBackend({ ...base, [name]: 0 }), ValidationError, `${name}: 0`);
    for (const name of ['wtimeout', 'max_time_ms', 'local_threshold_ms']) {
      assert.throws(
        () => new MongoBackend({ ...base, [name]: 2 ** 31 }),
        (e: unknown) => e instanceof ValidationError && e.message.includes(name) && e.message.includes('2147483647'),
        name,
      );
      assert.doesNotThrow(() => new MongoBackend({ ...base, [name]: 2 ** 31 - 1 }), name);
    }
    assert.throws(
      () => new MongoBackend({ ...base, client_options: { serverSelectionTimeoutMS: 30 * 86400_000 } }),
      (e: unknown) => e instanceof ValidationError && e.message.includes('client_options.serverSelectionTimeoutMS'),
    );
    assert.throws(() => new MongoBackend({ ...base, client_options: { waitQueueTimeoutMS: Number.NaN } }), ValidationError);
    assert.throws(
      () => new MongoBackend({ ...base, mongo_ttl_seconds: 1e13 }),
      (e: unknown) => e instanceof ConfigurationError && e.message.includes('mongo_ttl_seconds') && e.message.includes('100 years'),
    );
    assert.equal(readMongoArguments({ ...base, mongo_ttl_seconds: MAX_TTL_SECONDS }).ttlMs, MAX_TTL_SECONDS * 1000);
    const s = readMongoArguments(base);
    assert.deepEqual([s.operationTimeoutMs, s.idleTimeoutMs, s.sweepIntervalMs], [10_000, 5000, 60_000]);
    // The deadline follows the driver timeouts unless set: the larger of server selection and socket.
    assert.equal(readMongoArguments({ ...base, server_selection_timeout: 2, socket_timeout: 2 }).operationTimeoutMs, 2000);
    assert.equal(readMongoArguments({ ...base, server_selection_timeout: 30, socket_timeout: 2 }).operationTimeoutMs, 30_000);
    assert.equal(readMongoArguments({ ...base, server_selection_timeout: 1, socket_timeout: 0 }).operationTimeoutMs, 10_000);
    assert.equal(readMongoArguments({ ...base, socket_timeout: 2, operation_timeout: '750ms' }).operationTimeoutMs, 750);
  });

  it('lock: off by default, lock_timeout in seconds (30 by default), must be positive', () => {
    const s = readMongoArguments(base);
    assert.equal(s.lockEnabled, false);
    assert.equal(s.lockTimeoutMs, 30_000);
    assert.equal(s.lockCollectionName, 'cache_locks');
    assert.equal(readMongoArguments({ ...base, distributed_lock: true, lock_timeout: '2m' }).lockTimeoutMs, 120_000);
    assert.equal(new MongoBackend(base).getMutex('k'), null);
    assert.throws(() => new MongoBackend({ ...base, lock_timeout: 0 }), ConfigurationError);
    assert.throws(() => new MongoBackend({ ...base, distributed_lock: true }).getMutex(''), ValidationError);
  });

  it('son_manipulator: an object or a class with both methods', () => {
    const identity: MongoDocumentTransform = { transformIncoming: (d) => d, transformOutgoing: (d) => d as never };
    assert.equal(resolveTransform(identity), identity);
    class T implements MongoDocumentTransform {
      transformIncoming(d: Record<string, unknown>): Record<string, unknown> {
        return d;
      }
      transformOutgoing(d: Record<string, unknown>): never {
        return d as never;
      }
    }
    assert.ok(resolveTransform(T) instanceof T);
    assert.equal(resolveTransform('oslo_cache.backends.mongo.BaseTransform'), null, "oslo's default by name");
    for (const bad of ['mypackage.transforms.Custom', { transformIncoming: () => ({}) }, 42]) {
      assert.throws(() => new MongoBackend({ ...base, son_manipulator: bad }), ConfigurationError);
    }
  });
});

describe('MongoBackend db_hosts', () => {
  it('uses one connection string verbatim', () => {
    for (const uri of ['mongodb://h1:1,h2:2/db?replicaSet=rs', 'mongodb+srv://cluster.example.com/', 'mongodb://u:p%40@h/']) {
      assert.equal(connectionString(uri), uri);
    }
  });

  it('turns host:port seeds (a list or a comma-separated string) into a seed list', () => {
    assert.equal(connectionString('localhost'), 'mongodb://localhost/');
    assert.equal(connectionString('h1:27017'), 'mongodb://h1:27017/');
    assert.equal(connectionString(['h1:1', 'h2:2', 'h1:1']), 'mongodb://h1:1,h2:2/');
    assert.equal(connectionString('h1:1, h2:2'), 'mongodb://h1:1,h2:2/');
    assert.equal(connectionString(['[::1]:27017']), 'mongodb://[::1]:27017/');
    assert.equal(connectionString('/tmp/mongodb-27017.sock'), 'mongodb://%2Ftmp%2Fmongodb-27017.sock/');
  });

  it('merges a list of connection strings that agree on credentials and options', () => {
    assert.equal(connectionString(['mongodb://h1:1', 'mongodb://h2:2/?replicaSet=rs']), 'mongodb://h1:1,h2:2/?replicaSet=rs');
    assert.equal(connectionString(['mongodb://u:p@h1', 'h2:2']), 'mongodb://u:p@h1,h2:2/');
    assert.throws(() => connectionString(['mongodb://a:b@h1', 'mongodb://c:d@h2']), ConfigurationError);
    assert.throws(() => connectionString(['mongodb://h1/x', 'mongodb://h2/y']), ConfigurationError);
    assert.throws(() => connectionString(['mongodb+srv://c.example.com', 'h2']), ConfigurationError);
  });

  it('rejects empty and malformed values', () => {
    for (const bad of ['', ' , ', [], 'http://h', 'h1/db', 'user@h', 42, [1], 'mongodb://']) {
      assert.throws(() => connectionString(bad), ConfigurationError, JSON.stringify(bad));
    }
  });

  it('an error about db_hosts never shows the password in it (message, stack, cause, any property)', () => {
    // Before the fix each of these quoted the whole URI, password included.
    const secret = 'Pl4nted-s3cret';
    const cases: unknown[] = [
      `mongdb://app:${secret}@db:27017/`, // a scheme typo
      `mongodb:/app:${secret}@db:27017/`, // a missing slash: read as a seed
      `mongodb://app:${secret}@/cache`, // no host
      `app:${secret}@db:27017`, // a user:pass@host seed
      [`app:${secret}@db`, 'h2'],
      [`mongodb://app:${secret}@h1`, `mongodb://other:${secret}x@h2`], // disagreeing credentials
      `mongodb://app:p@ss${secret}@db/`, // an unescaped @ in the password
      [`mongodb://app:${secret}@h1`, 7],
    ];
    for (const dbHosts of cases) {
      assert.throws(
        () => new MongoBackend({ ...base, db_hosts: dbHosts }),
        (e: unknown) =>
          e instanceof ConfigurationError &&
          /db_hosts/.test(e.message) &&
          !inspect(e, { depth: 10 }).includes(secret) &&
          !inspect(e).includes('p@ss'),
        JSON.stringify(dbHosts),
      );
    }
    assert.throws(
      () => new MongoBackend({ ...base, db_hosts: 'h', username: 'u', password: secret, w: 'x' }),
      (e: unknown) => e instanceof ConfigurationError && !inspect(e).includes(secret),
    );
  });

  it('a connection string the driver rejects: ConfigurationError at the first call, no password in it or its cause', async () => {
    // These fail in the driver's URI parser, before any network I/O. Its messages do not quote the
    // password today; every error leaving the backend is scrubbed anyway (scrubError), whatever they say.
    const secret = 'Pl4nted-s3cret';
    for (const uri of [
      `mongodb://app:${secret}%zz@127.0.0.1:1/`,
      `mongodb://app:${secret}:x@127.0.0.1:1/`,
      `mongodb://app:${secret}@127.0.0.1:notaport/`,
      `mongodb://app:${secret}@127.0.0.1:1/?tls=maybe`,
    ]) {
      const b = new MongoBackend({ ...base, db_hosts: uri });
      await assert.rejects(
        b.get('k'),
        (e: unknown) => e instanceof ConfigurationError && !inspect(e, { depth: 20 }).includes(secret),
        uri.replace(secret, '***'),
      );
      await b.close();
    }
  });

  it('scrubError rewrites every string along the cause chain, %-decoded passwords too', () => {
    const secrets = collectSecrets(['mongodb://u:a%2Fb@h', 'x:y@h2'], 'pw-arg');
    assert.deepEqual(new Set(secrets), new Set(['a%2Fb', 'a/b', 'y', 'pw-arg']));
    const inner = Object.assign(new TypeError('Invalid URL'), { input: 'mongodb://u:a%2Fb@h' });
    const outer = new Error('failed for a/b and pw-arg', { cause: inner });
    scrubError(outer, secrets);
    const text = inspect(outer, { depth: 10 });
    for (const secret of ['a%2Fb', 'a/b', 'pw-arg']) assert.ok(!text.includes(secret), secret);
    assert.equal(inner.input, 'mongodb://***@h');
  });
});

describe('MongoBackend BSON value check', () => {
  const storable = (value: unknown): void => assertStorable({ _id: 'k', value, meta: { ct: 1, v: 2 }, doc_date: new Date() }, 'k');

  it('accepts the types BSON stores faithfully', () => {
    for (const value of [
      's',
      1,
      1.5,
      -1e300,
      true,
      null,
      undefined,
      [1, [2, { a: null }]],
      { a: { b: 'c' } },
      new Date(0),
      Buffer.from('x'),
      new Uint8Array(2),
      /x/g,
      2n ** 63n - 1n,
      -(2n ** 63n),
      Object.assign(Object.create(null) as object, { a: 1 }),
      { $x: 1, 'a.b': 2 },
    ]) {
      storable(value);
    }
  });

  it('rejects, with the path, what BSON would silently change', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 'leaf';
    for (let i = 0; i < 120; i++) deep = [deep];
    const cases: [unknown, RegExp][] = [
      [new Set([1]), /Set/],
      [{ m: new Map([['a', 1]]) }, /doc\.value\.m is an instance of Map/],
      [[1, () => 1], /doc\.value\[1\] is a function/],
      [{ s: Symbol('x') }, /symbol/],
      [new Date(Number.NaN), /invalid Date/],
      [2n ** 63n, /64-bit/],
      [new Float64Array(1), /Float64Array/],
      [
        new (class Point {
          x = 1;
        })(),
        /Point/,
      ],
      [{ $ref: 'c', $id: 1 }, /DBRef/],
      [cyclic, /circular/],
      [deep, /100 levels/],
      [{ 'a b': new Set() }, /doc\.value\["a b"\]/],
    ];
    for (const [value, pattern] of cases) {
      assert.throws(
        () => storable(value),
        (e: unknown) => e instanceof SerializationError && pattern.test(e.message) && e.message.includes('"k"'),
        String(pattern),
      );
    }
  });

  it('encodes the oslo document shape; an undefined payload leaves value out and reads back as undefined', () => {
    const date = new Date(5000);
    const value = makeCachedValue({ a: 1 }, 1000);
    assert.deepEqual(encodeEntry('k', value, date, null), { _id: 'k', value: { a: 1 }, meta: { ct: 1, v: 2 }, doc_date: date });
    const undef = encodeEntry('k', makeCachedValue(undefined, 1000), date, null);
    assert.equal('value' in undef, false);
    const back = decodeEntry(undef, null, 5000);
    assert.ok(!isNoValue(back));
    assert.equal(back.payload, undefined);
  });

  it('a stored document that is not a cache entry is a SerializationError naming the key and the problem', () => {
    const now = Date.UTC(2026, 0, 1);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ _id: 'k', value: 1 }, /no \{ct, v\} metadata/],
      [{ _id: 'k', value: 1, meta: 'x' }, /no \{ct, v\} metadata/],
      [{ _id: 'k', value: 1, meta: { ct: Number.NaN, v: 2 } }, /ct that is not a finite number/],
      [{ _id: 'k', value: 1, meta: { ct: '1', v: 2 } }, /ct that is not a finite number/],
      [{ _id: 'k', value: 1, meta: { ct: now / 1000 + 2 * 86400, v: 2 } }, /ct in the future/],
      [{ _id: 'k', value: 1, meta: { ct: now / 1000, v: '2' } }, /version v that is not a number/],
    ];
    for (const [doc, pattern] of cases) {
      assert.throws(
        () => decodeEntry(doc, null, now),
        (e: unknown) => e instanceof SerializationError && pattern.test(e.message) && e.message.includes('"k"'),
        String(pattern),
      );
    }
    // Clock skew between writers of up to a day is not corruption.
    assert.deepEqual(decodeEntry({ _id: 'k', value: 1, meta: { ct: now / 1000 + 3600, v: 2 } }, null, now), {
      payload: 1,
      metadata: { ct: now / 1000 + 3600, v: 2 },
    });
  });

  it('wraps a throwing transform in SerializationError', () => {
    const broken: MongoDocumentTransform = {
      transformIncoming: () => {
        throw new Error('in');
      },
      transformOutgoing: () => {
        throw new Error('out');
      },
    };
    assert.throws(() => encodeEntry('k', makeCachedValue(1), new Date(), broken), SerializationError);
    assert.throws(() => decodeEntry({ _id: 'k' }, broken, 0), SerializationError);
  });
});

describe('MongoBackend expiry model', () => {
  it('doc_date is the exact expiry instant; "never" is the end of year 9999', () => {
    assert.equal(expiryDate(1000, 60_000).getTime(), 61_000);
    assert.equal(expiryDate(1000, null), NEVER_EXPIRES);
    assert.equal(NEVER_EXPIRES.toISOString(), '9999-12-31T23:59:59.999Z');
  });

  it('asks for { doc_date: 1 } with expireAfterSeconds 0 (oslo used the TTL twice)', () => {
    assert.deepEqual(ttlIndexSpec('doc_date'), { key: { doc_date: 1 }, options: { name: 'doc_date_1', expireAfterSeconds: 0 } });
  });

  const fakeCollection = (error: unknown): never =>
    ({ namespace: 'db.c', collectionName: 'c', createIndex: async () => Promise.reject(error) }) as never;
  const unavailable = (e: unknown): boolean => e instanceof MongoNetworkError;

  for (const [code, outcome, warning] of [
    [238, 'unsupported', 'ttl-index-unsupported'],
    [115, 'unsupported', 'ttl-index-unsupported'],
    [85, 'conflict', 'ttl-index-conflict'],
    [86, 'conflict', 'ttl-index-conflict'],
    [13, 'failed', 'ttl-index-failed'],
  ] as const) {
    it(`a createIndexes answer with code ${code} is "${outcome}" and warns ${warning}`, async () => {
      const warnings: MongoBackendWarning[] = [];
      const result = await ensureTtlIndex(fakeCollection(new MongoServerError('no', code)), 'doc_date', unavailable, (w) =>
        warnings.push(w),
      );
      assert.equal(result, outcome);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.code, warning);
      assert.equal(warnings[0]?.namespace, 'db.c');
    });
  }

  it('a network failure while creating the index is thrown (the setup is retried)', async () => {
    await assert.rejects(
      ensureTtlIndex(fakeCollection(new MongoNetworkError('down')), 'doc_date', unavailable, () => assert.fail('no warning')),
      MongoNetworkError,
    );
  });
});

describe('MongoBackend driver error mapping', () => {
  it('server down or timed out → BackendUnavailableError with the cause', () => {
    for (const error of [
      new MongoNetworkError('x'),
      new MongoNetworkTimeoutError('x'),
      new MongoServerSelectionError('x'),
      new MongoServerError('x', 91),
      new MongoServerError('x', 50),
    ]) {
      const mapped = mapDriverError(error, 'get');
      assert.ok(mapped instanceof BackendUnavailableError, error.constructor.name);
      assert.equal(mapped.cause, error);
    }
  });

  it('values the server or BSON refuses → SerializationError / ValueTooLargeError', () => {
    assert.ok(mapDriverError(new BSONError('Cannot convert circular structure to BSON'), 'set') instanceof SerializationError);
    assert.ok(mapDriverError(new MongoServerError('invalid key: "$x"', 2), 'set') instanceof SerializationError);
    assert.ok(mapDriverError(new MongoServerError('BSONObj size: 17000000 is invalid', 10334), 'set') instanceof ValueTooLargeError);
    const overflow = Object.assign(new RangeError('The value of "offset" is out of range.'), { code: 'ERR_OUT_OF_RANGE' });
    assert.ok(mapDriverError(overflow, 'set') instanceof ValueTooLargeError);
    const bulk = new MongoBulkWriteError('bulk', 2);
    bulk.writeErrors = [{ index: 1, code: 2, errmsg: 'invalid key' }];
    const mapped = mapDriverError(bulk, 'setMulti', ['a', 'b', 'c']);
    assert.ok(mapped instanceof SerializationError);
    assert.match(mapped.message, /"b"/);
  });

  it('a bulk write that failed as a whole is mapped by the error inside it', () => {
    const bulk = Object.assign(new MongoBulkWriteError('connection timed out'), {
      errorResponse: new MongoNetworkTimeoutError('connection timed out'),
    });
    assert.ok(mapDriverError(bulk, 'setMulti', ['a']) instanceof BackendUnavailableError);
  });

  it('a pool wait timeout → QueueEmptyError; anything else passes through unchanged', () => {
    assert.ok(mapDriverError(new WaitQueueTimeoutError('x'), 'get') instanceof QueueEmptyError);
    const auth = new MongoServerError('not authorized', 13);
    assert.equal(mapDriverError(auth, 'get'), auth);
    const plain = new Error('boom');
    assert.equal(mapDriverError(plain, 'get'), plain);
  });
});

describe('MongoBackend write strategy', () => {
  /** A fake collection recording the driver calls it receives. */
  function recorder(failInsert?: unknown): { calls: [string, unknown, unknown][]; collection: never } {
    const calls: [string, unknown, unknown][] = [];
    const record = (name: string) => async (arg: unknown, options: unknown) => {
      calls.push([name, arg, options]);
      if (name === 'insertMany' && failInsert !== undefined) throw failInsert;
      return {};
    };
    return {
      calls,
      collection: { bulkWrite: record('bulkWrite'), deleteMany: record('deleteMany'), insertMany: record('insertMany') } as never,
    };
  }
  const docs = [
    { _id: 'a', value: 1 },
    { _id: 'b', value: 2 },
  ];

  it('MongoDB: one unordered bulkWrite of replaceOne upserts', async () => {
    const { calls, collection } = recorder();
    await replaceMany(collection, ['a', 'b'], docs, { comment: 'c' }, 'mongodb');
    assert.deepEqual(
      calls.map(([name]) => name),
      ['bulkWrite'],
    );
    assert.deepEqual(
      calls[0]?.[1],
      docs.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })),
    );
    assert.deepEqual(calls[0]?.[2], { comment: 'c', ordered: false });
  });

  it('FerretDB: deleteMany $in then unordered insertMany (a single entry stays one replace)', async () => {
    const { calls, collection } = recorder();
    await replaceMany(collection, ['a', 'b'], docs, {}, 'ferretdb');
    assert.deepEqual(
      calls.map(([name, arg]) => [name, arg]),
      [
        ['deleteMany', { _id: { $in: ['a', 'b'] } }],
        ['insertMany', docs],
      ],
    );
    assert.deepEqual(calls[1]?.[2], { ordered: false });
    const single = recorder();
    await replaceMany(single.collection, ['a'], [docs[0] as never], {}, 'ferretdb');
    assert.deepEqual(
      single.calls.map(([name]) => name),
      ['bulkWrite'],
    );
  });

  it("FerretDB: a concurrent writer's duplicate key is not an error; anything else is", async () => {
    const dup = Object.assign(new Error('E11000'), { writeErrors: [{ code: 11000, index: 0 }] });
    await replaceMany(recorder(dup).collection, ['a', 'b'], docs, {}, 'ferretdb');
    const other = Object.assign(new Error('bad'), { writeErrors: [{ code: 11000 }, { code: 2 }] });
    await assert.rejects(replaceMany(recorder(other).collection, ['a', 'b'], docs, {}, 'ferretdb'), /bad/);
  });

  it('detects FerretDB by buildInfo; a refused buildInfo means MongoDB; a network failure is thrown', async () => {
    const db = (answer: () => Promise<unknown>): never => ({ command: answer }) as never;
    const unavailable = (e: unknown): boolean => e instanceof MongoNetworkError;
    assert.equal(
      await detectServer(
        db(async () => ({ version: '7.0.0', ferretdbVersion: 'v1.24.2' })),
        unavailable,
      ),
      'ferretdb',
    );
    assert.equal(
      await detectServer(
        db(async () => ({ version: '7.0.0' })),
        unavailable,
      ),
      'mongodb',
    );
    assert.equal(
      await detectServer(
        db(async () => Promise.reject(new MongoServerError('unauthorized', 13))),
        unavailable,
      ),
      'mongodb',
    );
    await assert.rejects(
      detectServer(
        db(async () => Promise.reject(new MongoNetworkError('down'))),
        unavailable,
      ),
      MongoNetworkError,
    );
  });

  it('splits $in key lists only past 8 MB of keys', () => {
    assert.equal(keyBatches(Array.from({ length: 10_000 }, (_, i) => `key-${i}`)).length, 1);
    const big = Array.from({ length: 40 }, (_, i) => `${i}-${'x'.repeat(100_000)}`);
    const batches = keyBatches(big);
    assert.ok(batches.length > 1);
    assert.deepEqual(batches.flat(), big);
  });

  it('an entry is live only while its doc_date is a Date after now', () => {
    assert.equal(isLive({ doc_date: new Date(1001) }, 1000), true);
    assert.equal(isLive({ doc_date: new Date(1000) }, 1000), false);
    assert.equal(isLive({ doc_date: 5000 }, 1000), false);
    assert.equal(isLive({}, 1000), false);
    assert.equal(isLive({ doc_date: NEVER_EXPIRES }, Date.UTC(3000, 0, 1)), true);
  });
});

describe('MongoBackend without the mongodb package', () => {
  it('constructs, and its first call rejects with MissingDependencyError naming the package', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-no-mongodb-'));
    try {
      // A resolve hook that makes `mongodb` missing, as in an install without the optional peer.
      const hooks = path.join(dir, 'hooks.mjs');
      fs.writeFileSync(
        hooks,
        `export async function resolve(specifier, context, next) {
  if (specifier === 'mongodb') throw Object.assign(new Error("Cannot find package 'mongodb'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`,
      );
      const register = path.join(dir, 'register.mjs');
      fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`);
      const backendModule = fileURLToPath(new URL('../../src/backends/mongo/index.ts', import.meta.url));
      const script = `
        import { MongoBackend } from ${JSON.stringify(backendModule)};
        const b = new MongoBackend({ db_hosts: 'localhost', db_name: 'd', cache_collection: 'c' });
        try { await b.get('k'); process.exitCode = 3; }
        catch (e) { process.stdout.write(JSON.stringify({ name: e.name, packageName: e.packageName })); }
        await b.close();
      `;
      const result = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { name: 'MissingDependencyError', packageName: 'mongodb' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
