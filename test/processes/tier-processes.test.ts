/**
 * Many processes, one cache (issue 18.3), with real servers and real processes: four Node workers
 * (test/processes/tier-worker.ts) share one backend through a region with shared invalidation and a
 * local tier, and notifications where the backend has them (Redis pub/sub, an etcd watch).
 *
 * The bounds: with notifications, the local TTL is 30 s, so a worker that sees a write within a few
 * seconds saw it through a notification; without, the local TTL and the poll interval are 0.5 s and
 * that is the bound. Every time bound below adds generous slack (2 s) because 9 sessions share 2
 * cores here and a process can be descheduled for that long; the measured staleness is printed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it, type TestContext } from 'node:test';
import { BACKEND_KINDS, NOTIFYING, type BackendKind, type TierSetup } from '../support/tier.js';

const PROCESSES = 4;
const SLACK_MS = 2000;
const WORKER = join(import.meta.dirname, 'tier-worker.ts');

interface TierWorker {
  child: ChildProcess;
  send(command: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
}

async function startTierWorker(setup: TierSetup): Promise<TierWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, DOGPILE_TIER_WORKER: JSON.stringify(setup) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pending = new Map<number | 'ready', (message: Record<string, unknown>) => void>();
  const failures = new Map<number | 'ready', (error: Error) => void>();
  child.once('exit', (code) => {
    for (const fail of failures.values()) fail(new Error(`worker ${child.pid} exited (${code}); stderr: ${stderr.slice(-2000)}`));
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const id = message.ready === true ? 'ready' : (message.id as number);
    pending.get(id)?.(message);
    pending.delete(id);
  });
  const wait = (id: number | 'ready', timeoutMs: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${child.pid} did not answer ${id} in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)),
        timeoutMs,
      );
      failures.set(id, (error) => {
        clearTimeout(timer);
        reject(error);
      });
      pending.set(id, (message) => {
        clearTimeout(timer);
        failures.delete(id);
        if (typeof message.error === 'string') reject(new Error(`worker ${child.pid}: ${message.error}`));
        else resolve(message);
      });
    });
  await wait('ready', 30_000);
  let next = 0;
  return {
    child,
    send: (command, timeoutMs = 30_000) => {
      const id = ++next;
      const answer = wait(id, timeoutMs);
      child.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
      return answer;
    },
  };
}

for (const kind of BACKEND_KINDS) {
  const notify = NOTIFYING.has(kind);
  const tierTtl = notify ? 30 : 0.5;
  const interval = notify ? 30 : 0.5;
  const boundMs = (notify ? 0 : Math.max(tierTtl, interval) * 1000) + SLACK_MS;

  describe(`${PROCESSES} processes share one ${kind} backend (${notify ? 'notifications' : 'polling + local TTL'})`, () => {
    const workers: TierWorker[] = [];
    const name = `tier-${kind}-${randomUUID()}`;
    const setup: TierSetup = { kind: kind as BackendKind, name, interval, tierTtl, notify, distributedLock: true };
    const spawnOne = async (): Promise<TierWorker> => {
      const worker = await startTierWorker(setup);
      workers.push(worker);
      return worker;
    };
    before(async () => {
      await Promise.all(Array.from({ length: PROCESSES }, spawnOne));
    });
    after(() => {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    });
    const others = (): TierWorker[] => workers.slice(1, PROCESSES);
    const writer = (): TierWorker => workers[0] as TierWorker;

    async function staleness(
      t: TestContext,
      what: string,
      key: string,
      expected: string | null,
      write: () => Promise<unknown>,
    ): Promise<void> {
      const waits = others().map((worker) =>
        worker.send({ op: 'waitFor', key, value: expected, timeoutMs: boundMs + 5000 }, boundMs + 20_000),
      );
      await write();
      const results = await Promise.all(waits);
      for (const result of results)
        assert.equal(
          result.ok,
          true,
          `a worker still saw ${JSON.stringify(result.seen)} after ${what}; its background errors: ${JSON.stringify(result.errors)}`,
        );
      const ms = results.map((r) => r.ms as number);
      t.diagnostic(
        `${what}: the other ${PROCESSES - 1} processes stopped serving the old value after ${ms.map((m) => m.toFixed(0)).join(', ')} ms (bound ${boundMs} ms)`,
      );
      for (const m of ms) assert.ok(m < boundMs, `staleness ${m.toFixed(0)} ms exceeds the bound ${boundMs} ms`);
    }

    async function everyoneReads(key: string, value: string): Promise<void> {
      for (const worker of workers.slice(0, PROCESSES)) assert.equal((await worker.send({ op: 'get', key })).value, value);
    }

    it('a set in one process: the others stop serving the old value within the bound', async (t) => {
      const key = `k-${randomUUID()}`;
      await writer().send({ op: 'set', key, value: 'v1' });
      await everyoneReads(key, 'v1');
      await staleness(t, 'set', key, 'v2', () => writer().send({ op: 'set', key, value: 'v2' }));
    });

    it('a delete in one process: the others stop serving the old value within the bound', async (t) => {
      const key = `k-${randomUUID()}`;
      await writer().send({ op: 'set', key, value: 'v1' });
      await everyoneReads(key, 'v1');
      await staleness(t, 'delete', key, null, () => writer().send({ op: 'delete', key }));
    });

    it('a local-tier hit makes no network call (counted)', async () => {
      const key = `k-${randomUUID()}`;
      await writer().send({ op: 'set', key, value: 'hot' });
      const reader = others()[0] as TierWorker;
      assert.equal((await reader.send({ op: 'get', key })).value, 'hot');
      const before = (await reader.send({ op: 'stats' })) as { remoteCalls: number; tier: { hits: number } };
      for (let i = 0; i < 100; i++) assert.equal((await reader.send({ op: 'get', key })).value, 'hot');
      const afterStats = (await reader.send({ op: 'stats' })) as { remoteCalls: number; tier: { hits: number } };
      if (!notify) {
        // Without notifications the 0.5 s local TTL may run out during the 100 reads (a slow machine):
        // then one read per TTL period goes to the backend, never one per read.
        assert.ok(
          afterStats.remoteCalls - before.remoteCalls <= 10,
          `${afterStats.remoteCalls - before.remoteCalls} remote calls for 100 hits`,
        );
      } else {
        assert.equal(afterStats.remoteCalls, before.remoteCalls, 'no remote call for 100 hits');
        assert.equal(afterStats.tier.hits - before.tier.hits, 100);
      }
    });

    it('invalidate() in one process: the others stop serving values created before it within the bound', async (t) => {
      const key = `k-${randomUUID()}`;
      await writer().send({ op: 'set', key, value: 'old' });
      await everyoneReads(key, 'old');
      await staleness(t, 'invalidate', key, null, () => writer().send({ op: 'invalidate', hard: true }));
    });

    it('a process that starts after an invalidation sees it on its first read', async () => {
      const key = `k-${randomUUID()}`;
      await writer().send({ op: 'set', key, value: 'before' });
      // Values are stamped in whole-clock time: leave a gap so 'before' is strictly older than the invalidation.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writer().send({ op: 'invalidate', hard: true });
      const late = await spawnOne();
      assert.equal((await late.send({ op: 'get', key })).value, null, 'the late process served a value the invalidation made stale');
      await writer().send({ op: 'set', key, value: 'after' });
      assert.equal((await late.send({ op: 'waitFor', key, value: 'after', timeoutMs: boundMs })).ok, true);
    });

    it(`getOrCreate through the local tier: one creator across ${PROCESSES} processes × 20 callers`, async () => {
      const key = `cold-${randomUUID()}`;
      const results = await Promise.all(
        workers
          .slice(0, PROCESSES)
          .map((worker, i) => worker.send({ op: 'getOrCreate', key, callers: 20, creatorMs: 200, label: `w${i}` }, 60_000)),
      );
      const created = results.reduce((sum, r) => sum + (r.created as number), 0);
      assert.equal(created, 1, 'one creator call across all processes');
      assert.equal(new Set(results.flatMap((r) => r.values as string[])).size, 1, 'everyone got the one value');
    });
  });
}
