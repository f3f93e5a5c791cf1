// Adversarial differential test of region.get / getOrCreate / getMulti over a LocalTier, whose copies the region
// reads synchronously (src/storage.ts LocalCopies, the `Promise.resolve(payload)` hit path of src/region.ts),
// against the same stack with a no-op ProxyBackend outside the tier (every read through the tier's own async
// `get`). Random sequences with tags, entries of their own TTL, invalidation, tag invalidation and time
// passing, without and with a serializer: the same answers, stats and events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, DictionaryBackend, NO_VALUE, ProxyBackend } from '../../src/index.js';
import { LocalTier } from '../../src/tier/index.js';
import { SEED } from '../support/model-harness.js';
import { recordEvents } from '../support/region-events.js';

const KEYS = ['a', 'b', 'c'];
type Command =
  | { op: 'set'; key: string; tag: boolean; ttl: boolean }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'getOrCreate'; key: string }
  | { op: 'getMulti'; keys: string[] }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'invalidateTags'; hard: boolean }
  | { op: 'advance'; ms: number };

const key = fc.constantFrom(...KEYS);
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), key, tag: fc.boolean(), ttl: fc.boolean() }), weight: 3 },
  fc.record({ op: fc.constant('delete' as const), key }),
  { arbitrary: fc.record({ op: fc.constant('get' as const), key }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('getOrCreate' as const), key }), weight: 4 },
  fc.record({ op: fc.constant('getMulti' as const), keys: fc.array(key, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('invalidate' as const), hard: fc.boolean() }),
  fc.record({ op: fc.constant('invalidateTags' as const), hard: fc.boolean() }),
  { arbitrary: fc.constantFrom(1, 999, 1500, 3001).map((ms) => ({ op: 'advance' as const, ms })), weight: 2 },
);

const show = (v: unknown): string => (v === NO_VALUE ? 'NO_VALUE' : JSON.stringify(v));

class World {
  readonly region: CacheRegion;
  readonly events: string[] = [];
  now = Date.UTC(2026, 0, 1);
  #made = 0;

  constructor(proxied: boolean, serializer: boolean) {
    const clock = (): number => this.now;
    const tier = new LocalTier({ maxEntries: 2 });
    this.region = new CacheRegion({ clock, ...(serializer ? { serializer: 'json' as const } : {}) }).configure(
      new DictionaryBackend({ clock } as never),
      { expirationTime: 2, wrap: proxied ? [new ProxyBackend(), tier] : [tier] },
    );
    recordEvents(this.region, this.events);
  }

  async run(c: Command, step: number): Promise<unknown> {
    const r = this.region;
    switch (c.op) {
      case 'set':
        return r.set(c.key, { id: `${c.key}@${step}` }, { ...(c.tag ? { tags: ['t'] } : {}), ...(c.ttl ? { expirationTime: 1 } : {}) });
      case 'delete':
        return r.delete(c.key);
      case 'get':
        return show(await r.get(c.key));
      case 'getOrCreate':
        return show(await r.getOrCreate(c.key, () => ({ id: `${c.key}#${++this.#made}` })));
      case 'getMulti':
        return (await r.getMulti(c.keys)).map(show);
      case 'invalidate':
        return r.invalidate(c.hard);
      case 'invalidateTags':
        return r.invalidateTags(['t'], c.hard);
      case 'advance':
        this.now += c.ms;
        return undefined;
    }
  }
}

describe('attack2: reads through a LocalTier answer as through a proxy outside it', () => {
  for (const serializer of [false, true]) {
    it(`${serializer ? 'json serializer' : 'values'}: random sequences`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
          const direct = new World(false, serializer);
          const proxied = new World(true, serializer);
          for (const [step, c] of commands.entries()) {
            const settle = (p: Promise<unknown>): Promise<unknown> =>
              p.then(
                (v) => v,
                (e: unknown) => `error ${(e as Error).name}`,
              );
            assert.deepEqual(await settle(direct.run(c, step)), await settle(proxied.run(c, step)), `step ${step} ${JSON.stringify(c)}`);
          }
          assert.deepEqual(direct.events, proxied.events);
          const a = direct.region.stats();
          const b = proxied.region.stats();
          assert.deepEqual([a.hits, a.misses, a.creates, a.staleServed], [b.hits, b.misses, b.creates, b.staleServed]);
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }
});
