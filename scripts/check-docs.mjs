// Type-checks every ```ts block of README.md and docs/**/*.md with TypeScript 5.9 and 7, against
// the sources (`dogpile-cache` and its subpaths resolve to src/), so a doc example that no longer
// compiles fails CI. Each block is its own ES module (top-level await allowed) and imports what it
// uses. The placeholders the prose stands for (your `db`, a `logger`, a configured `region`...) are
// declared once in PLACEHOLDERS below, as globals that a block's own declarations shadow.
//
// It also refuses a table row whose code span holds an unescaped "|": GitHub and TypeDoc split the cell
// there (write `a\|b` inside the backticks).
//
//   node scripts/check-docs.mjs            check every block
//   node scripts/check-docs.mjs --list     print where the blocks are
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function markdownFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // docs/reference is TypeDoc's output (generated, not committed).
    if (path === join(root, 'docs', 'reference')) return [];
    return statSync(path).isDirectory() ? markdownFiles(path) : name.endsWith('.md') ? [path] : [];
  });
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];
const blocks = [];
const unchecked = [];
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    // A block fenced as ```ts needs=<package> uses a package this repository does not install (NestJS):
    // it is listed as not checked, never silently passed.
    const needs = /^```(?:ts|typescript)\s+needs=(\S+)\s*$/.exec(lines[i]);
    if (needs !== null) {
      unchecked.push(`${relative(root, file)}:${i + 2} (needs ${needs[1]})`);
      continue;
    }
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ file: relative(root, file), line: start + 1, text: lines.slice(start, end).join('\n') });
    i = end;
  }
}
// A "|" inside a code span of a table row ends the cell on GitHub and in TypeDoc: it must be written "\|".
const brokenRows = [];
for (const file of files) {
  let fenced = false;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/^\s*```/.test(line)) fenced = !fenced;
      if (fenced || !line.trimStart().startsWith('|')) return;
      const cells = line.replaceAll('\\|', '').split('|');
      if (cells.some((cell) => (cell.match(/`/g) ?? []).length % 2 === 1)) brokenRows.push(`${relative(root, file)}:${i + 1}`);
    });
}
if (brokenRows.length > 0) {
  console.error(`A table cell's code span holds an unescaped "|" (write \\| inside the backticks):\n  ${brokenRows.join('\n  ')}`);
  process.exit(1);
}

if (process.argv.includes('--list')) {
  for (const block of blocks) console.log(`${block.file}:${block.line}`);
  process.exit(0);
}

// Inside the project, so `node_modules` (drivers' and Node's types) resolves as for the tests.
const scratch = join(root, '.check-docs');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch);
const names = blocks.map((block, i) => {
  const name = `${String(i).padStart(3, '0')}-${block.file.replace(/[/.]/g, '_')}-${block.line}.mts`;
  // `export {}` makes a block without imports a module too (top-level await, no global clashes).
  writeFileSync(join(scratch, name), `${block.text}\nexport {};\n`);
  return name;
});
const PLACEHOLDERS = `import type { CacheRegion } from 'dogpile-cache';
declare global {
  /** The application's data layer. */
  const db: {
    loadUser(id: number): Promise<{ id: number; name: string }>;
    users: { find(id: number): Promise<{ id: number; name: string }> };
    load(id: number, lang: string): Promise<string>;
  };
  const id: number;
  const value: string;
  const iniText: string;
  const logger: { warn(details: object, message: string): void };
  /** A region configured earlier in the page. */
  const region: CacheRegion;
  function buildReport(): Promise<string>;
  function ttlFromConfig(): number;
}
export {};
`;
writeFileSync(join(scratch, 'placeholders.d.ts'), PLACEHOLDERS);
const subpath = (dir) => [`../src/backends/${dir}/index.ts`];
writeFileSync(
  join(scratch, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      target: 'ES2022',
      lib: ['ES2024'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      noUnusedLocals: false,
      paths: {
        'dogpile-cache': ['../src/index.ts'],
        'dogpile-cache/backends/dictionary': ['../src/backends/dictionary.ts'],
        'dogpile-cache/backends/null': ['../src/backends/null.ts'],
        'dogpile-cache/backends/memcached': subpath('memcached'),
        'dogpile-cache/backends/mongo': subpath('mongo'),
        'dogpile-cache/backends/etcd3': subpath('etcd3'),
        'dogpile-cache/backends/redis': subpath('redis'),
        'dogpile-cache/testing': ['../src/testing/index.ts'],
        'dogpile-cache/backend': ['../src/backend.ts'],
        'dogpile-cache/oslo': ['../src/oslo/index.ts'],
        'dogpile-cache/tier': ['../src/tier/index.ts'],
      },
    },
    files: ['placeholders.d.ts', ...names],
  }),
);

let failed = false;
for (const [label, tsc] of [
  ['TypeScript 5.9', join(root, 'node_modules', 'typescript', 'bin', 'tsc')],
  ['TypeScript 7', join(root, 'node_modules', 'typescript7', 'bin', 'tsc')],
]) {
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: scratch, encoding: 'utf8' });
  if (result.status === 0) continue;
  failed = true;
  // Name the Markdown file and line, not the scratch file.
  const output = `${result.stdout}${result.stderr}`.replace(/^(\d{3})-[^(]*\.mts\((\d+),(\d+)\)/gm, (_, index, line, column) => {
    const block = blocks[Number(index)];
    return `${block.file}:${block.line + Number(line) - 1}:${column}`;
  });
  console.error(`${label}: doc examples do not type-check:\n${output}`);
}
rmSync(scratch, { recursive: true, force: true });
if (failed) process.exit(1);
console.log(`${blocks.length} TypeScript blocks in ${files.length} Markdown files type-check with TypeScript 5.9 and 7.`);
if (unchecked.length > 0) console.log(`Not checked (they need packages this repository does not install): ${unchecked.join(', ')}.`);
