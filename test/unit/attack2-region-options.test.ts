// Adversarial differential test of region.get / getOrCreate's per-call options on the synchronous hit path (a
// Dictionary read through its in-process store) against the proxied path (the same backend behind a no-op
// ProxyBackend): expirationTime -1, 0, null, a number or a string, ignoreExpiration, entryExpirationTime, tags
// and shouldCacheFn, over entries set with and without their own TTL and tags, soft and hard invalidation,
// and a manual clock; the region expires or not (expirationTime unset). The same answers, stats and events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, DictionaryBackend, NO_VALUE, ProxyBackend } from '../../src/index.js';
import { SEED } from '../support/model-harness.js';
import { recordEvents } from '../support/region-events.js';

const KEYS = ['a', 'b'];
const key = fc.constantFrom(...KEYS);
const readExpiration = fc.constantFrom<unknown>(undefined, -1, 0, null, 1, 3, '2s', 'bad', Number.NaN);
type Command =
  | { op: 'set'; key: string; ttl: unknown; tag: boolean }
  | { op: 'get'; key: string; expirationTime: unknown; ignoreExpiration: boolean | undefined }
  | { op: 'getOrCreate'; key: string; expirationTime: unknown; entry: unknown; tag: boolean; cache: boolean }
  | { op: 'invalidate'; hard: boolean }
  | { op: 'invalidateTags'; hard: boolean }
  | { op: 'advance'; ms: number };
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key,
      ttl: fc.constantFrom<unknown>(undefined, undefined, 1, 4),
      tag: fc.boolean(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('get' as const),
      key,
      expirationTime: readExpiration,
      ignoreExpiration: fc.constantFrom(undefined, true, false),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('getOrCreate' as const),
      key,
      expirationTime: readExpiration,
      entry: fc.constantFrom<unknown>(undefined, 1, null, 0),
      tag: fc.boolean(),
      cache: fc.boolean(),
    }),
    weight: 3,
  },
  fc.record({ op: fc.constant('invalidate' as const), hard: fc.boolean() }),
  fc.record({ op: fc.constant('invalidateTags' as const), hard: fc.boolean() }),
  { arbitrary: fc.constantFrom(1, 999, 1500, 1500, 2500).map((ms) => ({ op: 'advance' as const, ms })), weight: 3 },
);

const isOp =
  <K extends Command['op']>(...ops: K[]) =>
  (c: Command): c is Extract<Command, { op: K }> =>
    (ops as string[]).includes(c.op);
/** A random prefix, then a write, time passing and reads of that key: the ages around each expiration time are met often. */
const scenario: fc.Arbitrary<Command[]> = fc
  .tuple(
    fc.array(command, { maxLength: 20 }),
    command.filter(isOp('set', 'getOrCreate')),
    fc.array(command.filter(isOp('advance')), { minLength: 1, maxLength: 2 }),
    fc.array(command.filter(isOp('get', 'getOrCreate')), { minLength: 1, maxLength: 3 }),
  )
  .map(([prefix, write, waits, reads]) => [...prefix, write, ...waits, ...reads.map((r) => ({ ...r, key: write.key }))]);

class World {
  readonly region: CacheRegion;
  readonly events: string[] = [];
  now = Date.UTC(2026, 0, 1);
  #made = 0;

  constructor(proxied: boolean, expires: boolean) {
    const clock = (): number => this.now;
    const backend = new DictionaryBackend({ clock } as never);
    this.region = new CacheRegion({ clock }).configure(
      proxied ? new ProxyBackend().wrap(backend) : backend,
      expires ? { expirationTime: 2 } : {},
    );
    recordEvents(this.region, this.events);
  }

  run(c: Command, step: number): Promise<unknown> {
    const r = this.region;
    const show = (v: unknown): string => (v === NO_VALUE ? 'NO_VALUE' : String(v));
    switch (c.op) {
      case 'set':
        return r.set(c.key, `${c.key}@${step}`, {
          ...(c.ttl === undefined ? {} : { expirationTime: c.ttl as number }),
          ...(c.tag ? { tags: ['t'] } : {}),
        });
      case 'get':
        return r
          .get(c.key, {
            ...(c.expirationTime === undefined ? {} : { expirationTime: c.expirationTime as number }),
            ...(c.ignoreExpiration === undefined ? {} : { ignoreExpiration: c.ignoreExpiration }),
          })
          .then(show);
      case 'getOrCreate':
        return r
          .getOrCreate(c.key, () => `${c.key}#${++this.#made}`, {
            ...(c.expirationTime === undefined ? {} : { expirationTime: c.expirationTime as number }),
            ...(c.entry === undefined ? {} : { entryExpirationTime: c.entry as number }),
            ...(c.tag ? { tags: ['t'] } : {}),
            shouldCacheFn: () => c.cache,
          })
          .then(show);
      case 'invalidate':
        r.invalidate(c.hard);
        return Promise.resolve();
      case 'invalidateTags':
        return r.invalidateTags(['t'], c.hard);
      case 'advance':
        this.now += c.ms;
        return Promise.resolve();
    }
  }
}

describe('attack2: per-call options answer the same on the synchronous and proxied paths', () => {
  for (const expires of [true, false]) {
    it(`region ${expires ? 'with' : 'without'} an expiration time: random sequences`, async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (commands) => {
          const direct = new World(false, expires);
          const proxied = new World(true, expires);
          for (const [step, c] of commands.entries()) {
            const settle = (call: () => Promise<unknown>): Promise<unknown> => {
              let p: Promise<unknown>;
              try {
                p = call();
              } catch (error) {
                return Promise.resolve(`threw ${(error as Error).name}`);
              }
              return p.then(
                (v) => v,
                (e: unknown) => `rejected ${(e as Error).name}`,
              );
            };
            const a = await settle(() => direct.run(c, step));
            const b = await settle(() => proxied.run(c, step));
            assert.deepEqual(a, b, `step ${step} ${JSON.stringify(c)}`);
            assert.ok(typeof a !== 'string' || !a.startsWith('threw'), `${JSON.stringify(c)} threw synchronously: ${String(a)}`);
          }
          assert.deepEqual(direct.events, proxied.events);
          const x = direct.region.stats();
          const y = proxied.region.stats();
          assert.deepEqual([x.hits, x.misses, x.creates, x.staleServed], [y.hits, y.misses, y.creates, y.staleServed]);
        }),
        { seed: SEED, numRuns: 600 },
      );
    });
  }
});
