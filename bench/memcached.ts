/**
 * memcached benchmark: PooledMemcachedBackend beside a raw memjs client, the `memcached` npm client
 * and keyv + @keyv/memcache, same run, same server.
 *
 *   npm run bench:memcached     (MEMCACHED_SERVERS, default 127.0.0.1:21211)
 *
 * Prints a table (median of RUNS runs after a warm-up). Never asserts on time; asserts correctness
 * (every read of the hit workload is a hit with the right bytes). BENCH_SCALE=0.2 for a quick run.
 */
import assert from 'node:assert/strict';
import KeyvMemcache from '@keyv/memcache';
import Keyv from 'keyv';
import Memcached from 'memcached';
import memjs from 'memjs';
import { PooledMemcachedBackend } from '../src/backends/memcached/index.js';
import { HashRing } from '../src/backends/memcached/ring.js';
import { isNoValue, jsonSerializer } from '../src/index.js';
import { makeCachedValue, buildSerialized } from '../src/backend.js';
import { isMain, printMachine, printSections, type Figure, type Section, envNumber } from './lib.js';

const SERVERS = (process.env.MEMCACHED_SERVERS ?? '127.0.0.1:21211')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const SCALE = envNumber('BENCH_SCALE', 1);
const RUNS = 5;
const KEYS = 1000;
const silent = { log: () => {} };

