/**
 * The region contract as a test suite (ports of dogpile's `test_region.py`, `test_decorator.py` and
 * the generic backend suite's region tests), run against any backend: the region's clock is a manual
 * one, so expiry and invalidation are tested without sleeping, whatever the backend.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock, type ManualClock } from '../clock.js';
import type { Duration } from '../duration.js';
import { ConfigurationError, UnsupportedOperationError, ValidationError } from '../errors.js';
import { NO_VALUE } from '../no-value.js';
import type { CacheRegion, CacheRegionOptions } from '../region.js';
import type { TestRunner } from './conformance.js';

/** What the suite asks of a backend under test. */
export interface RegionFactoryOptions {
  /** Options for the new region (the suite passes a manual clock and sometimes a runner). */
  region: CacheRegionOptions;
  /** The expiration time to configure (`null`: none). */
  expirationTime: Duration | null;
}

/** Creates a configured region over the backend under test. The suite closes it after each test. */
export type RegionFactory = (options: RegionFactoryOptions) => CacheRegion | Promise<CacheRegion>;

/** A promise with its resolve function, to hold a creator open. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms for up to `ms` (remote backends answer over the network). */
async function eventually(condition: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(10);
  }
  return condition();
}

/**
 * Registers the region contract tests under `describe(name)`.
 *
 * @example
 * ```ts
 * import { after, before, describe, it } from 'node:test';
 * import { CacheRegion } from 'dogpile-cache';
 * import { runRegionConformance } from 'dogpile-cache/testing';
 * // the suite passes a manual clock in options.region, so expiry is tested without sleeping
 * runRegionConformance('MyBackend', (options) =>
 *   new CacheRegion(options.region).configure('dogpile.cache.memory', { expirationTime: options.expirationTime }), { describe, it, before, after });
 * ```
 */
