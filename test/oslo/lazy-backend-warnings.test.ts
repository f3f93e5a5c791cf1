// oslo passes its memcache options to every backend, so they never warn on the oslo path (issue 21.1).
// The registry loads the remote backends on first use (issue 20.3): the backend is then built after
// configure() returned, and must stay as quiet as one built at once. A child process, because the
// unknown-argument warning is emitted once per name per process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const oslo = fileURLToPath(new URL('../../src/oslo/index.ts', import.meta.url));

describe('oslo layer with a lazily loaded backend', () => {
  it('oslo common arguments do not warn when the memcached backend loads on first use', () => {
    const script = `
      import { configureCacheRegion, createRegion } from ${JSON.stringify(oslo)};
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code + ' ' + w.message));
      const region = configureCacheRegion({ cache: { enabled: true, backend: 'oslo_cache.memcache_pool', memcache_servers: ['127.0.0.1:1'], memcache_pool_flush_on_reconnect: true } }, createRegion());
      await region.backend.ready();
      await new Promise((r) => setImmediate(r));
      console.log(JSON.stringify(warnings));
      await region.close();`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').at(-1) as string), []);
  });
});
