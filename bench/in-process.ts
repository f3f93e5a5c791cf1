/**
 * In-process figures (issues 2, 3 and 8): get hit, get-or-create hit, set, set as the store grows
 * (1 k / 100 k / 1 M live entries) and heap per entry, for our Dictionary backend and region beside
 * `await Map` (the floor) and the peers (bench/peers.ts), all in the same run.
 * Run: `npm run bench:in-process` (needs node --expose-gc for the heap figures).
 */
import { isNoValue } from '../src/index.js';
import { makeCachedValue } from '../src/backend.js';
import { check, figureOf, isMain, measure, printMachine, printSections, type Figure, type Section } from './lib.js';
import { contenders, type Contender } from './peers.js';

const BATCH = 1000;
const KEYS = Array.from({ length: BATCH }, (_, i) => `key:${i}`);
const FLOOR = 'await Map (floor)';
const SIZES = (process.env.BENCH_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const payloadOf = (i: number): { id: number; name: string } => ({ id: i, name: `user ${i}` });

/** The payload a contender's get returned (ours return a CachedValue). */
function payloadFrom(got: unknown): { id: number } | undefined {
  if (got === undefined || got === null || isNoValue(got)) return undefined;
  const g = got as { payload?: { id: number }; id?: number };
  return g.payload !== undefined && typeof g.payload === 'object' ? g.payload : (g as { id: number });
}

async function fill(c: Contender, keys: readonly string[]): Promise<void> {
  if (c.set) for (const [i, k] of keys.entries()) await c.set(k, payloadOf(i));
  else if (c.getOrCreate) for (const [i, k] of keys.entries()) await c.getOrCreate(k, async () => payloadOf(i));
}

async function getHits(): Promise<{ get: Figure[]; getOrCreate: Figure[] }> {
  const all = await contenders();
  const get: Figure[] = [];
  const getOrCreate: Figure[] = [];
  let creatorCalls = 0;
  const creator = async (): Promise<never> => {
    creatorCalls++;
    throw new Error('creator called on a hit workload');
  };
  for (const c of all) {
    await fill(c, KEYS);
    for (const [i, k] of KEYS.entries()) {
      if (c.get) check(payloadFrom(await c.get(k))?.id === i, `${c.name}: get must hit ${k}`);
      if (c.getOrCreate) check(payloadFrom(await c.getOrCreate(k, creator))?.id === i, `${c.name}: getOrCreate must hit ${k}`);
    }
  }
  // Interleave per workload: all gets, then all get-or-creates, each with the floor measured in the same pass.
  for (const c of all) {
    const { get: g } = c;
    if (g) get.push(await measure(`${c.name} get`.replace(`${FLOOR} get`, FLOOR), BATCH, async () => {
      for (const k of KEYS) await g(k);
    }));
  }
  const floor = all[0] as Contender;
  getOrCreate.push(await measure(FLOOR, BATCH, async () => {
    for (const k of KEYS) await floor.get?.(k);
  }));
  for (const c of all) {
    const { getOrCreate: goc } = c;
    if (goc) getOrCreate.push(await measure(`${c.name} ${c.name.startsWith('region') ? 'getOrCreate' : c.name === 'lru-cache' ? 'fetch' : c.name === 'cache-manager' ? 'wrap' : c.name === 'bentocache' ? 'getOrSet' : c.name.startsWith('catbox') ? 'get (generateFunc)' : 'fetch'}`, BATCH, async () => {
      for (const k of KEYS) await goc(k, creator);
    }));
  }
  check(creatorCalls === 0, `no creator call on a hit workload (got ${creatorCalls})`);
  for (const c of all) await c.close?.();
  return { get, getOrCreate };
}

/** Overwrites at `live` entries: every set goes through each store's bookkeeping; keys built before timing. */
async function setAt(live: number): Promise<Figure[]> {
  const keys = Array.from({ length: live }, (_, i) => `live:${i}`);
  const figures: Figure[] = [];
  const value = payloadOf(1);
  for (const c of await contenders()) {
    const set = c.set;
    if (!set) {
      await c.close?.();
      continue;
    }
    await fill(c, keys);
    let n = 0;
    const label = live === 1000 ? '' : `, ${live.toLocaleString('en')} live`;
    figures.push(await measure(`${c.name === FLOOR ? 'await Map delete+set (floor)' : `${c.name} set`}${label}`, BATCH, async () => {
      for (let i = 0; i < BATCH; i++) await set(keys[n++ % live] as string, value);
    }));
    if (c.get) check(payloadFrom(await c.get(keys[live - 1] as string)) !== undefined, `${c.name}: the last key must still be there at ${live} entries`);
    if (c.get) check(payloadFrom(await c.get(keys[0] as string)) !== undefined, `${c.name}: the first key must still be there at ${live} entries`);
    await c.close?.();
  }
  return figures;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** Heap per entry at `count` entries; the Map holds a CachedValue like ours do (issue 2's baseline). */
async function heapPerEntry(count: number): Promise<Figure[]> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') return [];
  const figures: Figure[] = [];
  const measureOne = async (name: string, make: () => Promise<Contender>, wrapOurs: boolean): Promise<void> => {
    const before = heapUsed();
    const c = await make();
    const set = c.set as NonNullable<Contender['set']>;
    for (let i = 0; i < count; i++) await set(`key:${i}`, wrapOurs ? makeCachedValue(payloadOf(i), 1_700_000_000_000 + i) : payloadOf(i));
    const after = heapUsed();
    figures.push(figureOf(name, [(after - before) / count], 'B/entry'));
    check(payloadFrom(await c.get?.(`key:${count - 1}`)) !== undefined, `${name} kept its entries`);
    await c.close?.();
  };
  const one = async (name: string): Promise<Contender> => (await contenders([name]))[0] as Contender;
  await measureOne('Map<string, CachedValue> (baseline)', () => one(FLOOR), true);
  for (const name of ['DictionaryBackend (no TTL)', 'DictionaryBackend (TTL 1 h)', 'region (Dictionary)', 'lru-cache', 'cache-manager', 'keyv (default)', 'keyv (serialization off)', 'catbox Policy', 'bentocache']) {
    await measureOne(name, () => one(name), false);
  }
  return figures;
}

export async function runInProcess(): Promise<Section[]> {
  const { get, getOrCreate } = await getHits();
  const sections: Section[] = [
    { id: 'inproc-get', title: 'In-process get hit (1,000 keys)', figures: get, baseline: FLOOR },
    { id: 'inproc-get-or-create', title: 'In-process get-or-create hit (1,000 keys; the creator never runs)', figures: getOrCreate, baseline: FLOOR },
  ];
  for (const live of SIZES) {
    const figures = await setAt(live);
    sections.push({
      id: `inproc-set-${live}`,
      title: `In-process set, overwriting, ${live.toLocaleString('en')} live entries`,
      figures,
      baseline: figures[0]?.name,
      note: live === 1000 ? undefined : 'Past the CPU caches a big Map is slower per operation whatever sits on top: compare each row with the floor of the same table.',
    });
  }
  const heapCount = Math.max(...SIZES);
  const heap = await heapPerEntry(heapCount);
  if (heap.length > 0) {
    sections.push({
      id: 'inproc-heap',
      title: `Heap per entry at ${heapCount.toLocaleString('en')} entries`,
      figures: heap,
      baseline: heap[0]?.name,
      lowerIsBetter: true,
      note: 'One measurement (heap after two forced GCs, before vs after filling). Ours store a CachedValue (payload + metadata) like the Map baseline; peers store the payload and add their own wrapper.',
    });
  }
  return sections;
}

if (isMain(import.meta.url)) {
  printMachine('dogpile-cache in-process benchmark');
  printSections(await runInProcess());
}
