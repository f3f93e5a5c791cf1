// Adversarial, differential test of the region's hit paths over the Dictionary backend (src/region.ts `get`,
// `getOrCreate`, `has`; the table's lent CachedValue in src/backends/dictionary.ts). The same random sequence runs
// on two regions: one reading through the backend's in-process store (the synchronous path that lends one
// CachedValue per table), one over the same kind of backend behind a no-op ProxyBackend (every read through the
// backend's own `get`, which builds a CachedValue of its own). User code runs in the middle of every read and
// re-enters the cache: `hit`/`miss` listeners and the invalidation strategy read other keys (refilling the lent
// value) and write other keys or the very key being read. Both regions must give the same answers, the same
// counters and the same final contents. A lent value kept past user code would make them differ.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CacheRegion,
  DefaultInvalidationStrategy,
  DictionaryBackend,
  NO_VALUE,
  ProxyBackend,
  manualClock,
  type ManualClock,
  type RegionInvalidationStrategy,
} from '../../src/index.js';
import { SEED } from '../support/model-harness.js';

const KEYS = ['a', 'b', 'c', 'd'];

/** What user code does when it runs in the middle of a read (once per outer operation: no deeper nesting). */
type Reentry = 'none' | 'readOther' | 'writeOther' | 'writeSame' | 'deleteSame' | 'readOtherThenWriteSame';

type Command =
  | { op: 'set'; key: string }
  | { op: 'setOwnTtl'; key: string }
  | { op: 'getOrCreateMulti'; keys: string[] }
  | { op: 'get'; key: string; hook: Reentry; where: 'listener' | 'strategy' }
  | { op: 'getOrCreate'; key: string; hook: Reentry; where: 'listener' | 'strategy' }
  | { op: 'has'; key: string; hook: Reentry }
  | { op: 'getMulti'; keys: string[] }
  | { op: 'backendGet'; key: string }
  | { op: 'delete'; key: string }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'clear' };

