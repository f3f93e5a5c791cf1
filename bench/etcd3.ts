/**
 * Etcd3Backend figures of issues 5 and 8, each beside the raw etcd3 client and keyv + @keyv/etcd in the same run:
 * `get` at 64 in flight,
 * `getMulti(100)` against a prefix range of 100 keys, and `set` with a TTL at 64 in flight against
 * a raw `put` (and against a lease grant per write, oslo's and @keyv/etcd v6's way, the anti-baseline).
 *
 * Run: `npm run bench:etcd` (ETCD_ENDPOINTS, default http://127.0.0.1:23379). Asserts
 * correctness, never time.
 */
import { randomUUID } from 'node:crypto';
import KeyvEtcd from '@keyv/etcd';
import { Etcd3 } from 'etcd3';
import Keyv from 'keyv';
import { Etcd3Backend } from '../src/backends/etcd3/index.js';
import { isNoValue, type CachedValue } from '../src/index.js';
import { makeCachedValue } from '../src/backend.js';
import { check, interleaved, isMain, printMachine, printSections, type Figure, type Section } from './lib.js';

const defaultEndpoints = (process.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:23379')
  .split(',')
  .map((e) => e.trim())
  .filter(Boolean);
const namespace = `bench-etcd3-${randomUUID().slice(0, 8)}/`;
/** Where the backend stores cache key `k` of `namespace`: `namespace 0xFF k` (src/backends/etcd3/keys.ts). */
const stored = (k: string): Buffer => Buffer.concat([Buffer.from(namespace), Buffer.of(0xff), Buffer.from(k)]);
const IN_FLIGHT = 64;
const KEY_SPACE = 1000;
const PER_WORKER = 16; // one batch = 64 workers × 16 awaited writes
const TTL = 300;
const payload = { id: 0, name: 'x'.repeat(60), tags: ['a', 'b'] }; // ~100 bytes of JSON

let endpoints = defaultEndpoints;
let client: Etcd3;
let backend: Etcd3Backend;
let plain: Etcd3Backend;
let keyv: Keyv;

async function getMulti(): Promise<Figure[]> {
  // 10 groups of 100 keys; a group shares a prefix so the raw client can read it as one range.
  const group = (g: number): string[] => Array.from({ length: 100 }, (_, i) => `g${g}/${String(i).padStart(3, '0')}`);
  for (let g = 0; g < 10; g++) await keyv.setMany(group(g).map((k) => ({ key: k, value: { ...payload, id: g * 100 } })));
  for (let g = 0; g < 10; g++)
    await backend.setMulti(Object.fromEntries(group(g).map((k) => [k, makeCachedValue({ ...payload, id: g * 100 })])));
  for (let g = 0; g < 10; g++) {
    const got = await backend.getMulti(group(g));
    check(
      got.every((v) => !isNoValue(v) && (v as CachedValue<typeof payload>).payload.id === g * 100),
      `getMulti group ${g} must hit`,
    );
    const raw = await client
      .getAll()
      .prefix(stored(`g${g}/`))
      .buffers();
    check(Object.keys(raw).length === 100, `prefix range of group ${g} must return 100 keys`);
  }
  const rawTxnOps = (g: number) => group(g).map((k) => ({ request_range: { key: stored(k) } }));
  let g = 0;
  return interleaved([
    {
      name: 'raw etcd3 getAll().prefix() (100 keys)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const raw = await client
          .getAll()
          .prefix(stored(`g${g++ % 10}/`))
          .buffers();
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
    {
      name: 'keyv + @keyv/etcd getMany(100)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const got = await keyv.getMany(group(g++ % 10));
        check(
          got.every((v) => v !== undefined),
          'keyv getMany must hit',
        );
      },
    },
  ]);
}

/** get of one key at 64 in flight. */
async function gets(): Promise<Figure[]> {
  const keys = Array.from({ length: 100 }, (_, i) => `get/${i}`);
  for (const k of keys) {
    await backend.set(k, makeCachedValue(payload));
    await keyv.set(k, payload);
  }
  check((await keyv.get(keys[0] as string)) !== undefined, 'keyv get must hit');
  const each = (read: (k: string) => Promise<unknown>) =>
    inFlight(async (i) => check((await read(keys[i % 100] as string)) !== undefined, 'get must hit'));
  return interleaved([
    {
      name: 'raw etcd3 get',
      ops: IN_FLIGHT * PER_WORKER,
      batch: each((k) =>
        client
          .get(stored(k))
          .buffer()
          .then((b) => (b === null ? undefined : JSON.parse(b.toString()))),
      ),
    },
    {
      name: 'Etcd3Backend.get',
      ops: IN_FLIGHT * PER_WORKER,
      batch: each(async (k) => (isNoValue(await backend.get(k)) ? undefined : true)),
    },
    { name: 'keyv + @keyv/etcd get', ops: IN_FLIGHT * PER_WORKER, batch: each((k) => keyv.get(k)) },
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
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = 0; i < PER_WORKER; i++) await write(n++ % KEY_SPACE);
      }),
    );
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
    {
      name: 'raw etcd3 put (no lease)',
      ops: batch,
      batch: inFlight((i) => client.kv.put({ key: Buffer.from(`${namespace}raw/${i}`), value })),
    },
    { name: 'Etcd3Backend.set (no lease_ttl)', ops: batch, batch: inFlight((i) => plain.set(`plain/${i}`, makeCachedValue(payload))) },
    { name: 'keyv + @keyv/etcd set (no TTL)', ops: batch, batch: inFlight((i) => keyv.set(`kset/${i}`, payload)) },
    {
      name: 'raw etcd3 put (one shared lease)',
      ops: batch,
      batch: inFlight((i) => client.kv.put({ key: Buffer.from(`${namespace}rawl/${i}`), value, lease: leaseId })),
    },
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
  check(
    sample.every((v) => !isNoValue(v)),
    'every benchmarked set must be readable',
  );
  const kvs = (await client.kv.range({ key: stored('set/'), range_end: stored('set0') })).kvs;
  const leases = new Set(kvs.map((kv) => kv.lease));
  // One lease per 1000 writes (lease_max_keys) or per 30 s window, whichever comes first.
  const maxLeases = Math.ceil(ourWrites / 1000) + 2;
  check(
    kvs.length === KEY_SPACE && !leases.has('0') && leases.size <= maxLeases,
    `${ourWrites} writes on at most ${maxLeases} leases; got ${kvs.length} keys on ${leases.size} leases`,
  );
  console.log(
    `Etcd3Backend: ${ourWrites} writes, ${kvs.length} keys now on ${leases.size} lease(s); the anti-baseline granted ${perWrite.length} leases.\n`,
  );
  // Clean up the anti-baseline's leases (their keys go with them) and ours.
  for (let i = 0; i < perWrite.length; i += 256) {
    await Promise.allSettled(perWrite.slice(i, i + 256).map((ID) => client.leaseClient.leaseRevoke({ ID })));
  }
  await lease.revoke();
  return figures;
}

