// Installs the tools the test servers need (scripts/services.mjs install): memcached, etcd/etcdctl,
// redis and the interop Python packages from Debian, ferretdb built with Go from the module proxy.
// Plain Node ESM with node: built-ins only, so it runs before `npm ci` and on a fresh CI machine.
// Install output goes to .services/logs/install.log. See docs/testing.md.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOG_DIR = path.join(ROOT, '.services', 'logs');
const INSTALL_LOG = path.join(LOG_DIR, 'install.log');
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
const FERRETDB_VERSION = 'v1.24.2';
const IS_ROOT = process.getuid?.() === 0;

/**
 * Installs whichever of `tools` is missing (names as in the servers' table: memcached, etcd, etcdctl,
 * redis-server, ferretdb, python3-dogpile, ...). Returns the tools that were installed.
 * @param {string[]} tools
 * @param {{ ferretdbHint?: string }} [options] how to do without ferretdb, for the error when Go is missing
 */
export async function installTools(tools, { ferretdbHint = '(or provide a MongoDB-compatible server yourself: set MONGODB_URL).' } = {}) {
  const missing = [...new Set(tools)].filter((tool) => (tool === 'ferretdb' ? !ferretdbWorks() : !toolPath(tool)));
  const aptMissing = missing.filter((tool) => APT_PACKAGES[tool]);
  if (aptMissing.length > 0) await aptInstall(aptMissing);
  if (missing.includes('ferretdb')) await buildFerretdb(ferretdbHint);
  return missing;
}

// A tool maps to one Debian package or a list of them.
const APT_PACKAGES = {
  memcached: 'memcached',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  saslpasswd2: 'sasl2-bin',
  'python3-dogpile': [
    'python3-dogpile.cache',
    'python3-oslo.cache',
    'python3-memcache',
    'python3-etcd3gw',
    'python3-pymemcache',
    'python3-pylibmc',
  ],
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  'redis-cli': 'redis-tools',
  'python3-redis': ['python3-redis', 'python3-dogpile.cache'],
};
// Pseudo-tool "python3-dogpile": Debian's Python with the modules the test/interop suites run against (pymemcache and
// pylibmc: the reference clients for the memcached server choice and the ketama ring).
const PYTHON = '/usr/bin/python3';
const PYTHON_MODULES = 'import dogpile.cache, oslo_cache, memcache, etcd3gw, pymemcache, pylibmc';
let goBinDirCache;

