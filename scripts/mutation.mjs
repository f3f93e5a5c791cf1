// Mutation testing (`npm run mutation`): runs StrykerJS on one core module at a time, each with only
// the test files that exercise it, so one module takes minutes rather than the whole suite per mutant.
//
//   npm run mutation                      every module below, one after the other
//   npm run mutation -- ring memoize      only these modules
//   npm run mutation -- --list            the modules, their source file and test files
//   npm run mutation -- --summary         rebuild reports/mutation/summary.md from the last run of each module
//
// Reports: reports/mutation/<module>/index.html and mutation.json (Stryker's) and summary.json, plus
// reports/mutation/summary.md with one line per module's last run (score, killed, survived, no
// coverage) and every surviving mutant (file:line, mutator, replacement), which docs/testing.md quotes.
// STRYKER_CONCURRENCY sets the number of workers (default 2). The suites listed need no server.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reportRoot = join(root, 'reports', 'mutation');

// Every public entry point's bad-input cases, with the error each must raise (and docs/errors.md, built
// from their messages); it needs no server, though it lives under test/reliability.
const BAD_INPUT = 'test/reliability/bad-input.test.ts';

// Each module: the file Stryker mutates, and the test files that exercise it. Files named
// test/unit/mutation-<module>*.test.ts are added automatically, so a test written to kill a mutant
// needs no edit here.
const MODULES = {
  ring: { mutate: 'src/backends/memcached/ring.ts', tests: ['test/unit/memcached-ring.test.ts'] },
  invalidation: {
    mutate: 'src/invalidation.ts',
    // mutation-region-fresh: validSince, the invalidation time the store's freshness check reads.
    tests: ['test/region/region.test.ts', 'test/region/region-suite.test.ts', 'test/unit/mutation-region-fresh.test.ts'],
  },
  memoize: {
    mutate: 'src/memoize.ts',
    // decorators.test.ts: the legacy (experimentalDecorators) calling convention.
    tests: [
      'test/region/region.test.ts',
      'test/region/region-suite.test.ts',
      'test/unit/keys.test.ts',
      'test/unit/decorators.test.ts',
      BAD_INPUT,
    ],
  },
  region: {
    mutate: 'src/region.ts',
    // Every region suite that needs no server (all of them run in `npm run test:unit`). The targeted
    // files come first and the slow ones last: a mutant stops at the first file that fails, so the order
    // changes the run time (region.ts has over 1,000 mutants), not the score.
    tests: [
      'test/unit/mutation-region-reads.test.ts',
      'test/unit/mutation-region-create.test.ts',
      'test/unit/attack-region-reentrant.test.ts',
      'test/unit/mutation-region-config.test.ts',
      'test/unit/mutation-region-edges.test.ts',
      'test/region/region-suite.test.ts',
      'test/region/region.test.ts',
      'test/region/semantics.test.ts',
      'test/region/everyday.test.ts',
      'test/region/storage.test.ts',
      'test/region/config-options.test.ts',
      'test/region/model.test.ts',
      'test/unit/core.test.ts',
      BAD_INPUT,
      'test/unit/mutation-region-limits.test.ts',
      // The settled promises a store-judged hit returns as they are.
      'test/unit/mutation-dictionary-settled.test.ts',
    ],
  },
  lock: {
    mutate: 'src/lock.ts',
    tests: ['test/lock/lock.test.ts', 'test/lock/layered.test.ts', 'test/region/region.test.ts', 'test/region/region-suite.test.ts'],
  },
  keys: { mutate: 'src/keys.ts', tests: ['test/unit/keys.test.ts', 'test/region/region.test.ts', BAD_INPUT] },
  serializers: { mutate: 'src/serializers.ts', tests: ['test/unit/serializers.test.ts', 'test/unit/core.test.ts', BAD_INPUT] },
  dictionary: {
    mutate: 'src/backends/dictionary.ts',
    tests: [
      'test/unit/dictionary.test.ts',
      'test/unit/dictionary-size.test.ts',
      'test/unit/attack-dictionary-compact.test.ts',
      // The store's freshness check (EntryTable.fresh), which only a region calls.
      'test/unit/mutation-region-fresh.test.ts',
      'test/conformance/in-process.test.ts',
      BAD_INPUT,
    ],
  },
  'redis-watchdog': {
    mutate: 'src/backends/redis/watchdog.ts',
    // The command bound on mocked timers and a clock of the tests' own: no server (the grace file lives
    // with the Redis suites, beside watchdog.test.ts, which needs one and is not listed).
    tests: [
      'test/unit/redis-watchdog.test.ts',
      'test/unit/attack2-redis-watchdog-model.test.ts',
      'test/backends/redis/watchdog-grace.test.ts',
    ],
  },
};

