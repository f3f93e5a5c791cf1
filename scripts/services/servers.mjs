// Starts and stops the real servers the test suites talk to (scripts/services.mjs start|stop|status):
// three memcached, a single-member etcd, a three-member etcd cluster, FerretDB (MongoDB wire protocol) and
// three Redis setups (a single server; a master, a replica and three sentinels; a three-master cluster).
// Installing them is scripts/services/install.mjs. Plain Node ESM with node: built-ins only.
// Everything it creates lives under `.services/` at the repo root. See docs/testing.md.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installTools as installMissing, toolPath } from './install.mjs';

const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE_DIR = path.join(ROOT, '.services');
const PID_DIR = path.join(STATE_DIR, 'pids');
const LOG_DIR = path.join(STATE_DIR, 'logs');
const DATA_DIR = path.join(STATE_DIR, 'data');
export const ENV_FILE = path.join(STATE_DIR, 'env.json');
const TOKEN_FILE = path.join(STATE_DIR, 'etcd-cluster-token');

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

const IS_ROOT = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------------------------
// Service table

const ETCD_CLUSTER = [
  { name: 'etcd-1', client: 23479, peer: 23480 },
  { name: 'etcd-2', client: 23579, peer: 23580 },
  { name: 'etcd-3', client: 23679, peer: 23680 },
];

const httpUrl = (port) => `http://${HOST}:${port}`;

function memcached(name, port) {
  return {
    name,
    binary: 'memcached',
    ports: [port],
    endpoint: `${HOST}:${port}`,
    // Foreground (no -d) so the pid we spawn is the server's pid. -u is only accepted/needed as root.
    args: () => ['-l', HOST, '-p', String(port), '-U', '0', '-m', '1024', '-c', '1024', ...(IS_ROOT ? ['-u', 'root'] : [])],
    probe: () => memcachedVersion(port),
  };
}

function etcd(name, client, peer, cluster) {
  const dataDir = path.join(DATA_DIR, name);
  return {
    name,
    binary: 'etcd',
    ports: [client, peer],
    endpoint: httpUrl(client),
    dataDir,
    args: () => [
      '--name',
      name,
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      httpUrl(client),
      '--advertise-client-urls',
      httpUrl(client),
      '--listen-peer-urls',
      httpUrl(peer),
      '--initial-advertise-peer-urls',
      httpUrl(peer),
      '--initial-cluster',
      cluster.members.map((m) => `${m.name}=${httpUrl(m.peer)}`).join(','),
      '--initial-cluster-token',
      cluster.token(),
      // A member that already has data (restarted by startService) must rejoin instead of bootstrapping.
      '--initial-cluster-state',
      fs.existsSync(path.join(dataDir, 'member')) ? 'existing' : 'new',
    ],
    probe: () => etcdHealthy(client),
  };
}

function ferretdb(port, debugPort) {
  const dataDir = path.join(DATA_DIR, 'ferretdb');
  const sqliteDir = path.join(dataDir, 'sqlite');
  return {
    name: 'ferretdb',
    binary: 'ferretdb',
    ports: [port, debugPort],
    endpoint: `mongodb://${HOST}:${port}/`,
    dataDir,
    dirs: [sqliteDir],
    args: () => [
      '--handler=sqlite',
      // FerretDB wants a file: URL of an existing directory, ending with '/'.
      `--sqlite-url=${pathToFileURL(sqliteDir).href}/`,
      `--listen-addr=${HOST}:${port}`,
      `--debug-addr=${HOST}:${debugPort}`,
      '--telemetry=disable',
      `--state-dir=${dataDir}`,
      '--log-level=warn',
    ],
    probe: () => ferretdbReady(port, debugPort),
  };
}

// Redis: foreground processes (no --daemonize, no pidfile), so the pid we spawn is the server's pid and stop
// is by pid. Nothing is persisted (--save '', no AOF): a restarted server starts empty, like memcached.
const REDIS_SENTINEL_SERVICE = 'mymaster';
const REDIS_MASTER_PORT = 26380;
const REDIS_CLUSTER_PORTS = [27001, 27002, 27003];
const REDIS_SENTINEL_PORTS = [26382, 26383, 26384];

