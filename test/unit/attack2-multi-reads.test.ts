// Adversarial differential test of region.getMulti / getOrCreateMulti over a DictionaryBackend, which now read
// through the backend's in-process store and copy each value (src/storage.ts ValueStorage.readMulti), against
// the same backend behind a no-op ProxyBackend (the backend's own getMulti). Random sequences with duplicate
// keys, tags, entries of their own TTL, hard and soft invalidation, tag invalidation and time passing, over a
// plain table, one with a TTL, an LRU bound, and a shared cache_dict: the same answers, stats, events and
// final contents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, DictionaryBackend, NO_VALUE, ProxyBackend } from '../../src/index.js';
import { SEED } from '../support/model-harness.js';
import { recordEvents } from '../support/region-events.js';

const KEYS = ['a', 'b', 'c'];
type Command =
  | { op: 'set'; key: string; tag: boolean; ttl: boolean }
  | { op: 'delete'; key: string }
  | { op: 'getMulti'; keys: string[] }
  | { op: 'getOrCreateMulti'; keys: string[]; cache: boolean }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'invalidateTags'; hard: boolean }
  | { op: 'advance'; ms: number };

const key = fc.constantFrom(...KEYS);
const keys = fc.array(key, { minLength: 1, maxLength: 4 }); // duplicates on purpose
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), key, tag: fc.boolean(), ttl: fc.boolean() }), weight: 4 },
  fc.record({ op: fc.constant('delete' as const), key }),
  { arbitrary: fc.record({ op: fc.constant('getMulti' as const), keys }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('getOrCreateMulti' as const), keys, cache: fc.boolean() }), weight: 4 },
  fc.record({ op: fc.constant('invalidate' as const), hard: fc.boolean() }),
  fc.record({ op: fc.constant('invalidateTags' as const), hard: fc.boolean() }),
  { arbitrary: fc.constantFrom(1, 999, 1500, 3001).map((ms) => ({ op: 'advance' as const, ms })), weight: 2 },
);

type Kind = 'plain' | 'ttl' | 'lru' | 'cacheDict';

class World {
  readonly region: CacheRegion;
  readonly backend: DictionaryBackend;
  readonly events: string[] = [];
  now = Date.UTC(2026, 0, 1);
  #made = 0;

  constructor(kind: Kind, proxied: boolean) {
    const clock = (): number => this.now;
    const args =
      kind === 'ttl'
        ? { expiration_time: 3, clock }
        : kind === 'lru'
          ? { max_entries: 2, clock }
          : kind === 'cacheDict'
            ? { cache_dict: new Map(), clock }
            : { clock };
    this.backend = new DictionaryBackend(args as never);
    this.region = new CacheRegion({ clock }).configure(proxied ? new ProxyBackend().wrap(this.backend) : this.backend, {
      expirationTime: 2,
    });
    recordEvents(this.region, this.events);
  }

  async run(c: Command, step: number): Promise<unknown> {
    const r = this.region;
    switch (c.op) {
      case 'set':
        return r.set(c.key, { id: `${c.key}@${step}` }, { ...(c.tag ? { tags: ['t'] } : {}), ...(c.ttl ? { expirationTime: 1 } : {}) });
      case 'delete':
        return r.delete(c.key);
      case 'getMulti':
        return (await r.getMulti(c.keys)).map(show);
      case 'getOrCreateMulti': {
        const got = await r.getOrCreateMulti(c.keys, (...missing: string[]) => missing.map((k) => ({ id: `${k}#${++this.#made}` })), {
          shouldCacheFn: () => c.cache,
        });
        return got.map(show);
      }
      case 'invalidate':
        return r.invalidate(c.hard);
      case 'invalidateTags':
        return r.invalidateTags(['t'], c.hard);
      case 'advance':
        this.now += c.ms;
        return undefined;
    }
  }

  async contents(): Promise<unknown> {
    const values = await this.backend.getMulti(KEYS);
    return values.map((v) => (v === NO_VALUE ? 'none' : `${show(v.payload)} ct=${v.metadata.ct}`));
  }
}

const show = (v: unknown): string => (v === NO_VALUE ? 'NO_VALUE' : String((v as { id?: unknown })?.id ?? v));

describe('attack2: multi reads over a Dictionary answer as through a proxy', () => {
  for (const kind of ['plain', 'ttl', 'lru', 'cacheDict'] as const) {
    it(`${kind}: random sequences`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
          const direct = new World(kind, false);
          const proxied = new World(kind, true);
          for (const [step, c] of commands.entries()) {
            const a = await direct.run(c, step).then(
              (v) => v,
              (e: unknown) => `error ${(e as Error).name}`,
            );
            const b = await proxied.run(c, step).then(
              (v) => v,
              (e: unknown) => `error ${(e as Error).name}`,
            );
            assert.deepEqual(a, b, `step ${step} ${JSON.stringify(c)}`);
          }
          assert.deepEqual(direct.events, proxied.events);
          const { hits, misses, creates, staleServed } = direct.region.stats();
          const p = proxied.region.stats();
          assert.deepEqual(
            { hits, misses, creates, staleServed },
            { hits: p.hits, misses: p.misses, creates: p.creates, staleServed: p.staleServed },
          );
          assert.deepEqual(await direct.contents(), await proxied.contents());
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }
});
