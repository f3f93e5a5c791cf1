/**
 * memcached benchmark: PooledMemcachedBackend beside a raw memjs client, same run, same server.
 *
 *   MEMCACHED_SERVERS=127.0.0.1:21211 npx tsx bench/memcached.ts
 *
 * Prints a table (median of RUNS runs after a warm-up). Never asserts on time; asserts correctness
 * (every read of the hit workload is a hit with the right bytes). BENCH_SCALE=0.2 for a quick run.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import memjs from 'memjs';
import { PooledMemcachedBackend } from '../src/backends/memcached/index.js';
import { HashRing } from '../src/backends/memcached/ring.js';
import { isNoValue, makeCachedValue, buildSerialized, jsonSerializer } from '../src/index.js';

const SERVERS = (process.env.MEMCACHED_SERVERS ?? '127.0.0.1:21211').split(',').map((s) => s.trim()).filter(Boolean);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = 5;
const KEYS = 1000;
const silent = { log: () => {} };

const prefix = `bench-${process.pid}-`;
const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}${i}`);
// dogpile's byte format, ~100 bytes: what a region stores.
const valueOf = (i: number): Buffer =>
  buildSerialized(makeCachedValue({ id: i, name: `user-${i}`, roles: ['reader', 'writer'], active: true }), jsonSerializer);
const values = keys.map((_, i) => valueOf(i));

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
    process.stderr.write(`  ${name}: ${runs.map(Math.round).join(', ')} /s\n`);
  }
  return summary;
}

function rateText(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} k` : n.toFixed(0);
}

/** `median (min–max)`, times `scale` (100 for keys/s of 100-key batches). */
function fmt(result: Result | undefined, scale = 1): string {
  if (result === undefined) return '–';
  return `${rateText(result.median * scale)} (${rateText(result.min * scale)}–${rateText(result.max * scale)})`;
}

async function main(): Promise<void> {
  const single = SERVERS[0] as string;
  const cpus = os.cpus();
  console.log(`# memcached benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`servers: ${SERVERS.join(', ')} (single-server rows use ${single}); values ${values[0]?.length} bytes; median of ${RUNS} runs after warm-up`);
  console.log('');

  const ours = new PooledMemcachedBackend({ url: single, socket_timeout: 5 });
  const raw = memjs.Client.create(single, { logger: silent, timeout: 5, retries: 1 });
  await ours.setSerializedMulti(new Map(keys.map((k, i) => [k, values[i] as Buffer])));

  const n1 = Math.round(20_000 * SCALE);
  const n64 = Math.round(200_000 * SCALE);
  const pick = (i: number): number => i % KEYS;
  const checkRaw = async (i: number): Promise<void> => {
    const { value } = await raw.get(keys[pick(i)] as string);
    assert.ok(value !== null && value.equals(values[pick(i)] as Buffer), 'raw memjs miss on a hit workload');
  };
  const checkOurs = async (i: number): Promise<void> => {
    const got = await ours.getSerialized(keys[pick(i)] as string);
    assert.ok(!isNoValue(got) && got.equals(values[pick(i)] as Buffer), 'miss on a hit workload');
  };
  const checkOursParsed = async (i: number): Promise<void> => {
    const got = await ours.get(keys[pick(i)] as string);
    assert.ok(!isNoValue(got) && (got.payload as { id: number }).id === pick(i), 'miss on a hit workload');
  };

  const rows: [string, string, string, string][] = [];
  const ratio = (a: Result | undefined, b: Result | undefined): string => (a && b ? `${(a.median / b.median).toFixed(2)}×` : '');
  for (const c of [1, 64]) {
    const m = await compare(c === 1 ? n1 : n64, c, { raw: checkRaw, bytes: checkOurs, parsed: checkOursParsed });
    rows.push([`get, ${c} in flight — getSerialized (bytes)`, fmt(m.bytes), fmt(m.raw), ratio(m.bytes, m.raw)]);
    rows.push([`get, ${c} in flight — get (CachedValue, incl. JSON parse)`, fmt(m.parsed), fmt(m.raw), ratio(m.parsed, m.raw)]);
  }

  const batches = Math.round(3_000 * SCALE);
  const batchOf = (i: number): string[] => Array.from({ length: 100 }, (_, j) => keys[(i * 100 + j) % KEYS] as string);
  const multi = await compare(batches, 1, {
    raw: async (i) => {
      const got = await Promise.all(batchOf(i).map((k) => raw.get(k)));
      assert.ok(got.every((g) => g.value !== null), 'raw memjs miss in a batch');
    },
    ours: async (i) => {
      const got = await ours.getSerializedMulti(batchOf(i));
      assert.ok(got.every((g, j) => !isNoValue(g) && g.equals(values[(i * 100 + j) % KEYS] as Buffer)), 'getMulti miss or misaligned');
    },
  });
  rows.push(['getMulti(100) keys/s, 1 batch in flight (memjs: Promise.all of 100 gets)', fmt(multi.ours, 100), fmt(multi.raw, 100), ratio(multi.ours, multi.raw)]);
  const multi8 = await compare(batches, 8, {
    raw: async (i) => {
      const got = await Promise.all(batchOf(i).map((k) => raw.get(k)));
      assert.ok(got.every((g) => g.value !== null), 'raw memjs miss in a batch');
    },
    ours: async (i) => {
      const got = await ours.getSerializedMulti(batchOf(i));
      assert.ok(got.every((g) => !isNoValue(g)), 'getMulti miss');
    },
  });
  rows.push(['getMulti(100) keys/s, 8 batches in flight', fmt(multi8.ours, 100), fmt(multi8.raw, 100), ratio(multi8.ours, multi8.raw)]);

  if (SERVERS.length > 1) {
    const spread = new PooledMemcachedBackend({ url: SERVERS, socket_timeout: 5 });
    const rawSpread = memjs.Client.create(SERVERS.join(','), { logger: silent, timeout: 5, retries: 1 });
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
    const mm = await compare(batches, 1, {
      ours: async (i) => {
        assert.ok((await spread.getSerializedMulti(batchOf(i))).every((g) => !isNoValue(g)), 'getMulti miss');
      },
    });
    rows.push([`get, 64 in flight, ${SERVERS.length} servers (ketama ring vs memjs hash mod N)`, fmt(m.ours), fmt(m.raw), ratio(m.ours, m.raw)]);
    rows.push([`getMulti(100) keys/s, ${SERVERS.length} servers`, fmt(mm.ours, 100), '–', '']);
    await spread.deleteMulti(keys);
    await spread.close();
    rawSpread.close();
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
  rows.push(['keys remapped, 3 → 4 servers (100 k keys)', moved.toFixed(3), `${movedModN.toFixed(3)} (hash mod N)`, '']);

  await ours.deleteMulti(keys);
  await ours.close();
  raw.close();

  console.log('| workload | PooledMemcachedBackend, median (min–max) | raw memjs, median (min–max) | ratio of medians |');
  console.log('|---|---:|---:|---:|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
