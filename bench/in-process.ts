/**
 * In-process figures (issues 2, 3 and 8): get hit, get-or-create hit, set, set as the store grows
 * (1 k / 100 k / 1 M live entries) and heap per entry, for our Dictionary backend and region beside
 * `await Map` (the floor) and the peers (bench/peers.ts), all in the same run.
 *
 * Fairness: every peer with an expiry runs with a 1-hour TTL, and so do the rows the goals are judged
 * on (`DictionaryBackend (TTL 1 h)`, the region); `DictionaryBackend (no TTL)` is shown beside them.
 * The hit tables (1,000 keys each) interleave their contenders run by run (A B C, C B A, ...), so a
 * change in the shared machine's load hits them alike. The set tables and the heap figures give each
 * contender a process of its own (bench/in-process-worker.ts): for the set tables every contender
 * is filled in its own process, then the timed runs go round the processes the same interleaved
 * way. A contender never shares its heap with another's million entries: measured in one process,
 * earlier contenders' data stayed alive, the heap grew from 0.35 to 2.4 GB, and the peers ran
 * 1.4–2.6× slower than alone while ours ran 1.06–1.25× slower, which flattered ours. At 1 M entries
 * the idle processes hold several GB between them (memory, not CPU).
 *
 * Run: `npm run bench:in-process`. BENCH_SIZES (default
 * 1000,100000,1000000), BENCH_RUNS (timed runs per figure, default 5) and BENCH_MS (ms per run,
 * default 400) make a quick run possible: `BENCH_SIZES=1000,20000 BENCH_RUNS=2 BENCH_MS=100`.
 */
import { execFile, fork } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
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
  envNumbers,
} from './lib.js';
import { BATCH, HEAP_BASELINE, fill, payloadFrom, type WorkerTask } from './in-process-shared.js';
import { contenders, type Contender } from './peers.js';

const KEYS = Array.from({ length: BATCH }, (_, i) => `key:${i}`);
const FLOOR = 'await Map (floor)';
const SIZES = envNumbers('BENCH_SIZES', [1000, 100_000, 1_000_000]);
const RUNS = envNumber('BENCH_RUNS', 5, { integer: true });
const MS = envNumber('BENCH_MS', 400);
const ROOT = path.resolve(import.meta.dirname, '..');
const WORKER = path.join(import.meta.dirname, 'in-process-worker.ts');
const WORKER_ARGS = ['--expose-gc', '--import', 'tsx'];
const run = promisify(execFile);

/** Runs a heap task in a fresh `node --expose-gc --import tsx` process and returns what it printed. */
async function heapInWorker(task: WorkerTask): Promise<{ bytesPerEntry: number }> {
  const { stdout } = await run(process.execPath, [...WORKER_ARGS, WORKER, JSON.stringify(task)], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as { bytesPerEntry: number };
}

/** A forked set worker: each `ask` sends one message and resolves with the next reply. */
function setWorker(name: string, live: number): { ready: Promise<unknown>; ask: (message: object) => Promise<Record<string, number>> } {
  const child = fork(WORKER, [JSON.stringify({ task: 'set', name, live } satisfies WorkerTask)], { cwd: ROOT, execArgv: WORKER_ARGS });
  let failed: ((error: Error) => void) | undefined;
  child.on('exit', (code) => {
    if (code !== 0) failed?.(new Error(`the ${name} worker exited with code ${code}`));
  });
  const next = (): Promise<Record<string, number>> =>
    new Promise((resolve, reject) => {
      failed = reject;
      child.once('message', (reply) => resolve(reply as Record<string, number>));
    });
  const ready = next();
  return {
    ready,
    ask: (message) => {
      const reply = next();
      child.send(message);
      return reply;
    },
  };
}

const getOrCreateVerb = (name: string): string =>
  name.startsWith('region')
    ? 'getOrCreate'
    : name === 'cache-manager'
      ? 'wrap'
      : name === 'bentocache'
        ? 'getOrSet'
        : name.startsWith('catbox')
          ? 'get (generateFunc)'
          : 'fetch';

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
  // All contenders hold only 1,000 keys here, so they stay alive together and run interleaved.
  const variant = (name: string, op: (k: string) => Promise<unknown>): Variant => ({
    name,
    ops: BATCH,
    batch: async () => {
      for (const k of KEYS) await op(k);
    },
  });
  const floor = all[0] as Contender;
  check(floor.name === FLOOR && floor.get !== undefined, 'the floor comes first');
  const floorGet = floor.get;
  get.push(
    ...(await interleaved(
      all.flatMap((c) => (c.get ? [variant(c.name === FLOOR ? FLOOR : `${c.name} get`, c.get)] : [])),
      { runs: RUNS, ms: MS },
    )),
  );
  getOrCreate.push(
    ...(await interleaved(
      [
        variant(FLOOR, floorGet),
        ...all.flatMap((c) =>
          c.getOrCreate
            ? [variant(`${c.name} ${getOrCreateVerb(c.name)}`, (k) => (c.getOrCreate as NonNullable<Contender['getOrCreate']>)(k, creator))]
            : [],
        ),
      ],
      { runs: RUNS, ms: MS },
    )),
  );
  check(creatorCalls === 0, `no creator call on a hit workload (got ${creatorCalls})`);
  for (const c of all) await c.close?.();
  return { get, getOrCreate };
}

