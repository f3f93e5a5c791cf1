/**
 * Import cost (issue 20.3): how long `import()` of each entry point takes in a fresh Node process,
 * measured inside that process around the import (Node's own start-up is not counted). Uses the
 * built package (dist/esm, built first when missing) as a user gets it, with lru-cache as a peer
 * figure. Subjects are interleaved round by round so machine noise spreads evenly over them. The goal
 * is the root at most 1.2x the Dictionary subpath.
 *
 *   node --import tsx bench/import-cost.ts      (BENCH_IMPORT_ROUNDS, default 15)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { figureOf, type Section } from './lib.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ESM = path.join(ROOT, 'dist', 'esm');

const subjects: [name: string, specifier: string][] = [
  ['dogpile-cache (root)', pathToFileURL(path.join(ESM, 'index.js')).href],
  ['dogpile-cache/backends/dictionary', pathToFileURL(path.join(ESM, 'backends', 'dictionary.js')).href],
  ['dogpile-cache/backends/null', pathToFileURL(path.join(ESM, 'backends', 'null.js')).href],
  ['dogpile-cache/backends/memcached', pathToFileURL(path.join(ESM, 'backends', 'memcached', 'index.js')).href],
  ['dogpile-cache/oslo', pathToFileURL(path.join(ESM, 'oslo', 'index.js')).href],
  ['lru-cache', 'lru-cache'],
];

function importMs(specifier: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  // From bench/, so lru-cache resolves from bench/node_modules (bench/package.json) or the root's.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(ROOT, 'bench'), encoding: 'utf8' });
  return Number(out.trim());
}

/** Measures every subject in fresh processes; returns one section (milliseconds, lower is better). */
export async function runImportCost(): Promise<Section[]> {
  if (!fs.existsSync(path.join(ESM, 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const rounds = Number(process.env.BENCH_IMPORT_ROUNDS ?? 15);
  const samples = new Map(subjects.map(([name]) => [name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, specifier] of subjects) samples.get(name)?.push(importMs(specifier));
  }
  const figures = subjects.map(([name]) => figureOf(name, samples.get(name) ?? [], 'ms'));
  const root = figures[0]?.median ?? NaN;
  const dictionary = figures[1]?.median ?? NaN;
  return [
    {
      id: 'import-cost',
      title: 'Import cost: import() of an entry point in a fresh process (ms, median)',
      figures,
      baseline: 'dogpile-cache/backends/dictionary',
      lowerIsBetter: true,
      note: `${rounds} fresh processes per entry point, built package (dist/esm). Root / Dictionary subpath = ${(root / dictionary).toFixed(2)} (goal: at most 1.2).`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { tableText } = await import('./lib.js');
  for (const section of await runImportCost()) console.log(tableText(section));
}
