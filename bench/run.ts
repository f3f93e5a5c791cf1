/**
 * `npm run bench`: every benchmark part in one run, on the same machine and the same servers, us
 * beside the peers. Starts the real servers (scripts/services.mjs) unless MEMCACHED_SERVERS /
 * ETCD_ENDPOINTS / MONGODB_URL point at running ones, stops them after, prints every table and writes
 * docs/benchmarks.md with SVG charts in docs/bench/.
 *
 *   npm run bench                      everything
 *   BENCH_PARTS=in-process,herd npm run bench     some parts (the report then holds only those)
 *   BENCH_NO_WRITE=1 npm run bench     print only
 *   BENCH_REPORT_ONLY=1 npm run bench  rebuild docs/benchmarks.md from docs/bench/results.json (the last
 *                                      run's figures), e.g. after changing the report; measures nothing
 *
 * Each part runs in a process of its own (this script again, with BENCH_PART_OUT set), one after the
 * other: a part's figures then do not depend on the code the parts before it made V8 compile (a call site
 * that has seen five backends runs slower than one that has seen one, and only our side would pay for it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineLines, tableText, type Section } from './lib.js';
import { writeReport } from './report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ALL = ['import-cost', 'in-process', 'hot-paths', 'herd', 'memcached', 'etcd', 'mongo', 'redis', 'locks', 'tier'];
const parts = (process.env.BENCH_PARTS ?? ALL.join(',')).split(',').map((p) => p.trim());
// The memcached part counts operations, not time: a third of its standalone size keeps the whole run near 10 minutes.
process.env.BENCH_SCALE ??= '0.3';

interface Services {
  startServices(opts: { env: Record<string, string | undefined> }): Promise<Record<string, string>>;
  stopServices(): Promise<void>;
}

const RESULTS = path.join(ROOT, 'docs', 'bench', 'results.json');
if (process.env.BENCH_REPORT_ONLY) {
  const saved = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Parameters<typeof writeReport>[1];
  const file = writeReport(ROOT, saved);
  console.log(`rebuilt ${path.relative(ROOT, file)} from ${path.relative(ROOT, RESULTS)}`);
  process.exit(0);
}

// In a part's own process: run it on the servers the parent passed, write its sections, exit.
const partOut = process.env.BENCH_PART_OUT;
if (partOut !== undefined) {
  const [name] = parts;
  const got = await runPart(name as string, process.env);
  fs.writeFileSync(partOut, JSON.stringify(got));
  process.exit(0);
}

const header = ['# dogpile-cache benchmarks', ...machineLines()];
console.log(`${header.join('\n')}\n`);
const load = os.loadavg();

const needsServers = parts.some((p) => ['memcached', 'etcd', 'mongo', 'redis', 'locks', 'tier'].includes(p));
const wanted = ['MEMCACHED_SERVERS', 'ETCD_ENDPOINTS', 'MONGODB_URL', 'REDIS_URL'];
let services: Services | undefined;
let env: Record<string, string | undefined> = { ...process.env };
const sections: Section[] = [];
let failed = false;
try {
  // startServices stops what scripts/services.mjs started before: only call it when a server is missing.
  if (needsServers && wanted.some((name) => !process.env[name])) {
    services = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'services.mjs')).href)) as Services;
    // The three-member etcd cluster and the Redis Sentinel and Cluster setups are not benchmarked: don't start them.
    const unused = {
      ETCD_CLUSTER_ENDPOINTS: process.env.ETCD_CLUSTER_ENDPOINTS ?? 'unused',
      REDIS_SENTINELS: process.env.REDIS_SENTINELS ?? 'unused',
      REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES ?? 'unused',
    };
    env = { ...env, ...(await services.startServices({ env: { ...process.env, ...unused } })) };
    console.log(`started servers: memcached ${env.MEMCACHED_SERVERS}, etcd ${env.ETCD_ENDPOINTS}, mongo ${env.MONGODB_URL}\n`);
  } else if (needsServers) {
    console.log(`servers from the environment: memcached ${env.MEMCACHED_SERVERS}, etcd ${env.ETCD_ENDPOINTS}, mongo ${env.MONGODB_URL}\n`);
  }
  for (const name of ALL.filter((part) => parts.includes(part))) {
    const started = performance.now();
    const got = await runInOwnProcess(name, env);
    for (const section of got) console.log(tableText(section));
    console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    sections.push(...got);
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  if (services) await services.stopServices().catch((error: unknown) => console.error(`stopping the servers failed: ${String(error)}`));
}

if (!failed && !process.env.BENCH_NO_WRITE) {
  // Only the server addresses: the results are committed, the rest of the environment is not ours to publish.
  const serversNote = Object.fromEntries(wanted.map((name) => [name, env[name]]));
  const results = { header, load, sections, parts, serversNote };
  const file = writeReport(ROOT, results);
  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
  console.log(`wrote ${path.relative(ROOT, file)} and ${sections.length} charts in docs/bench/`);
}
process.exit(failed ? 1 : 0);

/** Runs part `name` in a new process of this script, with the same Node flags, and returns its sections. */
async function runInOwnProcess(name: string, env: Record<string, string | undefined>): Promise<Section[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-bench-'));
  const out = path.join(dir, 'sections.json');
  try {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string], {
      env: { ...env, BENCH_PARTS: name, BENCH_PART_OUT: out },
      stdio: 'inherit',
    });
    const code = await new Promise<number>((done) => child.on('exit', (status, signal) => done(status ?? (signal ? 1 : 0))));
    if (code !== 0 || !fs.existsSync(out)) throw new Error(`bench part ${name} failed (exit code ${code}); its output is above`);
    return JSON.parse(fs.readFileSync(out, 'utf8')) as Section[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs one part in this process against the servers named in `env`. Only that part's module is loaded:
 * a process that had loaded every part (the drivers, the peers) ran the hot paths about a third slower.
 */
async function runPart(name: string, env: Record<string, string | undefined>): Promise<Section[]> {
  const servers = {
    memcached: env.MEMCACHED_SERVERS as string,
    etcd: env.ETCD_ENDPOINTS as string,
    mongo: env.MONGODB_URL as string,
    redis: env.REDIS_URL as string,
  };
  switch (name) {
    case 'import-cost':
      return (await import('./import-cost.js')).runImportCost();
    case 'in-process':
      return (await import('./in-process.js')).runInProcess();
    case 'hot-paths':
      return (await import('./hot-paths.js')).runHotPaths();
    case 'herd':
      return (await import('./herd.js')).runHerd();
    case 'memcached':
      return (await import('./memcached.js')).runMemcached(servers.memcached?.split(',') ?? []);
    case 'etcd':
      return (await import('./etcd3.js')).runEtcd(servers.etcd.split(','));
    case 'mongo':
      return (await import('./mongo.js')).runMongo(servers.mongo);
    case 'redis':
      return (await import('./redis.js')).runRedis(servers.redis);
    case 'locks':
      return (await import('./locks.js')).runLocks({ memcached: servers.memcached, etcd: servers.etcd, mongo: servers.mongo });
    case 'tier':
      return (await import('./tier.js')).runTier(servers);
    default:
      throw new Error(`unknown bench part ${name}: one of ${ALL.join(', ')}`);
  }
}
