// The test command (`npm test`): finds every test/**/*.test.ts, starts the real servers the backend
// suites need (scripts/services.mjs; skipped for any server whose environment variable is already
// set), runs the files with Node's built-in test runner through tsx, and stops the servers again.
//
//   npm test                          everything
//   npm test -- test/unit             only files under the given paths
//   npm run test:unit                 only suites that need no server
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Suites under these folders talk to real servers.
const SERVER_DIRS = ['test/backends', 'test/reliability', 'test/interop', 'test/processes'];

function findTests(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => (entry.name === 'node_modules' ? [] : findTests(join(path, entry.name))))
    .sort();
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((arg) => !arg.startsWith('--'));
let files = (roots.length > 0 ? roots.map((p) => resolve(p)) : [join(root, 'test')]).flatMap(findTests);
const needsServers = (file) => SERVER_DIRS.some((dir) => relative(root, file).startsWith(dir));
if (unitOnly) files = files.filter((file) => !needsServers(file));
if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

let services;
let env = { ...process.env };
if (files.some(needsServers)) {
  const script = join(root, 'scripts', 'services.mjs');
  if (!existsSync(script)) {
    console.error('Backend suites need scripts/services.mjs to start their servers, and it is missing.');
    process.exit(1);
  }
  services = await import(pathToFileURL(script).href);
  try {
    env = { ...env, ...(await services.startServices()) };
  } catch (error) {
    console.error(`Could not start the test servers: ${error.message}`);
    await services.stopServices().catch(() => {});
    process.exit(1);
  }
}

// The usual reporter (spec on a terminal, TAP otherwise) as it runs, and a list of the failed tests, printed
// at the very end so that the last lines of a long log say what failed (scripts/failures-reporter.mjs).
const failuresDir = mkdtempSync(join(tmpdir(), 'dogpile-test-'));
const failuresFile = join(failuresDir, 'failures.txt');
const reporters = [
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  `--test-reporter=${pathToFileURL(join(root, 'scripts', 'failures-reporter.mjs')).href}`,
  `--test-reporter-destination=${failuresFile}`,
];
const nodeArgs = ['--import', 'tsx', '--test', ...reporters, '--test-concurrency=2', '--test-timeout=180000', ...files];
const child = spawn(process.execPath, nodeArgs, { cwd: root, env, stdio: 'inherit' });
const stopChild = (signal) => child.kill(signal);
process.on('SIGINT', stopChild).on('SIGTERM', stopChild);
const code = await new Promise((done) => child.on('exit', (status, signal) => done(status ?? (signal ? 1 : 0))));
const failures = existsSync(failuresFile) ? readFileSync(failuresFile, 'utf8') : '';
if (failures.trim() !== '') process.stdout.write(failures);
rmSync(failuresDir, { recursive: true, force: true });
if (services) await services.stopServices().catch((error) => console.error(`Stopping test servers failed: ${error.message}`));
process.exit(code);
