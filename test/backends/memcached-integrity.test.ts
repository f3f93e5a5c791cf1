// PooledMemcachedBackend: what a read hands back, what messages show, and which values configuration
// accepts (issues 15.3, 16.1, 16.4). Against the shared memcached servers (test/support/servers.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { CacheRegion, ValidationError, isNoValue, makeCachedValue } from '../../src/index.js';
import { memcachedServers } from '../support/servers.js';

const servers = memcachedServers();
const one = servers.slice(0, 1);
const run = randomUUID().slice(0, 8);
let counter = 0;
const key = (label = 'k'): string => `mc-int-${run}-${label}-${counter++}`;

/** True when `bytes` is the whole of its backing memory: no one else's bytes are reachable through `.buffer`. */
function ownsItsMemory(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
}

describe('PooledMemcachedBackend reads return memory only the caller owns', () => {
  let backend: PooledMemcachedBackend;
  before(() => {
    backend = new PooledMemcachedBackend({ url: one });
  });
  after(() => backend.close());

  it('getSerialized and getSerializedMulti copy out of the socket chunk', async () => {
    const keys = [key('a'), key('b'), key('c')];
    await backend.setSerializedMulti(new Map(keys.map((k, i) => [k, Buffer.from(`value-${i}-${'x'.repeat(50)}`)])));
    const single = await backend.getSerialized(keys[0] as string);
    assert.ok(!isNoValue(single));
    assert.equal(single.toString(), `value-0-${'x'.repeat(50)}`);
    assert.ok(ownsItsMemory(single), `a get shares ${single.buffer.byteLength} bytes of memory for a ${single.length}-byte value`);
    const multi = await backend.getSerializedMulti(keys);
    for (const [i, value] of multi.entries()) {
      assert.ok(!isNoValue(value));
      assert.equal(value.toString(), `value-${i}-${'x'.repeat(50)}`);
      assert.ok(ownsItsMemory(value), `a multi-get shares ${value.buffer.byteLength} bytes of memory for a ${value.length}-byte value`);
    }
  });

  it("a v8-deserialized typed array does not expose other keys' bytes through .buffer", async () => {
    const region = new CacheRegion({ serializer: 'v8' }).configure(new PooledMemcachedBackend({ url: one }));
    try {
      const mine = key('mine');
      const theirs = key('theirs');
      await region.set(mine, { u: Buffer.from('mine-mine-mine') });
      await region.set(theirs, { u: Buffer.from('THEIR-SECRET-BYTES') });
      // Both replies in one multi-get: they arrive in one socket chunk.
      const [value] = (await region.getMulti([mine, theirs])) as [{ u: Uint8Array }, unknown];
      assert.equal(Buffer.from(value.u).toString(), 'mine-mine-mine');
      const reachable = Buffer.from(value.u.buffer);
      assert.ok(!reachable.includes('THEIR-SECRET-BYTES'), 'value.u.buffer holds another key\'s bytes');
    } finally {
      await region.close();
    }
  });
});

describe('PooledMemcachedBackend keeps secrets out of messages', () => {
  it('a url with a login is refused, and the message shows no password', () => {
    for (const url of ['svc:hunter2-planted@10.0.0.1:11211', 'hunter2-planted@10.0.0.1:11211', ['10.0.0.2:11211', 'svc:hunter2-planted@10.0.0.1']]) {
      let caught: unknown;
      try {
        new PooledMemcachedBackend({ url });
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ValidationError, `${String(url)}: ${String(caught)}`);
      assert.match(caught.message, /username and password arguments/);
      assert.ok(!caught.message.includes('hunter2'), caught.message);
      assert.ok(!String(caught.stack).includes('hunter2'), 'the stack repeats the message');
    }
  });
});

describe('PooledMemcachedBackend in a script that forgets close()', () => {
  it('the script exits soon after its last call, and nothing is written to stderr', async () => {
    // Large but valid durations too: a TimeoutOverflowWarning would show on stderr.
    const script = `
      const { PooledMemcachedBackend } = await import('./src/backends/memcached/index.ts');
      const backend = new PooledMemcachedBackend({
        url: ${JSON.stringify(servers)}, distributed_lock: true, lock_timeout: 30,
        socket_timeout: '24d', pool_connection_get_timeout: '24d', pool_unused_timeout: '24d', dead_retry: '24d',
      });
      const { makeCachedValue } = await import('./src/index.ts');
      await backend.set('${key('exit')}', makeCachedValue(1));
      await backend.getMulti(['${key('exit')}', '${key('exit')}', '${key('exit')}']);
      const mutex = backend.getMutex('${key('exit-lock')}');
      await mutex.acquire();
      await mutex.release();
      process.stdout.write('done ' + Date.now());
      // no backend.close()`;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Generous: tsx compiles the sources first on a loaded 2-core machine. Before the fix the idle
    // sockets kept the script alive for pool_unused_timeout (here 24 days; 60 s by default).
    const BOUND_MS = 30_000;
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
      sleep(BOUND_MS).then(() => 'still running' as const),
    ]);
    if (exited === 'still running') child.kill('SIGKILL');
    const lastCall = Number(/done (\d+)/.exec(stdout)?.[1] ?? NaN);
    assert.equal(exited, 0, `the script did not exit within ${BOUND_MS} ms of starting (stdout ${stdout}, stderr ${stderr})`);
    assert.equal(stderr, '', 'nothing on stderr');
    assert.ok(Number.isFinite(lastCall) && lastCall >= started, stdout);
  });
});
