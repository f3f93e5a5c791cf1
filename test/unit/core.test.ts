import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BackendUnavailableError,
  CacheRegion,
  ConfigurationError,
  DictionaryBackend,
  DogpileCacheError,
  MAX_SPREAD_ARGUMENTS,
  MemoryBackend,
  MissingDependencyError,
  NO_VALUE,
  ValidationError,
  isDogpileCacheError,
  isNoValue,
} from '../../src/index.js';
import { coerceStringConf, isTruthyConf, makeCachedValue, toSeconds } from '../../src/backend.js';
import { buildCacheConfig, configureCacheRegion, createRegion } from '../../src/oslo/index.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { DeferredBackend } from '../../src/backends/deferred.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';

describe('NO_VALUE', () => {
  it("is one frozen value whose string form is dogpile HEAD's", () => {
    assert.equal(String(NO_VALUE), 'NoValue.NO_VALUE');
    assert.ok(Object.isFrozen(NO_VALUE));
    assert.ok(isNoValue(NO_VALUE));
    for (const value of [null, undefined, '', 0, false, {}]) assert.equal(isNoValue(value), false);
  });
});

describe('errors', () => {
  it('carry a code, a name, a cause, and match instanceof across the hierarchy', () => {
    const cause = new Error('socket closed');
    const error = new BackendUnavailableError('memcached 127.0.0.1:1 is down', { cause });
    assert.equal(error.code, 'ERR_DOGPILE_BACKEND_UNAVAILABLE');
    assert.equal(error.name, 'BackendUnavailableError');
    assert.equal(error.cause, cause);
    assert.ok(error instanceof BackendUnavailableError);
    assert.ok(error instanceof DogpileCacheError);
    assert.ok(error instanceof Error);
    assert.equal(error instanceof ValidationError, false);
    assert.ok(isDogpileCacheError(error));
    assert.ok(isDogpileCacheError(error, BackendUnavailableError.code));
    assert.equal(isDogpileCacheError(new Error('x')), false);
  });

  it('MissingDependencyError names the package and the install command', () => {
    const error = new MissingDependencyError('memjs', 'PooledMemcachedBackend');
    assert.equal(error.packageName, 'memjs');
    assert.match(error.message, /npm install memjs/);
  });
});

describe('durations', () => {
  it('reads seconds and unit strings', () => {
    assert.equal(toSeconds(5, 'x'), 5);
    assert.equal(toSeconds(0.5, 'x'), 0.5);
    assert.equal(toSeconds('250ms', 'x'), 0.25);
    assert.equal(toSeconds('30s', 'x'), 30);
    assert.equal(toSeconds('10m', 'x'), 600);
    assert.equal(toSeconds('2h', 'x'), 7200);
    assert.equal(toSeconds('1d', 'x'), 86400);
    assert.equal(toSeconds('600', 'x'), 600);
    assert.equal(toSeconds(-1, 'x', { allowMinusOne: true }), -1);
  });

  it('rejects NaN, negatives, infinities and words, naming the argument', () => {
    for (const bad of [NaN, -5, -1, Infinity, 'forever', 'one hour', '', null, {}]) {
      assert.throws(
        () => toSeconds(bad, 'expirationTime'),
        (e: Error) => e instanceof ValidationError && e.message.startsWith('expirationTime must be'),
        String(bad),
      );
    }
  });
});

describe('makeCachedValue', () => {
  it('stores creation time in epoch seconds and version 2', () => {
    assert.deepEqual(makeCachedValue('p', 1_500), { payload: 'p', metadata: { ct: 1.5, v: 2 } });
  });
});

