// Differential test of the store-judged hit (src/storage.ts FreshRead, DictionaryBackend's EntryTable.fresh)
// against the general read. Two regions run the same random scenario, each over a Dictionary that shares
// its own manual clock (so both take the same clock readings, tickMs included): region A with
// DefaultInvalidationStrategy (the shortcut answers its hits), region B with a subclass that overrides
// isInvalidated with the same rule (validSince is NaN, so the shortcut never vouches and every read goes
// the general way). Every answer, thrown error, stats counter, event, clock reading and the stores'
// contents (LRU order included) must be the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, DefaultInvalidationStrategy, DictionaryBackend, isNoValue, manualClock, type ManualClock } from '../../src/index.js';
import { makeCachedValue } from '../../src/api.js';
import { IN_PROCESS_STORE, NOT_FRESH, type InProcessStore } from '../../src/storage.js';
import { recordEvents } from '../support/region-events.js';

/** Hits the shortcut answered, over every run (the differential is void if it never answers). */
let shortcutHits = 0;

/** The same rule as the default, as an override: the region cannot read its invalidation time. */
class SameRule extends DefaultInvalidationStrategy {
  override isInvalidated(createdAt: number): boolean {
    return super.isInvalidated(createdAt);
  }
}

type Op =
  | { op: 'set'; key: string; ttl?: number | undefined; tags?: boolean | undefined }
  | { op: 'raw'; key: string; aheadSeconds: number }
  | { op: 'get'; key: string; expiration?: number | undefined; ignore?: boolean | undefined }
  | { op: 'goc'; key: string; expiration?: number | undefined }
  | { op: 'delete'; key: string }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'invalidateTag'; hard: boolean }
  | { op: 'replaceStrategy'; invalidateFirst: boolean }
  | { op: 'regionExpiration'; value: number | null }
  | { op: 'advance'; ms: number };

const KEYS = ['a', 'b', 'c', 'd'];
const key = fc.constantFrom(...KEYS);
const perCall = fc.option(fc.constantFrom(-1, 0, 1, 2, 10), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key,
      ttl: fc.option(fc.constantFrom(1, 3), { nil: undefined }),
      tags: fc.boolean(),
    }),
  },
  // A direct backend write of a plain entry (kept compact) with a creation time around now, far ahead, or old.
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('raw' as const),
      key,
      aheadSeconds: fc.constantFrom(-100_000, -5, -1, 0, 1, 86_399, 86_400, 86_401, 200_000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), key, expiration: perCall, ignore: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('goc' as const), key, expiration: perCall }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('goc' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), hard: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidateTag' as const), hard: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replaceStrategy' as const), invalidateFirst: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('regionExpiration' as const), value: fc.constantFrom<number | null>(null, 0, 1, 5, 60) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.constantFrom(-90_000_000, -2000, -1, 0, 1, 999, 1000, 1001, 2000, 5000, 90_000_000),
    }),
  },
);

interface Setup {
  ttl: number;
  maxEntries: number | undefined;
  maxSize: number | undefined;
  regionExpiration: number | null;
  tickMs: number;
}
const setupArb: fc.Arbitrary<Setup> = fc.record({
  ttl: fc.constantFrom(0, 1, 5),
  maxEntries: fc.option(fc.constantFrom(1, 2, 3), { nil: undefined }),
  maxSize: fc.option(fc.constantFrom(2, 4), { nil: undefined }),
  regionExpiration: fc.constantFrom<number | null>(null, -1, 0, 1, 5, 30, 600),
  tickMs: fc.constantFrom(0, 0, 1, 7),
});

interface Side {
  clock: ManualClock;
  backend: DictionaryBackend;
  region: CacheRegion;
  events: string[];
  log: string[];
  strategy: () => DefaultInvalidationStrategy;
}

