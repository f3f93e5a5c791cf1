// Process control for the etcd fault tests: a private single-member etcd that a test may kill and
// restart without disturbing other suites, and kill/restart of a cluster member found by its port.
// Cluster members started by scripts/services.mjs (pid files in .services/pids) are stopped and started
// through that script, so its pid files stay right; any other etcd (a developer's own cluster) is
// restarted from its /proc command line with `--initial-cluster-state existing`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Etcd3, type IOptions } from 'etcd3';
import type { TestCertificates } from './certificates.js';
import { freePort } from './net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PID_DIR = path.join(ROOT, '.services', 'pids');

/** The environment for an etcd child: etcd reads ETCD_* variables as flags, so ours (ETCD_ENDPOINTS) must not leak in. */
function etcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^ETCD(CTL)?_/.test(key)));
}

/** True when an etcd member answers a status request at `endpoint` within `ms`. */
export async function etcdAnswers(endpoint: string, ms = 1000, credentials?: IOptions['credentials']): Promise<boolean> {
  const client = new Etcd3({ hosts: [endpoint], ...(credentials ? { credentials } : {}) });
  try {
    await client.maintenance.status({ deadline: Date.now() + ms });
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A single-member etcd owned by one test file: its own ports and data directory. */
export interface PrivateEtcd {
  readonly endpoint: string;
  /** SIGKILLs the server (a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers. */
  start(): Promise<void>;
  /** SIGSTOPs the server: a hung etcd (connections stay open, nothing answers). */
  pause(): void;
  /** SIGCONTs a paused server. */
  resume(): void;
  /** Kills it and removes its data. */
  dispose(): Promise<void>;
}

/** Starts a private single-member etcd (the `etcd` binary must be on PATH); with `tls`, it serves https and requires client certificates. */
export async function startPrivateEtcd(options: { tls?: TestCertificates } = {}): Promise<PrivateEtcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-etcd3-test-'));
  const { tls } = options;
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${client}`;
  const args = [
    '--name',
    'private',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-cluster',
    `private=http://127.0.0.1:${peer}`,
    '--initial-cluster-state',
    'new',
    ...(tls ? ['--cert-file', tls.serverCert, '--key-file', tls.serverKey, '--trusted-ca-file', tls.ca, '--client-cert-auth'] : []),
  ];
  const credentials = tls
    ? { rootCertificate: fs.readFileSync(tls.ca), certChain: fs.readFileSync(tls.clientCert), privateKey: fs.readFileSync(tls.clientKey) }
    : undefined;
  let child: ChildProcess | null = null;
  const env = etcdEnv();
  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  const start = async (): Promise<void> => {
    if (child !== null) return;
    child = spawn('etcd', args, { stdio: 'ignore', env });
    child.on('error', () => undefined);
    await waitUntil(`private etcd did not answer on ${endpoint}`, () => etcdAnswers(endpoint, 1000, credentials), 15_000);
  };
  await start();
  const signal = (name: NodeJS.Signals): void => {
    if (child === null || child.exitCode !== null || child.signalCode !== null) throw new Error(`private etcd is not running (${name})`);
    child.kill(name);
  };
  return {
    endpoint,
    kill,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async dispose() {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Endpoint of the cluster member that is leader now, asked through the maintenance API. */
export async function clusterLeader(endpoints: readonly string[], timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const endpoint of endpoints) {
      const client = new Etcd3({ hosts: [endpoint] });
      try {
        const status = await client.maintenance.status({ deadline: Date.now() + 1000 });
        if (status.leader !== '0' && status.leader === status.header.member_id) return endpoint;
      } catch {
        // a stopped member
      } finally {
        client.close();
      }
    }
    if (Date.now() > deadline) throw new Error(`no etcd leader among ${endpoints.join(', ')} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Pid of the process listening on 127.0.0.1:`port` (Linux /proc), or undefined. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is field 9.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return Number(entry);
    }
  }
  return undefined;
}

/** A cluster member killed by {@link killMember}; `restart()` brings it back. */
export interface KilledMember {
  endpoint: string;
  /** The services name (etcd-1..3) when scripts/services.mjs started it. */
  service: string | undefined;
  restart(): Promise<void>;
}

interface ServicesModule {
  stopService(name: string, opts?: { signal?: string }): Promise<void>;
  startService(name: string): Promise<void>;
}

async function servicesModule(): Promise<ServicesModule> {
  // A computed specifier: scripts/services.mjs is plain JS without types.
  const spec = new URL('../../scripts/services.mjs', import.meta.url).href;
  return (await import(spec)) as ServicesModule;
}

function serviceNameOfPid(pid: number): string | undefined {
  let files: string[];
  try {
    files = fs.readdirSync(PID_DIR);
  } catch {
    return undefined;
  }
  for (const file of files) {
    if (!file.endsWith('.pid')) continue;
    if (Number.parseInt(fs.readFileSync(path.join(PID_DIR, file), 'utf8'), 10) === pid) return file.slice(0, -'.pid'.length);
  }
  return undefined;
}

/** SIGKILLs the etcd member serving `endpoint` (found by its port) and tells how to restart it. */
export async function killMember(endpoint: string): Promise<KilledMember> {
  const port = Number(new URL(endpoint).port);
  const pid = pidListeningOn(port);
  if (pid === undefined) throw new Error(`no process listens on ${endpoint}`);
  const service = serviceNameOfPid(pid);
  if (service !== undefined) {
    const services = await servicesModule();
    await services.stopService(service, { signal: 'SIGKILL' });
    return { endpoint, service, restart: () => services.startService(service) };
  }
  const argv = fs
    .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((arg) => arg !== '');
  const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, 'SIGKILL');
  await waitUntil(`etcd pid ${pid} did not exit`, async () => !fs.existsSync(`/proc/${pid}/cmdline`) || isZombie(pid), 10_000);
  const [binary, ...args] = argv;
  if (binary === undefined) throw new Error(`cannot read the command line of pid ${pid}`);
  const i = args.indexOf('--initial-cluster-state');
  if (i >= 0) args[i + 1] = 'existing';
  else args.push('--initial-cluster-state', 'existing');
  return {
    endpoint,
    service,
    async restart() {
      const child = spawn(binary, args, { cwd, detached: true, stdio: 'ignore', env: etcdEnv() });
      child.on('error', () => undefined);
      child.unref();
      await waitUntil(`restarted etcd did not answer on ${endpoint}`, () => etcdAnswers(endpoint), 30_000);
    },
  };
}

function isZombie(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

export { freePort } from './net.js';
export { makeTestCertificates, type TestCertificates } from './certificates.js';