const key = fc.constantFrom(...KEYS);
const hook = fc.constantFrom<Reentry>('none', 'readOther', 'writeOther', 'writeSame', 'deleteSame', 'readOtherThenWriteSame');
const where = fc.constantFrom<'listener' | 'strategy'>('listener', 'strategy');
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), key }), weight: 4 },
  fc.record({ op: fc.constant('setOwnTtl' as const), key }),
  fc.record({ op: fc.constant('getOrCreateMulti' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }) }),
  { arbitrary: fc.record({ op: fc.constant('get' as const), key, hook, where }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('getOrCreate' as const), key, hook, where }), weight: 4 },
  fc.record({ op: fc.constant('has' as const), key, hook }),
  fc.record({ op: fc.constant('getMulti' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('backendGet' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('invalidate' as const), hard: fc.boolean() }),
  { arbitrary: fc.constantFrom(1, 999, 1000, 1500, 2001).map((ms) => ({ op: 'advance' as const, ms })), weight: 3 },
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
);

interface Settings {
  backendTtl: number;
  maxEntries: number | undefined;
  maxSize: number | undefined;
  regionExpiration: number;
}

/** A payload; worlds make their own objects with the same ids, so answers are compared by id. */
interface Payload {
  id: string;
}
const idOf = (value: unknown): string => (value === NO_VALUE ? 'NO_VALUE' : (value as Payload).id);

/** One region and its backend, with the reentrant user code wired in. */
class World {
  readonly backend: DictionaryBackend;
  readonly region: CacheRegion;
  /** The reentry armed for the current operation, run once by the first listener or strategy call. */
  armed: { hook: Reentry; key: string; step: number } | undefined;
  readonly log: string[] = [];

  constructor(s: Settings, clock: ManualClock, proxied: boolean) {
    this.backend = new DictionaryBackend({
      clock,
      ...(s.backendTtl > 0 ? { expirationTime: s.backendTtl } : {}),
      ...(s.maxEntries === undefined ? {} : { maxEntries: s.maxEntries }),
      // Sizes 1 to 3 from the payload's id, the same in both worlds.
      ...(s.maxSize === undefined
        ? {}
        : { maxSize: s.maxSize, sizeCalculation: (payload: unknown) => ((payload as Payload).id.length % 3) + 1 }),
    });
    const inner = new DefaultInvalidationStrategy(clock);
    const strategy: RegionInvalidationStrategy = {
      invalidate: (hard) => inner.invalidate(hard),
      isHardInvalidated: (ct) => inner.isHardInvalidated(ct),
      isSoftInvalidated: (ct) => inner.isSoftInvalidated(ct),
      wasSoftInvalidated: () => inner.wasSoftInvalidated(),
      wasHardInvalidated: () => inner.wasHardInvalidated(),
      isInvalidated: (ct) => {
        this.#reenter('strategy');
        return inner.isInvalidated(ct);
      },
    };
    this.region = new CacheRegion({ clock }).configure(proxied ? new ProxyBackend().wrap(this.backend) : this.backend, {
      expirationTime: s.regionExpiration,
      regionInvalidator: strategy,
    });
    this.region.on('hit', () => this.#reenter('listener'));
    this.region.on('miss', () => this.#reenter('listener'));
  }

  #where: 'listener' | 'strategy' | 'any' = 'any';

  arm(hook: Reentry, key: string, step: number, where: 'listener' | 'strategy' | 'any'): void {
    this.armed = hook === 'none' ? undefined : { hook, key, step };
    this.#where = where;
  }

  /** Runs the armed reentry once: its synchronous part now (as user code would), its results logged. */
  #reenter(from: 'listener' | 'strategy'): void {
    const armed = this.armed;
    if (armed === undefined || (this.#where !== 'any' && this.#where !== from)) return;
    this.armed = undefined;
    const other = KEYS[(KEYS.indexOf(armed.key) + 1) % KEYS.length] as string;
    const note = (what: string) => (value: unknown) => this.log.push(`${armed.step} ${what} ${idOf(value)}`);
    const readOther = () => void this.region.get(other).then(note(`nested get ${other}`));
    const writeSame = () => void this.region.set(armed.key, { id: `nested-${armed.step}` });
    switch (armed.hook) {
      case 'readOther':
        readOther();
        break;
      case 'writeOther':
        void this.region.set(other, { id: `nested-${armed.step}` });
        break;
      case 'writeSame':
        writeSame();
        break;
      case 'deleteSame':
        void this.region.delete(armed.key);
        break;
      case 'readOtherThenWriteSame':
        readOther();
        writeSame();
        break;
      case 'none':
        break;
    }
  }
}

/** Lets every nested operation's continuation run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
};

async function runOn(world: World, clock: ManualClock, commands: Command[]): Promise<string[]> {
  const answers: string[] = [];
  for (const [step, c] of commands.entries()) {
    let answer = '';
    switch (c.op) {
      case 'set':
        await world.region.set(c.key, { id: `set-${step}` });
        break;
      case 'setOwnTtl':
        // An entry with its own TTL is kept whole: the key's entry changes kind (compact, whole, compact).
        await world.region.set(c.key, { id: `ttl-${step}` }, { expirationTime: 1.5 });
        break;
      case 'getOrCreateMulti':
        answer = (await world.region.getOrCreateMulti(c.keys, (...ks) => ks.map((k) => ({ id: `multi-${step}-${k}` }))))
          .map(idOf)
          .join(',');
        break;
      case 'get':
        world.arm(c.hook, c.key, step, c.where);
        answer = idOf(await world.region.get(c.key));
        break;
      case 'getOrCreate':
        world.arm(c.hook, c.key, step, c.where);
        answer = idOf(await world.region.getOrCreate(c.key, () => ({ id: `created-${step}` })));
        break;
      case 'has':
        world.arm(c.hook, c.key, step, 'strategy');
        answer = String(await world.region.has(c.key));
        break;
      case 'getMulti':
        answer = (await world.region.getMulti(c.keys)).map(idOf).join(',');
        break;
      case 'backendGet': {
        const got = await world.backend.get(c.key);
        answer = got === NO_VALUE ? 'NO_VALUE' : `${idOf(got.payload)}@${got.metadata.ct}`;
        break;
      }
      case 'delete':
        await world.region.delete(c.key);
        break;
      case 'invalidate':
        world.region.invalidate(c.hard);
        break;
      case 'advance':
        clock.advance(c.ms);
        break;
      case 'clear':
        world.backend.clear();
        break;
    }
    world.armed = undefined;
    await settle();
    answers.push(`${step} ${c.op} ${answer}`);
  }
  // The final contents, read without touching the LRU order of either (every key, in the same order).
  for (const k of KEYS) {
    const got = world.backend.getSync(k);
    answers.push(`final ${k} ${got === NO_VALUE ? 'NO_VALUE' : `${idOf(got.payload)}@${got.metadata.ct}`}`);
  }
  const { hits, misses } = world.region.stats();
  answers.push(`stats hits=${hits} misses=${misses}`, ...world.log);
  return answers;
}

const settings: fc.Arbitrary<Settings> = fc.record({
  backendTtl: fc.constantFrom(0, 1, 3),
  maxEntries: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  maxSize: fc.option(fc.integer({ min: 2, max: 6 }), { nil: undefined }),
  regionExpiration: fc.constantFrom(1, 2),
});

describe('region hit paths with reentrant user code: the lending path answers as the proxied path does', () => {
  it('random sequences (property)', async () => {
    await fc.assert(
      fc.asyncProperty(settings, fc.array(command, { minLength: 1, maxLength: 30 }), async (s, commands) => {
        // One clock per world, at the same instants: neither world's reads move the other's time.
        const clockA = manualClock();
        const clockB = manualClock();
        const lending = await runOn(new World(s, clockA, false), clockA, commands);
        const proxied = await runOn(new World(s, clockB, true), clockB, commands);
        assert.deepEqual(lending, proxied);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a hit listener that reads another key and writes the key being read: get and getOrCreate still return the value read', async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ clock });
    const region = new CacheRegion({ clock }).configure(backend, { expirationTime: 10 });
    await region.set('a', { id: 'a1' });
    await region.set('b', { id: 'b1' });
    let reenter = true;
    region.on('hit', ({ key }) => {
      if (!reenter || key !== 'a') return;
      reenter = false;
      void region.get('b');
      void region.set('a', { id: 'a2' });
    });
    assert.equal(idOf(await region.get('a')), 'a1');
    reenter = true;
    assert.equal(idOf(await region.getOrCreate('a', () => ({ id: 'created' }))), 'a2');
    assert.equal(idOf(await region.get('a')), 'a2');
  });

  it("a soft-invalidated value served stale to a second caller is its own key's, though the strategy read another key", async () => {
    const clock = manualClock();
    const backend = new DictionaryBackend({ clock });
    const inner = new DefaultInvalidationStrategy(clock);
    let region: CacheRegion | undefined;
    let nested = false;
    const strategy: RegionInvalidationStrategy = {
      invalidate: (hard) => inner.invalidate(hard),
      isHardInvalidated: (ct) => inner.isHardInvalidated(ct),
      isSoftInvalidated: (ct) => inner.isSoftInvalidated(ct),
      wasSoftInvalidated: () => inner.wasSoftInvalidated(),
      wasHardInvalidated: () => inner.wasHardInvalidated(),
      isInvalidated: (ct) => {
        if (!nested) {
          nested = true;
          void region?.get('other').finally(() => {
            nested = false;
          });
        }
        return inner.isInvalidated(ct);
      },
    };
    region = new CacheRegion({ clock }).configure(backend, { expirationTime: 60, regionInvalidator: strategy });
    await region.set('k', { id: 'k-old' });
    await region.set('other', { id: 'other' });
    clock.advance(1000);
    region.invalidate(false);
    clock.advance(1000);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = region.getOrCreate('k', async () => {
      await gate;
      return { id: 'k-new' };
    });
    await settle();
    const second = await region.getOrCreate('k', () => ({ id: 'never' }));
    assert.equal(idOf(second), 'k-old', 'the stale value of k, not the value of the key the strategy read');
    release();
    assert.equal(idOf(await first), 'k-new');
  });
});

describe('region #backendKey: what a key mangler returns', () => {
  const region = (keyMangler: (key: string) => string): CacheRegion => new CacheRegion({ keyMangler }).configure(new DictionaryBackend());

  it('a new string equal to the key is the key (get, set, getOrCreate, getMulti agree)', async () => {
    const r = region((key) => ['', key].join(''));
    await r.set('k', { id: 'v' });
    assert.equal(idOf(await r.get('k')), 'v');
    assert.equal(idOf(await r.getOrCreate('k', () => ({ id: 'never' }))), 'v');
    assert.deepEqual((await r.getMulti(['k'])).map(idOf), ['v']);
  });

  it('every changed result that is no valid key is refused, on every path, before the backend is touched', async () => {
    for (const bad of ['', 'k\ud800', '\udc00', 42, null, new String('k')]) {
      const backend = new DictionaryBackend();
      const r = new CacheRegion({ keyMangler: () => bad as string }).configure(backend);
      const refused = (error: unknown): boolean => error instanceof Error && error.message.includes('the key mangler result');
      await assert.rejects(r.get('k'), refused, String(bad));
      await assert.rejects(r.set('k', 1), refused, String(bad));
      await assert.rejects(
        r.getOrCreate('k', () => 1),
        refused,
        String(bad),
      );
      await assert.rejects(r.getMulti(['k']), refused, String(bad));
      await assert.rejects(r.delete('k'), refused, String(bad));
      assert.equal(backend.size, 0);
    }
  });
});
