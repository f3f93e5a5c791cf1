/**
 * Model-based property tests (issue 14): random sequences of set, get, get_multi, get_or_create,
 * get_or_create_multi, delete, hard and soft invalidation, clock steps and concurrent callers, on a
 * manual clock, each operation checked against the reference model of dogpile's rules (model.ts).
 * The Dictionary backend here; the remote backends in test/interop/differential/model-remote.test.ts.
 */
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, DictionaryBackend } from '../../src/index.js';
import { LocalTier, SharedInvalidationStrategy } from '../../src/tier/index.js';
import { SEED, commandArbitrary, regionExpiration, runSequence, type RegionFactory } from '../support/model-harness.js';

const dictionary: RegionFactory = (options, expirationTime) => new CacheRegion(options).configure('dictionary', { expirationTime });
// A Dictionary on the region's own clock: the hit path then lets the store judge freshness itself
// (InProcessStore.fresh), which the registry-made one above, with a clock of its own, never does.
const sharedClockDictionary: RegionFactory = (options, expirationTime) =>
  new CacheRegion(options).configure(new DictionaryBackend({ clock: options.clock }), { expirationTime });
const boundedSharedClockDictionary: RegionFactory = (options, expirationTime) =>
  new CacheRegion(options).configure(new DictionaryBackend({ clock: options.clock, maxEntries: 1000 }), { expirationTime });

// A local tier on the region's clock in front of a Dictionary (the tier then judges its copies' hits
// itself, LocalCopies.freshFor), with the default strategy or a SharedInvalidationStrategy (whose invalidation
// time the tier's judgement reads). The copies' local TTL outlives every run: a copy is dropped by the
// writes and deletes of the run, as in one process.
const tierOverDictionary: RegionFactory = (options, expirationTime) =>
  new CacheRegion(options).configure(new DictionaryBackend(), {
    expirationTime,
    wrap: [new LocalTier({ clock: options.clock, ttl: 86_400 })],
  });
let sharedNames = 0;
const tierWithSharedStrategy: RegionFactory = async (options, expirationTime) => {
  const strategy = new SharedInvalidationStrategy({ name: `model-${sharedNames++}`, clock: options.clock });
  const region = new CacheRegion(options).configure(new DictionaryBackend(), {
    expirationTime,
    wrap: [new LocalTier({ clock: options.clock, ttl: 86_400 }), strategy],
    regionInvalidator: strategy,
  });
  await strategy.ready();
  return region;
};

describe('the region against the model of dogpile rules (Dictionary backend)', () => {
  it('random sequences with concurrent callers (through a proxy: every read is async)', async () => {
    await fc.assert(
      fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: true }), { maxLength: 40 }), (expiration, commands) =>
        runSequence(dictionary, expiration, commands),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });

  it('random sequences on the in-memory fast path (no proxy, synchronous reads)', async () => {
    await fc.assert(
      fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: false }), { maxLength: 40 }), (expiration, commands) =>
        runSequence(dictionary, expiration, commands, { countReads: false }),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });

  for (const [name, factory] of [
    ['sharing the region clock', sharedClockDictionary],
    ['sharing the region clock, bounded (maxEntries)', boundedSharedClockDictionary],
    ['behind a local tier on the region clock', tierOverDictionary],
    ['behind a local tier, with a SharedInvalidationStrategy', tierWithSharedStrategy],
  ] as const) {
    it(`random sequences on the in-memory fast path, the store ${name} (it judges hits itself)`, async () => {
      await fc.assert(
        fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: false }), { maxLength: 40 }), (expiration, commands) =>
          runSequence(factory, expiration, commands, { countReads: false }),
        ),
        { numRuns: 200, seed: SEED, includeErrorInReport: true },
      );
    });

    it(`same-instant invalidation, the store ${name}`, async () => {
      await fc.assert(
        fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: false }), { maxLength: 40 }), (expiration, commands) =>
          runSequence(factory, expiration, commands, { countReads: false, sameInstantInvalidation: true }),
        ),
        { numRuns: 200, seed: SEED, includeErrorInReport: true },
      );
    });
  }

  it('random sequences with the background creation runner (stale values served while regenerating)', async () => {
    await fc.assert(
      fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: true }), { maxLength: 40 }), (expiration, commands) =>
        runSequence(dictionary, expiration, commands, { background: true }),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });

  it('random sequences with a JSON serializer and the sha1 key mangler', async () => {
    await fc.assert(
      fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: true }), { maxLength: 40 }), (expiration, commands) =>
        runSequence(dictionary, expiration, commands, { serializer: 'json', sha1Keys: true }),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });

  it("concurrent callers whose creators' values are refused by should_cache_fn (issue 14 known item 5)", async () => {
    await fc.assert(
      fc.asyncProperty(
        regionExpiration,
        fc.array(commandArbitrary({ concurrent: true, concurrentRefusals: true }), { maxLength: 40 }),
        (expiration, commands) => runSequence(dictionary, expiration, commands),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });

  it('invalidation in the same millisecond as the writes before it (issue 14 known item 1)', async () => {
    await fc.assert(
      fc.asyncProperty(regionExpiration, fc.array(commandArbitrary({ concurrent: true }), { maxLength: 40 }), (expiration, commands) =>
        runSequence(dictionary, expiration, commands, { sameInstantInvalidation: true }),
      ),
      { numRuns: 200, seed: SEED, includeErrorInReport: true },
    );
  });
});