function side(setup: Setup, general: boolean): Side {
  const clock = manualClock(Date.UTC(2026, 0, 1), { tickMs: setup.tickMs });
  const backend = new DictionaryBackend({
    clock,
    expirationTime: setup.ttl,
    ...(setup.maxEntries === undefined ? {} : { maxEntries: setup.maxEntries }),
    ...(setup.maxSize === undefined
      ? {}
      : { maxSize: setup.maxSize, sizeCalculation: (payload: unknown) => (String(payload).length % 3) + 1 }),
  });
  if (!general) {
    const store = (backend as unknown as Record<symbol, InProcessStore | undefined>)[IN_PROCESS_STORE] as {
      fresh?: InProcessStore['fresh'];
    };
    const fresh = store.fresh as NonNullable<InProcessStore['fresh']>;
    store.fresh = (...args) => {
      const answer = fresh(...args);
      if (answer !== NOT_FRESH) shortcutHits++;
      return answer;
    };
  }
  const strategy = (): DefaultInvalidationStrategy => (general ? new SameRule(clock) : new DefaultInvalidationStrategy(clock));
  const region = new CacheRegion({ clock, name: 'diff' }).configure(backend, {
    expirationTime: setup.regionExpiration,
    regionInvalidator: strategy(),
  });
  const events: string[] = [];
  recordEvents(region, events);
  return { clock, backend, region, events, log: [], strategy };
}

const show = (value: unknown): string => (isNoValue(value) ? 'NO_VALUE' : JSON.stringify(value));

async function run(s: Side, op: Op, step: number): Promise<void> {
  const { region, backend, clock } = s;
  try {
    switch (op.op) {
      case 'set':
        await region.set(op.key, `${op.key}${step}`, {
          ...(op.ttl === undefined ? {} : { expirationTime: op.ttl }),
          ...(op.tags === true ? { tags: ['t'] } : {}),
        });
        s.log.push('set');
        return;
      case 'raw': {
        const value = makeCachedValue(`${op.key}raw${step}`, clock() + op.aheadSeconds * 1000);
        await backend.set(op.key, value);
        s.log.push('raw');
        return;
      }
      case 'get': {
        const options =
          op.expiration === undefined && op.ignore === undefined
            ? undefined
            : {
                ...(op.expiration === undefined ? {} : { expirationTime: op.expiration }),
                ...(op.ignore === true ? { ignoreExpiration: true } : {}),
              };
        s.log.push(`get ${op.key} ${show(await region.get(op.key, options))}`);
        return;
      }
      case 'goc': {
        const options = op.expiration === undefined ? undefined : { expirationTime: op.expiration };
        s.log.push(`goc ${op.key} ${show(await region.getOrCreate(op.key, () => `${op.key}made${step}`, options))}`);
        return;
      }
      case 'delete':
        await region.delete(op.key);
        s.log.push('delete');
        return;
      case 'invalidate':
        region.invalidate(op.hard);
        s.log.push('invalidate');
        return;
      case 'invalidateTag':
        await region.invalidateTags(['t'], op.hard);
        s.log.push('invalidateTag');
        return;
      case 'replaceStrategy': {
        const next = s.strategy();
        if (op.invalidateFirst) next.invalidate(true);
        region.regionInvalidator = next;
        s.log.push('replaceStrategy');
        return;
      }
      case 'regionExpiration':
        region.expirationTime = op.value;
        s.log.push('regionExpiration');
        return;
      case 'advance':
        clock.advance(op.ms);
        s.log.push('advance');
        return;
    }
  } catch (error) {
    s.log.push(`${op.op} threw ${(error as Error).constructor.name}: ${(error as Error).message}`);
  }
}

/** What each store holds, in LRU/expiry order (read through the backend's own get, which keeps order for unbounded tables). */
function contents(s: Side): string {
  const held: string[] = [];
  for (const k of KEYS) {
    const value = s.backend.getSync(k);
    held.push(`${k}=${isNoValue(value) ? '-' : `${show(value.payload)}@${value.metadata.ct}`}`);
  }
  return `${held.join(' ')} size=${s.backend.size} calc=${s.backend.calculatedSize} clock=${s.clock()}`;
}

describe('attack-6: the store-judged hit decides as the general read, differentially', () => {
  it('random scenarios: answers, errors, stats, events, clock readings and store contents agree', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), async (setup, ops) => {
        const fast = side(setup, false);
        const slow = side(setup, true);
        for (let i = 0; i < ops.length; i++) {
          const op = ops[i] as Op;
          await run(fast, op, i);
          await run(slow, op, i);
          assert.deepEqual(fast.log, slow.log, `answers differ at step ${i} (${JSON.stringify(op)})`);
          assert.deepEqual(fast.region.stats(), slow.region.stats(), `stats differ at step ${i}`);
          assert.deepEqual(fast.events, slow.events, `events differ at step ${i}`);
        }
        assert.equal(contents(fast), contents(slow));
      }),
      { numRuns: 1500 },
    );
    assert.ok(shortcutHits > 300, `the shortcut answered ${shortcutHits} hits`);
  });
});