export function runRegionConformance(name: string, makeRegion: RegionFactory, runner: TestRunner): void {
  const { describe, it } = runner;
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  const key = (label = 'k'): string => `region-${run}-${label}-${counter++}`;

  async function withRegion(
    test: (region: CacheRegion, clock: ManualClock) => Promise<void>,
    expirationTime: Duration | null = null,
    options: CacheRegionOptions = {},
  ): Promise<void> {
    const clock = manualClock();
    const region = await makeRegion({ region: { clock, ...options }, expirationTime });
    try {
      await test(region, clock);
    } finally {
      await region.close();
    }
  }

  describe(`${name} region conformance`, () => {
    it('set/get round-trips values; a missing key is NO_VALUE; null, "" and 0 are values', () =>
      withRegion(async (region) => {
        const k = key();
        assert.equal(await region.get(k), NO_VALUE);
        await region.set(k, { a: [1, 'two'] });
        assert.deepEqual(await region.get(k), { a: [1, 'two'] });
        for (const value of [null, '', 0, false]) {
          await region.set(k, value);
          assert.equal(await region.get(k), value);
        }
      }));

    it('getOrCreate calls the creator once, then serves the stored value', () =>
      withRegion(async (region) => {
        const k = key();
        let calls = 0;
        const creator = async (): Promise<string> => `value ${++calls}`;
        assert.equal(await region.getOrCreate(k, creator), 'value 1');
        assert.equal(await region.getOrCreate(k, creator), 'value 1');
        assert.equal(calls, 1);
        assert.equal(await region.get(k), 'value 1');
      }));

    it('expiry: get misses, ignoreExpiration reads, -1 keeps, default regenerates', () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        const creator = (): string => `some value ${++calls}`;
        assert.equal(await region.getOrCreate(k, creator), 'some value 1');
        clock.advance(2000);
        assert.equal(await region.get(k), NO_VALUE);
        assert.equal(await region.get(k, { ignoreExpiration: true }), 'some value 1');
        assert.equal(await region.getOrCreate(k, creator, { expirationTime: -1 }), 'some value 1');
        assert.equal(await region.getOrCreate(k, creator), 'some value 2');
      }, 1));

    it('a per-call expiration on get overrides the region and is not stored', () =>
      withRegion(async (region, clock) => {
        const k = key();
        await region.set(k, 'v');
        clock.advance(3000);
        assert.equal(await region.get(k), 'v');
        assert.equal(await region.get(k, { expirationTime: 2 }), NO_VALUE);
        assert.equal(await region.get(k, { expirationTime: '5s' }), 'v');
        assert.equal(await region.get(k), 'v', 'the override did not stick');
      }, 10));

    it('a per-call expiration on getOrCreate regenerates earlier; plain get still sees the value', () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        await region.getOrCreate(k, () => ++calls, { expirationTime: 1 });
        clock.advance(2000);
        assert.equal(await region.getOrCreate(k, () => ++calls, { expirationTime: 1 }), 2);
        clock.advance(2000);
        assert.equal(await region.get(k), 2);
      }, 5));

    it('expiration 0 is always stale: every getOrCreate regenerates', () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        await region.getOrCreate(k, () => ++calls);
        clock.advance(1);
        assert.equal(await region.getOrCreate(k, () => ++calls), 2);
      }, 0));

    it('-1 as the region expiration never expires, in get too (dogpile always misses there: fixed)', () =>
      withRegion(async (region, clock) => {
        const k = key();
        await region.getOrCreate(k, () => 'kept');
        clock.advance(86_400_000);
        assert.equal(await region.getOrCreate(k, () => 'new'), 'kept');
        assert.equal(await region.get(k), 'kept');
      }, -1));

    it('hard invalidation: get misses; getOrCreate regenerates once, then caches', () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        await region.getOrCreate(k, () => ++calls);
        clock.advance(10);
        region.invalidate();
        assert.equal(await region.get(k), NO_VALUE);
        assert.equal(await region.get(k, { ignoreExpiration: true }), 1);
        clock.advance(10);
        assert.equal(await region.getOrCreate(k, () => ++calls), 2);
        assert.equal(await region.getOrCreate(k, () => ++calls), 2);
      }, 100));

    it('soft invalidation: get misses; getOrCreate regenerates', () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        await region.getOrCreate(k, () => ++calls);
        clock.advance(10);
        region.invalidate(false);
        assert.equal(await region.get(k), NO_VALUE);
        clock.advance(10);
        assert.equal(await region.getOrCreate(k, () => ++calls), 2);
        assert.equal(await region.getOrCreate(k, () => ++calls), 2);
      }, 100));

    it('soft invalidation without an expiration time is an error, on the first and second call', () =>
      withRegion(async (region, clock) => {
        const k = key();
        region.invalidate(false);
        await assert.rejects(
          region.getOrCreate(k, () => 1),
          (e: Error) => e instanceof ConfigurationError && /expiration time required/.test(e.message),
        );
        await region.set(k, 1);
        clock.advance(10);
        region.invalidate(false);
        await assert.rejects(
          region.getOrCreate(k, () => 2),
          ConfigurationError,
        );
        await assert.rejects(
          region.getOrCreateMulti([k], () => [2]),
          ConfigurationError,
        );
      }, null));

    it('shouldCacheFn: a rejected value is returned but the previous one stays cached', () =>
      withRegion(async (region, clock) => {
        const k = key();
        await region.getOrCreate(k, () => 1);
        clock.advance(2000);
        const got = await region.getOrCreate(k, () => 2, { shouldCacheFn: (v) => v !== 2 });
        assert.equal(got, 2);
        assert.equal(await region.get(k, { ignoreExpiration: true }), 1);
      }, 1));

    it('getOrCreateMulti: one creator call with the sorted unique missing keys; caller order and duplicates kept', () =>
      withRegion(async (region) => {
        const [a, b, c] = [key('a'), key('b'), key('c')];
        await region.set(b, 'cached b');
        const calls: string[][] = [];
        const result = await region.getOrCreateMulti([c, b, a, c], async (...keys) => {
          calls.push(keys);
          return keys.map((k) => `new ${k}`);
        });
        assert.deepEqual(calls, [[a, c].sort()]);
        assert.deepEqual(result, [`new ${c}`, 'cached b', `new ${a}`, `new ${c}`]);
        assert.deepEqual(await region.getMulti([a, b, c]), [`new ${a}`, 'cached b', `new ${c}`]);
      }));

    it('getOrCreateMulti: expired keys are recreated, fresh ones are not', () =>
      withRegion(async (region, clock) => {
        const [k1, k2] = [key(), key()];
        let counter = 0;
        const creator = (...keys: string[]): number[] => keys.map(() => ++counter);
        assert.deepEqual(await region.getOrCreateMulti([k1, k2], creator), k1 < k2 ? [1, 2] : [2, 1]);
        clock.advance(2000);
        await region.set(k2, 'fresh');
        assert.deepEqual(await region.getOrCreateMulti([k1, k2], creator), [3, 'fresh']);
      }, 1));

    it('getOrCreateMulti: a creator returning the wrong number of values is a ValidationError; nothing cached', () =>
      withRegion(async (region) => {
        const [k1, k2] = [key(), key()];
        await assert.rejects(
          region.getOrCreateMulti([k1, k2], () => ['only one']),
          (e: Error) => e instanceof ValidationError && /2 value/.test(e.message),
        );
        assert.deepEqual(await region.getMulti([k1, k2]), [NO_VALUE, NO_VALUE]);
        assert.equal(await region.keyIsLocked(k1), false);
        assert.deepEqual(await region.getOrCreateMulti([k1, k2], (...keys) => keys.map(() => 'ok')), ['ok', 'ok']);
      }));

    it('getOrCreateMulti with shouldCacheFn rejecting nulls returns them uncached', () =>
      withRegion(async (region) => {
        const keys = [key(), key(), key()];
        const result = await region.getOrCreateMulti(keys, (...ks) => ks.map(() => null), { shouldCacheFn: (v) => v !== null });
        assert.deepEqual(result, [null, null, null]);
        assert.deepEqual(await region.getMulti(keys), [NO_VALUE, NO_VALUE, NO_VALUE]);
      }));

    it('multi operations: set, get, delete; empty inputs do nothing', () =>
      withRegion(async (region) => {
        const [k1, k2, k3] = [key(), key(), key()];
        await region.setMulti({ [k1]: 1, [k2]: 'two', [k3]: null });
        assert.deepEqual(await region.getMulti([k3, k1, key('missing'), k2]), [null, 1, NO_VALUE, 'two']);
        assert.deepEqual(await region.getMulti([]), []);
        await region.setMulti({});
        await region.setMulti(new Map());
        await region.deleteMulti([]);
        let created = 0;
        assert.deepEqual(
          await region.getOrCreateMulti([], (...keys) => {
            created++;
            return keys;
          }),
          [],
        );
        assert.equal(created, 0, 'no keys: the creator is not called');
        assert.deepEqual(await region.getMulti([k1, k2, k3]), [1, 'two', null], 'the empty operations left the stored values alone');
        await region.deleteMulti([k1, k2, key('never')]);
        assert.deepEqual(await region.getMulti([k1, k2, k3]), [NO_VALUE, NO_VALUE, null]);
        await region.delete(k3);
        await region.delete(k3);
        assert.equal(await region.get(k3), NO_VALUE);
      }));

    it('a creator that throws: the error propagates, the lock is released, nothing is cached', () =>
      withRegion(async (region) => {
        const k = key();
        await assert.rejects(
          region.getOrCreate(k, () => {
            throw new Error('boom');
          }),
          /boom/,
        );
        await assert.rejects(
          region.getOrCreate(k, () => Promise.reject(new Error('async boom'))),
          /async boom/,
        );
        assert.equal(await region.keyIsLocked(k), false);
        assert.equal(await region.get(k), NO_VALUE);
        assert.equal(await region.getOrCreate(k, () => 'recovered'), 'recovered');
      }));

    it('getValueMetadata returns payload and creation time; null when missing or expired', () =>
      withRegion(async (region, clock) => {
        const k = key();
        const createdAt = clock() / 1000;
        await region.set(k, 'v');
        clock.advance(5000);
        const meta = await region.getValueMetadata(k);
        assert.ok(meta);
        assert.equal(meta.payload, 'v');
        assert.ok(Math.abs(meta.metadata.ct - createdAt) < 1e-3);
        assert.equal(meta.metadata.v, 2);
        assert.equal(await region.getValueMetadata(key('missing')), null);
        assert.equal(await region.getValueMetadata(k, { expirationTime: 4 }), null);
        assert.ok(await region.getValueMetadata(k, { expirationTime: 4, ignoreExpiration: true }));
      }));

    it('keyIsLocked is true only while a creator runs, and checking does not lock', () =>
      withRegion(async (region) => {
        const k = key();
        assert.equal(await region.keyIsLocked(k), false);
        assert.equal(await region.keyIsLocked(k), false);
        const gate = deferred<string>();
        const started = deferred<void>();
        const pending = region.getOrCreate(k, () => {
          started.resolve();
          return gate.promise;
        });
        await started.promise;
        assert.equal(await region.keyIsLocked(k), true);
        gate.resolve('done');
        assert.equal(await pending, 'done');
        assert.equal(await region.keyIsLocked(k), false);
      }));

    it('200 concurrent getOrCreate on a cold key: exactly one creator call, everyone gets its value', () =>
      withRegion(async (region) => {
        const k = key();
        let calls = 0;
        const gate = deferred<void>();
        const callers = Array.from({ length: 200 }, () =>
          region.getOrCreate(k, async () => {
            calls++;
            await gate.promise;
            return 'the one value';
          }),
        );
        await sleep(20);
        gate.resolve();
        const results = await Promise.all(callers);
        assert.equal(calls, 1);
        assert.ok(results.every((r) => r === 'the one value'));
      }));

    it('a stale value is served at once to concurrent callers while one regenerates', () =>
      withRegion(async (region, clock) => {
        const k = key();
        await region.getOrCreate(k, () => 'old');
        clock.advance(2000);
        const gate = deferred<void>();
        const started = deferred<void>();
        let calls = 0;
        const regenerating = region.getOrCreate(k, async () => {
          calls++;
          started.resolve();
          await gate.promise;
          return 'new';
        });
        await started.promise;
        const others = await Promise.all(Array.from({ length: 20 }, () => region.getOrCreate(k, () => 'never called')));
        assert.ok(
          others.every((v) => v === 'old'),
          'others get the stale value without waiting',
        );
        gate.resolve();
        assert.equal(await regenerating, 'new');
        assert.equal(calls, 1);
        assert.ok(region.stats().staleServed >= 20);
        assert.equal(await region.getOrCreate(k, () => 'never'), 'new');
      }, 1));

    it('background refresh serves the stale value and stores the new one', () =>
      withRegion(
        async (region, clock) => {
          const k = key();
          await region.getOrCreate(k, () => 'old');
          clock.advance(2000);
          const gate = deferred<void>();
          const got = await region.getOrCreate(k, async () => {
            await gate.promise;
            return 'new';
          });
          assert.equal(got, 'old', 'the caller is not kept waiting');
          assert.equal(await region.keyIsLocked(k), true, 'the runner holds the lock');
          gate.resolve();
          assert.ok(await eventually(async () => !(await region.keyIsLocked(k))), 'the runner released the lock');
          assert.ok(await eventually(async () => (await region.get(k)) === 'new'), 'the runner stored the new value');
        },
        1,
        { asyncCreationRunner: 'background' },
      ));

    it('an aborted signal rejects a never-settling creator and frees the key for the next caller', () =>
      withRegion(async (region) => {
        const k = key();
        const controller = new AbortController();
        const started = deferred<void>();
        const stuck = region.getOrCreate(
          k,
          () => {
            started.resolve();
            return new Promise<string>(() => {});
          },
          { signal: controller.signal },
        );
        await started.promise;
        controller.abort(new Error('gave up'));
        await assert.rejects(stuck, /gave up/);
        assert.equal(await region.keyIsLocked(k), false);
        assert.equal(await region.getOrCreate(k, () => 'next'), 'next');
      }));

    it('an aborted signal stops a caller waiting for the lock', () =>
      withRegion(async (region) => {
        const k = key();
        const gate = deferred<string>();
        const started = deferred<void>();
        const first = region.getOrCreate(k, () => {
          started.resolve();
          return gate.promise;
        });
        await started.promise;
        const controller = new AbortController();
        const waiter = region.getOrCreate(k, () => 'unused', { signal: controller.signal });
        await sleep(20);
        controller.abort(new Error('waited too long'));
        await assert.rejects(waiter, /waited too long/);
        gate.resolve('first');
        assert.equal(await first, 'first');
        assert.ok(await eventually(async () => !(await region.keyIsLocked(k))), 'the abandoned wait left the key unlocked');
      }));

    it('cacheOnArguments memoizes per arguments, with set/get/invalidate/refresh/original', () =>
      withRegion(async (region) => {
        const ns = key('ns');
        let calls = 0;
        async function add(a: number, b: number): Promise<number> {
          calls++;
          return a + b + calls * 1000;
        }
        const cached = region.cacheOnArguments({ namespace: ns })(add);
        const first = await cached(1, 2);
        assert.equal(await cached(1, 2), first);
        assert.notEqual(await cached(2, 1), first);
        assert.equal(calls, 2);
        assert.equal(await region.get(`${ns}|1 2`), first, 'the key is "<namespace>|<args joined by a space>"');
        await cached.invalidate(1, 2);
        assert.notEqual(await cached(1, 2), first);
        await cached.set(42, 5, 5);
        assert.equal(await cached(5, 5), 42);
        assert.equal(await cached.get(5, 5), 42);
        assert.equal(await cached.get(9, 9), NO_VALUE);
        const refreshed = await cached.refresh(5, 5);
        assert.equal(await cached(5, 5), refreshed);
        assert.equal(cached.original, add);
      }));

    it('cacheOnArguments: an expiration function is evaluated on each call (0 = recompute every call)', () =>
      withRegion(async (region, clock) => {
        let calls = 0;
        let expiration: number | null = 0;
        const cached = region.cacheOnArguments({ namespace: key('exp'), expirationTime: () => expiration })(() => ++calls);
        await cached();
        clock.advance(1);
        await cached();
        assert.equal(calls, 2);
        expiration = null; // back to the region's default (60 s)
        clock.advance(1);
        await cached();
        await cached();
        assert.equal(calls, 2);
      }, 60));

    it('cacheMultiOnArguments creates only missing keys, in one call; asDict omits what the function left out', () =>
      withRegion(async (region) => {
        const ns = key('multi');
        const seen: number[][] = [];
        const square = region.cacheMultiOnArguments({ namespace: ns })(async (...ids: number[]) => {
          seen.push(ids);
          return ids.map((id) => id * id);
        });
        assert.deepEqual(await square(2, 3), [4, 9]);
        assert.deepEqual(await square(3, 4, 2), [9, 16, 4]);
        assert.deepEqual(seen, [[2, 3], [4]]);
        await square.invalidate(2);
        await square.set({ 7: 18, 10: 15 });
        assert.deepEqual(await square(2, 7, 10), [4, 18, 15]);
        assert.deepEqual(await square.get(7, 99), [18, NO_VALUE]);

        const lookup = region.cacheMultiOnArguments({ namespace: key('dict'), asDict: true })(async (...names: string[]) =>
          Object.fromEntries(names.filter((n) => n !== 'ghost').map((n) => [n, n.toUpperCase()])),
        );
        assert.deepEqual(await lookup('a', 'ghost', 'b'), { a: 'A', b: 'B' });
        assert.deepEqual(await lookup('a', 'b'), { a: 'A', b: 'B' });
      }));

    it('a creator may call getOrCreate for another key (no deadlock)', () =>
      withRegion(async (region) => {
        const [foo, bar] = [key('foo'), key('bar')];
        const value = await region.getOrCreate(foo, async () => `foo${await region.getOrCreate(bar, () => 'bar')}`);
        assert.equal(value, 'foobar');
      }));

    // ------------------------------------------------------------ issue 22: has, per-entry TTL, clear
    // TTLs here are long (a minute or more) and time moves on the manual clock only: a backend that also
    // gives the entry a server TTL (real time) must not expire it while the test runs.

    it('has() respects expiration, ignoreExpiration and invalidation exactly as get, and counts nothing', () =>
      withRegion(async (region, clock) => {
        const k = key();
        assert.equal(await region.has(k), false);
        await region.set(k, null);
        assert.equal(await region.has(k), true, 'a stored null is a value');
        clock.advance(61_000);
        assert.equal(await region.get(k), NO_VALUE);
        assert.equal(await region.has(k), false, 'expired by the region');
        assert.equal(await region.has(k, { ignoreExpiration: true }), true);
        assert.equal(await region.has(k, { expirationTime: '2m' }), true);
        await region.set(k, 'v');
        clock.advance(1000); // invalidation covers values created before it
        region.invalidate(false);
        assert.equal(await region.has(k), false, 'soft-invalidated');
        await region.set(k, 'w');
        assert.equal(await region.has(k), true);
        clock.advance(1000);
        region.invalidate();
        assert.equal(await region.has(k), false, 'hard-invalidated');
        const stats = region.stats();
        assert.equal(stats.hits, 0);
        assert.equal(stats.misses, 1, 'only the get counted');
      }, 60));

    it("set with expirationTime: the entry's own TTL replaces the region's, shorter or longer", () =>
      withRegion(async (region, clock) => {
        const short = key('short');
        const long = key('long');
        const plain = key('plain');
        await region.set(short, 's', { expirationTime: 60 });
        await region.set(long, 'l', { expirationTime: '1h' });
        await region.set(plain, 'p');
        clock.advance(61_000);
        assert.equal(await region.get(short), NO_VALUE, 'past its own 60 s');
        assert.equal(await region.has(short), false);
        assert.equal(await region.get(plain), 'p', 'the region allows 10 min');
        clock.advance(600_000);
        assert.equal(await region.get(plain), NO_VALUE);
        assert.equal(await region.get(long), 'l', 'its own hour outlives the region expiration');
        assert.equal(await region.get(long, { expirationTime: 1 }), 'l', "the entry's TTL wins over a read override");
        assert.equal(await region.get(short, { ignoreExpiration: true }), 's');
        const meta = await region.getValueMetadata(long);
        assert.equal(meta?.metadata.ttl, 3600, 'the TTL is stored in the metadata');
      }, 600));

    it("getOrCreate honours an entry's own TTL, and entryExpirationTime stores one", () =>
      withRegion(async (region, clock) => {
        const k = key();
        let calls = 0;
        await region.set(k, 'set', { expirationTime: 60 });
        assert.equal(await region.getOrCreate(k, () => `made ${++calls}`), 'set');
        clock.advance(61_000);
        assert.equal(await region.getOrCreate(k, () => `made ${++calls}`), 'made 1', 'regenerated at the entry TTL, not the region one');
        const m = key('m');
        assert.equal(await region.getOrCreate(m, () => 'first', { entryExpirationTime: '2m' }), 'first');
        assert.equal((await region.getValueMetadata(m))?.metadata.ttl, 120);
        clock.advance(121_000);
        assert.equal(await region.get(m), NO_VALUE);
        assert.equal(await region.getOrCreate(m, () => 'second', { entryExpirationTime: '2m' }), 'second');
        const [a, b] = [key('a'), key('b')];
        assert.deepEqual(await region.getOrCreateMulti([a, b], (...ks) => ks.map((x) => x.length), { entryExpirationTime: 90 }), [
          a.length,
          b.length,
        ]);
        assert.equal((await region.getValueMetadata(b))?.metadata.ttl, 90);
        clock.advance(91_000);
        assert.equal(await region.has(a), false);
      }, 3600));

    it('setMulti with expirationTime gives every entry that TTL; a bad TTL is a ValidationError and stores nothing', () =>
      withRegion(async (region, clock) => {
        const [a, b] = [key('a'), key('b')];
        await region.setMulti({ [a]: 1, [b]: 2 }, { expirationTime: 60 });
        assert.deepEqual(await region.getMulti([a, b]), [1, 2]);
        clock.advance(61_000);
        assert.deepEqual(await region.getMulti([a, b]), [NO_VALUE, NO_VALUE]);
        const c = key('c');
        for (const bad of [0, -1, 'soon', Number.NaN]) {
          await assert.rejects(
            region.set(c, 'x', { expirationTime: bad }),
            (e: Error) => e instanceof ValidationError && /expirationTime/.test(e.message),
          );
          await assert.rejects(
            region.getOrCreate(c, () => 'x', { entryExpirationTime: bad }),
            (e: Error) => e instanceof ValidationError && /entryExpirationTime/.test(e.message),
          );
        }
        assert.equal(await region.has(c, { ignoreExpiration: true }), false);
      }, 3600));

    it('clear() removes every entry of the region and only its own, or fails with UnsupportedOperationError', () =>
      withRegion(async (region) => {
        const [a, b] = [key('a'), key('b')];
        await region.setMulti({ [a]: 1, [b]: 2 });
        const declared = region.actualBackend.clear !== undefined;
        if (!declared) {
          await assert.rejects(region.clear(), (e: Error) => e instanceof UnsupportedOperationError && /clear\(\)/.test(e.message));
          assert.deepEqual(await region.getMulti([a, b]), [1, 2], 'a refused clear removes nothing');
          return;
        }
        const clock = manualClock();
        const other = await makeRegion({ region: { clock }, expirationTime: null });
        try {
          const o = key('other');
          await other.set(o, 'kept');
          // A backend may declare clear() and refuse it in a configuration where its entries cannot be
          // told apart (etcd3 and Redis without a namespace): then it is an UnsupportedOperationError and removes nothing.
          const refusal = await region.clear().then(
            () => null,
            (error: unknown) => error,
          );
          if (refusal !== null) {
            assert.ok(
              refusal instanceof UnsupportedOperationError && /clear\(\)/.test(refusal.message),
              `clear() failed: ${String(refusal)}`,
            );
            assert.deepEqual(await region.getMulti([a, b]), [1, 2], 'a refused clear removes nothing');
            assert.equal(await other.get(o), 'kept');
            return;
          }
          assert.deepEqual(await region.getMulti([a, b]), [NO_VALUE, NO_VALUE]);
          assert.equal(await other.get(o), 'kept', "another region's entries survive");
          await region.set(a, 'again');
          assert.equal(await region.get(a), 'again', 'the region works after clear()');
        } finally {
          await other.close();
        }
      }));

    it('tags: invalidateTags(tags) makes entries with one of those tags a miss, and only those; recreated values count again', () =>
      withRegion(async (region, clock) => {
        const [a, b, c, both] = [key('a'), key('b'), key('c'), key('both')];
        await region.set(a, 'a', { tags: ['t1'] });
        await region.set(b, 'b', { tags: ['t2'] });
        await region.set(c, 'c');
        await region.setMulti({ [both]: 'both' }, { tags: ['t2', 't1'] });
        clock.advance(1000);
        await region.invalidateTags(['t1']);
        assert.equal(await region.get(a), NO_VALUE);
        assert.equal(await region.has(both), false);
        assert.deepEqual(await region.getMulti([a, b, c, both]), [NO_VALUE, 'b', 'c', NO_VALUE]);
        assert.equal(await region.get(a, { ignoreExpiration: true }), 'a', 'ignoreExpiration ignores tags too');
        let calls = 0;
        assert.equal(await region.getOrCreate(a, () => `new ${++calls}`, { tags: ['t1'] }), 'new 1');
        assert.equal(await region.getOrCreate(a, () => `new ${++calls}`, { tags: ['t1'] }), 'new 1', 'created after the invalidation');
        const [m1, m2] = [key('m1'), key('m2')];
        assert.deepEqual(await region.getOrCreateMulti([m1, m2], (...ks) => ks.map(() => 'first'), { tags: ['t3'] }), ['first', 'first']);
        clock.advance(1000);
        await region.invalidateTags(['t3']);
        assert.deepEqual(await region.getOrCreateMulti([m1, m2], (...ks) => ks.map(() => 'second'), { tags: ['t3'] }), [
          'second',
          'second',
        ]);
      }));

    it('tags: a soft invalidateTags makes reads miss and getOrCreate regenerate', () =>
      withRegion(async (region, clock) => {
        const k = key();
        assert.equal(await region.getOrCreate(k, () => 'old', { tags: ['soft'] }), 'old');
        clock.advance(1000);
        await region.invalidateTags(['soft'], false);
        assert.equal(await region.get(k), NO_VALUE);
        assert.equal(await region.getOrCreate(k, () => 'new', { tags: ['soft'] }), 'new');
        assert.equal(await region.get(k), 'new');
      }, 600));

    it('tags: bad tags and keys in the internal tag space are ValidationErrors', () =>
      withRegion(async (region) => {
        for (const bad of [[''], 'tag', [1], {}]) {
          await assert.rejects(
            region.set(key(), 1, { tags: bad as never }),
            (e: Error) => e instanceof ValidationError && /tags/.test(e.message),
          );
        }
        await assert.rejects(region.invalidateTags([]), ValidationError);
        await assert.rejects(
          region.get('dogpile-cache:tag:x'),
          (e: Error) => e instanceof ValidationError && /dogpile-cache:tag:/.test(e.message),
        );
      }));

    it('stats count hits, misses and creates', () =>
      withRegion(async (region) => {
        const k = key();
        await region.getOrCreate(k, () => 1);
        await region.getOrCreate(k, () => 1);
        await region.get(key('missing'));
        const stats = region.stats();
        assert.equal(stats.creates, 1);
        assert.equal(stats.hits, 1);
        assert.equal(stats.misses, 2);
      }));
  });
}
