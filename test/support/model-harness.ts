/**
 * Runs random command sequences on a real region and on the reference model (model.ts), checking
 * every operation's result and creator calls against the outcomes the model allows. Used by
 * model.test.ts (Dictionary backend) and test/interop/differential/model-remote.test.ts (memcached,
 * etcd3, Mongo on real servers).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ProxyBackend,
  isNoValue,
  manualClock,
  sha1MangleKey,
  type BackendResult,
  type CacheRegion,
  type CacheRegionOptions,
  type ManualClock,
  type NoValue,
} from '../../src/index.js';
import { RegionModel, type Outcome, type Result } from './model.js';

/** One operation of a sequence (plain data, so a counterexample prints readably). */
export type Command =
  | { op: 'set'; key: string }
  | { op: 'get'; key: string; expiration?: number | undefined; ignore?: boolean | undefined }
  | { op: 'getMulti'; keys: string[]; expiration?: number | undefined }
  | { op: 'goc'; key: string; expiration?: number | undefined; cache: boolean }
  | { op: 'gocMulti'; keys: string[]; expiration?: number | undefined; cache: boolean }
  | { op: 'delete'; key: string }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'concurrent'; key: string; callers: number; expiration?: number | undefined; cache?: boolean | undefined };

/** Where the sequences may go. */
export interface CommandSpace {
  /** Concurrent callers (needs the read-counting proxy the harness installs). */
  concurrent: boolean;
  /** Concurrent callers whose should_cache_fn may refuse the created value. */
  concurrentRefusals?: boolean;
}

const KEYS = ['a', 'b', 'c'];
const key = fc.constantFrom(...KEYS);
const keys = fc.array(key, { minLength: 1, maxLength: 4 });
// Per-call expirations: none, "never" (-1), or a few seconds; region expirations add null and 0.
const perCall = fc.option(fc.constantFrom(-1, 1, 2, 10), { nil: undefined });
const strip = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** The region expiration times a run may use (seconds; null never; -1 never in get-or-create). */
export const regionExpiration = fc.constantFrom<number | null>(null, -1, 0, 1, 5, 30);

/** Random commands; clock steps of 1 ms to a minute, hitting the exact expiration instants often. */
export function commandArbitrary(space: CommandSpace): fc.Arbitrary<Command> {
  const options: fc.Arbitrary<Command>[] = [
    key.map((k) => ({ op: 'set', key: k })),
    fc
      .record({ key, expiration: perCall, ignore: fc.boolean() })
      .map(({ key: k, expiration, ignore }) => strip({ op: 'get' as const, key: k, expiration, ignore: ignore || undefined })),
    fc.record({ keys, expiration: perCall }).map(({ keys: ks, expiration }) => strip({ op: 'getMulti' as const, keys: ks, expiration })),
    fc
      .record({ key, expiration: perCall, cache: fc.boolean() })
      .map(({ key: k, expiration, cache }) => strip({ op: 'goc' as const, key: k, expiration, cache })),
    fc
      .record({ keys, expiration: perCall, cache: fc.boolean() })
      .map(({ keys: ks, expiration, cache }) => strip({ op: 'gocMulti' as const, keys: ks, expiration, cache })),
    key.map((k) => ({ op: 'delete', key: k })),
    fc.boolean().map((hard) => ({ op: 'invalidate', hard })),
    fc.constantFrom(1, 999, 1000, 1001, 2000, 5000, 30_000).map((ms) => ({ op: 'advance', ms })),
  ];
  if (space.concurrent) {
    options.push(
      fc
        .record({
          key,
          callers: fc.integer({ min: 2, max: 4 }),
          expiration: perCall,
          cache: space.concurrentRefusals === true ? fc.boolean() : fc.constant(true),
        })
        .map(({ key: k, callers, expiration, cache }) =>
          strip({ op: 'concurrent' as const, key: k, callers, expiration, cache: cache ? undefined : false }),
        ),
    );
  }
  return fc.oneof(...options);
}