export async function runEtcd(eps: string[] = defaultEndpoints): Promise<Section[]> {
  endpoints = eps;
  client = new Etcd3({ hosts: endpoints });
  backend = new Etcd3Backend({ endpoints, namespace, lease_ttl: TTL, revoke_leases_on_close: true });
  plain = new Etcd3Backend({ endpoints, namespace });
  // @keyv/etcd takes one url; its keys live under our namespace too, so the cleanup below removes them.
  keyv = new Keyv({ store: new KeyvEtcd({ url: (endpoints[0] as string).replace(/^https?:\/\//, '') }), namespace: `${namespace}keyv` });
  try {
    const status = await client.maintenance.status({});
    const about = `etcd ${status.version} at ${endpoints.join(', ')} (${endpoints.length} member(s)); values ~100 B of JSON; keyv stores its own JSON envelope.`;
    const sections: Section[] = [];
    sections.push({
      id: 'etcd-get',
      title: `etcd get, ${IN_FLIGHT} in flight`,
      figures: await gets(),
      baseline: 'raw etcd3 get',
      note: about,
    });
    sections.push({
      id: 'etcd-getmulti',
      title: 'etcd getMulti: 100 keys per call, one call at a time',
      figures: await getMulti(),
      baseline: 'raw etcd3 getAll().prefix() (100 keys)',
    });
    const [noLease, ourNoLease, keyvSet, ...withTtl] = await sets();
    sections.push({
      id: 'etcd-set',
      title: `etcd set without a TTL, ${IN_FLIGHT} in flight`,
      figures: [noLease, ourNoLease, keyvSet] as Figure[],
      baseline: 'raw etcd3 put (no lease)',
    });
    sections.push({
      id: 'etcd-set-ttl',
      title: `etcd set with a TTL, ${IN_FLIGHT} in flight (same interleaved runs)`,
      figures: withTtl,
      baseline: 'raw etcd3 put (one shared lease)',
      note: 'keyv + @keyv/etcd with a TTL grants a lease per write, like the anti-baseline row.',
    });
    return sections;
  } finally {
    await Promise.all([backend.close(), plain.close()]);
    await keyv.disconnect().catch(() => undefined);
    await client.delete().prefix(namespace);
    client.close();
  }
}

if (isMain(import.meta.url)) {
  printMachine('Etcd3Backend vs the raw etcd3 client and keyv');
  printSections(await runEtcd());
}
