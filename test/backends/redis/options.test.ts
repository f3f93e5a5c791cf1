// The Redis backends' arguments (no server needed): dogpile's names in snake_case and camelCase, the
// address forms, TLS switches, the registry names, no secret in any message, and ioredis loaded only
// on the first call (MissingDependencyError without it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RedisBackend, RedisClusterBackend, RedisSentinelBackend } from '../../../src/backends/redis/index.js';
import { readRedisArguments } from '../../../src/backends/redis/options.js';
import { ValidationError } from '../../../src/index.js';
import { loadBackend } from '../../../src/registry.js';

const settings = (args: Record<string, unknown>, topology: 'single' | 'sentinel' | 'cluster' = 'single') =>
  readRedisArguments(args, topology, 'RedisBackend');

describe('Redis backend arguments', () => {
  it('defaults: localhost:6379 db 0, 5 s socket timeout, no TTL, no distributed lock, lock_sleep 0.1 s', () => {
    const s = settings({});
    assert.deepEqual(
      [
        s.host,
        s.port,
        s.db,
        s.commandTimeoutMs,
        s.connectTimeoutMs,
        s.expirationMs,
        s.distributedLock,
        s.lockTimeoutMs,
        s.lockSleepMs,
        s.lockPrefix,
      ],
      ['localhost', 6379, 0, 5000, 5000, 0, false, 0, 100, '_lock'],
    );
    assert.equal(s.tls, null);
  });

  it('accepts every name in snake_case and camelCase; a conflict between the two is an error', () => {
    const snake = settings({
      socket_timeout: 2,
      socket_connect_timeout: '250ms',
      redis_expiration_time: '1.5s',
      lock_timeout: 30,
      lock_sleep: '50ms',
      distributed_lock: 'true',
      socket_keepalive: true,
    });
    const camel = settings({
      socketTimeout: 2,
      socketConnectTimeout: '250ms',
      redisExpirationTime: '1.5s',
      lockTimeout: 30,
      lockSleep: '50ms',
      distributedLock: 'true',
      socketKeepalive: true,
    });
    assert.deepEqual(camel, snake);
    assert.deepEqual(
      [
        snake.commandTimeoutMs,
        snake.connectTimeoutMs,
        snake.expirationMs,
        snake.lockTimeoutMs,
        snake.lockSleepMs,
        snake.distributedLock,
        snake.keepAlive,
      ],
      [2000, 250, 1500, 30000, 50, true, true],
    );
    assert.throws(() => settings({ socket_timeout: 1, socketTimeout: 2 }), ValidationError);
  });

  it('sentinels as "host:port" strings, {host, port} objects, [host, port] pairs or a comma-separated string', () => {
    const s = settings(
      { sentinels: ['10.0.0.1:26379', { host: 'b', port: 26380 }, ['c', '26381'], '[::1]:26382'], service_name: 'svc' },
      'sentinel',
    );
    assert.deepEqual(s.sentinels, [
      { host: '10.0.0.1', port: 26379 },
      { host: 'b', port: 26380 },
      { host: 'c', port: 26381 },
      { host: '::1', port: 26382 },
    ]);
    assert.equal(s.serviceName, 'svc');
    assert.equal(s.distributedLock, true, 'dogpile: Sentinel defaults to the distributed lock');
    assert.deepEqual(settings({ sentinels: 'a:1,b:2' }, 'sentinel').sentinels, [
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    for (const bad of [[], ['a'], ['a:0'], [{ host: 'a' }], 5])
      assert.throws(() => settings({ sentinels: bad }, 'sentinel'), ValidationError, JSON.stringify(bad));
  });

  it('namespace: keys get the prefix "<namespace>:" (glob characters allowed); "" is none; ":" is refused, naming the fix', () => {
    assert.deepEqual([settings({}).namespace, settings({}).keyPrefix], [null, '']);
    assert.deepEqual([settings({ namespace: '' }).namespace, settings({ namespace: '' }).keyPrefix], [null, '']);
    assert.equal(settings({ namespace: 'sessions' }).keyPrefix, 'sessions:');
    assert.equal(settings({ namespace: 'a*b?[c]\\d {x}' }).keyPrefix, 'a*b?[c]\\d {x}:');
    for (const topology of ['single', 'sentinel', 'cluster'] as const) {
      const base = topology === 'sentinel' ? { sentinels: ['h:1'] } : topology === 'cluster' ? { startup_nodes: ['h:1'] } : {};
      assert.equal(settings({ ...base, namespace: 'n' }, topology).keyPrefix, 'n:', topology);
    }
    assert.throws(
      () => settings({ namespace: 'app:admin' }),
      (e: Error) => e instanceof ValidationError && /namespace must not contain ":"/.test(e.message) && /"app\.admin"/.test(e.message),
    );
    assert.throws(
      () => settings({ namespace: 5 }),
      (e: Error) => e instanceof ValidationError && /namespace/.test(e.message),
    );
    assert.throws(
      () => settings({ namespace: 'a', lock_prefix: 'a:' }),
      /lock_prefix "a:" puts the lock keys under the namespace's prefix "a:"/,
      'a clear() would remove held locks',
    );
    assert.equal(settings({ namespace: 'a', lock_prefix: 'b:' }).lockPrefix, 'b:');
  });

  it('cluster: url (one or several) or startup_nodes', () => {
    assert.deepEqual(settings({ url: 'redis://u:p@10.0.0.1:7000,redis://10.0.0.2' }, 'cluster').startupNodes, [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 6379 },
    ]);
    assert.deepEqual(settings({ startup_nodes: ['a:7000', { host: 'b', port: 7001 }] }, 'cluster').startupNodes, [
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
    assert.throws(() => settings({}, 'cluster'), /url or startup_nodes is required/);
  });

  it('TLS: rediss://, ssl, or ssl_ca_certs turn it on; ssl_cert_reqs "none" skips verification; cert and key go together', () => {
    assert.deepEqual(settings({ url: 'rediss://h:6380' }).tls, { rejectUnauthorized: true });
    assert.deepEqual(settings({ ssl: true, ssl_cert_reqs: 'none' }).tls, { rejectUnauthorized: false });
    assert.deepEqual(settings({ ssl_ca_certs: '/ca.pem', ssl_certfile: '/c.pem', ssl_keyfile: '/k.pem' }).tls, {
      ca: '/ca.pem',
      cert: '/c.pem',
      key: '/k.pem',
      rejectUnauthorized: true,
    });
    assert.throws(() => settings({ ssl_certfile: '/c.pem' }), /ssl_certfile and ssl_keyfile go together/);
    assert.throws(() => settings({ ssl: true, ssl_cert_reqs: 'maybe' }), ValidationError);
  });

  it('no password from a URL or argument appears in messages', () => {
    for (const make of [
      () => new RedisBackend({ url: 'redis://admin:hunter2@h:6379/x y' }),
      () => new RedisClusterBackend({ url: 'redis://admin:hunter2@h:7000/5' }),
      () => new RedisBackend({ password: ['hunter2'] }),
    ]) {
      const error = (() => {
        try {
          make();
        } catch (e) {
          return e as Error;
        }
        return assert.fail('no error');
      })();
      assert.ok(error instanceof ValidationError);
      assert.doesNotMatch(error.message, /hunter2/, error.message);
    }
  });

  it("the registry maps dogpile's redis and valkey names to the three classes", () => {
    // The registry holds a loader class per backend (its module loads on first use), named after it.
    const nameOf = (name: string): string => (loadBackend(name) as { name: string }).name;
    for (const [names, Class] of [
      [['dogpile.cache.redis', 'dogpile.cache.valkey'], RedisBackend],
      [['dogpile.cache.redis_sentinel', 'dogpile.cache.valkey_sentinel'], RedisSentinelBackend],
      [['dogpile.cache.redis_cluster', 'dogpile.cache.valkey_cluster'], RedisClusterBackend],
    ] as const) {
      assert.equal(loadBackend(names[0]), loadBackend(names[1]));
      assert.equal(nameOf(names[0]), Class.name);
    }
  });

  it('coalesce_writes: on by default; false, "false" and camelCase accepted; anything else refused, naming it', () => {
    assert.equal(settings({}).coalesceWrites, true);
    assert.equal(settings({ coalesce_writes: false }).coalesceWrites, false);
    assert.equal(settings({ coalesce_writes: 'false' }).coalesceWrites, false);
    assert.equal(settings({ coalesceWrites: false }).coalesceWrites, false);
    assert.throws(
      () => settings({ coalesce_writes: 'sometimes' }),
      (e: Error) => e instanceof ValidationError && /coalesce_writes|coalesceWrites/.test(e.message),
    );
  });

  it('connection_pool must be an ioredis client', () => {
    assert.throws(() => new RedisBackend({ connection_pool: {} }), /connection_pool must be an ioredis client/);
  });
});

describe('RedisBackend without the ioredis package', () => {
  it('constructs, and its first call rejects with MissingDependencyError naming ioredis', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-no-ioredis-'));
    try {
      // A resolve hook that makes `ioredis` missing, as in an install without the optional peer.
      const hooks = path.join(dir, 'hooks.mjs');
      fs.writeFileSync(
        hooks,
        `export async function resolve(specifier, context, next) {
  if (specifier === 'ioredis') throw Object.assign(new Error("Cannot find package 'ioredis'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`,
      );
      const register = path.join(dir, 'register.mjs');
      fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`);
      const backendModule = fileURLToPath(new URL('../../../src/backends/redis/index.ts', import.meta.url));
      const script = `
        import { RedisBackend } from ${JSON.stringify(backendModule)};
        const b = new RedisBackend({ port: 1 });
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
      assert.deepEqual(JSON.parse(result.stdout), { name: 'MissingDependencyError', packageName: 'ioredis' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
