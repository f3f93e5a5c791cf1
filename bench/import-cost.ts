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
import os from 'node:os';
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

// Counts what an import loads, in a process of its own (the hook would slow the timed imports): the
// files (ours and node_modules') and the built-in modules that were not loaded at start-up. Unlike the
// time, these do not depend on the machine's load, so they show what a change removed even when busy.
const COUNTING_HOOK = `data:text/javascript,${encodeURIComponent(
  "let port; export function initialize(data) { port = data.port; } export async function load(url, context, next) { if (url.startsWith('file:')) port.postMessage(url); return next(url, context); }",
)}`;

function importFootprint(specifier: string): { files: number; builtins: number } {
  const script = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const files = new Set();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (url) => files.add(url));
    register(${JSON.stringify(COUNTING_HOOK)}, { data: { port: port2 }, transferList: [port2] });
    const before = new Set(process.moduleLoadList);
    await import(${JSON.stringify(specifier)});
    await new Promise((resolve) => setTimeout(resolve, 100));
    port1.close();
    const builtins = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ') && !m.includes('/perf/'));
    console.log(JSON.stringify({ files: files.size, builtins: builtins.length }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(ROOT, 'bench'), encoding: 'utf8' });
  return JSON.parse(out.trim()) as { files: number; builtins: number };
}

/** Measures every subject in fresh processes; returns one section (milliseconds, lower is better). */
export async function runImportCost(): Promise<Section[]> {
  if (!fs.existsSync(path.join(ESM, 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const rounds = Number(process.env.BENCH_IMPORT_ROUNDS ?? 15);
  const samples = new Map(subjects.map(([name]) => [name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, specifier] of subjects) samples.get(name)?.push(importMs(specifier));
  }
  const load = os.loadavg();
  const figures = subjects.map(([name]) => figureOf(name, samples.get(name) ?? [], 'ms'));
  const footprint = subjects.slice(0, 2).map(([name, specifier]) => {
    const { files, builtins } = importFootprint(specifier);
    return `${name} loads ${files} files and ${builtins} built-in modules`;
  });
  const root = figures[0]?.median ?? NaN;
  const dictionary = figures[1]?.median ?? NaN;
  return [
    {
      id: 'import-cost',
      title: 'Import cost: import() of an entry point in a fresh process (ms, median)',
      figures,
      baseline: 'dogpile-cache/backends/dictionary',
      lowerIsBetter: true,
      note: `${rounds} fresh processes per entry point, built package (dist/esm), load average ${load.map((l) => l.toFixed(2)).join(' / ')} at the end. Root / Dictionary subpath = ${(root / dictionary).toFixed(2)} (goal: at most 1.2). ${footprint.join('; ')}.`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { tableText } = await import('./lib.js');
  for (const section of await runImportCost()) console.log(tableText(section));
}
