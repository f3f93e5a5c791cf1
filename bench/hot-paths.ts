/**
 * Issue 19's goals, each measured beside lru-cache 11 in the same run: `region.get` vs `await lru.get`,
 * `region.getOrCreate` hit vs an `lru.fetch` hit, `region.set` vs `lru.set` (1,000 hot keys), the
 * DictionaryBackend's set at 1 M live entries vs lru-cache's, and heap per entry, all with a 1-hour TTL
 * on both sides, for an unbounded and a bounded (`maxEntries`) Dictionary. Rounds are interleaved
 * (bench/lib.ts `interleaved`), figures are medians, and every hit is verified: a cache that returns
 * the wrong value fails the run instead of posting a number.
 * Run: `node --expose-gc --import tsx bench/hot-paths.ts` (heap figures need --expose-gc).
 */
import { LRUCache } from 'lru-cache';
import { CacheRegion, DictionaryBackend, isNoValue } from '../src/index.js';
import { makeCachedValue } from '../src/backend.js';
import {
  check,
  figureOf,
  interleaved,
  isMain,
  printMachine,
  printSections,
  type Figure,
  type Section,
  type Variant,
  envNumber,
} from './lib.js';

const HOT = 1000;
const KEYS = Array.from({ length: HOT }, (_, i) => `key:${i}`);
const HOUR_S = 3600;
const HOUR_MS = HOUR_S * 1000;
const LIVE = envNumber('BENCH_HOT_LIVE', 1_000_000, { integer: true });
/** Bound of the bounded variants and of lru-cache (which needs one): above every workload, so nothing is evicted. */
const MAX = LIVE + 100_000;
// Eleven interleaved rounds: with seven, the median ratio of one run to the next moved by up to 15 % here.
const RUNS = envNumber('BENCH_HOT_RUNS', 11, { integer: true });
const MS = envNumber('BENCH_HOT_MS', 500);
const payloadOf = (i: number): { id: number; name: string } => ({ id: i, name: `user ${i}` });
const LRU = 'lru-cache';

type Payload = { id: number; name: string };

function lru(): LRUCache<string, Payload, () => Promise<Payload>> {
  // fetch needs a fetchMethod; the creator comes through fetch's context, as getOrCreate takes one.
  return new LRUCache<string, Payload, () => Promise<Payload>>({
    max: MAX,
    ttl: HOUR_MS,
    fetchMethod: async (_k, _stale, { context }) => context(),
  });
}

/** Region over a Dictionary with a 1-hour TTL on both the region and the backend; bounded or not. */
function region(bounded: boolean): CacheRegion {
  const args = bounded ? { expirationTime: HOUR_S, maxEntries: MAX } : { expirationTime: HOUR_S };
  return new CacheRegion().configure('oslo_cache.dict', { expirationTime: HOUR_S, arguments: args });
}

const creatorMustNotRun = async (): Promise<Payload> => {
  throw new Error('creator called on a hit workload');
};

