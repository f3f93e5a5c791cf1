/**
 * Etcd3Backend figures of issue 5, each beside the raw etcd3 client in the same run:
 * `getMulti(100)` against a prefix range of 100 keys, and `set` with a TTL at 64 in flight against
 * a raw `put` (and against a lease grant per write, oslo's and @keyv/etcd v6's way, the anti-baseline).
 *
 * Run: `npx tsx bench/etcd3.ts` (ETCD_ENDPOINTS, default http://127.0.0.1:23379). Asserts
 * correctness, never time.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Etcd3 } from 'etcd3';
import { Etcd3Backend } from '../src/backends/etcd3/index.js';
import { isNoValue, makeCachedValue, type CachedValue } from '../src/index.js';
import { check, printMachine, printTable, type Figure } from './lib.js';

const endpoints = (process.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:23379').split(',').map((e) => e.trim()).filter(Boolean);
const namespace = `bench-etcd3-${randomUUID().slice(0, 8)}/`;
const IN_FLIGHT = 64;
const KEY_SPACE = 1000;
const PER_WORKER = 16; // one batch = 64 workers × 16 awaited writes
const TTL = 300;
const payload = { id: 0, name: 'x'.repeat(60), tags: ['a', 'b'] }; // ~100 bytes of JSON

/** One contender: `batch` performs `ops` operations (or keys). */
interface Variant {
  name: string;
  ops: number;
  batch: () => Promise<void>;
  unit?: string;
}

/**
 * Runs every variant for ~`ms` per run, `runs` times after a warm-up, interleaving the variants
 * (A B C, A B C, …) so a change in the machine's load (it is shared) hits them alike.
 */
async function interleaved(variants: Variant[], { runs = 5, ms = 1000 } = {}): Promise<Figure[]> {
  const once = async (v: Variant, budget: number): Promise<number> => {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < budget) {
      await v.batch();
      ops += v.ops;
      elapsed = performance.now() - start;
    }
    return (ops / elapsed) * 1000;
  };
  for (const v of variants) await once(v, ms / 2); // warm-up: JIT, connections, leases
  const rates = variants.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    for (const [i, v] of variants.entries()) rates[i]?.push(await once(v, ms));
  }
  return variants.map((v, i) => {
    const sorted = [...(rates[i] ?? [])].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return { name: v.name, median, min: sorted[0] as number, max: sorted.at(-1) as number, unit: v.unit ?? 'ops/s' };
  });
}

const client = new Etcd3({ hosts: endpoints });
const backend = new Etcd3Backend({ endpoints, namespace, lease_ttl: TTL, revoke_leases_on_close: true });
const plain = new Etcd3Backend({ endpoints, namespace });

