import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { MissingDependencyError } from '../../src/index.js';

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
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
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
    assert.match(result.message, /needs the "memjs" and "generic-pool" packages, which are not installed\. Install them with: npm install memjs generic-pool$/);
  });

  it('names only the one missing when the other is installed', () => {
    const result = withoutPackages(['generic-pool'], memcachedScript) as { packageNames: string[]; message: string };
    assert.deepEqual(result.packageNames, ['generic-pool']);
    assert.match(result.message, /Install it with: npm install generic-pool$/);
  });

  it('keeps packageName (the first) for callers of one package', () => {
    const error = new MissingDependencyError(['memjs', 'generic-pool'], 'PooledMemcachedBackend');
    assert.equal(error.packageName, 'memjs');
    assert.equal(new MissingDependencyError('etcd3', 'Etcd3Backend').message, 'The Etcd3Backend backend needs the "etcd3" package, which is not installed. Install it with: npm install etcd3');
  });
});