/** Names of the contenders that have `set` (the floor first). */
async function setters(): Promise<string[]> {
  const all = await contenders();
  for (const c of all) await c.close?.();
  return all.filter((c) => c.set !== undefined).map((c) => c.name);
}

/**
 * Overwrites at `live` entries: every set goes through each store's bookkeeping. Each contender is
 * filled in a process of its own (one after the other, so fills do not compete for the CPU); then
 * the timed runs go round the processes, one at a time, order alternating per round.
 */
async function setAt(live: number): Promise<Figure[]> {
  const names = await setters();
  const workers = [];
  for (const name of names) {
    const worker = setWorker(name, live);
    await worker.ready;
    workers.push(worker);
  }
  const rates = names.map(() => [] as number[]);
  for (let round = 0; round < RUNS; round++) {
    const order = round % 2 === 0 ? [...names.keys()] : [...names.keys()].reverse();
    for (const i of order) rates[i]?.push((await (workers[i] as (typeof workers)[number]).ask({ run: MS })).rate as number);
  }
  for (const worker of workers) await worker.ask({ done: true });
  const label = live === 1000 ? '' : `, ${live.toLocaleString('en')} live`;
  return names.map((name, i) =>
    figureOf(`${name === FLOOR ? 'await Map delete+set (floor)' : `${name} set`}${label}`, rates[i] ?? [], 'ops/s'),
  );
}

/** Heap per entry at `count` entries, each contender filled in a fresh process (which has --expose-gc). */
async function heapPerEntry(count: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const name of [
    HEAP_BASELINE,
    'DictionaryBackend (no TTL)',
    'DictionaryBackend (TTL 1 h)',
    'region (Dictionary)',
    'lru-cache',
    'cache-manager',
    'keyv (default)',
    'keyv (serialization off)',
    'catbox Policy',
    'bentocache',
  ]) {
    const { bytesPerEntry } = await heapInWorker({ task: 'heap', name, live: count });
    figures.push(figureOf(name, [bytesPerEntry], 'B/entry'));
  }
  return figures;
}

export async function runInProcess(): Promise<Section[]> {
  const { get, getOrCreate } = await getHits();
  const sections: Section[] = [
    { id: 'inproc-get', title: 'In-process get hit (1,000 keys)', figures: get, baseline: FLOOR },
    {
      id: 'inproc-get-or-create',
      title: 'In-process get-or-create hit (1,000 keys; the creator never runs)',
      figures: getOrCreate,
      baseline: FLOOR,
    },
  ];
  for (const live of SIZES) {
    const figures = await setAt(live);
    sections.push({
      id: `inproc-set-${live}`,
      title: `In-process set, overwriting, ${live.toLocaleString('en')} live entries`,
      figures,
      baseline: figures[0]?.name,
      note: `Each contender in a process of its own (filled once, then ${RUNS} timed runs interleaved with the others', order alternating), so no other store's entries share its heap.${live === 1000 ? '' : ' Past the CPU caches a big Map is slower per operation whatever sits on top: compare each row with the floor of the same table.'}`,
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
      note: 'One measurement per contender, each in a fresh process (heap after two forced GCs, before vs after filling). Ours store a CachedValue (payload + metadata) like the Map baseline; peers store the payload and add their own wrapper.',
    });
  }
  return sections;
}

if (isMain(import.meta.url)) {
  printMachine('dogpile-cache in-process benchmark');
  printSections(await runInProcess());
}
