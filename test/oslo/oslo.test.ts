import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  ConfigurationError,
  DictionaryBackend,
  NO_VALUE,
  NullBackend,
  ProxyBackend,
  manualClock,
  sha1MangleKey,
} from '../../src/index.js';
import {
  CacheIsolatingProxy,
  DebugProxy,
  buildCacheConfig,
  configureCacheRegion,
  createRegion,
  getMemoizationDecorator,
  loadOsloConfig,
  registerProxy,
  type OsloConf,
} from '../../src/oslo/index.js';

// Ports of oslo.cache tests/unit/test_cache_basics.py (the ★ items of the reference).
describe('oslo layer: configureCacheRegion', () => {
  it('configures the backend from [cache] and installs the sha1 mangler', async () => {
    const region = configureCacheRegion({ cache: { enabled: true, backend: 'oslo_cache.dict' } }, createRegion());
    assert.ok(region.backend instanceof DictionaryBackend);
    assert.equal(region.expirationTime, 600);
    assert.equal(region.keyMangler, sha1MangleKey);
    await region.set('hello', 'world');
    assert.notEqual(await region.backend.get('aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'), NO_VALUE, 'stored under sha1("hello")');
  });

  it('uses the null backend when caching is disabled globally', () => {
    const region = configureCacheRegion({ cache: { enabled: false, backend: 'oslo_cache.dict' } }, createRegion());
    assert.ok(region.backend instanceof NullBackend);
  });

  it('is a no-op on a region configured before (test_cache_region_no_error_multiple_config)', () => {
    const region = createRegion();
    const conf = { cache: { enabled: true, backend: 'oslo_cache.dict' } };
    configureCacheRegion(conf, region);
    const backend = region.backend;
    configureCacheRegion(conf, region);
    assert.equal(region.backend, backend);
  });

  it('rejects something that is not a region', () => {
    assert.throws(
      () => configureCacheRegion({ cache: {} }, 'bogus' as never),
      (e: Error) => e instanceof ConfigurationError && /region not type/.test(e.message),
    );
    assert.throws(() => configureCacheRegion({} as never, createRegion()), ConfigurationError);
  });

  it('keeps a mangler the user gave the region', () => {
    const mangler = (key: string): string => `mine:${key}`;
    const region = configureCacheRegion({ cache: { enabled: true, backend: 'oslo_cache.dict' } }, new CacheRegion({ keyMangler: mangler }));
    assert.equal(region.keyMangler, mangler);
  });

  it('debug_cache_backend and proxies wrap the backend, the last proxy outermost', async () => {
    class Marker extends ProxyBackend {}
    registerProxy('tests.Marker', Marker);
    const region = configureCacheRegion(
      {
        cache: {
          enabled: true,
          backend: 'oslo_cache.dict',
          debug_cache_backend: true,
          proxies: 'oslo_cache.testing.CacheIsolatingProxy,tests.Marker',
        },
      },
      createRegion(),
    );
    assert.ok(region.backend instanceof Marker);
    assert.ok((region.backend as ProxyBackend).proxied instanceof CacheIsolatingProxy);
    assert.ok(((region.backend as ProxyBackend).proxied as ProxyBackend).proxied instanceof DebugProxy);
    // test_cache_debug_proxy: every operation still round-trips through the proxies.
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'v');
    await region.setMulti({ a: 1, b: 2 });
    assert.deepEqual(await region.getMulti(['a', 'b']), [1, 2]);
    await region.deleteMulti(['a', 'b']);
    await region.delete('k');
    assert.deepEqual(await region.getMulti(['a', 'k']), [NO_VALUE, NO_VALUE]);
    assert.throws(
      () => configureCacheRegion({ cache: { enabled: true, backend: 'oslo_cache.dict', proxies: ['nope.Proxy'] } }, createRegion()),
      /Unknown \[cache\] proxies entry/,
    );
  });

  it('CacheIsolatingProxy hands out copies', async () => {
    const region = configureCacheRegion(
      { cache: { enabled: true, backend: 'oslo_cache.dict', proxies: ['oslo_cache.testing.CacheIsolatingProxy'] } },
      createRegion(),
    );
    const value = { list: [1] };
    await region.set('k', value);
    value.list.push(2);
    const read = (await region.get('k')) as { list: number[] };
    assert.deepEqual(read, { list: [1] });
    read.list.push(3);
    assert.deepEqual(await region.get('k'), { list: [1] });
  });
});

