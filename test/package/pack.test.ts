/**
 * The published package, as a user gets it: `npm pack`, installed into a scratch project that has
 * none of the optional drivers. ESM import and CommonJS require of the core and every subpath work,
 * types resolve for both module systems (`tsc --noEmit`), importing loads no driver, and a backend
 * whose driver is absent is refused at construction (configure()) with MissingDependencyError.
 * The JavaScript is bundled into chunks shared by the entry points (scripts/build-bundle.mjs), so it
 * also checks that every value keeps one identity across the root and every subpath, in each build.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports)
  .filter((p) => p !== './package.json')
  .map((p) => (p === '.' ? 'dogpile-cache' : `dogpile-cache/${p.slice(2)}`));
const drivers = ['memjs', 'generic-pool', 'mongodb', 'etcd3', 'ioredis'];

describe('the npm package', () => {
  let scratch: string;
  const run = (command: string, args: string[], cwd = scratch): string => {
    try {
      return execFileSync(command, args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`.slice(0, 4000), { cause: error });
    }
  };

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'dogpile-pack-'));
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', scratch], root).trim().split('\n').pop() as string;
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    // --prefer-offline, not --offline: `npm ci` caches the tarballs of the lockfile but not the registry's
    // metadata, which installing the packed tarball needs for its dependencies' ranges (cockatiel), so on
    // a fresh machine --offline failed with ENOTCACHED; what is cached is still used.
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, tarball)]);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('installs without any driver', () => {
    for (const driver of drivers) {
      assert.throws(
        () => run(process.execPath, ['-e', `require.resolve(${JSON.stringify(driver)})`]),
        Error,
        `${driver} should not be installed`,
      );
    }
  });

  it('every export map entry points at files in the tarball', () => {
    const installed = JSON.parse(readFileSync(join(scratch, 'node_modules', 'dogpile-cache', 'package.json'), 'utf8')) as typeof pkg;
    for (const [subpath, target] of Object.entries(installed.exports)) {
      const files = JSON.stringify(target).match(/\.\/[^"]+/g) ?? [];
      for (const file of files)
        assert.doesNotThrow(() => readFileSync(join(scratch, 'node_modules', 'dogpile-cache', file)), `${subpath} → ${file}`);
    }
  });

  it('ESM import of every subpath works and loads no driver', () => {
    const script = `
      ${subpaths.map((s, i) => `const m${i} = await import(${JSON.stringify(s)});`).join('\n')}
      const core = m0;
      if (String(core.NO_VALUE) !== 'NoValue.NO_VALUE') throw new Error('NO_VALUE');
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => ${JSON.stringify(drivers)}.some((d) => f.includes('/node_modules/' + d + '/')));
      if (loaded.length) throw new Error('drivers loaded: ' + loaded.join(', '));
      console.log('ok');`;
    assert.equal(run(process.execPath, ['--input-type=module', '-e', script]).trim(), 'ok');
  });

  it('CommonJS require of every subpath works, with one NO_VALUE and cross-build instanceof', () => {
    const script = `
      ${subpaths.map((s, i) => `const m${i} = require(${JSON.stringify(s)});`).join('\n')}
      import(${JSON.stringify('dogpile-cache')}).then((esm) => {
        if (esm.NO_VALUE !== m0.NO_VALUE) throw new Error('two NO_VALUEs');
        if (!(new m0.ValidationError('x') instanceof esm.ValidationError)) throw new Error('instanceof across builds');
        console.log('ok');
      });`;
    assert.equal(run(process.execPath, ['-e', script]).trim(), 'ok');
  });

  it('a backend whose driver is absent is refused when constructed or configured, with MissingDependencyError naming every package', () => {
    // The scratch project has no driver at all: this is the real resolution (from the installed
    // package's own location), in the ES build here and the CommonJS build below.
    const esm = `
      const { CacheRegion, MissingDependencyError } = await import('dogpile-cache');
      const { PooledMemcachedBackend } = await import('dogpile-cache/backends/memcached');
      const { MongoBackend } = await import('dogpile-cache/backends/mongo');
      const { Etcd3Backend } = await import('dogpile-cache/backends/etcd3');
      const { RedisBackend } = await import('dogpile-cache/backends/redis');
      const results = [];
      for (const make of [
        () => new PooledMemcachedBackend({ url: '127.0.0.1:1' }),
        () => new MongoBackend({ db_hosts: 'mongodb://127.0.0.1:1', db_name: 'd', cache_collection: 'c' }),
        () => new Etcd3Backend({ host: '127.0.0.1', port: 1 }),
        () => new RedisBackend({ host: '127.0.0.1', port: 1 }),
        () => new CacheRegion().configure('oslo_cache.memcache_pool', { arguments: { url: '127.0.0.1:1' } }),
        () => new CacheRegion().configure('dogpile.cache.redis', { arguments: { host: '127.0.0.1', port: 1 } }),
      ]) {
        try { const made = make(); results.push('no error'); await made.close().catch(() => {}); }
        catch (error) { results.push(error instanceof MissingDependencyError ? error.packageNames.join('+') : String(error)); }
      }
      console.log(results.join(','));`;
    assert.equal(
      run(process.execPath, ['--input-type=module', '-e', esm]).trim(),
      'memjs+generic-pool,mongodb,etcd3,ioredis,memjs+generic-pool,ioredis',
    );
    const cjs = `
      const { CacheRegion, MissingDependencyError } = require('dogpile-cache');
      const { Etcd3Backend } = require('dogpile-cache/backends/etcd3');
      const results = [];
      for (const make of [() => new Etcd3Backend({ host: '127.0.0.1', port: 1 }), () => new CacheRegion().configure('mongo', { arguments: { db_hosts: 'mongodb://127.0.0.1:1', db_name: 'd', cache_collection: 'c' } })]) {
        try { make(); results.push('no error'); }
        catch (error) { results.push(error instanceof MissingDependencyError ? error.packageNames.join('+') : String(error)); }
      }
      console.log(results.join(','));`;
    assert.equal(run(process.execPath, ['-e', cjs]).trim(), 'etcd3,mongodb');
  });

  // Issue 20.3: the entry points share bundled chunks. A class or value bundled into two files would
  // exist twice, and `instanceof` or a NO_VALUE check between subpaths would fail; each build must
  // hold every one once. `load` is `await import(…)` or `require(…)`; the body runs in an async function.
  const identity = (load: (specifier: string) => string): string => `
      const subpaths = ${JSON.stringify(subpaths)};
      const modules = {};
      for (const subpath of subpaths) modules[subpath] = ${load('subpath')};
      const root = modules['dogpile-cache'];
      const backend = modules['dogpile-cache/backend'];
      const problems = [];
      const check = (ok, what) => { if (!ok) problems.push(what); };
      const first = new Map();
      let shared = 0;
      for (const [subpath, exported] of Object.entries(modules)) {
        for (const [name, value] of Object.entries(exported)) {
          if (!first.has(name)) { first.set(name, [subpath, value]); continue; }
          shared++;
          check(first.get(name)[1] === value, name + ' differs between ' + first.get(name)[0] + ' and ' + subpath);
        }
      }
      check(shared >= 30, 'only ' + shared + ' names are exported by two entry points');
      const memory = new modules['dogpile-cache/backends/dictionary'].MemoryBackend();
      check(memory instanceof root.CacheBackend && memory instanceof backend.CacheBackend, 'MemoryBackend is a CacheBackend');
      check(new modules['dogpile-cache/backends/null'].NullBackend() instanceof root.CacheBackend, 'NullBackend is a CacheBackend');
      check(modules['dogpile-cache/backends/memcached'].PooledMemcachedBackend.prototype instanceof backend.BytesBackend, 'PooledMemcachedBackend is a BytesBackend');
      check(modules['dogpile-cache/backends/redis'].RedisBackend.prototype instanceof backend.BytesBackend, 'RedisBackend is a BytesBackend');
      check(modules['dogpile-cache/backends/mongo'].MongoBackend.prototype instanceof root.CacheBackend, 'MongoBackend is a CacheBackend');
      check(modules['dogpile-cache/backends/etcd3'].Etcd3Backend.prototype instanceof root.CacheBackend, 'Etcd3Backend is a CacheBackend');
      check(modules['dogpile-cache/oslo'].createRegion() instanceof root.CacheRegion, 'oslo createRegion() is a CacheRegion');
      const absent = await memory.get('absent');
      check(absent === root.NO_VALUE && absent === backend.NO_VALUE && root.isNoValue(absent), 'a miss is the one NO_VALUE');
      try {
        new modules['dogpile-cache/backends/dictionary'].MemoryBackend({ strict_arguments: true, no_such_argument: 1 });
        problems.push('no error for an unknown argument');
      } catch (error) {
        check(error instanceof root.ValidationError && error instanceof backend.ValidationError, 'a subpath throws the root ValidationError');
      }
      console.log(problems.length ? problems.join('; ') : 'ok ' + shared);`;

  it('every value has one identity across the root and every subpath, in the ES build and in the CommonJS build', () => {
    const esm = run(process.execPath, ['--input-type=module', '-e', identity((s) => `await import(${s})`)]).trim();
    const cjs = run(process.execPath, [
      '-e',
      `(async () => { ${identity((s) => `require(${s})`)} })().catch((e) => { console.log(String(e)); });`,
    ]).trim();
    assert.match(esm, /^ok \d+$/);
    assert.equal(cjs, esm);
  });

  it('the root, backend and oslo entry points load no remote backend module (they load on first use)', () => {
    const script = `
      require('dogpile-cache'); require('dogpile-cache/backend'); require('dogpile-cache/oslo');
      const heavy = Object.keys(require.cache).filter((f) => /[\\\\/]backends[\\\\/](memcached|mongo|etcd3|redis)[\\\\/](backend|index)\\.js$/.test(f));
      console.log(heavy.length ? heavy.join(', ') : 'ok');`;
    assert.equal(run(process.execPath, ['-e', script]).trim(), 'ok');
  });

  // Issue 20: the root is the application API; backend-author tools and the oslo layer moved to subpaths.
  const moved = {
    'dogpile-cache/backend': [
      'CacheBackend',
      'BytesBackend',
      'ArgumentReader',
      'buildSerialized',
      'parseSerialized',
      'metadataJson',
      'pythonFloatRepr',
      'VALUE_VERSION',
      'coerceStringConf',
      'dogpileLock',
      'toSeconds',
    ],
    'dogpile-cache/oslo': [
      'createRegion',
      'configureCacheRegion',
      'getMemoizationDecorator',
      'loadOsloConfig',
      'buildCacheConfig',
      'registerProxy',
      'DebugProxy',
      'CacheIsolatingProxy',
      'OSLO_CACHE_OPTIONS',
    ],
  };
  const checkMoved = (load: (subpath: string) => string): string => `
      const moved = ${JSON.stringify(moved)};
      const missing = [];
      for (const [subpath, names] of Object.entries(moved)) {
        const m = ${load('subpath')};
        for (const name of names) if (m[name] === undefined) missing.push(subpath + ' ' + name);
      }
      const core = ${load('"dogpile-cache"')};
      for (const name of ['ArgumentReader', 'pythonFloatRepr', 'metadataJson', 'buildSerialized', 'coerceStringConf', 'VALUE_VERSION', 'createRegion']) if (name in core) missing.push('root still exports ' + name);
      console.log(missing.length ? missing.join(', ') : 'ok');`;

  it('moved symbols import from dogpile-cache/backend and dogpile-cache/oslo (ESM and CommonJS), and no longer from the root', () => {
    assert.equal(run(process.execPath, ['--input-type=module', '-e', checkMoved((s) => `await import(${s})`)]).trim(), 'ok');
    assert.equal(run(process.execPath, ['-e', checkMoved((s) => `require(${s})`)]).trim(), 'ok');
  });

  // Consumers type-check with 5.9 or 7 (a plain `npm i typescript` now installs 7): both must pass.
  const compilers = [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), join(root, 'node_modules', 'typescript7', 'bin', 'tsc')];
  const usage = `
      const region: CacheRegion = new CacheRegion().configure('oslo_cache.dict', { expirationTime: '1m' });
      const value: Promise<number> = region.getOrCreate('k', () => 1);
      const miss: boolean = isNoValue(NO_VALUE);
      void value; void miss;`;
  const typecheck = (files: Record<string, string>): void => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(scratch, name), text);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          lib: ['es2023'],
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: Object.keys(files),
      }),
    );
    for (const tsc of compilers) run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  };

  it('core types resolve for ESM and CommonJS consumers without any driver installed (tsc --noEmit, skipLibCheck off)', () => {
    typecheck({
      'core-esm.mts': `import { CacheRegion, NO_VALUE, isNoValue } from 'dogpile-cache';\nimport type { runBackendConformance } from 'dogpile-cache/testing';\nimport type { PooledMemcachedBackend } from 'dogpile-cache/backends/memcached';\nexport type T = [typeof runBackendConformance, PooledMemcachedBackend];${usage}`,
      'core-cjs.cts': `import { CacheRegion, NO_VALUE, isNoValue } from 'dogpile-cache';\nimport testing = require('dogpile-cache/testing');\nexport type T = typeof testing.runRegionConformance;${usage}`,
      'subpaths-esm.mts': `import { BytesBackend, ArgumentReader, buildSerialized } from 'dogpile-cache/backend';\nimport { configureCacheRegion, createRegion, type OsloConf } from 'dogpile-cache/oslo';\nconst conf: OsloConf = { cache: { enabled: true, backend: 'oslo_cache.dict' } };\nexport const r = configureCacheRegion(conf, createRegion());\nexport type T = [BytesBackend, ArgumentReader, typeof buildSerialized];`,
      'subpaths-cjs.cts': `import backend = require('dogpile-cache/backend');\nimport oslo = require('dogpile-cache/oslo');\nexport const r = oslo.configureCacheRegion({ cache: { enabled: true } }, oslo.createRegion());\nexport type T = [backend.BytesBackend, backend.ArgumentReader];`,
    });
  });

  it('every backend subpath type-checks for ESM and CommonJS once its driver is installed', () => {
    run('npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      'memjs@1.3.2',
      'generic-pool@3.9.0',
      'mongodb@7.9.0',
      'etcd3@1.1.2',
      'ioredis@5.11.1',
    ]);
    typecheck({
      'backends-esm.mts': `import { CacheRegion, NO_VALUE, isNoValue } from 'dogpile-cache';\nimport { PooledMemcachedBackend } from 'dogpile-cache/backends/memcached';\nimport { MongoBackend } from 'dogpile-cache/backends/mongo';\nimport { Etcd3Backend } from 'dogpile-cache/backends/etcd3';\nimport { RedisBackend } from 'dogpile-cache/backends/redis';\nexport const backends = [PooledMemcachedBackend, MongoBackend, Etcd3Backend, RedisBackend];${usage}`,
      'backends-cjs.cts': `import { CacheRegion, NO_VALUE, isNoValue } from 'dogpile-cache';\nimport memcached = require('dogpile-cache/backends/memcached');\nimport mongo = require('dogpile-cache/backends/mongo');\nimport etcd3 = require('dogpile-cache/backends/etcd3');\nimport redis = require('dogpile-cache/backends/redis');\nexport const backends = [memcached.PooledMemcachedBackend, mongo.MongoBackend, etcd3.Etcd3Backend, redis.RedisBackend];${usage}`,
    });
  });

  // Runs after the test above, which installs the drivers. The registry's memcached backend loads its
  // module (backends/memcached/index.js) on first use; the class it loads is the subpath's, its errors
  // are the root's classes, and its distributed lock is the backend's own. No server is needed: the
  // request goes to a closed port and must fail with BackendUnavailableError.
  const lazyRemote = (load: (specifier: string) => string): string => `
      const root = ${load('"dogpile-cache"')};
      const { PooledMemcachedBackend } = ${load('"dogpile-cache/backends/memcached"')};
      const { BytesBackend } = ${load('"dogpile-cache/backend"')};
      const results = [];
      for (const name of ['dictionary', 'dogpile.cache.null']) {
        const region = new root.CacheRegion().configure(name);
        await region.set('k', 1);
        results.push(name + '=' + String(root.isNoValue(await region.get('k')) ? 'miss' : await region.get('k')));
      }
      const region = new root.CacheRegion().configure('oslo_cache.memcache_pool', { arguments: { url: '127.0.0.1:1', distributed_lock: true, lock_timeout: 30, socket_timeout: 1 } });
      const real = await region.backend.ready();
      results.push(real instanceof PooledMemcachedBackend && real instanceof BytesBackend && real instanceof root.CacheBackend);
      results.push(region.backend.getMutex('k')?.constructor.name);
      try { await region.get('k'); results.push('no error'); }
      catch (error) { results.push(error instanceof root.BackendUnavailableError ? 'BackendUnavailableError' : String(error)); }
      await region.close();
      console.log(results.join(','));`;

  it('a remote backend configured by name through the root registry loads lazily and shares the root classes (ES and CommonJS)', () => {
    const expected = 'dictionary=1,dogpile.cache.null=miss,true,MemcachedMutex,BackendUnavailableError';
    assert.equal(run(process.execPath, ['--input-type=module', '-e', lazyRemote((s) => `await import(${s})`)]).trim(), expected);
    const cjs = `(async () => { ${lazyRemote((s) => `require(${s})`)} })().catch((e) => { console.log(String(e)); });`;
    assert.equal(run(process.execPath, ['-e', cjs]).trim(), expected);
  });
});
