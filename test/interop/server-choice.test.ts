import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { parseServer } from '../../src/backends/memcached/options.js';
import { HashRing } from '../../src/backends/memcached/ring.js';
import { crc32, makeServerChooser, murmur3Python, type ServerChoice } from '../../src/backends/memcached/server-choice.js';
import { ConfigurationError, ValidationError } from '../../src/index.js';

/** Debian's interpreter, which has python3-memcache and python3-pymemcache (the reference clients). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/server_choice.py', import.meta.url));

interface PythonChoices {
  python_memcached: number[];
  pymemcache: number[] | null;
}

function pythonChoices(servers: [string, number][], keys: string[], dead: number[] = []): PythonChoices {
  const result = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ servers, keys, dead }),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as PythonChoices;
}

// Memcached-shaped keys (what the region sends after its mangler), plus a few that are not ASCII.
const KEYS = [
  ...Array.from({ length: 2000 }, (_, i) => `dogpile:app.users.load|${i}`),
  ...Array.from({ length: 200 }, (_, i) => createHash('sha1').update(String(i)).digest('hex')),
  'a',
  '',
  'héllo wörld',
  '日本語のキー',
  'emoji-😀-key',
];

function ours(choice: ServerChoice, servers: [string, number][], dead: number[] = []): number[] {
  const chooser = makeServerChooser(
    choice,
    // As the backend does: names normalized by parseServer ("10.0.0.4" is "10.0.0.4:11211", as in pymemcache).
    servers.map(([name, weight]) => ({ name: parseServer(name).name, weight })),
  );
  return KEYS.map((key) => (dead.length === 0 ? chooser.nodeFor(key) : chooser.findNode(key, (index) => !dead.includes(index))));
}

const THREE: [string, number][] = [
  ['127.0.0.1:11211', 1],
  ['127.0.0.1:11212', 1],
  ['[::1]:11213', 1],
];
const WEIGHTED: [string, number][] = [
  ['10.0.0.1:11211', 1],
  ['10.0.0.2:11211', 3],
  ['10.0.0.3:11211', 2],
  ['10.0.0.4', 1],
];

describe('server_choice matches the Python clients byte for byte', () => {
  it('python_memcached picks the servers python-memcached picks (3 servers; 4 weighted)', () => {
    assert.deepEqual(ours('python_memcached', THREE), pythonChoices(THREE, KEYS).python_memcached);
    assert.deepEqual(ours('python_memcached', WEIGHTED), pythonChoices(WEIGHTED, KEYS).python_memcached);
  });

  it("python_memcached follows python-memcached's rehash past dead servers, and gives up where it does", () => {
    assert.deepEqual(ours('python_memcached', WEIGHTED, [1]), pythonChoices(WEIGHTED, KEYS, [1]).python_memcached);
    const mostlyDead = ours('python_memcached', WEIGHTED, [0, 1, 2]);
    assert.deepEqual(mostlyDead, pythonChoices(WEIGHTED, KEYS, [0, 1, 2]).python_memcached);
    assert.ok(mostlyDead.includes(-1), 'some keys find no live server within the 10 tries, as in python-memcached');
  });

  it("pymemcache picks the servers pymemcache's HashClient picks, and the same after a server is removed", () => {
    assert.deepEqual(ours('pymemcache', THREE), pythonChoices(THREE, KEYS).pymemcache);
    const four = WEIGHTED.map(([name]): [string, number] => [name, 1]);
    assert.deepEqual(ours('pymemcache', four), pythonChoices(four, KEYS).pymemcache);
    assert.deepEqual(ours('pymemcache', four, [2]), pythonChoices(four, KEYS, [2]).pymemcache);
  });

  it('the hashes match their references on known vectors', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(murmur3Python(''), 0);
    assert.equal(murmur3Python('hello'), 0x248bfa47);
  });
});

describe('ketama weights (libketama layout)', () => {
  it("equal weights give the unweighted ring; a weight scales the server's share of points", () => {
    const names = THREE.map(([name]) => name);
    const weighted = makeServerChooser(
      'ketama',
      names.map((name) => ({ name, weight: 1 })),
    );
    const plain = new HashRing(names);
    assert.deepEqual(
      KEYS.map((key) => weighted.nodeFor(key)),
      KEYS.map((key) => plain.nodeFor(key)),
    );
    // libketama: floor(weight / total * 40 * servers) digests of 4 points each: 1,2,1 of 4 over 3 servers -> 30, 60, 30.
    const heavy = makeServerChooser(
      'ketama',
      names.map((name, i) => ({ name, weight: i === 1 ? 2 : 1 })),
    ) as HashRing;
    assert.equal(heavy.pointCount, (30 + 60 + 30) * 4);
    const share = KEYS.filter((key) => heavy.nodeFor(key) === 1).length / KEYS.length;
    assert.ok(share > 0.35 && share < 0.65, `the weight-2 server holds about half the keys; got ${share}`);
  });
});

describe('server_choice argument', () => {
  it('is checked: an unknown choice, a bad weight, and weights with pymemcache are refused with the fix', () => {
    assert.throws(
      () => new PooledMemcachedBackend({ url: '127.0.0.1:11211', server_choice: 'crc32' }),
      (e: unknown) =>
        e instanceof ValidationError && /server_choice must be one of "ketama", "python_memcached", "pymemcache"/.test(e.message),
    );
    assert.throws(
      () => new PooledMemcachedBackend({ url: [['127.0.0.1:11211', 0]] }),
      (e: unknown) => e instanceof ValidationError && /weight of "127.0.0.1:11211" must be an integer from 1 to 1000/.test(e.message),
    );
    assert.throws(() => new PooledMemcachedBackend({ url: [['127.0.0.1:11211', 2]], serverChoice: 'pymemcache' }), ConfigurationError);
  });

  it('routes keys as chosen (serverFor)', () => {
    const url = THREE.map(([name]) => name);
    for (const choice of ['python_memcached', 'pymemcache'] as const) {
      const backend = new PooledMemcachedBackend({ url, server_choice: choice });
      const expected = pythonChoices(THREE, KEYS.slice(0, 300))[choice] as number[];
      assert.deepEqual(
        KEYS.slice(0, 300).map((key) => backend.serverFor(key)),
        expected.map((index) => url[index]),
      );
    }
  });
});
