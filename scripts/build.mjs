// Builds the dual package: dist/esm (ES modules) and dist/cjs (CommonJS), each with its own
// declaration files, so `import` and `require` both get types that match what they load.
// tsc writes the declarations (one .d.ts per source module, at the paths the exports map names);
// esbuild writes the JavaScript, bundled into few files per entry point (scripts/build-bundle.mjs).
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundle } from './build-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });

// Every entry point of the exports map, as output name → source file:
// "./backends/memcached" → { "backends/memcached/index": "src/backends/memcached/index.ts" }.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = {};
for (const target of Object.values(pkg.exports)) {
  const file = target?.import?.default;
  if (typeof file !== 'string') continue;
  const out = file.replace(/^\.\/dist\/esm\//, '').replace(/\.js$/, '');
  entries[out] = `src/${out}.ts`;
}

// The package ships dist/ but not src/: source maps carry their sources inline (a stack trace with
// --enable-source-maps, or a debugger, shows the TypeScript), and declaration maps, which can only
// point at .ts files, are not made.
const declarations = ['tsconfig.build.json', 'tsconfig.cjs.json'].map((project) =>
  promisify(execFile)(process.execPath, [tsc, '-p', join(root, project)], { cwd: root }).catch((error) => {
    throw new Error(`tsc -p ${project} failed:\n${error.stdout}${error.stderr}`);
  }),
);
await Promise.all([...declarations, bundle(root, entries)]);

// A bundling mistake (a chunk missing a name another file imports) fails at link time: load every entry
// point of both builds once, in a fresh process, so `npm run build` itself reports it.
const files = Object.keys(entries).map((out) => `${out}.js`);
const check = `
  for (const file of ${JSON.stringify(files)}) {
    await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'esm')).href)} + '/' + file);
    require(${JSON.stringify(join(root, 'dist', 'cjs'))} + '/' + file);
  }`;
await promisify(execFile)(
  process.execPath,
  ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);${check}`],
  {
    cwd: root,
  },
).catch((error) => {
  throw new Error(`a built entry point does not load:\n${error.stderr}`);
});