/** `region.get`, `region.getOrCreate` hit and `region.set` beside lru-cache, 1,000 hot keys. */
async function hotKeys(): Promise<Section[]> {
  const cache = lru();
  const unbounded = region(false);
  const bounded = region(true);
  const regions: [string, CacheRegion][] = [
    ['region (Dictionary)', unbounded],
    ['region (Dictionary, maxEntries)', bounded],
  ];
  for (const [i, k] of KEYS.entries()) {
    cache.set(k, payloadOf(i));
    for (const [, r] of regions) await r.set(k, payloadOf(i));
  }
  // Every batch verifies every hit (the same cost on every side: one property read and a compare).
  const verify = (got: unknown, i: number, who: string): void => {
    if ((got as Payload | undefined)?.id !== i)
      check(false, `${who}: ${KEYS[i]} must hit with id ${i}, got ${String(isNoValue(got) ? 'NO_VALUE' : got)}`);
  };
  const get: Variant[] = [
    {
      name: `await ${LRU}.get`,
      ops: HOT,
      batch: async () => {
        for (let i = 0; i < HOT; i++) verify(await cache.get(KEYS[i] as string), i, LRU);
      },
    },
    ...regions.map(
      ([name, r]): Variant => ({
        name: `${name} get`,
        ops: HOT,
        batch: async () => {
          for (let i = 0; i < HOT; i++) verify(await r.get(KEYS[i] as string), i, name);
        },
      }),
    ),
  ];
  const getOrCreate: Variant[] = [
    {
      name: `${LRU}.fetch hit`,
      ops: HOT,
      batch: async () => {
        for (let i = 0; i < HOT; i++) verify(await cache.fetch(KEYS[i] as string, { context: creatorMustNotRun }), i, LRU);
      },
    },
    ...regions.map(
      ([name, r]): Variant => ({
        name: `${name} getOrCreate hit`,
        ops: HOT,
        batch: async () => {
          for (let i = 0; i < HOT; i++) verify(await r.getOrCreate(KEYS[i] as string, creatorMustNotRun), i, name);
        },
      }),
    ),
  ];
  const value = payloadOf(7);
  const set: Variant[] = [
    {
      name: `await ${LRU}.set`,
      ops: HOT,
      batch: async () => {
        for (let i = 0; i < HOT; i++) await cache.set(KEYS[i] as string, value);
      },
    },
    ...regions.map(
      ([name, r]): Variant => ({
        name: `${name} set`,
        ops: HOT,
        batch: async () => {
          for (let i = 0; i < HOT; i++) await r.set(KEYS[i] as string, value);
        },
      }),
    ),
  ];
  const sections: Section[] = [
    {
      id: 'hot-get',
      title: 'Hot paths: get hit (1,000 keys, TTL 1 h)',
      figures: await interleaved(get, { runs: RUNS, ms: MS }),
      baseline: get[0]?.name,
    },
    {
      id: 'hot-get-or-create',
      title: 'Hot paths: get-or-create hit (1,000 keys, TTL 1 h; the creator never runs)',
      figures: await interleaved(getOrCreate, { runs: RUNS, ms: MS }),
      baseline: getOrCreate[0]?.name,
    },
  ];
  // The set rounds overwrote every key with `value`: reads now verify that one.
  sections.push({
    id: 'hot-set',
    title: 'Hot paths: set, overwriting (1,000 keys, TTL 1 h)',
    figures: await interleaved(set, { runs: RUNS, ms: MS }),
    baseline: set[0]?.name,
  });
  for (const k of KEYS) {
    check(cache.get(k) === value, `${LRU}: ${k} holds the last value set`);
    for (const [name, r] of regions) check((await r.get(k)) === value, `${name}: ${k} holds the last value set`);
  }
  await Promise.all(regions.map(([, r]) => r.close()));
  return sections;
}

