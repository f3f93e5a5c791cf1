// Model-based test of the Dictionary backend (issue 19): random sequences of sets, reads, deletes,
// overwrites, clears and clock steps, on a manual clock, run against the backend and against a plain `Map`
// model of its documented rules (docs/backends/dictionary.md): one lifetime for every entry from its
// last set, a miss from the instant it expires, expired entries removed by the read that finds them and
// swept from the oldest end by every set, and under a bound (`maxEntries`, `maxSize`) reads and
// overwrites make an entry the most recently used and eviction takes the least recently used. Every
// result is compared (the very payload stored, each entry's payload its own object, and equal metadata;
// entries with their own TTL, which the table keeps whole, beside plain ones, which it keeps compact), and
// `size` and `calculatedSize` after every step.
// Named mutation-dictionary-* so `npm run mutation -- dictionary` runs it too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DictionaryBackend, MemoryBackend, NO_VALUE, manualClock, type CachedValue } from '../../src/index.js';
import { makeCachedValue } from '../../src/backend.js';
import { IN_PROCESS_STORE } from '../../src/storage.js';
import { SEED } from '../support/model-harness.js';

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A payload: its size for `sizeCalculation`, and an id that makes it the only one of its kind. */
interface Payload {
  size: number;
  id: number;
}

/** `got` is the entry `expected` stands for: NO_VALUE for NO_VALUE, else the same payload object and equal metadata. */
function assertEntry(got: CachedValue | typeof NO_VALUE, expected: CachedValue | typeof NO_VALUE, where: string): void {
  if (expected === NO_VALUE || got === NO_VALUE) {
    assert.equal(got, expected, where);
    return;
  }
  assert.equal(got.payload, expected.payload, where);
  assert.deepEqual(got.metadata, expected.metadata, where);
}

/** The backend's settings for one sequence (seconds, entries, size units). */
interface Settings {
  ttl: number;
  maxEntries: number | undefined;
  maxSize: number | undefined;
  /** Store into a `cache_dict` Map of the test's own (no TTL, no maxSize). */
  shared: boolean;
}

type Command =
  | { op: 'set'; key: string; length: number }
  | { op: 'setMulti'; keys: string[]; length: number }
  | { op: 'get'; key: string }
  | { op: 'getMulti'; keys: string[] }
  | { op: 'storeRead'; key: string; passNow: boolean }
  | { op: 'storeWrite'; key: string; length: number; passNow: boolean }
  | { op: 'delete'; key: string }
  | { op: 'deleteMulti'; keys: string[] }
  | { op: 'clear' }
  | { op: 'advance'; ms: number };

const key = fc.constantFrom(...KEYS);
const keys = fc.uniqueArray(key, { minLength: 1, maxLength: 4 });
const length = fc.integer({ min: 1, max: 6 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), key, length }), weight: 4 },
  fc.record({ op: fc.constant('setMulti' as const), keys, length }),
  { arbitrary: fc.record({ op: fc.constant('get' as const), key }), weight: 3 },
  fc.record({ op: fc.constant('getMulti' as const), keys }),
  fc.record({ op: fc.constant('storeRead' as const), key, passNow: fc.boolean() }),
  fc.record({ op: fc.constant('storeWrite' as const), key, length, passNow: fc.boolean() }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('deleteMulti' as const), keys }),
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
  { arbitrary: fc.constantFrom(1, 499, 500, 999, 1000, 1001, 3000).map((ms) => ({ op: 'advance' as const, ms })), weight: 3 },
);

const settings: fc.Arbitrary<Settings> = fc.oneof(
  fc.record({
    ttl: fc.constantFrom(0, 1, 2),
    maxEntries: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    maxSize: fc.option(fc.integer({ min: 1, max: 14 }), { nil: undefined }),
    shared: fc.constant(false),
  }),
  fc.record({
    ttl: fc.constant(0),
    maxEntries: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    maxSize: fc.constant(undefined),
    shared: fc.constant(true),
  }),
);

