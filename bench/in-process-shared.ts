/**
 * What bench/in-process.ts and its per-contender worker (bench/in-process-worker.ts) share: the
 * payloads, filling a store, reading a payload back, and one timed run.
 */
import { isNoValue } from '../src/index.js';
import type { Contender } from './peers.js';

/** Operations per timed batch. */
export const BATCH = 1000;

/** The payload stored under the i-th key. */
export const payloadOf = (i: number): { id: number; name: string } => ({ id: i, name: `user ${i}` });

/** The payload a contender's get returned (ours return a CachedValue). */
export function payloadFrom(got: unknown): { id: number } | undefined {
  if (got === undefined || got === null || isNoValue(got)) return undefined;
  const g = got as { payload?: { id: number }; id?: number };
  return g.payload !== undefined && typeof g.payload === 'object' ? g.payload : (g as { id: number });
}

/** Stores payloadOf(i) under keys[i], through set, or through getOrCreate for a contender without set. */
export async function fill(c: Contender, keys: readonly string[]): Promise<void> {
  if (c.set) for (const [i, k] of keys.entries()) await c.set(k, payloadOf(i));
  else if (c.getOrCreate) for (const [i, k] of keys.entries()) await c.getOrCreate(k, async () => payloadOf(i));
}

/** Calls `batch` (BATCH operations) for about `ms` and returns operations per second. */
export async function timedRate(batch: () => Promise<void>, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    await batch();
    ops += BATCH;
    elapsed = performance.now() - start;
  }
  return (ops / elapsed) * 1000;
}

/** One measurement for bench/in-process-worker.ts, passed as JSON on its command line. */
export interface WorkerTask {
  task: 'set' | 'heap';
  /** A contender name from bench/peers.ts, or HEAP_BASELINE for the Map<string, CachedValue> baseline. */
  name: string;
  /** Entries filled before measuring. */
  live: number;
}

/** The Map holding a CachedValue like ours do: issue 2's baseline for heap per entry. */
export const HEAP_BASELINE = 'Map<string, CachedValue> (baseline)';