function testFilesOf(name) {
  const own = readdirSync(join(root, 'test', 'unit'))
    .filter((file) => file.startsWith(`mutation-${name}`) && file.endsWith('.test.ts'))
    .map((file) => `test/unit/${file}`);
  const listed = MODULES[name].tests.filter((file) => {
    if (existsSync(join(root, file))) return true;
    console.warn(`mutation ${name}: ${file} does not exist (renamed?); running without it. Update MODULES in scripts/mutation.mjs.`);
    return false;
  });
  return [...new Set([...listed, ...own])];
}

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const name of Object.keys(MODULES)) console.log(`${name.padEnd(13)} ${MODULES[name].mutate}  <-  ${testFilesOf(name).join(' ')}`);
  process.exit(0);
}
if (args.includes('--summary')) {
  writeSummary([]);
  process.exit(0);
}
const unknown = args.filter((name) => name !== '--run-one' && !Object.hasOwn(MODULES, name));
if (unknown.length > 0) {
  console.error(`Unknown module(s): ${unknown.join(', ')}. Known: ${Object.keys(MODULES).join(', ')} (or --list).`);
  process.exit(2);
}
const selected = args.length > 0 ? args.filter((name) => name !== '--run-one') : Object.keys(MODULES);

/** Counts by Stryker status, and the score as Stryker computes it (killed + timeout over valid mutants). */
function summarize(name, results) {
  const counts = {};
  for (const mutant of results) counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected);
  const survivors = results
    .filter((mutant) => mutant.status === 'Survived' || mutant.status === 'NoCoverage')
    .map((mutant) => {
      const line = mutant.location.start.line;
      const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100);
      return `- ${relative(root, mutant.fileName)}:${line} ${mutant.mutatorName}${mutant.status === 'NoCoverage' ? ' (no coverage)' : ''}: \`${replacement}\``;
    });
  return { name, counts, score, survivors };
}

// Each module runs in a child process of its own: Stryker keeps state between runs in one process
// (a second run in the same process failed while merging its options).
const summaries = [];
let failed = false;
if (args[0] === '--run-one') {
  await runOne(args[1]);
  process.exit(0);
}
for (const name of selected) {
  const code = await new Promise((done) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--run-one', name], { cwd: root, stdio: 'inherit' });
    child.on('exit', (status, signal) => done(status ?? (signal ? 1 : 0)));
  });
  const file = join(reportRoot, name, 'summary.json');
  if (code === 0 && existsSync(file)) summaries.push(JSON.parse(readFileSync(file, 'utf8')));
  else {
    failed = true;
    summaries.push({ name, error: `the Stryker run exited with code ${code}; see its output above` });
  }
}

async function runOne(name) {
  const { Stryker } = await import('@stryker-mutator/core');
  const base = (await import('../stryker.config.mjs')).default;
  const { mutate } = MODULES[name];
  const testFiles = testFilesOf(name);
  const out = join(reportRoot, name);
  mkdirSync(out, { recursive: true });
  console.log(`\n== ${name}: mutating ${mutate} with ${testFiles.join(', ')}`);
  const started = Date.now();
  const stryker = new Stryker({
    ...base,
    // MUTATE narrows a run to some lines ("file:from-to", comma-separated), as Stryker's --mutate does.
    mutate: process.env.MUTATE ? process.env.MUTATE.split(',') : [mutate],
    tap: { ...base.tap, testFiles },
    tempDirName: `.stryker-tmp/${name}-${process.pid}`,
    htmlReporter: { fileName: join(out, 'index.html') },
    jsonReporter: { fileName: join(out, 'mutation.json') },
  });
  const summary = summarize(name, await stryker.runMutationTest());
  summary.minutes = (Date.now() - started) / 60_000;
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary));
}

writeSummary(summaries.filter((summary) => summary.error));

/**
 * reports/mutation/summary.md from every module's last run (reports/mutation/<module>/summary.json,
 * written by the module's own process), plus this run's failures.
 */
function writeSummary(errors) {
  const all = [];
  for (const name of Object.keys(MODULES)) {
    const failure = errors.find((e) => e.name === name);
    const file = join(reportRoot, name, 'summary.json');
    if (failure) all.push(failure);
    else if (existsSync(file)) all.push({ ...JSON.parse(readFileSync(file, 'utf8')), at: statSync(file).mtime.toISOString() });
  }
  const lines = [
    '# Mutation testing summary',
    '',
    '| Module | Score | Killed | Timeout | Survived | No coverage | Minutes | Run at |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of all) {
    if (s.error) lines.push(`| ${s.name} | error: ${s.error} | | | | | | |`);
    else
      lines.push(
        `| ${s.name} | ${s.score.toFixed(1)} % | ${s.counts.Killed ?? 0} | ${s.counts.Timeout ?? 0} | ${s.counts.Survived ?? 0} | ${s.counts.NoCoverage ?? 0} | ${s.minutes.toFixed(1)} | ${s.at} |`,
      );
  }
  const table = lines.length;
  for (const s of all)
    if (!s.error && s.survivors.length > 0) lines.push('', `## ${s.name}: ${s.survivors.length} undetected`, '', ...s.survivors);
  mkdirSync(reportRoot, { recursive: true });
  writeFileSync(join(reportRoot, 'summary.md'), `${lines.join('\n')}\n`);
  console.log(`\n${lines.slice(0, table).join('\n')}\n\nFull report: ${relative(root, join(reportRoot, 'summary.md'))}`);
}
process.exit(failed ? 1 : 0);