describe('coerceStringConf (dogpile coerce_string_conf)', () => {
  it('trims strings before typing them and keeps the trimmed text, as dogpile strips', async () => {
    const typed = coerceStringConf({
      'cache.backend': ' dogpile.cache.memory ',
      'cache.expiration_time': ' 60 ',
      'cache.arguments.name': '  a b  ',
    });
    assert.equal(typed['cache.backend'], 'dogpile.cache.memory');
    assert.equal(typed['cache.expiration_time'], 60);
    assert.equal(typed['cache.arguments.name'], 'a b');
    const region = new CacheRegion().configureFromConfig(
      { 'cache.backend': ' dogpile.cache.memory ', 'cache.expiration_time': ' 60 ' },
      'cache.',
    );
    assert.ok(region.backend instanceof MemoryBackend);
    assert.equal(region.expirationTime, 60);
  });

  it('never types a secret option: a password of digits stays a string', () => {
    const typed = coerceStringConf({
      'cache.arguments.password': ' 31415926 ',
      'cache.arguments.sasl_password': '1',
      'cache.arguments.port': '11211',
    });
    assert.equal(typed['cache.arguments.password'], '31415926');
    assert.equal(typed['cache.arguments.sasl_password'], '1');
    assert.equal(typed['cache.arguments.port'], 11211, 'other options are still typed');
  });

  it('reads only own properties and returns an object without a prototype', () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted['cache.backend'] = 'dogpile.cache.null';
    try {
      const typed = coerceStringConf({ 'cache.expiration_time': '1' });
      assert.equal(typed['cache.backend'], undefined);
      assert.equal(Object.getPrototypeOf(typed), null);
    } finally {
      delete polluted['cache.backend'];
    }
  });

  it('isTruthyConf is Python truthiness after coercion (replace_existing_backend = 1 / yes)', () => {
    const flag = (text: string): boolean => isTruthyConf(coerceStringConf({ f: text }).f);
    for (const yes of ['1', 'yes', 'true', 'True', ' on ', '2', '0.5']) assert.equal(flag(yes), true, yes);
    for (const no of ['0', 'false', 'FALSE', 'None', '', '  ', '0.0']) assert.equal(flag(no), false, JSON.stringify(no));
    assert.equal(isTruthyConf(undefined), false);
    assert.equal(isTruthyConf([]), false);
    assert.equal(isTruthyConf({}), false);
    assert.equal(isTruthyConf(Object.create(null)), false);
    assert.equal(isTruthyConf(['a']), true);
  });
});

describe('backend arguments (ArgumentReader)', () => {
  it("never prints a secret option's value, only its type", () => {
    const error = captureError(() => new PooledMemcachedBackend({ url: '127.0.0.1:1', username: 'admin', password: 31415926 }));
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /argument password must be a string; got a number \(value hidden\)/);
    assert.doesNotMatch(error.message, /31415926/);
  });

  it('redacts URL userinfo in the value it quotes', () => {
    const error = captureError(() => new PooledMemcachedBackend({ url: 'bob:hunter2@h:1:2' }));
    assert.ok(error instanceof ValidationError, String(error));
    assert.doesNotMatch(error.message, /hunter2/);
  });

  it('reads own properties only: Object.prototype pollution is not an argument', async () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.max_entries = 1;
    polluted.url = 'evil.example:11211';
    try {
      const dict = new DictionaryBackend({});
      await dict.set('a', makeCachedValue(1));
      await dict.set('b', makeCachedValue(2));
      assert.equal(dict.size, 2, 'no max_entries came from the prototype');
      assert.throws(() => new PooledMemcachedBackend({}), /needs the url argument/);
      // Were the prototype read, this value would reach Mongo's TLS settings (and 'NONE' would turn checks off).
      polluted.ssl_cert_reqs = 'BOGUS';
      await new MongoBackend({ db_hosts: '127.0.0.1:1', db_name: 'x', cache_collection: 'c' }).close();
    } finally {
      delete polluted.max_entries;
      delete polluted.url;
      delete polluted.ssl_cert_reqs;
    }
  });
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('registry: dogpile and oslo backend names', () => {
  for (const name of ['dogpile.cache.memcached', 'dogpile.cache.pylibmc', 'dogpile.cache.bmemcached', 'dogpile.cache.pymemcache']) {
    it(`${name} runs on the memcached backend with dogpile's argument names`, async () => {
      const region = new CacheRegion().configureFromConfig(
        {
          'cache.backend': name,
          'cache.arguments.url': '127.0.0.1:1',
          'cache.arguments.distributed_lock': 'true',
          'cache.arguments.lock_timeout': '5',
          'cache.arguments.memcached_expire_time': '600',
          'cache.arguments.min_compress_len': '1024',
          'cache.arguments.binary': 'true',
        },
        'cache.',
      );
      // A backend configured by name loads its module on first use: ready() gives the backend itself.
      try {
        assert.ok(region.backend instanceof DeferredBackend);
        assert.ok((await region.backend.ready()) instanceof PooledMemcachedBackend);
      } finally {
        await region.close();
      }
    });
  }

  it('dogpile.cache.bmemcached takes username/password (a password of digits too)', async () => {
    const region = new CacheRegion().configureFromConfig(
      {
        'cache.backend': 'dogpile.cache.bmemcached',
        'cache.arguments.url': '127.0.0.1:1',
        'cache.arguments.username': 'u',
        'cache.arguments.password': '31415926',
      },
      'cache.',
    );
    await region.close();
  });

  it('dogpile.cache.pymemcache refuses what the client cannot do instead of dropping it', () => {
    assert.throws(
      () => new CacheRegion().configure('dogpile.cache.pymemcache', { arguments: { url: '127.0.0.1:1', enable_retry_client: true } }),
      (e: Error) => e instanceof ConfigurationError && /enable_retry_client/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion().configure('dogpile.cache.pymemcache', { arguments: { url: '127.0.0.1:1', socket_keepalive: {} } }),
      ConfigurationError,
    );
  });

  it('a region argument object is not modified by the name mapping', async () => {
    const args = Object.freeze({ url: '127.0.0.1:1' });
    const region = new CacheRegion().configure('dogpile.cache.memcached', { arguments: args });
    await region.close();
  });

  it('an oslo [cache] backend = dogpile.cache.memcached configures (url split, backend_expiration_time mapped)', async () => {
    const conf = {
      cache: {
        enabled: true,
        backend: 'dogpile.cache.memcached',
        backend_argument: ['url:127.0.0.1:1,127.0.0.1:2'],
        backend_expiration_time: 900,
      },
    };
    const config = buildCacheConfig(conf.cache);
    assert.deepEqual(config['cache.oslo.arguments.url'], ['127.0.0.1:1', '127.0.0.1:2']);
    assert.equal(config['cache.oslo.arguments.memcached_expire_time'], 900);
    const region = configureCacheRegion(conf, createRegion());
    try {
      assert.ok(region.backend instanceof DeferredBackend);
      assert.ok((await region.backend.ready()) instanceof PooledMemcachedBackend);
    } finally {
      await region.close();
    }
  });
});

