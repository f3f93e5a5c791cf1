/**
 * Distributed dogpile lock figures of issue 7, against real servers:
 * - lock round trips per regeneration: one process, 50 concurrent getOrCreate on a cold key, with a
 *   proxy counting the backend mutex's acquire/release calls (each is one request to the server when
 *   uncontended) and the backend reads/writes; for Mongo also every command the driver sent;
 * - 4 processes × 50 callers on a cold key (the test/processes harness): creator calls across processes and
 *   the wall time against one creator's time.
 * Run: `npm run bench:locks` (MEMCACHED_SERVERS, ETCD_ENDPOINTS, MONGODB_URL).
 */
import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent, MongoClient } from 'mongodb';
import { CacheRegion, ProxyBackend, type CacheMutex } from '../src/index.js';
import { killAll, startWorker, type Worker } from '../test/support/processes.js';
import { check, figureOf, isMain, printMachine, printSections, type Figure, type Section } from './lib.js';

const PROCESSES = 4;
const CALLERS = 50;
const CREATOR_MS = 200;
const RUNS = 3;

/** Counts the backend mutex's calls and the backend's reads and writes. */
class CountingProxy extends ProxyBackend {
  counts = { acquire: 0, release: 0, get: 0, set: 0 };
  override getMutex(key: string): CacheMutex | null {
    const mutex = super.getMutex(key);
    if (mutex === null) return null;
    return {
      acquire: (wait?: boolean) => {
        this.counts.acquire++;
        return mutex.acquire(wait);
      },
      release: () => {
        this.counts.release++;
        return mutex.release();
      },
    } as CacheMutex;
  }
  override get(key: string) {
    this.counts.get++;
    return super.get(key);
  }
  override set(key: string, value: Parameters<ProxyBackend['set']>[1]) {
    this.counts.set++;
    return super.set(key, value);
  }
}

export interface LockServers {
  memcached: string;
  etcd: string;
  mongo: string;
}

const defaults = (): LockServers => ({
  memcached: process.env.MEMCACHED_SERVERS ?? '127.0.0.1:21211',
  etcd: process.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:23379',
  mongo: process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/',
});

export async function runLocks(servers: LockServers = defaults()): Promise<Section[]> {
  const backends: { name: string; backend: string; args: Record<string, unknown> }[] = [
    { name: 'memcached', backend: 'memcached', args: { url: servers.memcached.split(','), distributed_lock: true, lock_timeout: 10 } },
    {
      name: 'mongo',
      backend: 'mongo',
      args: { db_hosts: servers.mongo, db_name: 'dogpile_lock_bench', cache_collection: 'cache', distributed_lock: true, lock_timeout: 10 },
    },
    { name: 'etcd3', backend: 'etcd3', args: { endpoints: servers.etcd.split(','), distributed_lock: true, lock_timeout: 10 } },
  ];
  const trips: string[] = [];
  const lockCalls: Figure[] = [];
  const wall: Figure[] = [];
  for (const { name, backend, args } of backends) {
    // Round trips per regeneration, one process.
    const proxy = new CountingProxy();
    const region = new CacheRegion().configure(backend, {
      expirationTime: 60,
      arguments: backend === 'mongo' ? { ...args, client_options: { monitorCommands: true } } : args,
      wrap: [proxy],
    });
    const commands: string[] = [];
    let mongo: MongoClient | undefined;
    try {
      if (backend === 'mongo') {
        // Configured by name: the registry holds a DeferredBackend in front of the real one until it loads.
        const real = await (proxy.proxied as unknown as { ready(): Promise<unknown> }).ready();
        mongo = await (real as { getClient(): Promise<MongoClient> }).getClient();
      }
      const listener = (event: CommandStartedEvent): void => void commands.push(event.commandName);
      // Warm the connection first so the count is only the regeneration's.
      await region.get(`warm-${randomUUID()}`);
      proxy.counts = { acquire: 0, release: 0, get: 0, set: 0 };
      mongo?.on('commandStarted', listener);
      let created = 0;
      const key = `lock-trips-${randomUUID()}`;
      const got = await Promise.all(
        Array.from({ length: CALLERS }, () =>
          region.getOrCreate(key, async () => {
            created++;
            await new Promise((resolve) => setTimeout(resolve, 20));
            return 'value';
          }),
        ),
      );
      mongo?.off('commandStarted', listener);
      check(created === 1 && got.every((v) => v === 'value'), `${name}: one creator call for ${CALLERS} callers in one process`);
      const c = proxy.counts;
      lockCalls.push(figureOf(`${name}: lock acquire + release`, [c.acquire + c.release], 'calls'));
      const tally = commands.reduce<Record<string, number>>((t, n) => {
        t[n] = (t[n] ?? 0) + 1;
        return t;
      }, {});
      trips.push(
        `${name}: ${c.acquire} acquire + ${c.release} release, ${c.get} get, ${c.set} set` +
          (mongo
            ? `; driver commands: ${Object.entries(tally)
                .map(([n, k]) => `${n} ${k}`)
                .join(', ')} (${commands.length} in all)`
            : ''),
      );
    } finally {
      await region.close();
    }

    // 4 processes × 50 callers on a cold key.
    const created: number[] = [];
    const ms: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const workers: Worker[] = [];
      try {
        const key = `cold-${randomUUID()}`;
        workers.push(
          ...(await Promise.all(
            Array.from({ length: PROCESSES }, (_, i) =>
              startWorker({ backend, label: `w${i}`, key, callers: CALLERS, creatorMs: CREATOR_MS, expirationTime: 60, args }),
            ),
          )),
        );
        const started = performance.now();
        for (const worker of workers) worker.go();
        const results = await Promise.all(workers.map((worker) => worker.result(60_000)));
        ms.push(performance.now() - started);
        const total = results.reduce((sum, r) => sum + r.created, 0);
        check(new Set(results.flatMap((r) => r.values)).size === 1, `${name}: every caller across processes got the one value`);
        created.push(total);
      } finally {
        killAll(workers);
      }
    }
    check(
      created.every((n) => n === 1),
      `${name}: one creator call across ${PROCESSES} processes (got ${created.join(', ')})`,
    );
    wall.push(figureOf(`${name}, ${PROCESSES}×${CALLERS}`, ms, 'ms'));
  }
  wall.unshift(figureOf(`one creator call (${CREATOR_MS} ms)`, [CREATOR_MS], 'ms'));
  return [
    {
      id: 'locks-trips',
      title: `Distributed lock: lock calls per regeneration (${CALLERS} callers, one process)`,
      figures: lockCalls,
      lowerIsBetter: true,
      note: `Counted by a proxy around the backend mutex (and, for Mongo, the driver's command monitoring): ${trips.join('; ')}.`,
    },
    {
      id: 'locks-wall',
      title: `Distributed lock: ${PROCESSES} processes × ${CALLERS} callers on a cold key, wall time`,
      figures: wall,
      baseline: `one creator call (${CREATOR_MS} ms)`,
      lowerIsBetter: true,
      note: `Exactly one creator call across the ${PROCESSES} processes in every run (checked). Wall time is from "go" to the last worker's answer, median of ${RUNS} runs; it includes the workers' polling for the lock.`,
    },
  ];
}

if (isMain(import.meta.url)) {
  printMachine('distributed lock benchmark');
  printSections(await runLocks());
}
