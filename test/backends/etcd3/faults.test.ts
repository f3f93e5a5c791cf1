// Etcd3Backend under 64-way load while etcd fails: the leader of a PRIVATE three-member cluster is
// killed, and a private single-member etcd is stopped and started. The shared cluster and single member
// (ports 23379, 23479-23680) are never touched here.
//
// test/backends/etcd3/conformance.test.ts covers one writer against a killed single member ("a killed etcd: writes
// fail within the timeout, then recover"); test/backends/etcd3/cluster.test.ts one writer across a leader
// kill of the shared cluster. These are the load versions.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3Backend } from '../../../src/backends/etcd3/index.js';
import { BackendUnavailableError, isNoValue, type CachedValue } from '../../../src/index.js';
import { makeCachedValue } from '../../../src/backend.js';
import { freePort, startPrivateEtcd, type PrivateEtcd } from '../../support/etcd3.js';
import {
  guardProcess,
  maxOf,
  minOf,
  percentile,
  startPrivateEtcdCluster,
  timed,
  untilCallsAfter,
  withDeadline,
  type Outcome,
  type PrivateEtcdCluster,
} from '../../support/reliability.js';

guardProcess();

const CONCURRENCY = 64;
const TIMEOUT_S = 2;
const SLACK_MS = 1500;

type Rec = Outcome & { key: string; op: 'get' | 'set' };

/** 64 workers mixing set and get over `keys`, each value `key#n`, until stop() is called. */
function load(backend: Etcd3Backend, keys: string[]): { records: Rec[]; stop(): Promise<void> } {
  const records: Rec[] = [];
  let stopping = false;
  let version = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (!stopping) {
      const key = keys[Math.floor(Math.random() * keys.length)] as string;
      const op = Math.random() < 0.5 ? 'set' : 'get';
      const outcome =
        op === 'set'
          ? await timed(() => backend.set(key, makeCachedValue(`${key}#${++version}`)), TIMEOUT_S * 1000 + 10_000, `set ${key}`)
          : await timed(() => backend.get(key), TIMEOUT_S * 1000 + 10_000, `get ${key}`);
      records.push({ ...outcome, key, op });
      if (outcome.error !== undefined) await sleep(20);
    }
  });
  return {
    records,
    async stop() {
      stopping = true;
      await withDeadline(Promise.all(workers), 20_000, 'the load workers');
    },
  };
}

function checkValues(records: Rec[]): void {
  for (const r of records) {
    if (r.op !== 'get' || r.error !== undefined || isNoValue(r.value)) continue;
    assert.match(String((r.value as CachedValue).payload), new RegExp(`^${r.key}#\\d+$`), 'a read returns a value written for that key');
  }
}

