// Adversarial test: a memoized function (src/memoize.ts) returns a promise, so it fails by rejecting, as
// region.get / getOrCreate do and as cacheMultiOnArguments' function already did: an argument its key
// generator cannot key, or an expirationTime function that throws, must not throw synchronously out of
// the memoized function or its get / set / invalidate / refresh helpers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, ValidationError } from '../../src/index.js';

type Helpers = Record<'get' | 'set' | 'invalidate' | 'refresh', (...args: unknown[]) => Promise<unknown>>;

/** Calls `call`; fails if it throws synchronously; returns what it rejected with. */
async function rejection(what: string, call: () => unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    assert.fail(`${what} threw synchronously: ${String(error)}`);
  }
  assert.ok(result instanceof Promise, `${what} returned ${String(result)}`);
  return result.then(
    () => assert.fail(`${what} resolved`),
    (error: unknown) => error,
  );
}

describe('attack2: memoized functions reject, never throw', () => {
  const unkeyable: unknown[] = [{ id: 1 }, Symbol('s'), new Map()];

  it('cacheOnArguments: an argument the key generator refuses', async () => {
    const region = new CacheRegion().configure('dictionary');
    const f = region.cacheOnArguments({ namespace: 'f' })((_x: unknown) => 1) as ((x: unknown) => Promise<unknown>) & Helpers;
    for (const arg of unkeyable) {
      for (const [what, call] of [
        ['f(arg)', () => f(arg)],
        ['f.get(arg)', () => f.get(arg)],
        ['f.set(1, arg)', () => f.set(1, arg)],
        ['f.invalidate(arg)', () => f.invalidate(arg)],
        ['f.refresh(arg)', () => f.refresh(arg)],
      ] as const) {
        assert.ok((await rejection(`${what} for ${String(arg)}`, call)) instanceof ValidationError, what);
      }
    }
  });

  it('cacheOnArguments: an expirationTime function that throws', async () => {
    const region = new CacheRegion().configure('dictionary');
    const f = region.cacheOnArguments({
      namespace: 'e',
      expirationTime: () => {
        throw new Error('no expiration today');
      },
    })((x: number) => x);
    assert.match(String(await rejection('f(1)', () => f(1))), /no expiration today/);
  });

  it('cacheMultiOnArguments: an argument the key generator refuses, through every helper', async () => {
    const region = new CacheRegion().configure('dictionary');
    const g = region.cacheMultiOnArguments({ namespace: 'g' })((...xs: unknown[]) => xs.map(() => 1)) as ((
      ...xs: unknown[]
    ) => Promise<unknown>) &
      Helpers;
    for (const arg of unkeyable) {
      for (const [what, call] of [
        ['g(arg)', () => g(arg)],
        ['g.get(arg)', () => g.get(arg)],
        ['g.set(new Map([[arg, 1]]))', () => g.set(new Map([[arg, 1]]))],
        ['g.invalidate(arg)', () => g.invalidate(arg)],
        ['g.refresh(arg)', () => g.refresh(arg)],
      ] as const) {
        assert.ok((await rejection(`${what} for ${String(arg)}`, call)) instanceof ValidationError, what);
      }
    }
  });
});
