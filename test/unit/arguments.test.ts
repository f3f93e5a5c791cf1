import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, UNKNOWN_ARGUMENT_WARNING, ValidationError, registerBackend } from '../../src/index.js';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';

// A third-party backend typed by augmenting the map, as the docs show.
declare module '../../src/index.js' {
  interface BackendArgumentsMap {
    'test.augmented': { endpoint: string; retries?: number };
  }
}

// Compile-time checks: `npm run typecheck` fails if a misspelling stops being an error (each line
// marked as an expected error) or a correct spelling becomes one. Never called: they would connect.
export function typedArguments(region: CacheRegion): void {
  region.configure('etcd3', { arguments: { host: '127.0.0.1', lease_ttl: 60, leaseTtl: 60 } });
  // @ts-expect-error: lease_tll is a misspelling of lease_ttl
  region.configure('etcd3', { arguments: { host: '127.0.0.1', lease_tll: 60 } });
  region.configure('oslo_cache.memcache_pool', { arguments: { url: ['h:1'], distributed_lock: true, server_choice: 'python_memcached' } });
  // @ts-expect-error: distributed_lok is a misspelling of distributed_lock
  region.configure('oslo_cache.memcache_pool', { arguments: { url: 'h:1', distributed_lok: true } });
  // @ts-expect-error: not a server_choice
  region.configure('memcached', { arguments: { url: 'h:1', server_choice: 'modulo' } });
  region.configure('test.augmented', { arguments: { endpoint: 'x' } });
  // @ts-expect-error: the augmented interface requires endpoint's type
  region.configure('test.augmented', { arguments: { endpoint: 1 } });
  // An unregistered name in the map's eyes takes any arguments (checked at run time).
  const dynamicName: string = 'mine';
  region.configure(dynamicName, { arguments: { anything: 1 } });
  // By class: the constructor's declared argument type.
  region.configure(PooledMemcachedBackend, { arguments: { url: 'h:1' } });
  // @ts-expect-error: onBackendErrors is a misspelling of onBackendError
  new CacheRegion({ onBackendErrors: 'miss' });
}

function captureWarnings(): { warnings: Error[]; stop: () => void } {
  const warnings: Error[] = [];
  const listener = (warning: Error) => {
    if ((warning as { code?: string }).code === UNKNOWN_ARGUMENT_WARNING) warnings.push(warning);
  };
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}

