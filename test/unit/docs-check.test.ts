import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/check-docs.mjs', import.meta.url));

describe('scripts/check-docs.mjs (doc examples type-check with TypeScript 5.9 and 7)', () => {
  it('finds the TypeScript blocks of README.md and docs/, including the mongo son_manipulator example', () => {
    const result = spawnSync(process.execPath, [script, '--list'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const blocks = result.stdout.trim().split('\n');
    assert.ok(blocks.some((b) => b.startsWith('README.md:')));
    assert.ok(blocks.some((b) => b.startsWith('docs/backends/mongo.md:')));
    assert.ok(blocks.length >= 15, `found ${blocks.length} blocks`);
  });

  it('passes on the current docs, and fails naming the Markdown line of a block that does not compile', () => {
    // A throwaway page under docs/: a typed-argument misspelling, which must be reported where it is written.
    const dir = `${root}docs/zz-check-docs-fixture`;
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(
        `${dir}/bad.md`,
        "# fixture\n\n```ts\nimport { CacheRegion } from 'dogpile-cache';\nnew CacheRegion().configure('etcd3', { arguments: { lease_tll: 60 } });\n```\n",
      );
      const bad = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 300_000 });
      assert.equal(bad.status, 1, bad.stdout);
      assert.match(bad.stderr, /docs\/zz-check-docs-fixture\/bad\.md:5:\d+: error TS2769/);
      assert.match(bad.stderr, /TypeScript 7: doc examples do not type-check/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const good = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    assert.equal(good.status, 0, good.stderr);
  });
});