/** Counts completed backend reads, so a concurrent test knows every caller has read before its creator finishes. */
export class ReadCounter extends ProxyBackend {
  reads = 0;
  override async get(k: string): Promise<BackendResult> {
    const value = await super.get(k);
    this.reads++;
    return value;
  }
  override async getSerialized(k: string): Promise<Buffer | NoValue> {
    const value = await super.getSerialized(k);
    this.reads++;
    return value;
  }
  override async getMulti(ks: readonly string[]): Promise<BackendResult[]> {
    const values = await super.getMulti(ks);
    this.reads++;
    return values;
  }
  override async getSerializedMulti(ks: readonly string[]): Promise<(Buffer | NoValue)[]> {
    const values = await super.getSerializedMulti(ks);
    this.reads++;
    return values;
  }
}

/** Waits (event loop turns, no timers) until `done()`, at most `limitMs` real milliseconds. */
async function until(done: () => boolean, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!done() && Date.now() - start < limitMs) await new Promise((resolve) => setImmediate(resolve));
}

function observe(value: unknown): unknown {
  if (isNoValue(value)) return 'NO_VALUE';
  if (Array.isArray(value)) return value.map((v) => (isNoValue(v) ? 'NO_VALUE' : v));
  return value;
}

async function outcomeOf(run: () => Promise<unknown>): Promise<Result> {
  try {
    return { value: observe(await run()) } as Result;
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

const sortResults = (results: Result[]): string[] => results.map((r) => JSON.stringify(r)).sort();

/** Finds the model outcome matching what the region did, or fails naming the command and both sides. */
function check(outcomes: Outcome[], result: Result | Result[], calls: number | string[][], index: number, command: Command): void {
  const seen = Array.isArray(result) ? sortResults(result) : result;
  const match = outcomes.find((outcome) => {
    const allowed = Array.isArray(outcome.result) ? sortResults(outcome.result) : outcome.result;
    try {
      assert.deepStrictEqual(allowed, seen);
      assert.deepStrictEqual(outcome.calls, calls);
      return true;
    } catch {
      return false;
    }
  });
  if (match === undefined) {
    const allowed = outcomes.map((o) => JSON.stringify({ result: o.result, calls: o.calls })).join(' or ');
    assert.fail(
      `command ${index} ${JSON.stringify(command)}: the region gave ${JSON.stringify({ result, calls })}; dogpile's rules allow ${allowed}`,
    );
  }
  match.commit();
}

/** How each run gets its region: made with `options` (which hold the manual clock), configured with `expirationTime`. */
export type RegionFactory = (
  options: CacheRegionOptions & { clock: ManualClock },
  expirationTime: number | null,
) => CacheRegion | Promise<CacheRegion>;

/** Region variants a property can run. */
export interface RunOptions {
  /** Invalidate in the instant of the previous write (true), or 1 ms apart from it (default). */
  sameInstantInvalidation?: boolean;
  /** Wrap the backend in the read-counting proxy (default true; needed by concurrent commands). */
  countReads?: boolean;
  /** Close the region (and its backend) after the run (default true). */
  close?: boolean;
  /** Give the region the built-in background creation runner. */
  background?: boolean;
  /** Give the region a serializer (in memory: payloads kept serialized, copies on read). */
  serializer?: 'json' | 'v8';
  /** Give the region the sha1 key mangler. */
  sha1Keys?: boolean;
}

/** Waits until the background regeneration of `key` (if any) has released its lock. */
async function settleBackground(region: CacheRegion, key: string, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while ((await region.keyIsLocked(key)) && Date.now() - start < limitMs) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `commands` on a fresh region and on the model. `sameInstantInvalidation: false` moves the
 * clock by 1 ms around every invalidate() (the main property); true invalidates in the instant of the
 * previous write, as two calls within one millisecond do.
 */
export async function runSequence(
  makeRegion: RegionFactory,
  expiration: number | null,
  commands: readonly Command[],
  options: RunOptions = {},
): Promise<void> {
  // Same-instant invalidation: a clock that, like the real one (and the Python harness's time.time),
  // never returns the same instant twice; otherwise the time moves only when the sequence says so.
  const clock = options.sameInstantInvalidation === true ? manualClock(undefined, { tickMs: 0.001 }) : manualClock();
  const regionOptions: CacheRegionOptions & { clock: ManualClock } = { clock };
  if (options.background === true) regionOptions.asyncCreationRunner = 'background';
  if (options.serializer !== undefined) regionOptions.serializer = options.serializer;
  if (options.sha1Keys === true) regionOptions.keyMangler = sha1MangleKey;
  const region = await makeRegion(regionOptions, expiration);
  const counter = options.countReads === false ? null : new ReadCounter();
  if (counter !== null) region.wrap(counter);
  const model = new RegionModel(expiration, clock(), options.background === true);
  const tick = (ms: number): void => {
    clock.advance(ms);
    model.advance(ms);
  };
  try {
    for (const [i, command] of commands.entries()) {
      switch (command.op) {
        case 'set': {
          const value = `s${i}`;
          await region.set(command.key, value);
          model.set(command.key, value);
          break;
        }
        case 'get': {
          const result = await outcomeOf(() =>
            region.get(command.key, { expirationTime: command.expiration ?? null, ignoreExpiration: command.ignore === true }),
          );
          check(model.get(command.key, { expiration: command.expiration, ignore: command.ignore }), result, 0, i, command);
          break;
        }
        case 'getMulti': {
          const result = await outcomeOf(() => region.getMulti(command.keys, { expirationTime: command.expiration ?? null }));
          check(model.getMulti(command.keys, { expiration: command.expiration }), result, 0, i, command);
          break;
        }
        case 'goc': {
          let calls = 0;
          const created = `c${i}`;
          const creator = async (): Promise<string> => {
            calls++;
            await Promise.resolve();
            return created;
          };
          const shouldCacheFn = (): boolean => command.cache;
          const result = await outcomeOf(() =>
            region.getOrCreate(command.key, creator, { expirationTime: command.expiration ?? null, shouldCacheFn }),
          );
          if (options.background === true) await settleBackground(region, command.key);
          check(
            model.getOrCreate(command.key, created, { expiration: command.expiration, shouldCache: command.cache }),
            result,
            calls,
            i,
            command,
          );
          break;
        }
        case 'gocMulti': {
          const calls: string[][] = [];
          const tag = `m${i}`;
          const creator = async (...ks: string[]): Promise<string[]> => {
            calls.push(ks);
            await Promise.resolve();
            return ks.map((k) => `${k}@${tag}`);
          };
          const shouldCacheFn = (): boolean => command.cache;
          const result = await outcomeOf(() =>
            region.getOrCreateMulti(command.keys, creator, { expirationTime: command.expiration ?? null, shouldCacheFn }),
          );
          check(
            model.getOrCreateMulti(command.keys, tag, { expiration: command.expiration, shouldCache: command.cache }),
            result,
            calls,
            i,
            command,
          );
          break;
        }
        case 'delete':
          await region.delete(command.key);
          model.delete(command.key);
          break;
        case 'invalidate':
          if (options.sameInstantInvalidation !== true) tick(1);
          region.invalidate(command.hard);
          model.invalidate(command.hard);
          if (options.sameInstantInvalidation !== true) tick(1);
          break;
        case 'advance':
          tick(command.ms);
          break;
        case 'concurrent': {
          assert.ok(counter !== null, 'concurrent commands need the read counter');
          let calls = 0;
          const created = `c${i}`;
          const readsBefore = counter.reads;
          // The creator finishes only once every caller has read the backend: then the stale-value
          // callers have met the held lock and the others are waiting, whatever the backend's latency.
          const creator = async (): Promise<string> => {
            calls++;
            await until(() => counter.reads >= readsBefore + command.callers);
            return created;
          };
          const cache = command.cache !== false;
          const results = await Promise.all(
            Array.from({ length: command.callers }, () =>
              outcomeOf(() =>
                region.getOrCreate(command.key, creator, { expirationTime: command.expiration ?? null, shouldCacheFn: () => cache }),
              ),
            ),
          );
          if (options.background === true) await settleBackground(region, command.key);
          check(
            model.getOrCreate(command.key, created, { expiration: command.expiration, shouldCache: cache, callers: command.callers }),
            results,
            calls,
            i,
            command,
          );
          break;
        }
      }
    }
  } finally {
    if (options.close !== false) await region.close();
  }
}

/** The seed of every property run: fixed, so a failure reproduces; FC_SEED overrides it to explore. */
export const SEED = process.env.FC_SEED === undefined ? 14_2026 : Number(process.env.FC_SEED);