/** Warnings are emitted on the next tick. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('unknown backend arguments (JavaScript callers)', () => {
  let capture: ReturnType<typeof captureWarnings>;
  beforeEach(() => (capture = captureWarnings()));
  afterEach(() => capture.stop());

  it('warn once per backend and name, with the close matches', async () => {
    // Each test uses names of its own: the once-per-name memory lasts for the process.
    new Etcd3Backend({ host: '127.0.0.1', lease_tll: 60 });
    new Etcd3Backend({ host: '127.0.0.1', lease_tll: 60 });
    await tick();
    assert.equal(capture.warnings.length, 1);
    assert.match(
      capture.warnings[0]!.message,
      /Etcd3Backend arguments has no option "lease_tll"; it is ignored\. Did you mean "lease_ttl"\?/,
    );
    assert.match(capture.warnings[0]!.message, /strict_arguments: true makes this an error/);
  });

  it('etcd3 `url` given directly warns (it connects by host/endpoints, not url)', async () => {
    new Etcd3Backend({ url: 'http://10.0.0.5:2379' });
    await tick();
    assert.equal(capture.warnings.length, 1);
    assert.match(capture.warnings[0]!.message, /has no option "url"/);
  });

  it('the names the oslo layer passes to every backend do not warn through configureFromConfig', async () => {
    const region = new CacheRegion().configureFromConfig(
      {
        'cache.backend': 'oslo_cache.dict',
        'cache.arguments.url': ['localhost:11211'],
        'cache.arguments.socket_timeout': 1,
        'cache.arguments.dead_retry': 300,
        'cache.arguments.pool_flush_on_reconnect': false,
        'cache.arguments.sasl_enabled': false,
      },
      'cache.',
    );
    await region.close();
    await tick();
    assert.deepEqual(
      capture.warnings.map((w) => w.message),
      [],
    );
  });

  it('strict_arguments: true makes an unknown name a ValidationError listing the known ones', () => {
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:11211', distributed_lok: true, strict_arguments: true }),
      (error: unknown) =>
        error instanceof ValidationError &&
        /no option "distributed_lok"\. Did you mean "distributed_lock"\? Known: .*distributed_lock/.test(error.message),
    );
    assert.throws(() => new DictionaryBackend({ max_entry: 3, strictArguments: true }), /Did you mean "max_entries"/);
  });

  it('an explicit strict_arguments: false silences them (arguments shared on purpose)', async () => {
    new Etcd3Backend({ host: '127.0.0.1', shared_setting: 1, strict_arguments: false });
    new CacheRegion({ sharedOption: 1, strictArguments: false } as never);
    await tick();
    assert.deepEqual(
      capture.warnings.map((w) => w.message),
      [],
    );
  });

  it('the null backend (oslo enabled = false) takes any arguments without a warning', async () => {
    new CacheRegion().configure('dogpile.cache.null', { arguments: { db_hosts: 'x', memcached_expire_time: 5 } as never });
    await tick();
    assert.deepEqual(
      capture.warnings.map((w) => w.message),
      [],
    );
  });

  it('dogpile memcached-client arguments without effect here do not warn', async () => {
    new PooledMemcachedBackend({ url: '127.0.0.1:11211', min_compress_len: 100, hashclient_retry_attempts: 2 });
    await tick();
    assert.deepEqual(
      capture.warnings.map((w) => w.message),
      [],
    );
  });
});

describe('unknown region and configure options', () => {
  let capture: ReturnType<typeof captureWarnings>;
  beforeEach(() => (capture = captureWarnings()));
  afterEach(() => capture.stop());

  it('a misspelled region option warns with the close match; strictArguments makes it an error', async () => {
    new CacheRegion({ onBackendErrors: 'miss' } as never);
    await tick();
    assert.equal(capture.warnings.length, 1);
    assert.match(
      capture.warnings[0]!.message,
      /CacheRegion options has no option "onBackendErrors"; it is ignored\. Did you mean "onBackendError"\?/,
    );
    assert.throws(() => new CacheRegion({ strictArguments: true, creatorTimout: 5 } as never), /Did you mean "creatorTimeout"/);
  });

  it('a strict region checks its configure options and its backend arguments', () => {
    const region = new CacheRegion({ strictArguments: true });
    assert.throws(
      () => region.configure('oslo_cache.dict', { expirationtime: 5 } as never),
      /configure options has no option "expirationtime"\. Did you mean "expirationTime"\?/,
    );
    assert.throws(
      () => region.configure('oslo_cache.dict', { arguments: { max_entrys: 5 } as never }),
      /DictionaryBackend arguments has no option "max_entrys"/,
    );
    region.configure('oslo_cache.dict', { arguments: { max_entries: 5 } });
    assert.ok(region.isConfigured);
  });

  it('an augmented backend name configures like any other', async () => {
    registerBackend('test.augmented', DictionaryBackend);
    const region = new CacheRegion().configure('test.augmented', { arguments: { endpoint: 'x' } as never });
    await tick();
    assert.ok(region.isConfigured);
  });
});

// The Mongo names are typed through dogpile-cache/backends/mongo (imported by the test suite's program).
export function typedMongoArguments(region: CacheRegion): void {
  region.configure('mongo', { arguments: { db_hosts: 'localhost', db_name: 'd', cache_collection: 'c' } });
  // @ts-expect-error: db_hots is a misspelling of db_hosts
  region.configure('mongo', { arguments: { db_hots: 'localhost', db_name: 'd', cache_collection: 'c' } });
}