/** DictionaryBackend set vs lru-cache set at LIVE live entries, both with a TTL, overwriting in order. */
async function setAtLive(): Promise<Section> {
  const keys = Array.from({ length: LIVE }, (_, i) => `live:${i}`);
  const cache = lru();
  const unbounded = new DictionaryBackend({ expirationTime: HOUR_S });
  const bounded = new DictionaryBackend({ expirationTime: HOUR_S, maxEntries: MAX });
  const value = makeCachedValue(payloadOf(1));
  for (const k of keys) {
    cache.set(k, value.payload);
    await unbounded.set(k, value);
    await bounded.set(k, value);
  }
  const cursor = { lru: 0, unbounded: 0, bounded: 0 };
  const BATCH = 1000;
  const variants: Variant[] = [
    {
      name: `await ${LRU}.set`,
      ops: BATCH,
      batch: async () => {
        for (let i = 0; i < BATCH; i++) await cache.set(keys[cursor.lru++ % LIVE] as string, value.payload);
      },
    },
    {
      name: 'DictionaryBackend set',
      ops: BATCH,
      batch: async () => {
        for (let i = 0; i < BATCH; i++) await unbounded.set(keys[cursor.unbounded++ % LIVE] as string, value);
      },
    },
    {
      name: 'DictionaryBackend (maxEntries) set',
      ops: BATCH,
      batch: async () => {
        for (let i = 0; i < BATCH; i++) await bounded.set(keys[cursor.bounded++ % LIVE] as string, value);
      },
    },
  ];
  const figures = await interleaved(variants, { runs: RUNS, ms: MS });
  for (const k of [keys[0] as string, keys[LIVE - 1] as string]) {
    check(cache.get(k) === value.payload, `${LRU} kept ${k}`);
    for (const b of [unbounded, bounded]) {
      const got = await b.get(k);
      check(!isNoValue(got) && got.payload === value.payload, `DictionaryBackend kept ${k}`);
    }
  }
  check(cache.size === LIVE && unbounded.size === LIVE && bounded.size === LIVE, `every store holds ${LIVE} entries`);
  return {
    id: 'hot-set-live',
    title: `Hot paths: set at ${LIVE.toLocaleString('en')} live entries (TTL 1 h on both)`,
    figures,
    baseline: figures[0]?.name,
  };
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The stores whose heap per entry is measured, each filled with LIVE entries with a TTL. */
const HEAP_STORES: Record<string, () => { fill: (key: string, i: number) => unknown; probe: () => Promise<boolean> }> = {
  'Map<string, CachedValue> (baseline)': () => {
    const map = new Map<string, unknown>();
    return { fill: (k, i) => map.set(k, makeCachedValue(payloadOf(i))), probe: async () => map.size === LIVE };
  },
  [`${LRU} (ttl)`]: () => {
    const cache = lru();
    return { fill: (k, i) => cache.set(k, payloadOf(i)), probe: async () => cache.get(`key:${LIVE - 1}`)?.id === LIVE - 1 };
  },
  'DictionaryBackend (TTL 1 h)': () => dictionaryStore({ expirationTime: HOUR_S }),
  'DictionaryBackend (TTL 1 h, maxEntries)': () => dictionaryStore({ expirationTime: HOUR_S, maxEntries: MAX }),
  'region (Dictionary, TTL 1 h)': () => {
    const r = region(false);
    return { fill: (k, i) => r.set(k, payloadOf(i)), probe: async () => ((await r.get(`key:${LIVE - 1}`)) as Payload).id === LIVE - 1 };
  },
};

function dictionaryStore(args: Record<string, number>): { fill: (key: string, i: number) => unknown; probe: () => Promise<boolean> } {
  const backend = new DictionaryBackend(args);
  return {
    fill: (k, i) => backend.set(k, makeCachedValue(payloadOf(i))),
    probe: async () => {
      const got = await backend.get(`key:${LIVE - 1}`);
      return !isNoValue(got) && (got.payload as Payload).id === LIVE - 1;
    },
  };
}

/** Heap per entry of one store (run in a child process of its own, so no other figure's garbage counts). */
async function heapOfOne(name: string): Promise<number> {
  const make = HEAP_STORES[name];
  check(make !== undefined, `unknown store ${name}`);
  const before = heapUsed();
  const store = make();
  for (let i = 0; i < LIVE; i++) await store.fill(`key:${i}`, i);
  const after = heapUsed();
  check(await store.probe(), `${name} kept its entries`);
  return (after - before) / LIVE;
}

/**
 * Heap per entry with a TTL at LIVE entries: key, payload and the store's bookkeeping (ours also the
 * creation time the region needs). Each store is measured in a fresh process (a figure measured after
 * others would count their garbage as freed, even negative).
 */
async function heap(): Promise<Section | undefined> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') return undefined;
  const { execFileSync } = await import('node:child_process');
  const figures: Figure[] = [];
  for (const name of Object.keys(HEAP_STORES)) {
    const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename], {
      env: { ...process.env, BENCH_HOT_HEAP_ONE: name },
      encoding: 'utf8',
    });
    const bytes = Number(out.trim().split('\n').pop());
    check(Number.isFinite(bytes) && bytes > 0, `${name}: a heap figure (got ${out.trim()})`);
    figures.push(figureOf(name, [bytes], 'B/entry'));
  }
  return {
    id: 'hot-heap',
    title: `Hot paths: heap per entry with a TTL at ${LIVE.toLocaleString('en')} entries`,
    figures,
    baseline: `${LRU} (ttl)`,
    lowerIsBetter: true,
    note: 'One measurement each, in a process of its own (heap after two forced GCs, before vs after filling; lru-cache preallocates its arrays for its max). Keys and payloads are counted on every side; ours also hold the creation time each entry needs (a plain entry is kept as its payload and ct, with no CachedValue object; the Map baseline holds one per entry).',
  };
}

/** Every hot-path section, measured in this process. */
async function hotPathSections(): Promise<Section[]> {
  const sections = await hotKeys();
  sections.push(await setAtLive());
  const h = await heap();
  if (h) sections.push(h);
  return sections;
}

/**
 * Every hot-path section; `npm run bench` runs it as the `hot-paths` part, in a process of its own
 * (bench/run.ts). In a process where other parts ran first, lru-cache ran at 40 % of its speed alone, and
 * our bounded and unbounded regions, whose code the earlier parts had made polymorphic, at 0.72× and 1.16×
 * of it, where alone they run within about 10 % of each other.
 */
export async function runHotPaths(): Promise<Section[]> {
  return hotPathSections();
}

const heapOne = process.env.BENCH_HOT_HEAP_ONE;
if (heapOne !== undefined && isMain(import.meta.url)) {
  console.log(await heapOfOne(heapOne));
  process.exit(0);
} else if (isMain(import.meta.url)) {
  printMachine('dogpile-cache hot paths (issue 19)');
  printSections(await hotPathSections());
}