describe('oslo layer: buildCacheConfig (test_cache_config_builder)', () => {
  it('builds prefix, backend, expiration and backend_argument entries (split once on ":"), skipping malformed ones', () => {
    const config = buildCacheConfig({
      config_prefix: 'test_prefix',
      backend: 'oslo_cache.dict',
      enabled: true,
      expiration_time: 86400,
      backend_argument: ['arg1:test', 'arg2:test:test', 'arg3.invalid'],
    });
    assert.equal(config['test_prefix.backend'], 'oslo_cache.dict');
    assert.equal(config['test_prefix.expiration_time'], 86400);
    assert.equal(config['test_prefix.arguments.arg1'], 'test');
    assert.equal(config['test_prefix.arguments.arg2'], 'test:test');
    assert.equal('test_prefix.arguments.arg3.invalid' in config, false);
    assert.deepEqual(config['test_prefix.arguments.url'], ['localhost:11211']);
  });

  it('splits url on "," for the memcache backends only', () => {
    const memcache = buildCacheConfig({ enabled: true, backend: 'oslo_cache.memcache_pool', backend_argument: ['url:a:1,b:2'] });
    assert.deepEqual(memcache['cache.oslo.arguments.url'], ['a:1', 'b:2']);
    const dict = buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', backend_argument: ['url:a:1,b:2'] });
    assert.equal(dict['cache.oslo.arguments.url'], 'a:1,b:2');
  });

  it('uses the null backend when disabled (test_cache_config_builder_global_disabled)', () => {
    assert.equal(buildCacheConfig({ enabled: false, backend: 'oslo_cache.dict' })['cache.oslo.backend'], 'dogpile.cache.null');
  });

  it('passes the memcache pool options (flush_on_reconnect mirrors the option)', () => {
    const config = buildCacheConfig({
      enabled: true,
      backend: 'oslo_cache.memcache_pool',
      memcache_pool_flush_on_reconnect: true,
      memcache_dead_retry: 10,
    });
    assert.equal(config['cache.oslo.arguments.pool_flush_on_reconnect'], true);
    assert.equal(config['cache.oslo.arguments.dead_retry'], 10);
    assert.equal(config['cache.oslo.arguments.pool_maxsize'], 10);
  });

  it('backend_expiration_time: memcached_expire_time for memcache; lifetime arguments for ours; too small is an error', () => {
    assert.equal(
      buildCacheConfig({ enabled: true, backend: 'oslo_cache.memcache_pool', backend_expiration_time: 600 })[
        'cache.oslo.arguments.memcached_expire_time'
      ],
      600,
    );
    assert.equal(
      buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', backend_expiration_time: 700 })['cache.oslo.arguments.expiration_time'],
      700,
    );
    assert.throws(
      () => buildCacheConfig({ enabled: true, backend: 'oslo_cache.memcache_pool', backend_expiration_time: 599 }),
      /should not be smaller/,
    );
    assert.throws(
      () => buildCacheConfig({ enabled: true, backend: 'dogpile.cache.null', backend_expiration_time: 700 }),
      ConfigurationError,
    );
  });

  it('rejects options for clients this library does not have', () => {
    assert.throws(() => buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', tls_enabled: true }), ConfigurationError);
    assert.throws(() => buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', enable_socket_keepalive: true }), ConfigurationError);
    assert.throws(() => buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', enable_retry_client: true }), ConfigurationError);
  });
});

describe('oslo layer: getMemoizationDecorator', () => {
  function setup(
    cache: Record<string, unknown>,
    group: Record<string, unknown> = {},
  ): { conf: OsloConf; region: CacheRegion; clock: ReturnType<typeof manualClock> } {
    const clock = manualClock();
    const conf: OsloConf = { cache: { enabled: true, backend: 'oslo_cache.dict', ...cache }, identity: group };
    const region = configureCacheRegion(conf, new CacheRegion({ clock }));
    return { conf, region, clock };
  }

  for (const [label, cacheEnabled, groupCaching, cached] of [
    ['global enabled', true, undefined, true],
    ['global disabled', false, undefined, false],
    ['global disabled, group enabled', false, true, false],
    ['global enabled, group disabled', true, false, false],
    ['global enabled, group enabled', true, true, true],
  ] as const) {
    it(`shouldCache: ${label}`, async () => {
      const { conf, region } = setup({}, groupCaching === undefined ? {} : { caching: groupCaching });
      conf.cache.enabled = cacheEnabled;
      let calls = 0;
      const memoized = getMemoizationDecorator(
        conf,
        region,
        'identity',
      )(async function lookup(id: number) {
        calls++;
        return id;
      });
      await memoized(1);
      await memoized(1);
      assert.equal(calls, cached ? 1 : 2);
    });
  }

  it('group cache_time wins over [cache] expiration_time (no fallthrough)', async () => {
    const { conf, region, clock } = setup({ expiration_time: 1 }, { cache_time: 600 });
    let calls = 0;
    const memoized = getMemoizationDecorator(
      conf,
      region,
      'identity',
    )(async function lookup() {
      return ++calls;
    });
    await memoized();
    clock.advance(300_000);
    assert.equal(await memoized(), 1);
    clock.advance(1_200_000);
    assert.equal(await memoized(), 2);
  });

  it('no group cache_time falls back to [cache] expiration_time', async () => {
    const { conf, region, clock } = setup({ expiration_time: 10 });
    let calls = 0;
    const decorator = getMemoizationDecorator(conf, region, 'identity');
    assert.equal(decorator.getExpirationTime(), null);
    const memoized = decorator(async function lookup() {
      return ++calls;
    });
    await memoized();
    clock.advance(11_000);
    assert.equal(await memoized(), 2);
  });
});

describe('oslo layer: loadOsloConfig', () => {
  it('reads a keystone.conf [cache] section with oslo types and defaults', () => {
    const conf = loadOsloConfig(`
[DEFAULT]
debug = true

# the cache
[cache]
enabled = True
backend = oslo_cache.memcache_pool
memcache_servers = 10.0.0.1:11211, 10.0.0.2:11211
backend_argument = pool_maxsize:5
backend_argument = url:a:1
memcache_dead_retry = 30
socket_timeout = 0.5

[identity]
caching = false
cache_time = 120
`);
    assert.equal(conf.cache.enabled, true);
    assert.equal(conf.cache.backend, 'oslo_cache.memcache_pool');
    assert.deepEqual(conf.cache.memcache_servers, ['10.0.0.1:11211', '10.0.0.2:11211']);
    assert.deepEqual(conf.cache.backend_argument, ['pool_maxsize:5', 'url:a:1']);
    assert.equal(conf.cache.memcache_dead_retry, 30);
    assert.equal(conf.cache.socket_timeout, 0.5);
    assert.equal(conf.cache.expiration_time, 600, 'oslo default');
    assert.equal(conf.cache.config_prefix, 'cache.oslo');
    assert.equal(conf.identity?.caching, false);
    assert.equal(conf.identity?.cache_time, 120);
  });

  it('reports bad values and lines clearly', () => {
    assert.throws(
      () => loadOsloConfig('[cache]\nexpiration_time = soon\n'),
      (e: Error) => e instanceof ConfigurationError && /\[cache\] expiration_time must be an integer/.test(e.message),
    );
    assert.throws(() => loadOsloConfig('[cache]\nthis is not a pair\n'), /Line 2/);
    assert.throws(() => loadOsloConfig(42 as never), /INI text/);
  });

  it('a loaded config configures a working region', async () => {
    const conf = loadOsloConfig('[cache]\nenabled = true\nbackend = oslo_cache.dict\nbackend_argument = expiration_time:5\n');
    const region = configureCacheRegion(conf, createRegion());
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'v');
  });
});

describe('oslo layer: issue 14/16 fixes', () => {
  it('enabled = false with a memcache backend and backend_expiration_time starts (mapped against the configured backend)', async () => {
    const cache = { enabled: false, backend: 'oslo_cache.memcache_pool', backend_expiration_time: 700 };
    const config = buildCacheConfig(cache);
    assert.equal(config['cache.oslo.backend'], 'dogpile.cache.null');
    assert.equal(config['cache.oslo.arguments.memcached_expire_time'], 700, 'as oslo: mapped for the configured memcache backend');
    const region = configureCacheRegion({ cache }, createRegion());
    assert.ok(region.backend instanceof NullBackend);
    await region.close();
  });

  it('loadOsloConfig strips matching quotes as oslo.config does', () => {
    const conf = loadOsloConfig(`[cache]
expiration_time = "120"
backend = 'oslo_cache.dict'
backend_argument = "url:x"
backend_argument = '"q'
backend_argument = "a:b
enabled = "true"
`);
    assert.equal(conf.cache.expiration_time, 120);
    assert.equal(conf.cache.backend, 'oslo_cache.dict');
    assert.equal(conf.cache.enabled, true);
    assert.deepEqual(conf.cache.backend_argument, ['url:x', '"q', '"a:b'], 'a value whose quotes do not match keeps them');
  });

  it('a keystone.conf password of digits reaches the memcached backend as a string', async () => {
    const conf = loadOsloConfig(`[cache]
enabled = true
backend = oslo_cache.memcache_pool
memcache_servers = 127.0.0.1:1
memcache_sasl_enabled = true
username = admin
password = 31415926
`);
    assert.equal(conf.cache.password, '31415926');
    const region = configureCacheRegion(conf, createRegion());
    await region.close();
  });

  it('Object.prototype pollution does not reach the oslo options', async () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.enabled = true;
    polluted.cache = { enabled: true, backend: 'oslo_cache.dict' };
    try {
      const region = configureCacheRegion({ cache: { backend: 'oslo_cache.dict' } }, createRegion());
      assert.ok(region.backend instanceof NullBackend, 'enabled comes from the conf itself, not the prototype');
      assert.throws(() => configureCacheRegion({} as never, createRegion()), ConfigurationError);
    } finally {
      delete polluted.enabled;
      delete polluted.cache;
    }
  });
});

describe('oslo layer: no secret in a log line', () => {
  it('a malformed backend_argument is skipped without logging its text (it may hold a password)', async () => {
    const { spawnSync } = await import('node:child_process');
    const script =
      "import { buildCacheConfig } from './src/oslo/index.ts'; buildCacheConfig({ enabled: true, backend: 'oslo_cache.dict', backend_argument: ['password=pl4nted-s3cret'] });";
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, NODE_DEBUG: 'dogpile-cache' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /Skipping backend_argument #1/, 'the skip is logged');
    assert.doesNotMatch(result.stderr, /pl4nted-s3cret/);
  });
});