describe('memoization: limits and options', () => {
  it('cacheMultiOnArguments takes up to MAX_SPREAD_ARGUMENTS ids; past it a ValidationError names the limit (never a RangeError)', async () => {
    const region = new CacheRegion().configure('dictionary');
    let calls = 0;
    const double = region.cacheMultiOnArguments({ namespace: 'double' })(async (...ids: number[]) => {
      calls++;
      return ids.map((id) => id * 2);
    });
    const ids = Array.from({ length: MAX_SPREAD_ARGUMENTS }, (_, i) => i);
    const first = (await double(...ids)) as number[];
    assert.equal(first.length, MAX_SPREAD_ARGUMENTS);
    assert.equal(first[MAX_SPREAD_ARGUMENTS - 1], (MAX_SPREAD_ARGUMENTS - 1) * 2);
    assert.deepEqual(await double(...ids), first, 'all hits');
    assert.equal(calls, 1);
    assert.equal((await double.get(...ids)).length, MAX_SPREAD_ARGUMENTS);
    const tooMany = Array.from({ length: 100_000 }, (_, i) => i);
    await assert.rejects(
      double(...tooMany),
      (e: Error) => e instanceof ValidationError && e.message.includes(String(MAX_SPREAD_ARGUMENTS)),
    );
    await assert.rejects(async () => double.get(...tooMany), ValidationError);
    await region.close();
  });

  it('memoizer options come from the object itself, not Object.prototype', async () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.shouldCacheFn = () => false;
    polluted.namespace = 'evil';
    try {
      const region = new CacheRegion().configure('dictionary');
      let calls = 0;
      const load = region.cacheOnArguments()(async function load(id: number) {
        calls++;
        return id;
      });
      await load(1);
      await load(1);
      assert.equal(calls, 1, 'cached: no shouldCacheFn came from the prototype');
      assert.notEqual(await region.get('load|1'), NO_VALUE, 'keyed by the function name, not a polluted namespace');
      await region.close();
    } finally {
      delete polluted.shouldCacheFn;
      delete polluted.namespace;
    }
  });
});