async function machine(): Promise<void> {
  printMachine('Etcd3Backend vs the raw etcd3 client');
  console.log(`load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const status = await client.maintenance.status({});
  console.log(`etcd ${status.version} at ${endpoints.join(', ')} (${endpoints.length} member(s)), etcd3 client, values ~100 B of JSON\n`);
}

async function getMulti(): Promise<Figure[]> {
  // 10 groups of 100 keys; a group shares a prefix so the raw client can read it as one range.
  const group = (g: number): string[] => Array.from({ length: 100 }, (_, i) => `g${g}/${String(i).padStart(3, '0')}`);
  for (let g = 0; g < 10; g++) await backend.setMulti(Object.fromEntries(group(g).map((k) => [k, makeCachedValue({ ...payload, id: g * 100 })])));
  for (let g = 0; g < 10; g++) {
    const got = await backend.getMulti(group(g));
    check(got.every((v) => !isNoValue(v) && (v as CachedValue<typeof payload>).payload.id === g * 100), `getMulti group ${g} must hit`);
    const raw = await client.getAll().prefix(`${namespace}g${g}/`).buffers();
    check(Object.keys(raw).length === 100, `prefix range of group ${g} must return 100 keys`);
  }
  const rawTxnOps = (g: number) => group(g).map((k) => ({ request_range: { key: Buffer.from(namespace + k) } }));
  let g = 0;
  return interleaved([
    {
      name: 'raw etcd3 getAll().prefix() (100 keys)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const raw = await client.getAll().prefix(`${namespace}g${g++ % 10}/`).buffers();
        JSON.parse(`[${Object.values(raw).join(',')}]`); // decode like a cache would
      },
    },
    {
      name: 'raw etcd3 txn of 100 ranges',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const response = await client.kv.txn({ success: rawTxnOps(g++ % 10) });
        for (const r of response.responses) JSON.parse(r.response_range.kvs[0]?.value.toString() ?? 'null');
      },
    },
    {
      name: 'Etcd3Backend.getMulti(100)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        await backend.getMulti(group(g++ % 10));
      },
    },
  ]);
}

/**
 * Runs `write(i)` from 64 concurrent workers, 16 awaited writes each, over 1000 distinct keys: etcd's
 * put cost grows with the keys already on a lease (etcd#15993), so a raw shared lease with more keys
 * would be an unfairly slow baseline.
 */
const inFlight = (write: (i: number) => Promise<unknown>) => {
  let n = 0;
  return async (): Promise<void> => {
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = 0; i < PER_WORKER; i++) await write(n++ % KEY_SPACE);
    }));
  };
};

async function sets(): Promise<Figure[]> {
  const value = Buffer.from(JSON.stringify([payload, { ct: Date.now() / 1000, v: 2 }]));
  const lease = client.lease(TTL, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  const perWrite: string[] = [];
  let ourWrites = 0;
  const batch = IN_FLIGHT * PER_WORKER;
  const figures = await interleaved([
    { name: 'raw etcd3 put (no lease)', ops: batch, batch: inFlight((i) => client.kv.put({ key: Buffer.from(`${namespace}raw/${i}`), value })) },
    { name: 'Etcd3Backend.set (no lease_ttl)', ops: batch, batch: inFlight((i) => plain.set(`plain/${i}`, makeCachedValue(payload))) },
    { name: 'raw etcd3 put (one shared lease)', ops: batch, batch: inFlight((i) => client.kv.put({ key: Buffer.from(`${namespace}rawl/${i}`), value, lease: leaseId })) },
    {
      name: 'Etcd3Backend.set, lease_ttl 300',
      ops: batch,
      batch: inFlight((i) => {
        ourWrites++;
        return backend.set(`set/${i}`, makeCachedValue(payload));
      }),
    },
    {
      name: 'lease grant + put per write (anti-baseline)',
      ops: batch,
      batch: inFlight(async (i) => {
        const { ID } = await client.leaseClient.leaseGrant({ TTL });
        perWrite.push(ID);
        await client.kv.put({ key: Buffer.from(`${namespace}perwrite/${i}`), value, lease: ID });
      }),
    },
  ]);
  // Correctness: our writes are readable, and all share a handful of leases (one per window).
  const sample = await backend.getMulti(Array.from({ length: 100 }, (_, i) => `set/${i}`));
  check(sample.every((v) => !isNoValue(v)), 'every benchmarked set must be readable');
  const kvs = (await client.kv.range({ key: Buffer.from(`${namespace}set/`), range_end: Buffer.from(`${namespace}set0`) })).kvs;
  const leases = new Set(kvs.map((kv) => kv.lease));
  // One lease per 1000 writes (lease_max_keys) or per 30 s window, whichever comes first.
  const maxLeases = Math.ceil(ourWrites / 1000) + 2;
  check(kvs.length === KEY_SPACE && !leases.has('0') && leases.size <= maxLeases, `${ourWrites} writes on at most ${maxLeases} leases; got ${kvs.length} keys on ${leases.size} leases`);
  console.log(`Etcd3Backend: ${ourWrites} writes, ${kvs.length} keys now on ${leases.size} lease(s); the anti-baseline granted ${perWrite.length} leases.\n`);
  // Clean up the anti-baseline's leases (their keys go with them) and ours.
  for (let i = 0; i < perWrite.length; i += 256) {
    await Promise.allSettled(perWrite.slice(i, i + 256).map((ID) => client.leaseClient.leaseRevoke({ ID })));
  }
  await lease.revoke();
  return figures;
}

try {
  await machine();
  printTable('getMulti: 100 keys per call, one call at a time', await getMulti(), 'raw etcd3 getAll().prefix() (100 keys)');
  const [noLease, ourNoLease, ...withTtl] = await sets();
  printTable(`set without a TTL: ${IN_FLIGHT} in flight`, [noLease as Figure, ourNoLease as Figure], 'raw etcd3 put (no lease)');
  printTable(`set with a TTL: ${IN_FLIGHT} in flight (same interleaved runs)`, withTtl, 'raw etcd3 put (one shared lease)');
} finally {
  await Promise.all([backend.close(), plain.close()]);
  await client.delete().prefix(namespace);
  client.close();
}
