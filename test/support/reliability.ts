// Shared helpers for the reliability suites (test/reliability):
//
// - guardProcess(): every reliability file calls it first. It records anything written through
//   console.* or to stderr, every process warning, unhandled rejection and uncaught exception, and fails
//   the file (an after() hook, and a non-zero exit code as a last resort) if any of them happened.
//   Node's test reporter talks to the parent runner over this process's stdout, so stdout itself is
//   not patched; console.log/info/debug are, which covers library code that would print.
// - withDeadline(): every await on the code under test goes through it, so a hung promise fails the
//   test with a message instead of stalling the run.
// - Private servers the fault tests may kill: a three-member etcd cluster (the restartable FerretDB is
//   startControllableFerretDb in mongo.ts).
//   The shared servers (test/support/servers.ts) are never stopped from this folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { freePort } from './net.js';

// ------------------------------------------------------------------ process noise

const noise: string[] = [];
let guarded = false;

function describeArgs(args: unknown[]): string {
  return args
    .map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : safeJson(a)))
    .join(' ')
    .slice(0, 500);
}
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Fails this test file if anything reaches the console or stderr, or a rejection / exception goes unhandled. */
export function guardProcess(): void {
  if (guarded) return;
  guarded = true;
  for (const method of ['log', 'info', 'debug', 'warn', 'error', 'trace', 'dir', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      void noise.push(`console.${method}: ${describeArgs(args)}`);
  }
  const originalStderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    noise.push(`stderr: ${String(chunk).slice(0, 500)}`);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stderr.write;
  process.on('unhandledRejection', (reason) => void noise.push(`unhandledRejection: ${describeArgs([reason])}`));
  process.on('uncaughtException', (error) => void noise.push(`uncaughtException: ${describeArgs([error])}`));
  // A 'warning' listener does not silence Node's default printing, which our stderr patch records too.
  process.on('warning', (warning) => void noise.push(`warning: ${warning.name}: ${warning.message}`));
  after(async () => {
    await sleep(200); // let late rejections (a timer firing after the last test) surface
    if (noise.length > 0) throw new Error(`process noise during the tests:\n${noise.join('\n')}`);
  });
  process.once('exit', () => {
    if (noise.length > 0) {
      originalStderrWrite(`reliability: process noise:\n${noise.join('\n')}\n`);
      process.exitCode = 1;
    }
  });
}

/** Noise recorded so far (for a test that wants to check it mid-way). */
export function recordedNoise(): readonly string[] {
  return noise;
}

// ------------------------------------------------------------------ deadlines and timing

/** Resolves as `promise` does, or rejects with "<what> did not settle within <ms> ms". */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hung promise)`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Outcome of one timed call. */
export interface Outcome<T = unknown> {
  start: number;
  end: number;
  ms: number;
  value?: T;
  error?: unknown;
}

/** Runs `call`, bounded by `deadlineMs`; never rejects (a deadline overrun is an `error` too). */
export async function timed<T>(call: () => Promise<T>, deadlineMs: number, what = 'operation'): Promise<Outcome<T>> {
  const start = performance.now();
  try {
    const value = await withDeadline(call(), deadlineMs, what);
    const end = performance.now();
    return { start, end, ms: end - start, value };
  } catch (error) {
    const end = performance.now();
    return { start, end, ms: end - start, error };
  }
}

/**
 * Waits until at least `count` of `records` started after `since` (a performance.now() reading), failing
 * after `timeoutMs`. A recovery check judges the calls made well after the first success; on a loaded
 * machine a fixed pause can hold too few of them (a server just restarted answers slowly at first).
 */
export async function untilCallsAfter(
  records: readonly { start: number }[],
  since: number,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const made = records.filter((r) => r.start > since).length;
    if (made >= count) return;
    if (performance.now() > deadline)
      throw new Error(`only ${made} calls of the ${count} wanted were made within ${timeoutMs} ms of the recovery`);
    await sleep(50);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** `SOAK_SECONDS` (default 10; the figure is 30). */
export function soakSeconds(): number {
  const raw = process.env.SOAK_SECONDS;
  const value = raw === undefined || raw === '' ? 10 : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`SOAK_SECONDS must be a positive number of seconds; got ${raw}`);
  return value;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function killChild(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child === null) return;
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

// ------------------------------------------------------------------ a private etcd cluster

function etcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^ETCD(CTL)?_/.test(key)));
}

async function etcdStatus(endpoint: string, ms = 1000): Promise<{ leader: string; member: string } | null> {
  const client = new Etcd3({ hosts: [endpoint] });
  try {
    const status = await client.maintenance.status({ deadline: Date.now() + ms });
    return { leader: status.leader, member: status.header.member_id };
  } catch {
    return null;
  } finally {
    client.close();
  }
}

export interface PrivateEtcdCluster {
  readonly endpoints: string[];
  /** Endpoint of the current leader (waits for one). */
  leader(timeoutMs?: number): Promise<string>;
  /** SIGKILLs the member serving `endpoint`. */
  kill(endpoint: string): Promise<void>;
  /** Starts a killed member again (same data, `--initial-cluster-state existing`). */
  restart(endpoint: string): Promise<void>;
  dispose(): Promise<void>;
}

/** Three etcd members on free ports with their own data directories: ours to kill. */
export async function startPrivateEtcdCluster(): Promise<PrivateEtcdCluster> {
  const members = await Promise.all(
    ['r1', 'r2', 'r3'].map(async (name) => ({
      name,
      client: await freePort(),
      peer: await freePort(),
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), `dogpile-rel-etcd-${name}-`)),
      child: null as ChildProcess | null,
    })),
  );
  for (const m of members) dirs.add(m.dataDir);
  const token = `dogpile-rel-${members[0]!.client}`;
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const endpointOf = (m: (typeof members)[number]): string => `http://127.0.0.1:${m.client}`;
  const spawnMember = (m: (typeof members)[number], state: 'new' | 'existing'): void => {
    const args = [
      '--name',
      m.name,
      '--data-dir',
      m.dataDir,
      '--listen-client-urls',
      endpointOf(m),
      '--advertise-client-urls',
      endpointOf(m),
      '--listen-peer-urls',
      `http://127.0.0.1:${m.peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${m.peer}`,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      token,
    ];
    const child = spawn('etcd', args, { stdio: 'ignore', env: etcdEnv() });
    child.on('error', () => undefined);
    children.add(child);
    m.child = child;
  };
  for (const m of members) spawnMember(m, 'new');
  const byEndpoint = (endpoint: string): (typeof members)[number] => {
    const m = members.find((x) => endpointOf(x) === endpoint);
    if (m === undefined) throw new Error(`not a member: ${endpoint}`);
    return m;
  };
  const cluster: PrivateEtcdCluster = {
    endpoints: members.map(endpointOf),
    async leader(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const m of members) {
          if (m.child === null) continue;
          const status = await etcdStatus(endpointOf(m));
          if (status !== null && status.leader !== '0' && status.leader === status.member) return endpointOf(m);
        }
        if (Date.now() > deadline) throw new Error(`no leader in the private etcd cluster within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async kill(endpoint) {
      const m = byEndpoint(endpoint);
      const child = m.child;
      m.child = null;
      await killChild(child);
    },
    async restart(endpoint) {
      const m = byEndpoint(endpoint);
      if (m.child !== null) return;
      spawnMember(m, 'existing');
      await waitUntil(`restarted etcd member did not answer on ${endpoint}`, async () => (await etcdStatus(endpoint)) !== null, 20_000);
    },
    async dispose() {
      for (const m of members) {
        const child = m.child;
        m.child = null;
        await killChild(child);
        fs.rmSync(m.dataDir, { recursive: true, force: true });
        dirs.delete(m.dataDir);
      }
    },
  };
  try {
    await cluster.leader(20_000);
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return cluster;
}

/** Largest of `values` (no argument spreading: safe for any length); -Infinity when empty. */
export function maxOf(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), -Infinity);
}

/** Smallest of `values`; Infinity when empty. */
export function minOf(values: readonly number[]): number {
  return values.reduce((a, b) => Math.min(a, b), Infinity);
}

export { freePort } from './net.js';
