// Where the Redis test servers are (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, set by `npm test`
// through scripts/services.mjs or by you), and private Redis setups that fault tests may kill and
// restart without disturbing other suites: a single server, a master + replica + 3 sentinels, and a
// 3-master cluster, each on free ports with their own directory.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canListen, freePort } from './net.js';

const HOW_TO =
  'Run `npm test` (which starts the Redis servers via scripts/services.mjs), or set it to your own server (see docs/testing.md).';

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set. ${HOW_TO}`);
  return value;
}

/** The single Redis server's URL, from REDIS_URL. */
export function redisUrl(): string {
  return required('REDIS_URL');
}

/** Sentinels (`host:port`) watching the master named "mymaster", from REDIS_SENTINELS. */
export function redisSentinels(): string[] {
  return required('REDIS_SENTINELS')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Cluster nodes (`host:port`), from REDIS_CLUSTER_NODES. */
export function redisClusterNodes(): string[] {
  return required('REDIS_CLUSTER_NODES')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Runs redis-cli against a port and returns its stdout. */
export function redisCli(port: number, args: string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${error.message} ${stderr}`)) : resolve(stdout),
    );
  });
}

/** Polls `check` every 100 ms until it returns true; throws `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** One redis-server or redis-sentinel process owned by a test. */
export class RedisProcess {
  readonly port: number;
  readonly #binary: string;
  readonly #args: () => string[];
  readonly #log: string;
  #child: ChildProcess | null = null;

  constructor(binary: string, port: number, args: () => string[], log: string) {
    this.#binary = binary;
    this.port = port;
    this.#args = args;
    this.#log = log;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** Its process id while it runs (for a signal sent by another process, when this one's loop is blocked). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts it and waits for PING. */
  async start(): Promise<void> {
    if (this.#child !== null) return;
    const log = fs.openSync(this.#log, 'a');
    this.#child = spawn(this.#binary, this.#args(), { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.#child.once('exit', () => {
      this.#child = null;
    });
    await waitUntil(
      `${this.#binary} on ${this.port} did not answer PING`,
      async () => (await redisCli(this.port, ['PING'], 1000)).trim() === 'PONG',
      15_000,
    );
  }

  /** Sends a signal (SIGSTOP/SIGCONT to hang and resume it). */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** SIGKILLs it (a crash) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }
}

/** A set of private Redis processes under one temporary directory; {@link dispose} kills them all. */
export class PrivateRedis {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-redis-'));
  readonly processes: RedisProcess[] = [];

  /** A redis-server on a free port (extra arguments appended); not started. */
  async server(extra: string[] = [], { cluster = false } = {}): Promise<RedisProcess> {
    // A cluster node also binds port + 10000 (its bus): pick a port whose bus port is free too.
    let port = await freePort();
    while (cluster && (port > 55535 || !(await canListen(port + 10000)))) port = await freePort();
    const dir = path.join(this.dir, String(port));
    fs.mkdirSync(dir);
    const proc = new RedisProcess(
      'redis-server',
      port,
      () => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', '', ...extra],
      path.join(dir, 'log'),
    );
    this.processes.push(proc);
    return proc;
  }

  /** A sentinel on a free port monitoring `master` as "mymaster" (quorum 2, down after `downAfterMs`, default 1 s); not started. */
  async sentinel(masterPort: number, downAfterMs = 1000): Promise<RedisProcess> {
    const port = await freePort();
    const dir = path.join(this.dir, `s${port}`);
    fs.mkdirSync(dir);
    const config = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'logfile ""',
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds mymaster ${downAfterMs}`,
        'sentinel failover-timeout mymaster 3000',
        '',
      ].join('\n'),
    );
    const proc = new RedisProcess('redis-sentinel', port, () => [config], path.join(dir, 'log'));
    this.processes.push(proc);
    return proc;
  }

  /**
   * Master, replica and three sentinels, started and in sync. `downAfterMs` (default 1 s, so the
   * failover tests fail over quickly) is how long the sentinels wait before declaring the master down.
   */
  async sentinelSetup(downAfterMs = 1000): Promise<{ master: RedisProcess; replica: RedisProcess; sentinels: RedisProcess[] }> {
    const master = await this.server();
    await master.start();
    const replica = await this.server(['--replicaof', '127.0.0.1', String(master.port)]);
    await replica.start();
    await waitUntil('the replica did not sync', async () =>
      /master_link_status:up/.test(await redisCli(replica.port, ['INFO', 'replication'])),
    );
    const sentinels = [
      await this.sentinel(master.port, downAfterMs),
      await this.sentinel(master.port, downAfterMs),
      await this.sentinel(master.port, downAfterMs),
    ];
    await Promise.all(sentinels.map((s) => s.start()));
    for (const s of sentinels) {
      await waitUntil(`sentinel ${s.port} did not see the replica and the other sentinels`, async () => {
        const info = await redisCli(s.port, ['SENTINEL', 'MASTER', 'mymaster']);
        return /num-slaves\n1\n/.test(info) && /num-other-sentinels\n2\n/.test(info);
      });
    }
    return { master, replica, sentinels };
  }

  /**
   * Three masters, no replicas, `cluster-require-full-coverage no` so the live nodes keep serving
   * their slots while one is down.
   */
  async clusterSetup(): Promise<RedisProcess[]> {
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await this.server(
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '1000',
            '--cluster-require-full-coverage',
            'no',
          ],
          { cluster: true },
        ),
      );
    }
    await Promise.all(nodes.map((n) => n.start()));
    await redisCli(
      nodes[0]!.port,
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '0', '--cluster-yes'],
      30_000,
    );
    for (const n of nodes)
      await waitUntil(`cluster node ${n.port} not ok`, async () => /cluster_state:ok/.test(await redisCli(n.port, ['CLUSTER', 'INFO'])));
    return nodes;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One private redis-server for a test file, which its tests may stop (SIGSTOP), resume and kill: started in
 * `before`, handed to `use`, and resumed and killed in `after` (with every other process of its set).
 * Returns the set, for files that start more processes of their own.
 */
export function usePrivateRedisServer(
  hooks: { before(fn: () => Promise<void>): unknown; after(fn: () => Promise<void>): unknown },
  use: (server: RedisProcess) => void,
): PrivateRedis {
  const privates = new PrivateRedis();
  let started: RedisProcess | undefined;
  hooks.before(async () => {
    started = await privates.server();
    await started.start();
    use(started);
  });
  hooks.after(async () => {
    started?.signal('SIGCONT');
    await privates.dispose();
  });
  return privates;
}