/**
 * The rules, on a Map whose insertion order is the backend's list: oldest (next to expire or evict) first.
 * Under a bound the list is in write order while the table is small (at most half `maxEntries`, at most
 * 16,384 entries, and at most half `maxSize`), each read or write numbering its entry's use; the first set
 * that takes it past that (and so any eviction) puts the list in order of use, and from then on, until
 * `clear()`, reads and writes move their entry to the newest end.
 */
class Model {
  readonly entries = new Map<string, { value: CachedValue; expiresAt: number; size: number }>();
  total = 0;
  readonly #lru: boolean;
  #inWriteOrder: boolean;
  readonly #lastUse = new Map<string, number>();
  #uses = 0;

  constructor(readonly s: Settings) {
    this.#lru = s.maxEntries !== undefined || s.maxSize !== undefined;
    // A cache_dict Map is kept in order of use throughout (a read or write deletes and re-sets its key).
    this.#inWriteOrder = this.#lru && !s.shared;
  }

  /** A read or write of `key` under a bound: the most recently used from now on. */
  #use(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (this.#inWriteOrder) this.#lastUse.set(key, ++this.#uses);
    else {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
  }

  #orderByUse(): void {
    const byUse = [...this.entries].sort(([a], [b]) => (this.#lastUse.get(a) as number) - (this.#lastUse.get(b) as number));
    this.entries.clear();
    for (const [k, entry] of byUse) this.entries.set(k, entry);
    this.#inWriteOrder = false;
  }

  read(key: string, now: number): CachedValue | typeof NO_VALUE {
    const entry = this.entries.get(key);
    if (entry === undefined) return NO_VALUE;
    if (this.s.ttl > 0 && now >= entry.expiresAt) {
      this.remove(key);
      return NO_VALUE;
    }
    if (this.#lru) this.#use(key);
    return entry.value;
  }

  write(key: string, value: CachedValue, now: number): void {
    const size = (value.payload as Payload).size;
    if (this.s.maxSize !== undefined && size > this.s.maxSize) {
      this.remove(key);
      return;
    }
    // Ordered (a TTL or a bound): an overwrite moves to the newest end; otherwise it keeps its place.
    if (this.#lru || this.s.ttl > 0) this.remove(key);
    else if (this.entries.has(key)) this.total -= this.entries.get(key)?.size ?? 0;
    this.entries.set(key, { value, expiresAt: now + this.s.ttl * 1000, size });
    this.total += size;
    if (this.#lru) this.#use(key);
    if (this.s.ttl > 0) {
      for (const [k, entry] of this.entries) {
        if (entry.expiresAt > now) break;
        this.remove(k);
      }
    }
    const smallUpTo = Math.min(Math.floor((this.s.maxEntries ?? Number.POSITIVE_INFINITY) / 2), 16_384);
    if (this.#inWriteOrder && (this.entries.size > smallUpTo || 2 * this.total > (this.s.maxSize ?? Number.POSITIVE_INFINITY)))
      this.#orderByUse();
    if (this.s.maxEntries !== undefined && this.entries.size > this.s.maxEntries) this.removeOldest();
    if (this.s.maxSize !== undefined) while (this.total > this.s.maxSize) this.removeOldest();
  }

  remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.size;
  }

  removeOldest(): void {
    const [oldest] = this.entries.keys();
    if (oldest !== undefined) this.remove(oldest);
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
    this.#inWriteOrder = this.#lru && !this.s.shared;
  }
}

async function runSequence(s: Settings, commands: Command[]): Promise<void> {
  const clock = manualClock();
  const cacheDict = new Map<string, CachedValue>();
  const args = {
    clock,
    ...(s.ttl > 0 ? { expirationTime: s.ttl } : {}),
    ...(s.maxEntries !== undefined ? { maxEntries: s.maxEntries } : {}),
    ...(s.maxSize !== undefined ? { maxSize: s.maxSize, sizeCalculation: (payload: unknown) => (payload as Payload).size } : {}),
  };
  const backend = s.shared ? new MemoryBackend({ ...args, cacheDict }) : new DictionaryBackend(args);
  const store = backend[IN_PROCESS_STORE];
  assert.ok(store !== undefined, 'the backend declares its in-process store');
  const model = new Model(s);
  let n = 0;
  let made = 0;
  // Every third entry carries its own TTL (kept whole by the table), the others are plain (kept compact).
  const entry = (size: number): CachedValue => {
    made++;
    return makeCachedValue({ size, id: made }, clock() - 5, made % 3 === 0 ? 60 : null);
  };
  for (const [step, c] of commands.entries()) {
    const where = `step ${step} ${JSON.stringify(c)}`;
    const now = clock();
    switch (c.op) {
      case 'set': {
        const value = entry(c.length);
        await backend.set(c.key, value);
        model.write(c.key, value, now);
        break;
      }
      case 'setMulti': {
        const values = new Map(c.keys.map((k) => [k, entry(c.length)]));
        await backend.setMulti(values);
        for (const [k, v] of values) model.write(k, v, now);
        break;
      }
      case 'get':
        assertEntry(await backend.get(c.key), model.read(c.key, now), where);
        break;
      case 'getMulti':
        assert.deepEqual(
          await backend.getMulti(c.keys),
          c.keys.map((k) => model.read(k, now)),
          where,
        );
        break;
      case 'storeRead':
        assertEntry(store.read(c.key, c.passNow ? now : Number.NaN), model.read(c.key, now), where);
        break;
      case 'storeWrite': {
        const value = entry(c.length);
        store.write(c.key, value, c.passNow ? now : Number.NaN);
        model.write(c.key, value, now);
        break;
      }
      case 'delete':
        await backend.delete(c.key);
        model.remove(c.key);
        break;
      case 'deleteMulti':
        await backend.deleteMulti(c.keys);
        for (const k of c.keys) model.remove(k);
        break;
      case 'clear':
        backend.clear();
        model.clear();
        break;
      case 'advance':
        clock.advance(c.ms);
        break;
    }
    n++;
    assert.equal(backend.size, model.entries.size, `size after ${where}`);
    assert.equal(backend.calculatedSize, s.maxSize === undefined ? 0 : model.total, `calculatedSize after ${where}`);
    if (s.shared) assert.deepEqual([...cacheDict.keys()], [...model.entries.keys()], `the cache_dict Map's order after ${where}`);
  }
  assert.equal(n, commands.length);
}

describe('DictionaryBackend against a Map model of its rules', () => {
  it('random sequences: TTL or none, maxEntries and maxSize or none, own table or a cache_dict Map', async () => {
    await fc.assert(
      fc.asyncProperty(settings, fc.array(command, { maxLength: 60 }), (s, commands) => runSequence(s, commands)),
      { numRuns: 400, seed: SEED, includeErrorInReport: true },
    );
  });

  it('long sequences over many keys, so slots are freed, reused and the typed arrays grow', async () => {
    const many = Array.from({ length: 64 }, (_, i) => `k${i}`);
    const manyKey = fc.constantFrom(...many);
    const longCommand: fc.Arbitrary<Command> = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('set' as const), key: manyKey, length }), weight: 5 },
      { arbitrary: fc.record({ op: fc.constant('get' as const), key: manyKey }), weight: 3 },
      fc.record({ op: fc.constant('delete' as const), key: manyKey }),
      fc.constantFrom(1, 500, 1000).map((ms) => ({ op: 'advance' as const, ms })),
    );
    const bounded = fc.record({
      ttl: fc.constantFrom(0, 2),
      maxEntries: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
      maxSize: fc.option(fc.integer({ min: 20, max: 120 }), { nil: undefined }),
      shared: fc.constant(false),
    });
    await fc.assert(
      fc.asyncProperty(bounded, fc.array(longCommand, { minLength: 50, maxLength: 400 }), (s, commands) => runSequence(s, commands)),
      { numRuns: 60, seed: SEED, includeErrorInReport: true },
    );
  });
});