const prefix = `bench-${process.pid}-`;
const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}${i}`);
// dogpile's byte format, ~100 bytes: what a region stores.
const valueFor = (i: number): Buffer =>
  buildSerialized(makeCachedValue({ id: i, name: `user-${i}`, roles: ['reader', 'writer'], active: true }), jsonSerializer);
const values = keys.map((_, i) => valueFor(i));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs `op` `total` times with `concurrency` workers; returns ops per second. */
async function rate(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

type Op = (i: number) => Promise<void>;

/**
 * Measures several variants of one workload, interleaved (run 1 of each, then run 2 of each, …) so
 * that a noisy machine affects them alike; returns each variant's median ops/s.
 */
interface Result {
  median: number;
  min: number;
  max: number;
}

async function compare(total: number, concurrency: number, variants: Record<string, Op>): Promise<Record<string, Result>> {
  const names = Object.keys(variants);
  for (const name of names) await rate(Math.ceil(total / 5), concurrency, variants[name] as Op); // warm-up
  const results: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) results[name]?.push(await rate(total, concurrency, variants[name] as Op));
  }
  const summary: Record<string, Result> = {};
  for (const name of names) {
    const runs = results[name] as number[];
    summary[name] = { median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
  }
  return summary;
}

/** The results of `compare` as figures (times `scale`: 100 for keys/s of 100-key batches). */
function figures(results: Record<string, Result>, labels: Record<string, string>, unit: string, scale = 1): Figure[] {
  return Object.entries(labels).flatMap(([key, name]) => {
    const r = results[key];
    return r ? [{ name, median: r.median * scale, min: r.min * scale, max: r.max * scale, unit }] : [];
  });
}

/** Promisified `memcached` npm client calls. */
const mcGet = (mc: Memcached, key: string): Promise<unknown> =>
  new Promise((resolve, reject) => mc.get(key, (e, d) => (e ? reject(e) : resolve(d))));
const mcGetMulti = (mc: Memcached, keys: string[]): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => mc.getMulti(keys, (e, d) => (e ? reject(e) : resolve(d as Record<string, unknown>))));

export async function runMemcached(servers: string[] = SERVERS): Promise<Section[]> {
  const single = servers[0] as string;
  const ours = new PooledMemcachedBackend({ url: single, socket_timeout: 5 });
  const raw = memjs.Client.create(single, { logger: silent, timeout: 5, retries: 1 });
  const mc = new Memcached(single, { retries: 2, timeout: 5000, poolSize: 64 });
  const keyvStore = new KeyvMemcache(single);
  const keyv = new Keyv({ store: keyvStore, namespace: `${prefix}keyv` });
  const payloads = keys.map((_, i) => ({ id: i, name: `user-${i}`, roles: ['reader', 'writer'], active: true }));
  const sections: Section[] = [];
  try {
    await ours.setSerializedMulti(new Map(keys.map((k, i) => [k, values[i] as Buffer])));
    for (const [i, k] of keys.entries()) await keyv.set(k, payloads[i]);

    const n1 = Math.round(20_000 * SCALE);
    const n64 = Math.round(200_000 * SCALE);
    const pick = (i: number): number => i % KEYS;
    const variants: Record<string, Op> = {
      raw: async (i) => {
        const { value } = await raw.get(keys[pick(i)] as string);
        assert.ok(value !== null && value.equals(values[pick(i)] as Buffer), 'raw memjs miss on a hit workload');
      },
      bytes: async (i) => {
        const got = await ours.getSerialized(keys[pick(i)] as string);
        assert.ok(!isNoValue(got) && got.equals(values[pick(i)] as Buffer), 'miss on a hit workload');
      },
      parsed: async (i) => {
        const got = await ours.get(keys[pick(i)] as string);
        assert.ok(!isNoValue(got) && (got.payload as { id: number }).id === pick(i), 'miss on a hit workload');
      },
      memcached: async (i) => {
        const got = await mcGet(mc, keys[pick(i)] as string);
        assert.ok(got !== undefined && String(got) === (values[pick(i)] as Buffer).toString(), 'memcached client miss on a hit workload');
      },
      keyv: async (i) => {
        const got = (await keyv.get(keys[pick(i)] as string)) as { id: number } | undefined;
        assert.ok(got?.id === pick(i), 'keyv miss on a hit workload');
      },
    };
    const labels = {
      raw: 'raw memjs get',
      bytes: 'PooledMemcachedBackend.getSerialized (bytes)',
      parsed: 'PooledMemcachedBackend.get (CachedValue, JSON parse)',
      memcached: 'memcached (npm client) get',
      keyv: 'keyv + @keyv/memcache get',
    };
    for (const c of [1, 64]) {
      const m = await compare(c === 1 ? n1 : n64, c, variants);
      sections.push({
        id: `memcached-get-${c}`,
        title: `memcached get, ${c} in flight`,
        figures: figures(m, labels, 'ops/s'),
        baseline: labels.raw,
      });
    }

    const batches = Math.round(3_000 * SCALE);
    const batchOf = (i: number): string[] => Array.from({ length: 100 }, (_, j) => keys[(i * 100 + j) % KEYS] as string);
    const multi = await compare(batches, 1, {
      raw: async (i) => {
        const got = await Promise.all(batchOf(i).map((k) => raw.get(k)));
        assert.ok(
          got.every((g) => g.value !== null),
          'raw memjs miss in a batch',
        );
      },
      ours: async (i) => {
        const got = await ours.getSerializedMulti(batchOf(i));
        assert.ok(
          got.every((g, j) => !isNoValue(g) && g.equals(values[(i * 100 + j) % KEYS] as Buffer)),
          'getMulti miss or misaligned',
        );
      },
      memcached: async (i) => {
        const got = await mcGetMulti(mc, batchOf(i));
        assert.ok(
          batchOf(i).every((k) => got[k] !== undefined),
          'memcached getMulti miss',
        );
      },
      keyv: async (i) => {
        const got = (await keyv.getMany(batchOf(i))) as ({ id: number } | undefined)[];
        assert.ok(
          got.every((g, j) => g?.id === (i * 100 + j) % KEYS),
          'keyv getMany miss or misaligned',
        );
      },
    });
    const multiLabels = {
      raw: 'raw memjs, Promise.all of 100 gets',
      ours: 'PooledMemcachedBackend.getSerializedMulti(100)',
      memcached: 'memcached (npm client) getMulti(100)',
      keyv: 'keyv + @keyv/memcache getMany(100)',
    };
    sections.push({
      id: 'memcached-getmulti',
      title: 'memcached getMulti(100), keys/s, one batch in flight',
      figures: figures(multi, multiLabels, 'keys/s', 100),
      baseline: multiLabels.raw,
    });

    if (servers.length > 1) {
      const spread = new PooledMemcachedBackend({ url: servers, socket_timeout: 5 });
      const rawSpread = memjs.Client.create(servers.join(','), { logger: silent, timeout: 5, retries: 1 });
      try {
        await spread.setSerializedMulti(new Map(keys.map((k, i) => [k, values[i] as Buffer])));
        await Promise.all(keys.map((k, i) => rawSpread.set(k, values[i] as Buffer, {})));
        const m = await compare(n64, 64, {
          raw: async (i) => {
            assert.ok((await rawSpread.get(keys[pick(i)] as string)).value !== null, 'raw memjs miss');
          },
          ours: async (i) => {
            assert.ok(!isNoValue(await spread.getSerialized(keys[pick(i)] as string)), 'miss');
          },
        });
        sections.push({
          id: 'memcached-spread',
          title: `memcached get, 64 in flight, ${servers.length} servers (ketama ring vs memjs hash mod N)`,
          figures: figures(m, { raw: 'raw memjs get', ours: 'PooledMemcachedBackend.getSerialized' }, 'ops/s'),
          baseline: 'raw memjs get',
        });
        await spread.deleteMulti(keys);
      } finally {
        await spread.close();
        rawSpread.close();
      }
    }

    // Keys remapped when a fourth server joins three: ring vs memjs's hash mod N.
    const three = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
    const before = new HashRing(three);
    const after = new HashRing([...three, '10.0.0.4:11211']);
    const sample = Array.from({ length: 100_000 }, (_, i) => `remap:key:${i}`);
    const moved = sample.filter((k) => before.nodeFor(k) !== after.nodeFor(k)).length / sample.length;
    const hashCode = (s: string): number => memjs.Utils.hashCode(s);
    const movedModN = sample.filter((k) => hashCode(k) % 3 !== hashCode(k) % 4).length / sample.length;
    assert.ok(moved > 0.15 && moved < 0.35, `remap fraction ${moved} is not about a quarter`);
    const last = sections.at(-1) as Section;
    last.note = `Keys remapped when a 4th server joins 3 (100 k keys): ketama ring ${moved.toFixed(3)}, memjs hash mod N ${movedModN.toFixed(3)}. Values are ${values[0]?.length} bytes (dogpile's format); keyv stores its own JSON envelope.`;
    await ours.deleteMulti(keys);
    await keyv.deleteMany(keys);
  } finally {
    await ours.close();
    raw.close();
    mc.end();
    await keyv.disconnect();
  }
  return sections;
}

if (isMain(import.meta.url)) {
  printMachine(`memcached benchmark (servers ${SERVERS.join(', ')})`);
  printSections(await runMemcached());
}