export function toolPath(tool) {
  if (tool === 'python3-dogpile') {
    const check = spawnSync(PYTHON, ['-c', PYTHON_MODULES], { stdio: 'ignore', timeout: 30_000 });
    return check.status === 0 ? PYTHON : undefined;
  }
  if (tool === 'python3-redis') {
    const check = spawnSync(PYTHON, ['-c', 'import redis, dogpile.cache.backends.redis'], { stdio: 'ignore', timeout: 30_000 });
    return check.status === 0 ? PYTHON : undefined;
  }
  if (tool === 'ferretdb') {
    const fromGo = goBinDir() && path.join(goBinDir(), 'ferretdb');
    if (fromGo && isExecutable(fromGo)) return fromGo;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', tool);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `go install` puts binaries: $GOBIN, else the first $GOPATH entry's bin/. */
function goBinDir() {
  if (goBinDirCache === undefined) {
    const result = spawnSync('go', ['env', 'GOBIN', 'GOPATH'], { encoding: 'utf8' });
    const [gobin, gopath] = result.status === 0 ? result.stdout.split('\n') : [];
    goBinDirCache = gobin || (gopath ? path.join(gopath.split(path.delimiter)[0], 'bin') : null);
  }
  return goBinDirCache;
}

async function aptInstall(tools) {
  const packages = [...new Set(tools.flatMap((tool) => APT_PACKAGES[tool]))];
  const sudo = IS_ROOT ? [] : toolPath('sudo') ? ['sudo', '-n'] : null;
  if (!sudo) throw new Error(`${tools.join(', ')} missing and not root: install ${packages.join(' ')} yourself`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for a dpkg lock held by e.g. unattended-upgrades instead of failing straight away.
  const aptGet = [...sudo, 'apt-get', '-o', 'DPkg::Lock::Timeout=300'];
  await runLogged('apt-get update', [...aptGet, 'update'], env);
  await runLogged(`apt-get install ${packages.join(' ')}`, [...aptGet, 'install', '-y', ...packages], env);
  // On a systemd machine Debian starts etcd on the default ports; we never use it, so don't leave it running.
  if (packages.includes('etcd-server') && fs.existsSync('/run/systemd/system')) {
    const [cmd, ...args] = [...sudo, 'systemctl', 'disable', '--now', 'etcd'];
    spawnSync(cmd, args, { stdio: 'ignore' });
  }
}

/**
 * Builds FerretDB into $(go env GOPATH)/bin. A plain `go install ...@v1.24.2` is not enough: the module zip lacks
 * the generated build/version/version.txt, and such a binary panics at startup ("Invalid
 * build/version/version.txt file content"). Go refuses -overlay for files in the module cache, so we build from a
 * temporary copy of the module with that one file added; its go.sum pins the same dependencies.
 */
async function buildFerretdb(hint) {
  if (!toolPath('go')) {
    throw new Error(`ferretdb missing and Go is not installed: install Go, or ${hint}`);
  }
  const binDir = goBinDir();
  process.stderr.write(`services: building FerretDB ${FERRETDB_VERSION} into ${binDir} (a few minutes the first time)\n`);
  const spec = `${FERRETDB_MODULE}@${FERRETDB_VERSION}`;
  const download = spawnSync('go', ['mod', 'download', '-json', spec], { encoding: 'utf8', cwd: os.tmpdir() });
  const moduleDir = download.status === 0 ? JSON.parse(download.stdout).Dir : undefined;
  if (!moduleDir) throw new Error(`go mod download ${spec} failed: ${download.stdout}${download.stderr}`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-ferretdb-'));
  try {
    fs.cpSync(moduleDir, work, { recursive: true });
    makeDirsWritable(work); // the module cache is read-only, and so is the copy
    fs.writeFileSync(path.join(work, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    fs.mkdirSync(binDir, { recursive: true });
    const output = path.join(binDir, 'ferretdb');
    await runLogged('go build ferretdb', ['go', 'build', '-buildvcs=false', '-o', output, './cmd/ferretdb'], process.env, work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (!ferretdbWorks()) throw new Error(`the FerretDB build in ${binDir} does not run; see ${INSTALL_LOG}`);
}

function makeDirsWritable(root) {
  fs.chmodSync(root, 0o755);
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) fs.chmodSync(path.join(entry.parentPath ?? entry.path, entry.name), 0o755);
  }
}

/** A ferretdb binary counts as installed only if it starts: see buildFerretdb for the broken kind. */
export function ferretdbWorks() {
  const binary = toolPath('ferretdb');
  return Boolean(binary) && spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Runs an install step with its output in .services/logs/install.log and a heartbeat on stderr. */
async function runLogged(label, [cmd, ...args], env, cwd = ROOT) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.appendFileSync(INSTALL_LOG, `\n$ ${cmd} ${args.join(' ')}\n`);
  const log = fs.openSync(INSTALL_LOG, 'a');
  const started = Date.now();
  process.stderr.write(`services: ${label} (log: ${INSTALL_LOG})\n`);
  const heartbeat = setInterval(() => {
    process.stderr.write(`services: still running ${label} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }, 30_000);
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], env, cwd });
    const code = await new Promise((resolve, reject) => child.once('error', reject).once('exit', resolve));
    if (code !== 0) throw new Error(`${label} failed (exit ${code}). Last lines of ${INSTALL_LOG}:\n${readTail(INSTALL_LOG, 15)}`);
  } finally {
    clearInterval(heartbeat);
    fs.closeSync(log);
  }
}

function readTail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