describe('etcd: the leader of a three-member cluster killed under load', () => {
  let cluster: PrivateEtcdCluster;
  before(async () => {
    cluster = await startPrivateEtcdCluster();
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('operations fail only inside a short window around the election, then all succeed', async (t) => {
    const backend = new Etcd3Backend({
      endpoints: cluster.endpoints,
      timeout: TIMEOUT_S,
      namespace: `rel-${randomUUID().slice(0, 8)}/`,
      lease_ttl: 60,
    });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    // Stopped in finally too: workers left running after a failed assertion keep the file alive until the runner's timeout.
    let traffic: ReturnType<typeof load> | undefined;
    try {
      await withDeadline(backend.setMulti(Object.fromEntries(keys.map((k) => [k, makeCachedValue(`${k}#0`)]))), 10_000, 'warm-up');
      const leader = await cluster.leader();
      traffic = load(backend, keys);
      await sleep(1000);
      const killedAt = performance.now();
      await cluster.kill(leader);
      const newLeader = await cluster.leader(15_000);
      const electedAt = performance.now();
      await sleep(3000);
      await traffic.stop();

      const records = traffic.records;
      const after = records.filter((r) => r.end >= killedAt);
      const failures = after.filter((r) => r.error !== undefined);
      for (const f of failures) assert.ok(f.error instanceof BackendUnavailableError, String(f.error));
      const firstFail = failures.length ? minOf(failures.map((f) => f.end)) : killedAt;
      const lastFail = failures.length ? maxOf(failures.map((f) => f.end)) : killedAt;
      const slowest = maxOf(records.map((r) => r.ms));
      t.diagnostic(
        `leader ${leader} killed, ${newLeader} elected after ${(electedAt - killedAt).toFixed(0)} ms; ${after.length} operations after the kill, ` +
          `${failures.length} failed (BackendUnavailableError) between +${(firstFail - killedAt).toFixed(0)} ms and +${(lastFail - killedAt).toFixed(0)} ms ` +
          `(failure window ${(lastFail - firstFail).toFixed(0)} ms); latency p50 ${percentile(
            records.map((r) => r.ms),
            50,
          ).toFixed(1)} ms, max ${slowest.toFixed(0)} ms (timeout ${TIMEOUT_S} s)`,
      );
      assert.ok(slowest < TIMEOUT_S * 1000 + SLACK_MS, `no operation waits past the timeout (${slowest.toFixed(0)} ms)`);
      assert.ok(lastFail - killedAt < 8000, `failures end within 8 s of the kill (${(lastFail - killedAt).toFixed(0)} ms)`);
      const settled = records.filter((r) => r.start > lastFail);
      assert.ok(settled.length > 100, `operations after the window (${settled.length})`);
      assert.ok(
        settled.every((r) => r.error === undefined),
        'after the window every operation succeeds',
      );
      checkValues(records);
      await cluster.restart(leader);
    } finally {
      await traffic?.stop().catch(() => undefined);
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });
});

describe('etcd: the single member stopped under load', () => {
  let etcd: PrivateEtcd;
  before(async () => {
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await etcd?.dispose();
  });

  it('clear errors within the deadline while it is down; recovery without restarting the client', async (t) => {
    const backend = new Etcd3Backend({
      endpoints: [etcd.endpoint],
      timeout: TIMEOUT_S,
      namespace: `rel-${randomUUID().slice(0, 8)}/`,
      lease_ttl: 60,
    });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    // Stopped in finally too: workers left running after a failed assertion keep the file alive until the runner's timeout.
    let traffic: ReturnType<typeof load> | undefined;
    try {
      await withDeadline(backend.set('warm', makeCachedValue(0)), 10_000, 'warm-up');
      traffic = load(backend, keys);
      await sleep(500);
      const killedAt = performance.now();
      await etcd.kill();
      await sleep(2500);
      const restartedAt = performance.now();
      await etcd.start();
      const answeringAt = performance.now();
      // Recovery: successes again with the same backend.
      const deadline = Date.now() + 15_000;
      while (!traffic.records.some((r) => r.start > answeringAt && r.error === undefined)) {
        assert.ok(Date.now() < deadline, 'operations did not recover within 15 s of the restart');
        await sleep(100);
      }
      const recoveredAt = performance.now();
      await sleep(1500);
      await untilCallsAfter(traffic.records, recoveredAt + 500, 60);
      await traffic.stop();

      const records = traffic.records;
      const down = records.filter((r) => r.start > killedAt + 100 && r.end < restartedAt);
      const failures = records.filter((r) => r.error !== undefined);
      for (const f of failures) {
        assert.ok(f.error instanceof BackendUnavailableError, String(f.error));
        assert.ok((f.error as Error).message.length > 0, 'the error says what happened');
      }
      const failureMs = failures.map((f) => f.ms);
      t.diagnostic(
        `${down.length} operations while etcd was down, ${down.filter((r) => r.error).length} failed; failures took p50 ${percentile(failureMs, 50).toFixed(0)} ms, ` +
          `max ${maxOf([0, ...failureMs]).toFixed(0)} ms (timeout ${TIMEOUT_S} s); first success ${(recoveredAt - answeringAt).toFixed(0)} ms after etcd answered again ` +
          `(${(recoveredAt - killedAt).toFixed(0)} ms after the kill); e.g. "${String((failures[0]?.error as Error | undefined)?.message)}"`,
      );
      assert.ok(down.length > 0 && down.every((r) => r.error !== undefined), 'every operation fails while etcd is down');
      assert.ok(maxOf(records.map((r) => r.ms)) < TIMEOUT_S * 1000 + SLACK_MS, 'no operation waits past the timeout');
      const tail = records.filter((r) => r.start > recoveredAt + 500);
      assert.ok(
        tail.length > 50 && tail.every((r) => r.error === undefined),
        `after recovery every operation succeeds (${tail.length} calls, more than 50 wanted)`,
      );
      checkValues(records);
    } finally {
      await traffic?.stop().catch(() => undefined);
      await withDeadline(backend.close(), 10_000, 'close');
    }
  });
});

// ------------------------------------------------------------------ issue 15: the bound and the figures

/** The documented default deadline (docs/backends/etcd3.md): every call settles within 2x it. */
const DEFAULT_TIMEOUT_MS = 5000;
// The issue's bound is 2x the deadline; 2 s more absorb a loaded 2-core machine shared by other suites.
const BOUND_MS = 2 * DEFAULT_TIMEOUT_MS + 2000;
const WORKERS = 8;

interface FaultFigures {
  firstErrorMs: number | null;
  p99Ms: number;
  maxMs: number;
  calls: number;
  failed: number;
  recoverMs: number;
}

/**
 * Runs WORKERS loops of get/set on a backend with the default options, applies `fault` to a private
 * etcd, keeps it for `faultMs`, ends it with `heal`, and measures: the time from the fault to the
 * first error, the latency of calls that ran during the fault, and the time from the heal to the
 * first success of a call started after it.
 */
async function measureFault(
  etcd: PrivateEtcd,
  fault: () => Promise<void> | void,
  heal: () => Promise<void> | void,
  faultMs: number,
): Promise<FaultFigures> {
  const backend = new Etcd3Backend({ endpoints: [etcd.endpoint], namespace: `fig-${randomUUID().slice(0, 8)}/` });
  const records: Rec[] = [];
  let stopping = false;
  try {
    await withDeadline(backend.set('warm', makeCachedValue(0)), 10_000, 'warm-up');
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      for (let i = 0; !stopping; i++) {
        const key = `k${w}-${i % 20}`;
        const op = i % 2 === 0 ? 'set' : 'get';
        const outcome = await timed<unknown>(
          () => (op === 'set' ? backend.set(key, makeCachedValue(i)) : backend.get(key)),
          30_000,
          `${op} ${key}`,
        );
        records.push({ ...outcome, key, op });
        await sleep(outcome.error === undefined ? 5 : 50);
      }
    });
    await sleep(500);
    const faultAt = performance.now();
    await fault();
    await sleep(faultMs);
    const healAt = performance.now();
    await heal();
    const deadline = Date.now() + 20_000;
    while (!records.some((r) => r.start >= healAt && r.error === undefined)) {
      assert.ok(Date.now() < deadline, 'no call succeeded within 20 s of the heal');
      await sleep(50);
    }
    stopping = true;
    await withDeadline(Promise.all(workers), 30_000, 'the workers');
    for (const r of records) if (r.error !== undefined) assert.ok(r.error instanceof BackendUnavailableError, String(r.error));
    const during = records.filter((r) => r.start >= faultAt && r.start < healAt);
    const errors = records.filter((r) => r.error !== undefined && r.end >= faultAt);
    const recovered = minOf(records.filter((r) => r.start >= healAt && r.error === undefined).map((r) => r.end));
    return {
      firstErrorMs: errors.length === 0 ? null : minOf(errors.map((r) => r.end)) - faultAt,
      p99Ms: percentile(
        during.map((r) => r.ms),
        99,
      ),
      maxMs: maxOf(records.map((r) => r.ms)),
      calls: during.length,
      failed: during.filter((r) => r.error !== undefined).length,
      recoverMs: recovered - healAt,
    };
  } finally {
    stopping = true;
    await withDeadline(backend.close(), BOUND_MS, 'close');
  }
}

function describeFigures(name: string, f: FaultFigures): string {
  const first = f.firstErrorMs === null ? 'no error' : `first error after ${f.firstErrorMs.toFixed(0)} ms`;
  return `${name}: ${first}; ${f.calls} calls during the fault, ${f.failed} failed, p99 ${f.p99Ms.toFixed(0)} ms, max ${f.maxMs.toFixed(0)} ms; recovered ${f.recoverMs.toFixed(0)} ms after the heal`;
}

describe('etcd with the default options: down, hung, restarted (issue 15 figures)', () => {
  let etcd: PrivateEtcd;
  before(async () => {
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await etcd?.dispose();
  });

  it('down (SIGKILL): every call settles within 2x the 5 s deadline; recovery with the same backend', async (t) => {
    const f = await measureFault(
      etcd,
      () => etcd.kill(),
      () => etcd.start(),
      6000,
    );
    t.diagnostic(describeFigures('down', f));
    assert.ok(f.failed > 0, 'calls fail while etcd is down');
    assert.ok(f.maxMs < BOUND_MS, `slowest call ${f.maxMs.toFixed(0)} ms`);
  });

  it('hung (SIGSTOP): the calls in flight pay one deadline, then the circuit fails calls at once; recovery after SIGCONT', async (t) => {
    const f = await measureFault(
      etcd,
      () => etcd.pause(),
      () => etcd.resume(),
      12_000,
    );
    t.diagnostic(describeFigures('hung', f));
    assert.ok(f.failed > 0, 'calls fail while etcd is hung');
    assert.ok(f.maxMs < BOUND_MS, `slowest call ${f.maxMs.toFixed(0)} ms`);
    // With the breaker most calls during 12 s of hang fail at once: without it every call would take
    // the whole 5 s deadline, and the median would be 5 s.
    assert.ok(f.failed > WORKERS * 3, `calls fail fast while the circuit is open (${f.failed} failed)`);
  });

  it('restarted (SIGKILL, then started again at once)', async (t) => {
    const f = await measureFault(
      etcd,
      () => etcd.kill(),
      () => etcd.start(),
      0,
    );
    t.diagnostic(describeFigures('restarted', f));
    assert.ok(f.maxMs < BOUND_MS, `slowest call ${f.maxMs.toFixed(0)} ms`);
  });

  it('close() settles within the bound while etcd is hung, with a lock held', async () => {
    const backend = new Etcd3Backend({
      endpoints: [etcd.endpoint],
      namespace: `close-${randomUUID().slice(0, 8)}/`,
      distributed_lock: true,
      lease_ttl: 60,
    });
    await withDeadline(backend.set('k', makeCachedValue(1)), 10_000, 'set');
    const mutex = backend.getMutex('k');
    assert.ok(mutex !== null && (await withDeadline(mutex.acquire(), 10_000, 'acquire')));
    etcd.pause();
    try {
      const pending = backend.get('k').catch((error: unknown) => error);
      const started = performance.now();
      await withDeadline(backend.close(), BOUND_MS, 'close() of a backend whose etcd is hung');
      assert.ok(performance.now() - started < BOUND_MS);
      assert.ok((await withDeadline(pending, BOUND_MS, 'the call in flight')) instanceof BackendUnavailableError);
    } finally {
      etcd.resume();
    }
  });
});

// ------------------------------------------------------------------ issue 16.1: no secret in any error

const PLANTED = `planted-${randomUUID()}`;

/** Every string an error exposes: message, stack, String(), and the same for its causes. */
function errorTexts(error: unknown, seen = new Set<unknown>()): string[] {
  if (error === null || error === undefined || seen.has(error)) return [];
  seen.add(error);
  if (!(error instanceof Error)) return [String(error)];
  const nested = error instanceof AggregateError ? error.errors : [];
  return [
    error.message,
    String(error.stack),
    String(error),
    ...errorTexts(error.cause, seen),
    ...nested.flatMap((e) => errorTexts(e, seen)),
  ];
}

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

describe('etcd: a planted password never appears in an error, its stack or its causes', () => {
  let etcd: PrivateEtcd;
  let authEtcd: PrivateEtcd;
  before(async () => {
    [etcd, authEtcd] = await Promise.all([startPrivateEtcd(), startPrivateEtcd()]);
    const admin = new Etcd3({ hosts: [authEtcd.endpoint] });
    try {
      await admin.user('root').create(`right-${PLANTED}`);
      await admin.user('root').addRole('root');
      await admin.auth.authEnable({});
    } finally {
      admin.close();
    }
  });
  after(async () => {
    await Promise.all([etcd?.dispose(), authEtcd?.dispose()]);
  });

  it('bad arguments, a refused port, a hung server, a wrong password', async () => {
    const errors: unknown[] = [];
    const refused = `http://127.0.0.1:${await freePort()}`;
    errors.push(await caught(() => new Etcd3Backend({ endpoints: [`http://root:${PLANTED}@127.0.0.1:2379`] })));
    errors.push(await caught(() => new Etcd3Backend({ host: `root:${PLANTED}@127.0.0.1` })));
    errors.push(await caught(() => new Etcd3Backend({ username: 'root', password: { secret: PLANTED } })));
    errors.push(
      await caught(() => new Etcd3Backend({ ca_cert: 'ca.pem', cert_cert: 'c.pem', cert_key: 42, password: PLANTED, username: 'root' })),
    );
    const withKey = new Etcd3Backend({
      endpoints: [refused],
      ca_cert: '-----BEGIN CERTIFICATE-----',
      cert_cert: 'c.pem',
      cert_key: PLANTED,
      timeout: 1,
    });
    errors.push(await caught(() => withKey.get('k')));
    await withKey.close();
    for (const endpoint of [refused, etcd.endpoint]) {
      const backend = new Etcd3Backend({ endpoints: [endpoint], username: 'root', password: PLANTED, timeout: 1, distributed_lock: true });
      if (endpoint === etcd.endpoint) etcd.pause();
      try {
        errors.push(await caught(() => backend.get('k')));
        errors.push(await caught(() => backend.set('k', makeCachedValue(1))));
        errors.push(await caught(() => backend.getMutex('k')?.acquire()));
      } finally {
        if (endpoint === etcd.endpoint) etcd.resume();
        await withDeadline(backend.close(), 10_000, 'close');
      }
      errors.push(await caught(() => backend.get('k')));
    }
    const wrong = new Etcd3Backend({ endpoints: [authEtcd.endpoint], username: 'root', password: PLANTED, timeout: 2 });
    errors.push(await caught(() => wrong.get('k')));
    await wrong.close();

    assert.equal(errors.length, 14);
    for (const error of errors) {
      assert.ok(error instanceof Error, String(error));
      for (const text of errorTexts(error)) assert.ok(!text.includes(PLANTED), `the planted password leaked: ${text.slice(0, 300)}`);
    }
  });
});

// ------------------------------------------------------------------ issue 15.7: a script that forgets close()

describe('etcd: a script that forgets close() exits', () => {
  let etcd: PrivateEtcd;
  before(async () => {
    etcd = await startPrivateEtcd();
  });
  after(async () => {
    await etcd?.dispose();
  });

  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

  /**
   * Runs a child script that uses a backend (set, getMulti, a held lock: session lease and keepalive
   * running), then waits for a line on stdin; `fault` runs in between; the script then makes one more
   * call and ends without close(). Resolves with its exit code, stdout and stderr.
   */
  async function runForgetfulScript(fault: () => Promise<void> | void): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const script = `
      const { Etcd3Backend } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'src/backends/etcd3/index.ts')).href)});
      const { makeCachedValue } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'src/backend.ts')).href)});
      const backend = new Etcd3Backend({ endpoints: [${JSON.stringify(etcd.endpoint)}], namespace: 'forget/', timeout: 1, lease_ttl: 60, distributed_lock: true });
      await backend.set('k', makeCachedValue(1));
      await backend.getMulti(['k', 'j']);
      // A lock key of its own: an earlier script's lock stays until its session lease expires.
      await backend.getMutex(${JSON.stringify(`held-${randomUUID()}`)}).acquire();
      process.stdout.write('ready;');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      const last = await backend.get('k').then(() => 'ok', (error) => error.name);
      process.stdout.write(last);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      // Generous: loading tsx on a loaded machine takes seconds; a process kept alive runs forever.
      await withDeadline(
        (async () => {
          while (!stdout.includes('ready;')) {
            if (child.exitCode !== null) throw new Error(`the script ended early: ${stderr}`);
            await sleep(50);
          }
        })(),
        30_000,
        'the child script getting ready',
      );
      await fault();
      child.stdin.end('go\n');
      const [code] = (await withDeadline(exited, 30_000, 'the child script (kept alive by a timer or socket?)')) as [number | null];
      return { code, stdout, stderr };
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }

  it('after set, getMulti and a held lock (session lease and keepalive running), with no close()', async () => {
    const { code, stdout, stderr } = await runForgetfulScript(() => undefined);
    assert.equal(stdout, 'ready;ok', `the script ran (stderr: ${stderr})`);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'nothing on stderr');
  });

  it('also when etcd hung (SIGSTOP) before its last call', async () => {
    try {
      const { code, stdout, stderr } = await runForgetfulScript(() => etcd.pause());
      assert.equal(stdout, 'ready;BackendUnavailableError', `the script ran (stderr: ${stderr})`);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '', 'nothing on stderr');
    } finally {
      etcd.resume();
    }
  });

  it('also when etcd died before its last call', async () => {
    try {
      const { code, stdout, stderr } = await runForgetfulScript(() => etcd.kill());
      assert.equal(stdout, 'ready;BackendUnavailableError', `the script ran (stderr: ${stderr})`);
      assert.equal(code, 0, stderr);
    } finally {
      await etcd.start();
    }
  });
});