function redisServer(name, port, extra = () => [], { cluster = false } = {}) {
  const dataDir = path.join(DATA_DIR, name);
  return {
    name,
    binary: 'redis-server',
    // A cluster node also listens on its bus port, port + 10000.
    ports: cluster ? [port, port + 10000] : [port],
    endpoint: `${HOST}:${port}`,
    dataDir,
    args: () => [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      dataDir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...extra(),
    ],
    probe: () => redisPing(port),
  };
}

function redisSentinel(name, port) {
  const dataDir = path.join(DATA_DIR, name);
  const config = path.join(dataDir, 'sentinel.conf');
  return {
    name,
    binary: 'redis-sentinel',
    ports: [port],
    endpoint: `${HOST}:${port}`,
    dataDir,
    args: () => {
      // Sentinel rewrites its config file with what it learns (replicas, other sentinels, the epoch), so a
      // restarted sentinel keeps its own file and only a fresh one gets the initial monitor line.
      if (!fs.existsSync(config)) {
        fs.writeFileSync(
          config,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dataDir}`,
            'daemonize no',
            'logfile ""',
            `sentinel monitor ${REDIS_SENTINEL_SERVICE} ${HOST} ${REDIS_MASTER_PORT} 2`,
            `sentinel down-after-milliseconds ${REDIS_SENTINEL_SERVICE} 1000`,
            `sentinel failover-timeout ${REDIS_SENTINEL_SERVICE} 5000`,
            '',
          ].join('\n'),
        );
      }
      return [config];
    },
    probe: () => redisPing(port),
  };
}

export const SERVICES = Object.fromEntries(
  [
    memcached('memcached-1', 21211),
    memcached('memcached-2', 21212),
    memcached('memcached-3', 21213),
    etcd('etcd-single', 23379, 23380, {
      members: [{ name: 'etcd-single', peer: 23380 }],
      token: () => 'dogpile-cache-single',
    }),
    ...ETCD_CLUSTER.map((m) => etcd(m.name, m.client, m.peer, { members: ETCD_CLUSTER, token: clusterToken })),
    ferretdb(27117, 27118),
    redisServer('redis-single', 26379),
    redisServer('redis-master', REDIS_MASTER_PORT),
    redisServer('redis-replica', 26381, () => ['--replicaof', HOST, String(REDIS_MASTER_PORT)]),
    ...REDIS_SENTINEL_PORTS.map((port, i) => redisSentinel(`redis-sentinel-${i + 1}`, port)),
    ...REDIS_CLUSTER_PORTS.map((port, i) =>
      redisServer(
        `redis-cluster-${i + 1}`,
        port,
        () => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          '--cluster-require-full-coverage',
          'no',
        ],
        { cluster: true },
      ),
    ),
  ].map((s) => [s.name, s]),
);

// One group per environment variable: setting the variable means "use my server", so the group is skipped.
export const GROUPS = [
  // saslpasswd2 (sasl2-bin): the memcached suite starts its own SASL-protected server and needs it to create a login.
  // python3-dogpile: the Python side of test/interop (see PYTHON_MODULES in install.mjs).
  {
    env: 'MEMCACHED_SERVERS',
    members: ['memcached-1', 'memcached-2', 'memcached-3'],
    tools: ['memcached', 'saslpasswd2', 'python3-dogpile'],
  },
  { env: 'ETCD_ENDPOINTS', members: ['etcd-single'], tools: ['etcd'] },
  { env: 'ETCD_CLUSTER_ENDPOINTS', members: ['etcd-1', 'etcd-2', 'etcd-3'], tools: ['etcd', 'etcdctl'] },
  { env: 'MONGODB_URL', members: ['ferretdb'], tools: ['ferretdb'] },
  // python3-redis: the Python side of test/interop/redis.test.ts (dogpile.cache.redis needs redis-py).
  { env: 'REDIS_URL', members: ['redis-single'], tools: ['redis-server', 'redis-cli', 'python3-redis'], value: `redis://${HOST}:26379` },
  {
    env: 'REDIS_SENTINELS',
    members: ['redis-master', 'redis-replica', 'redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3'],
    tools: ['redis-server', 'redis-sentinel', 'redis-cli'],
    // The tests use the sentinels only (service name "mymaster", as dogpile's default service_name).
    value: REDIS_SENTINEL_PORTS.map((port) => `${HOST}:${port}`).join(','),
    setup: () => redisSentinelsReady(),
  },
  {
    env: 'REDIS_CLUSTER_NODES',
    members: ['redis-cluster-1', 'redis-cluster-2', 'redis-cluster-3'],
    tools: ['redis-server', 'redis-cli'],
    setup: () => redisClusterCreate(),
  },
];

const groupValue = (group) => group.value ?? group.members.map((name) => SERVICES[name].endpoint).join(',');
const groupOf = (name) => GROUPS.find((g) => g.members.includes(name));

function serviceByName(name) {
  const service = SERVICES[name];
  if (!service) throw new Error(`unknown service "${name}" (known: ${Object.keys(SERVICES).join(', ')})`);
  return service;
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/**
 * Starts every server whose environment variable is not already set, waits until each answers and writes
 * `.services/env.json`. Leftovers of a previous run are stopped first and data directories start empty.
 * @param {{ env?: Record<string, string | undefined>, timeoutMs?: number, install?: boolean }} [opts]
 * @returns {Promise<{ MEMCACHED_SERVERS: string, ETCD_ENDPOINTS: string, ETCD_CLUSTER_ENDPOINTS: string, MONGODB_URL: string }>}
 */
export async function startServices({ env = process.env, timeoutMs = READY_TIMEOUT_MS, install = true } = {}) {
  await stopServices();
  const wanted = GROUPS.filter((g) => !env[g.env]);
  if (install) await installTools(wanted.flatMap((g) => g.tools));

  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
  fs.writeFileSync(TOKEN_FILE, `dogpile-cache-${process.pid}-${Date.now()}\n`);

  const services = wanted.flatMap((g) => g.members).map(serviceByName);
  // Check every port before spawning anything, so a conflict fails fast and leaves nothing behind.
  for (const service of services) await assertPortsFree(service);

  const results = await Promise.allSettled(services.map((s) => launch(s, { freshLog: true, timeoutMs })));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  // Groups that need more than running processes (the Redis cluster's slots, the sentinels' view of the master).
  if (failures.length === 0) {
    const setups = await Promise.allSettled(wanted.filter((g) => g.setup).map((g) => g.setup({ timeoutMs })));
    failures.push(...setups.filter((r) => r.status === 'rejected').map((r) => r.reason.message));
  }
  if (failures.length > 0) {
    await stopServices();
    throw new Error(failures.join('\n'));
  }

  const result = Object.fromEntries(GROUPS.map((g) => [g.env, env[g.env] || groupValue(g)]));
  fs.writeFileSync(ENV_FILE, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Stops every server that has a pid file (SIGTERM, then SIGKILL after 5 s). Idempotent. */
export async function stopServices() {
  const members = ETCD_CLUSTER.map((m) => m.name);
  const others = Object.keys(SERVICES).filter((name) => !members.includes(name));
  await Promise.all([
    ...others.map((name) => stopService(name)),
    // One member at a time: a leader told to stop tries to hand leadership over first, and if its followers
    // are shutting down at the same moment it waits ~5 s for that before exiting.
    members.reduce((previous, name) => previous.then(() => stopService(name)), Promise.resolve()),
  ]);
  fs.rmSync(ENV_FILE, { force: true });
}

/**
 * Starts one server by name (e.g. after stopService) and waits until it answers. Keeps its data, so a
 * restarted etcd cluster member rejoins with `--initial-cluster-state existing`. No-op if it is running.
 * @param {string} name memcached-1..3, etcd-single, etcd-1..3, ferretdb, redis-single, redis-master, redis-replica,
 *   redis-sentinel-1..3 or redis-cluster-1..3
 * @param {{ timeoutMs?: number }} [opts]
 */
export async function startService(name, { timeoutMs = READY_TIMEOUT_MS } = {}) {
  const service = serviceByName(name);
  if (servicePid(name) !== undefined) return;
  await assertPortsFree(service);
  await launch(service, { freshLog: false, timeoutMs });
}

/**
 * Stops one server by name. Use `{ signal: 'SIGKILL' }` to simulate a crash. Idempotent.
 * @param {string} name
 * @param {{ signal?: NodeJS.Signals, timeoutMs?: number }} [opts]
 */
export async function stopService(name, { signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS } = {}) {
  serviceByName(name);
  const pid = servicePid(name);
  if (pid !== undefined) {
    signalProcess(pid, signal);
    if (!(await waitForExit(pid, timeoutMs))) {
      signalProcess(pid, 'SIGKILL');
      await waitForExit(pid, timeoutMs);
    }
  }
  fs.rmSync(pidFile(name), { force: true });
}

/**
 * The pid of a running server started by this script, or undefined if it is not running.
 * @param {string} name
 * @returns {number | undefined}
 */
export function servicePid(name) {
  const service = serviceByName(name);
  const pid = readPid(name);
  return pid !== undefined && isAlive(pid) && runs(pid, service.binary) ? pid : undefined;
}

/**
 * Name of the etcd cluster member that is leader now (e.g. "etcd-2"), via `etcdctl endpoint status -w json`.
 * Waits up to timeoutMs for an election to finish when no reachable member reports a leader.
 * @param {{ endpoints?: string[], timeoutMs?: number }} [opts]
 * @returns {Promise<string>}
 */
export async function etcdClusterLeader({ endpoints = clusterEndpoints(), timeoutMs = 10_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  // Skip our own members that are stopped: etcdctl would spend its dial timeout on each of them.
  const reachable = endpoints.filter((e) => {
    const member = ETCD_CLUSTER.find((m) => httpUrl(m.client) === e);
    return !member || servicePid(member.name) !== undefined;
  });
  for (;;) {
    const { statuses, stderr } = await endpointStatuses(reachable);
    const leaderId = statuses.find((s) => s.Status.leader !== '0')?.Status.leader;
    const leader = statuses.find((s) => s.Status.header.member_id === leaderId);
    if (leader) return memberName(leader.Endpoint, leaderId);
    if (Date.now() > deadline) {
      throw new Error(`no etcd cluster leader within ${timeoutMs} ms (endpoints ${endpoints.join(',')}): ${stderr.trim()}`);
    }
    await sleep(POLL_MS * 2);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Launching and readiness

async function launch(service, { freshLog, timeoutMs }) {
  // 0700: etcd warns about data directories that others can read.
  for (const dir of [PID_DIR, LOG_DIR, service.dataDir, ...(service.dirs ?? [])].filter(Boolean)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const binary = toolPath(service.binary);
  if (!binary) {
    throw new Error(
      `${service.name}: ${service.binary} is not installed; run \`node scripts/services.mjs install\` ${howToOverride(service)}`,
    );
  }
  const log = fs.openSync(logFile(service.name), freshLog ? 'w' : 'a');
  let child;
  try {
    // detached + own log file + unref: the test runner must be able to exit while the servers keep running.
    child = spawn(binary, service.args(), { detached: true, stdio: ['ignore', log, log], env: childEnv(), cwd: STATE_DIR });
    await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  } finally {
    fs.closeSync(log);
  }
  child.unref();
  fs.writeFileSync(pidFile(service.name), `${child.pid}\n`);

  let exited;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`));
  try {
    await waitReady(service, timeoutMs, () => exited);
  } catch (error) {
    // Never leave a half-started server behind; this is the process we just spawned, whatever its name.
    signalProcess(child.pid, 'SIGKILL');
    fs.rmSync(pidFile(service.name), { force: true });
    throw error;
  }
}

async function waitReady(service, timeoutMs, exitedHow) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    const exited = exitedHow();
    if (exited) {
      throw new Error(`${service.name} exited (${exited}) during startup. ${logHint(service)}`);
    }
    try {
      await service.probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name} did not answer on ${service.endpoint} within ${timeoutMs / 1000} s ` +
          `(last error: ${lastError?.message}). ${logHint(service)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

function logHint(service) {
  const tail = readTail(logFile(service.name), 5);
  return `Log: ${logFile(service.name)}${tail ? `\n  ${tail.split('\n').join('\n  ')}` : ''}\n  ${howToOverride(service)}`;
}

function howToOverride(service) {
  const group = groupOf(service.name);
  return `(or provide the server yourself: set ${group.env}, e.g. ${group.env}=${groupValue(group)}).`;
}

/** memcached is ready when it answers the text protocol's `version` command. */
function memcachedVersion(port) {
  return withSocket(port, (socket, resolve, reject) => {
    let reply = '';
    socket.on('connect', () => socket.write('version\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (!reply.includes('\r\n')) return;
      if (reply.startsWith('VERSION')) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(reply)}`));
    });
  });
}

/** etcd's /health is true only once the member sees a leader, so for a cluster it means "quorum is up". */
async function etcdHealthy(port) {
  const { status, body } = await httpGet(port, '/health');
  if (status !== 200 || JSON.parse(body).health !== 'true') throw new Error(`/health answered ${status} ${body}`);
}

/**
 * FerretDB v1.24.2's debug server has /debug/livez (the wire listener is up) and /debug/readyz (livez plus,
 * only when --setup-database is given, a ping through the wire protocol). We check the port and readyz.
 */
async function ferretdbReady(port, debugPort) {
  await withSocket(port, (socket, resolve) => socket.on('connect', resolve));
  const { status } = await httpGet(debugPort, '/debug/readyz');
  if (status !== 200) throw new Error(`/debug/readyz answered ${status}`);
}

/** A Redis server or sentinel is ready when it answers PING (inline command) with +PONG. */
function redisPing(port) {
  return withSocket(port, (socket, resolve, reject) => {
    let reply = '';
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (!reply.includes('\r\n')) return;
      if (reply.startsWith('+PONG')) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(reply)}`));
    });
  });
}

/** Runs redis-cli against one local port; resolves with its stdout (redis-cli exits 0 even for -ERR replies). */
function redisCli(port, args, timeoutMs = 5_000) {
  const binary = toolPath('redis-cli');
  if (!binary) return Promise.reject(new Error('redis-cli is not installed; run `node scripts/services.mjs install`'));
  return new Promise((resolve, reject) => {
    execFile(binary, ['-h', HOST, '-p', String(port), ...args], { timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${error.message} ${stderr}`)) : resolve(stdout),
    );
  });
}

