/**
 * Import cost (issue 20.3): how long `import()` (ES build) and `require()` (CommonJS build) of each
 * entry point take in a fresh Node process, measured inside that process around the import (Node's own
 * start-up is not counted). Uses the built package (dist/, built first when missing) as a user gets it,
 * with lru-cache as a peer figure. Subjects are interleaved round by round so machine noise spreads
 * evenly over them. The goal is the root at most 1.2x the Dictionary subpath. The note also gives the
 * ratio of the CPU time the imports took: on a loaded machine the wall time includes waiting for a
 * core, the CPU time much less so.
 *
 *   node --import tsx bench/import-cost.ts      (BENCH_IMPORT_ROUNDS, default 15)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { figureOf, type Section, envNumber } from './lib.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ESM = path.join(ROOT, 'dist', 'esm');
const CJS = path.join(ROOT, 'dist', 'cjs');

/** Name, then the file under dist/esm and dist/cjs (or a package name). */
const entries: [name: string, file: string][] = [
  ['dogpile-cache (root)', 'index.js'],
  ['dogpile-cache/backends/dictionary', 'backends/dictionary.js'],
  ['dogpile-cache/backends/null', 'backends/null.js'],
  ['dogpile-cache/backends/memcached', 'backends/memcached/index.js'],
  ['dogpile-cache/oslo', 'oslo/index.js'],
  ['lru-cache', 'lru-cache'],
];
type Format = 'esm' | 'cjs';
const specifierOf = (file: string, format: Format): string =>
  !file.endsWith('.js') ? file : format === 'esm' ? pathToFileURL(path.join(ESM, file)).href : path.join(CJS, file);

/** Wall and CPU milliseconds of one import()/require() in a fresh process. */
function importMs(specifier: string, format: Format): { wall: number; cpu: number } {
  const load = format === 'esm' ? `await import(${JSON.stringify(specifier)})` : `require(${JSON.stringify(specifier)})`;
  const script = `const t = performance.now(); const c = process.cpuUsage(); ${load}; const d = process.cpuUsage(c); console.log(performance.now() - t, (d.user + d.system) / 1000);`;
  // From bench/, so lru-cache resolves from bench/node_modules (bench/package.json) or the root's.
  const args = format === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script];
  const [wall, cpu] = execFileSync(process.execPath, args, { cwd: path.join(ROOT, 'bench'), encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number);
  return { wall: wall ?? NaN, cpu: cpu ?? NaN };
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

/** Measures every subject in fresh processes; returns one section per build (milliseconds, lower is better). */
export async function runImportCost(): Promise<Section[]> {
  if (!fs.existsSync(path.join(ESM, 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const rounds = envNumber('BENCH_IMPORT_ROUNDS', 15, { integer: true });
  const formats: Format[] = ['esm', 'cjs'];
  const wall = new Map(formats.flatMap((format) => entries.map(([name]) => [`${format} ${name}`, [] as number[]])));
  const cpu = new Map([...wall.keys()].map((key) => [key, [] as number[]]));
  const start = os.loadavg();
  for (let round = 0; round < rounds; round++) {
    for (const format of formats) {
      for (const [name, file] of entries) {
        const measured = importMs(specifierOf(file, format), format);
        wall.get(`${format} ${name}`)?.push(measured.wall);
        cpu.get(`${format} ${name}`)?.push(measured.cpu);
      }
    }
  }
  const load = os.loadavg();
  const footprint = entries.slice(0, 2).map(([name, file]) => {
    const { files, builtins } = importFootprint(specifierOf(file, 'esm'));
    return `${name} loads ${files} files and ${builtins} built-in modules`;
  });
  const loads = `load average ${start.map((l) => l.toFixed(2)).join(' / ')} at the start, ${load.map((l) => l.toFixed(2)).join(' / ')} at the end`;
  return formats.map((format) => {
    const figures = entries.map(([name]) => figureOf(name, wall.get(`${format} ${name}`) ?? [], 'ms'));
    const cpuOf = (index: number): number => figureOf('', cpu.get(`${format} ${entries[index]?.[0]}`) ?? [], 'ms').median;
    const ratio = (figures[0]?.median ?? NaN) / (figures[1]?.median ?? NaN);
    const how = format === 'esm' ? 'import()' : 'require()';
    return {
      id: format === 'esm' ? 'import-cost' : 'import-cost-cjs',
      title: `Import cost: ${how} of an entry point in a fresh process (ms, median)`,
      figures,
      baseline: 'dogpile-cache/backends/dictionary',
      lowerIsBetter: true,
      note: `${rounds} fresh processes per entry point, built package (dist/${format}), ${loads}. Root / Dictionary subpath = ${ratio.toFixed(2)} (goal: at most 1.2); in CPU time ${cpuOf(0).toFixed(1)} / ${cpuOf(1).toFixed(1)} ms = ${(cpuOf(0) / cpuOf(1)).toFixed(2)}.${format === 'esm' ? ` ${footprint.join('; ')}.` : ''}`,
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { tableText } = await import('./lib.js');
  for (const section of await runImportCost()) console.log(tableText(section));
}
