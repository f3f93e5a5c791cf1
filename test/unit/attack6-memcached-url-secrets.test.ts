// A memcached `url` with a login is refused (memjs has no login in its server strings), and the message
// must not show the password. redactUrl's pattern stops at the characters a password may still hold
// when pasted raw ("/", "@", "," or a space): the messages quoted such a password whole or in part,
// from the backend's constructor and from configure() by name alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { CacheRegion, ValidationError } from '../../src/index.js';

/** configure() by a name only known at run time (no typed arguments). */
const configure = (name: string, args: Record<string, unknown>): CacheRegion => new CacheRegion().configure(name, { arguments: args });

/** The error `run` throws (fails when it does not throw). */
function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  assert.fail('did not throw');
}

// [url argument, the parts of its password no message may show]
const CASES: [unknown, string[]][] = [
  ['admin:s3cr/t-pw@10.0.0.1:11211', ['s3cr', 't-pw']],
  ['memcached://admin:s3cr/t-pw@10.0.0.1:11211', ['s3cr', 't-pw']],
  ['memcached://admin:s3cr@t-pw@10.0.0.1:11211', ['s3cr', 't-pw']],
  ['admin:s3cr t-pw@10.0.0.1:11211', ['s3cr', 't-pw']],
  // A comma in the password splits the string into two "servers".
  ['10.0.0.2:11211,admin:s3cr,t-pw@10.0.0.1:11211', ['s3cr', 't-pw']],
  // Another scheme: refused (for its login now, for its scheme before, quoting the entry).
  ['redis://admin:s3cr/t-pw@10.0.0.1:6379', ['s3cr', 't-pw']],
  [
    ['10.0.0.2:11211', 'admin:s3cr/t-pw@10.0.0.1:11211'],
    ['s3cr', 't-pw'],
  ],
  // A weighted entry, with a good and a bad weight.
  [[['admin:s3cr/t-pw@10.0.0.1:11211', 2]], ['s3cr', 't-pw']],
  [[['admin:s3cr/t-pw@10.0.0.1:11211', 0]], ['s3cr', 't-pw']],
];

describe('attack-6: a memcached url with a login never shows its password', () => {
  for (const [url, secrets] of CASES) {
    it(JSON.stringify(url).replaceAll('s3cr', '<pw>'), () => {
      const errors = [
        caught(() => new PooledMemcachedBackend({ url })),
        caught(() => configure('memcached', { url })),
        caught(() => configure('oslo_cache.memcache_pool', { url })),
      ];
      for (const error of errors) {
        assert.ok(error instanceof ValidationError, String(error));
        for (const secret of secrets) {
          assert.ok(!error.message.includes(secret), `the message shows "${secret}": ${error.message}`);
          assert.ok(!String(error.stack).includes(secret), 'the stack repeats the message');
        }
      }
    });
  }
});