async function pollUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last === true) return;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s (last: ${String(last).trim()})`);
    await sleep(POLL_MS * 2);
  }
}

/** The sentinel group is ready when the replica is in sync and every sentinel knows the master and its replica. */
async function redisSentinelsReady({ timeoutMs = READY_TIMEOUT_MS } = {}) {
  await pollUntil(
    'the Redis replica did not sync with its master',
    async () => {
      return /master_link_status:up/.test(await redisCli(26381, ['INFO', 'replication']));
    },
    timeoutMs,
  );
  for (const port of REDIS_SENTINEL_PORTS) {
    await pollUntil(
      `sentinel ${port} did not see master ${REDIS_SENTINEL_SERVICE} with 1 replica and 2 other sentinels`,
      async () => {
        const info = await redisCli(port, ['SENTINEL', 'MASTER', REDIS_SENTINEL_SERVICE]);
        const field = (name) => new RegExp(`(^|\\n)${name}\\n(\\d+)`).exec(info)?.[2];
        return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
      },
      timeoutMs,
    );
  }
}

/** Assigns the 16384 slots over the three fresh nodes (no replicas) and waits for cluster_state:ok everywhere. */
async function redisClusterCreate({ timeoutMs = READY_TIMEOUT_MS } = {}) {
  const [first] = REDIS_CLUSTER_PORTS;
  const nodes = REDIS_CLUSTER_PORTS.map((port) => `${HOST}:${port}`);
  await redisCli(first, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], timeoutMs);
  for (const port of REDIS_CLUSTER_PORTS) {
    await pollUntil(
      `Redis cluster node ${port} did not reach cluster_state:ok`,
      async () => {
        return /cluster_state:ok/.test(await redisCli(port, ['CLUSTER', 'INFO']));
      },
      timeoutMs,
    );
  }
}

/** Runs a short TCP exchange; the socket is always destroyed so it never keeps the process alive. */
function withSocket(port, exchange) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    const finish = (error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(1000, () => finish(new Error('timed out')));
    socket.on('error', finish);
    socket.on('close', () => finish(new Error('connection closed')));
    exchange(socket, () => finish(), finish);
  });
}

function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    // agent: false — no keep-alive socket left behind to hold the event loop.
    const req = http.get({ host: HOST, port, path: urlPath, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function assertPortsFree(service) {
  for (const port of service.ports) {
    if (!(await portFree(port))) {
      throw new Error(
        `port ${HOST}:${port} for ${service.name} is already in use by another process ` +
          `(not one started by this script); stop it ${howToOverride(service)}`,
      );
    }
  }
}

/** Binding is the reliable test: it also catches servers listening on 0.0.0.0. */
function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// The servers read ETCD_*/ETCDCTL_*/FERRETDB_* variables as flags; ours (ETCD_ENDPOINTS, ...) must not leak in.
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(ETCD_|ETCDCTL_|FERRETDB_)/.test(key)));
}

// ---------------------------------------------------------------------------------------------------------------
// Processes and pid files

const pidFile = (name) => path.join(PID_DIR, `${name}.pid`);
const logFile = (name) => path.join(LOG_DIR, `${name}.log`);

export function readPid(name) {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile(name), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  // A killed child of this very process stays a zombie until Node reaps it; count that as dead.
  return readProc(pid, 'stat')?.split(') ')[1]?.[0] !== 'Z';
}

/** Guards against pid reuse: a stale pid file must not make us kill an unrelated process. */
function runs(pid, binary) {
  const comm = readProc(pid, 'comm');
  return comm === undefined || comm.trim() === path.basename(binary).slice(0, 15);
}

function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function signalProcess(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// etcdctl

function clusterEndpoints() {
  const fromEnv = process.env.ETCD_CLUSTER_ENDPOINTS;
  return fromEnv
    ? fromEnv
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)
    : ETCD_CLUSTER.map((m) => httpUrl(m.client));
}

function clusterToken() {
  try {
    return fs.readFileSync(TOKEN_FILE, 'utf8').trim();
  } catch {
    return 'dogpile-cache-cluster';
  }
}

/** Statuses of the reachable endpoints; unreachable ones (a stopped member) are simply absent. */
async function endpointStatuses(endpoints) {
  const { stdout, stderr } = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json']);
  return { statuses: stdout.trim() ? parseEtcdJson(stdout) : [], stderr };
}

async function memberName(endpoint, memberId) {
  const ours = ETCD_CLUSTER.find((m) => httpUrl(m.client) === endpoint);
  if (ours) return ours.name;
  const { stdout } = await etcdctl([endpoint], ['member', 'list', '-w', 'json']);
  return parseEtcdJson(stdout).members.find((m) => m.ID === memberId)?.name ?? endpoint;
}

// etcd ids are uint64 and lose precision as JS numbers, so quote them before JSON.parse.
function parseEtcdJson(text) {
  return JSON.parse(text.replace(/"(member_id|leader|cluster_id|ID)":(\d+)/g, '"$1":"$2"'));
}

function etcdctl(endpoints, args) {
  const binary = toolPath('etcdctl');
  if (!binary) return Promise.reject(new Error('etcdctl is not installed; run `node scripts/services.mjs install`'));
  const fullArgs = [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=1s', '--command-timeout=2s', ...args];
  // etcdctl exits 1 when some endpoints are down but still prints the others' statuses: keep its stdout.
  return new Promise((resolve) => {
    execFile(binary, fullArgs, { env: childEnv() }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
}

/**
 * Installs whatever the wanted groups need and is missing: memcached/etcd/etcdctl and the interop Python
 * packages from Debian, ferretdb built with Go from the module proxy. Returns the list of tools that were installed.
 * @param {string[]} [tools]
 */
export async function installTools(tools = [...new Set(GROUPS.flatMap((g) => g.tools))]) {
  return installMissing(tools, { ferretdbHint: howToOverride(SERVICES.ferretdb) });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function readTail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
