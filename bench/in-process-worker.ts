/**
 * One contender in a process of its own, so no other contender's entries share its heap (and the
 * garbage collector's work). bench/in-process.ts starts it with the task as JSON:
 *
 * `{"task":"set","name":"lru-cache","live":100000}` (forked, with an IPC channel): fills `live`
 * entries, warms up, says `{ready}`, then answers each `{run: ms}` with `{rate}` (overwrites per
 * second over one timed run), so the parent can interleave contenders run by run while each keeps
 * its own heap.
 * `{"task":"heap","name":"lru-cache","live":100000}`: prints `{"bytesPerEntry": B}`, the heap per entry
 * after filling `live` entries (two forced GCs before and after).
 */
import { makeCachedValue } from '../src/backend.js';
import { check } from './lib.js';
import { contenders, type Contender } from './peers.js';
import { BATCH, HEAP_BASELINE, fill, payloadFrom, payloadOf, timedRate, type WorkerTask } from './in-process-shared.js';

const FLOOR = 'await Map (floor)';

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  check(gc !== undefined, 'the heap figure needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function one(name: string): Promise<Contender> {
  const [c] = await contenders([name]);
  check(c !== undefined, `no contender named ${name}`);
  return c;
}

/**
 * Fills `live` entries and warms up, then answers the parent (IPC): `{ run: ms }` → one timed run of
 * overwrites, `{ done: true }` → checks the first and last keys are still there and exits.
 */
async function serveSetRuns(name: string, live: number): Promise<void> {
  const send = (message: unknown): void => void process.send?.(message);
  check(process.send !== undefined, 'the set task runs under bench/in-process.ts (fork, with an IPC channel)');
  const c = await one(name);
  const set = c.set;
  check(set !== undefined, `${name} has no set`);
  const keys = Array.from({ length: live }, (_, i) => `live:${i}`);
  await fill(c, keys);
  const value = payloadOf(1);
  let n = 0;
  const batch = async (): Promise<void> => {
    for (let i = 0; i < BATCH; i++) await set(keys[n++ % live] as string, value);
  };
  await timedRate(batch, 200); // warm-up: JIT and caches
  send({ ready: true });
  process.on('message', (message: { run?: number; done?: boolean }) => {
    void (async () => {
      if (message.run !== undefined) return send({ rate: await timedRate(batch, message.run) });
      if (c.get)
        check(
          payloadFrom(await c.get(keys[live - 1] as string)) !== undefined,
          `${name}: the last key must still be there at ${live} entries`,
        );
      if (c.get)
        check(payloadFrom(await c.get(keys[0] as string)) !== undefined, `${name}: the first key must still be there at ${live} entries`);
      await c.close?.();
      send({ done: true });
      // Some peers keep timers (TTL sweeps): the answer is out, so leave without waiting for them.
      process.exit(0);
    })().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}

async function heapPerEntry(name: string, live: number): Promise<number> {
  const before = heapUsed();
  const c = await one(name === HEAP_BASELINE ? FLOOR : name);
  const set = c.set as NonNullable<Contender['set']>;
  const wrap = name === HEAP_BASELINE;
  for (let i = 0; i < live; i++) await set(`key:${i}`, wrap ? makeCachedValue(payloadOf(i), 1_700_000_000_000 + i) : payloadOf(i));
  const after = heapUsed();
  check(payloadFrom(await c.get?.(`key:${live - 1}`)) !== undefined, `${name} kept its entries`);
  await c.close?.();
  return (after - before) / live;
}

const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
if (task.task === 'set') {
  await serveSetRuns(task.name, task.live);
} else {
  process.stdout.write(`${JSON.stringify({ bytesPerEntry: await heapPerEntry(task.name, task.live) })}\n`);
  process.exit(0); // peers' timers (TTL sweeps) would keep the process alive
}
