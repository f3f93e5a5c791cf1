import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterEach, describe, it } from 'node:test';
import { assertDriversInstalled, setPackageResolverForTests } from '../../src/driver.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { CacheRegion, ConfigurationError, MissingDependencyError, ValidationError, registerBackend } from '../../src/index.js';
import { configureCacheRegion, createRegion } from '../../src/oslo/index.js';

/** Runs `script` in a child process where the given packages cannot be resolved (as in an install without them). */
function withoutPackages(packages: readonly string[], script: string): unknown {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-no-driver-'));
  try {
    const hooks = path.join(dir, 'hooks.mjs');
    fs.writeFileSync(
      hooks,
      `const hidden = new Set(${JSON.stringify(packages)});
export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`,
    );
    const register = path.join(dir, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const memcachedModule = fileURLToPath(new URL('../../src/backends/memcached/index.ts', import.meta.url));
const memcachedScript = `
  import { PooledMemcachedBackend } from ${JSON.stringify(memcachedModule)};
  const b = new PooledMemcachedBackend({ url: '127.0.0.1:1' });
  try { await b.get('k'); process.exitCode = 3; }
  catch (e) { process.stdout.write(JSON.stringify({ name: e.name, packageNames: e.packageNames, message: e.message })); }
  await b.close().catch(() => {});
`;

describe('MissingDependencyError', () => {
  it('names every missing memcached driver at once, with one install command', () => {
    const result = withoutPackages(['memjs', 'generic-pool'], memcachedScript) as { name: string; packageNames: string[]; message: string };
    assert.equal(result.name, 'MissingDependencyError');
    assert.deepEqual(result.packageNames, ['memjs', 'generic-pool']);
    assert.match(
      result.message,
      /needs the "memjs" and "generic-pool" packages, which are not installed\. Install them with: npm install memjs generic-pool$/,
    );
  });

  it('names only the one missing when the other is installed', () => {
    const result = withoutPackages(['generic-pool'], memcachedScript) as { packageNames: string[]; message: string };
    assert.deepEqual(result.packageNames, ['generic-pool']);
    assert.match(result.message, /Install it with: npm install generic-pool$/);
  });

  it('keeps packageName (the first) for callers of one package', () => {
    const error = new MissingDependencyError(['memjs', 'generic-pool'], 'PooledMemcachedBackend');
    assert.equal(error.packageName, 'memjs');
    assert.equal(
      new MissingDependencyError('etcd3', 'Etcd3Backend').message,
      'The Etcd3Backend backend needs the "etcd3" package, which is not installed. Install it with: npm install etcd3',
    );
  });
});

/*
 * configure() finds a missing driver by resolving it (require.resolve from the package's own location),
 * which the ESM resolve hook above cannot reach: Node 20's module.register() hooks apply to import(),
 * not to require.resolve. A test cannot uninstall a package from the node_modules every worktree
 * shares, and a copy of the tree without it would need a build per run, so these tests hide packages
 * through the resolver injection point driver.ts keeps for tests only (setPackageResolverForTests,
 * not exported from any entry point). The real resolver is tested on its own below.
 */
const hiding =
  (...hidden: string[]) =>
  (name: string): boolean =>
    !hidden.includes(name);

/** Whether any of the driver packages has been loaded in this process (CommonJS packages land in require.cache, import() included). */
const driversLoaded = (): string[] =>
  Object.keys(createRequire(import.meta.url).cache).filter((file) =>
    /[\\/]node_modules[\\/](memjs|generic-pool|mongodb|etcd3|ioredis)[\\/]/.test(file),
  );

const catchSync = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a synchronous throw');
};

describe('a missing driver is reported by configure(), not by the first request', () => {
  afterEach(() => setPackageResolverForTests(undefined));

  it('names every missing memcached package at configure(), for each memcached name', () => {
    setPackageResolverForTests(hiding('memjs', 'generic-pool'));
    for (const name of [
      'oslo_cache.memcache_pool',
      'memcached',
      'dogpile.cache.memcached',
      'dogpile.cache.pymemcache',
      'dogpile.cache.pylibmc',
      'dogpile.cache.bmemcached',
    ]) {
      const region = new CacheRegion();
      const error = catchSync(() => region.configure(name, { arguments: { url: '127.0.0.1:11211' } }));
      assert.ok(error instanceof MissingDependencyError, name);
      assert.deepEqual(error.packageNames, ['memjs', 'generic-pool'], name);
      assert.match(
        error.message,
        /^The PooledMemcachedBackend backend needs the "memjs" and "generic-pool" packages, which are not installed\. Install them with: npm install memjs generic-pool$/,
      );
      assert.equal(region.isConfigured, false, `${name}: a failed configure() leaves the region unconfigured`);
    }
    setPackageResolverForTests(hiding('generic-pool'));
    const error = catchSync(() => new CacheRegion().configure('memcached', { arguments: { url: '127.0.0.1:11211' } }));
    assert.ok(error instanceof MissingDependencyError);
    assert.deepEqual(error.packageNames, ['generic-pool']);
  });

  it('names the driver of every other built-in remote backend', () => {
    setPackageResolverForTests(hiding('mongodb', 'etcd3', 'ioredis'));
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['oslo_cache.mongo', { db_hosts: 'localhost:27017', db_name: 'cache', cache_collection: 'c' }, 'mongodb', 'MongoBackend'],
      ['etcd3', { host: '127.0.0.1' }, 'etcd3', 'Etcd3Backend'],
      ['dogpile.cache.redis', {}, 'ioredis', 'RedisBackend'],
      ['dogpile.cache.valkey_sentinel', { sentinels: [['127.0.0.1', 26379]], service_name: 'mymaster' }, 'ioredis', 'RedisSentinelBackend'],
      ['dogpile.cache.redis_cluster', { startup_nodes: [{ host: '127.0.0.1', port: 7000 }] }, 'ioredis', 'RedisClusterBackend'],
    ];
    for (const [name, args, pkg, backend] of cases) {
      const error = catchSync(() => new CacheRegion().configure(name, { arguments: args }));
      assert.ok(error instanceof MissingDependencyError, `${name}: ${String(error)}`);
      assert.deepEqual(error.packageNames, [pkg], name);
      assert.match(error.message, new RegExp(`^The ${backend} backend needs the "${pkg}" package`), name);
    }
  });

  it('reports bad arguments before a missing driver (the arguments are checked first)', () => {
    setPackageResolverForTests(hiding('memjs', 'generic-pool'));
    assert.throws(
      () => new CacheRegion().configure('memcached', { arguments: { url: '127.0.0.1:11211', lock_timeout: 'soon' } }),
      ValidationError,
    );
    assert.throws(() => new CacheRegion().configure('memcached'), ConfigurationError);
  });

  it('reports it from oslo configure_cache_region and configure_from_config', () => {
    setPackageResolverForTests(hiding('memjs', 'generic-pool'));
    const error = catchSync(() =>
      configureCacheRegion(
        { cache: { enabled: true, backend: 'oslo_cache.memcache_pool', memcache_servers: ['127.0.0.1:11211'] } },
        createRegion(),
      ),
    );
    assert.ok(error instanceof MissingDependencyError);
    assert.deepEqual(error.packageNames, ['memjs', 'generic-pool']);
    const fromConfig = catchSync(() =>
      new CacheRegion().configureFromConfig(
        { 'cache.backend': 'dogpile.cache.memcached', 'cache.arguments.url': '127.0.0.1:11211' },
        'cache.',
      ),
    );
    assert.ok(fromConfig instanceof MissingDependencyError);
  });

  it('reports it for a backend class registered under a custom name, or passed directly', () => {
    setPackageResolverForTests(hiding('memjs'));
    registerBackend('myapp.memcached', PooledMemcachedBackend);
    const byName = catchSync(() => new CacheRegion().configure('myapp.memcached', { arguments: { url: '127.0.0.1:11211' } }));
    assert.ok(byName instanceof MissingDependencyError);
    assert.deepEqual(byName.packageNames, ['memjs']);
    const byClass = catchSync(() => new CacheRegion().configure(PooledMemcachedBackend, { arguments: { url: '127.0.0.1:11211' } }));
    assert.ok(byClass instanceof MissingDependencyError);
  });

  it('loads no driver at configure() when every driver is installed (resolving is not importing)', async () => {
    assert.deepEqual(driversLoaded(), [], 'no driver loaded before the test');
    const regions = [
      new CacheRegion().configure('memcached', { arguments: { url: '127.0.0.1:1' } }),
      new CacheRegion().configure('oslo_cache.mongo', { arguments: { db_hosts: 'localhost:1', db_name: 'cache', cache_collection: 'c' } }),
      new CacheRegion().configure('etcd3', { arguments: { host: '127.0.0.1', port: 1 } }),
      new CacheRegion().configure('dogpile.cache.redis', { arguments: { host: '127.0.0.1', port: 1 } }),
    ];
    // The backend modules load on configure(); their drivers only on the first request.
    await Promise.all(regions.map((region) => (region.actualBackend as unknown as { ready(): Promise<unknown> }).ready()));
    assert.deepEqual(driversLoaded(), []);
    await Promise.all(regions.map((region) => region.close()));
    // The probe itself works: a loaded driver shows.
    await import('memjs');
    assert.ok(driversLoaded().length > 0);
  });
});

describe('assertDriversInstalled (the real resolver)', () => {
  it("finds every built-in driver from the package's own location, whatever the working directory", () => {
    // A child started in an empty directory: resolving from the working directory would find nothing
    // there, so this passes only when driver.ts anchors resolution at its own file (import.meta is not
    // available to it: the same source compiles to CommonJS).
    const driverModule = pathToFileURL(fileURLToPath(new URL('../../src/driver.ts', import.meta.url))).href;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-empty-'));
    try {
      const script = `
        const { assertDriversInstalled, DRIVER_PACKAGES } = await import(${JSON.stringify(driverModule)});
        for (const packages of Object.values(DRIVER_PACKAGES)) assertDriversInstalled(packages, 'Test');
        process.stdout.write('ok');`;
      const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
        cwd: empty,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.stdout, 'ok', result.stderr);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('throws one error naming every package it cannot resolve, and none it can', () => {
    const error = catchSync(() =>
      assertDriversInstalled(['memjs', 'dogpile-cache-no-such-driver', 'dogpile-cache-nor-this-one'], 'TestBackend'),
    );
    assert.ok(error instanceof MissingDependencyError);
    assert.deepEqual(error.packageNames, ['dogpile-cache-no-such-driver', 'dogpile-cache-nor-this-one']);
  });
});
