// cacheOnArguments / cacheMultiOnArguments (src/memoize.ts) through the region, with a manual clock:
// written to kill the mutants the region suites left alive (a fixed expiration time, null meaning
// "the region's", the decorator's method name, the errors for misuse, asDict's caching rules).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/clock.js';
import { CacheRegion, NO_VALUE, ValidationError } from '../../src/index.js';

function regionWith(expirationTime: number | null) {
  const clock = manualClock();
  const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime });
  return { region, clock };
}

describe('cacheOnArguments', () => {
  it("a fixed expirationTime applies (not only a function), shorter than the region's", async () => {
    const { region, clock } = regionWith(3600);
    let calls = 0;
    const cached = region.cacheOnArguments({ namespace: 'fixed', expirationTime: 1 })((x: number) => x + ++calls);
    assert.equal(await cached(1), 2);
    clock.advance(500);
    assert.equal(await cached(1), 2, 'fresh for 1 s');
    clock.advance(1000);
    assert.equal(await cached(1), 3, 'expired after 1 s although the region keeps values for an hour');
  });

  it("an expiration function returning null or undefined falls back to the region's expiration", async () => {
    for (const nothing of [null, undefined]) {
      const { region, clock } = regionWith(1);
      let calls = 0;
      const cached = region.cacheOnArguments({ namespace: 'fallback', expirationTime: () => nothing })(() => ++calls);
      assert.equal(await cached(), 1);
      clock.advance(2000);
      assert.equal(await cached(), 2, `${String(nothing)}: the region's 1 s applies, so the value expired`);
    }
  });

  it('shouldCacheFn decides what is stored', async () => {
    const { region } = regionWith(null);
    let calls = 0;
    const cached = region.cacheOnArguments({ namespace: 'should', shouldCacheFn: (v) => v !== 'skip' })((x: string) => {
      calls++;
      return x;
    });
    await cached('skip');
    await cached('skip');
    await cached('keep');
    await cached('keep');
    assert.equal(calls, 3);
    assert.equal(await region.get('should|skip'), NO_VALUE);
    assert.equal(await region.get('should|keep'), 'keep');
  });

  it("without a namespace the key starts with the function's name", async () => {
    const { region } = regionWith(null);
    const cached = region.cacheOnArguments()(function lookupUser(id: number) {
      return `user ${id}`;
    });
    assert.equal(await cached(7), 'user 7');
    assert.equal(await region.get('lookupUser|7'), 'user 7');
  });

  it("as a method decorator the key uses the method's name, even when another decorator renamed the function", async () => {
    const { region } = regionWith(null);
    // A decorator applied first that replaces the method with a differently named function.
    const wrapped = (fn: (id: number) => Promise<string>, _context: ClassMethodDecoratorContext) =>
      async function replacement(this: unknown, id: number): Promise<string> {
        return fn.call(this, id);
      };
    class Users {
      @region.cacheOnArguments()
      @wrapped
      async load(id: number): Promise<string> {
        return `user ${id}`;
      }
    }
    assert.equal(await new Users().load(3), 'user 3');
    assert.equal(await region.get('load|3'), 'user 3');
    assert.equal(await region.get('replacement|3'), NO_VALUE);
  });

  it('refuses to decorate anything but a method or a function, naming what it got', () => {
    const { region } = regionWith(null);
    const memoize = region.cacheOnArguments({ namespace: 'n' }) as unknown as (fn: unknown, context?: unknown) => unknown;
    assert.throws(() => memoize(() => 1, { kind: 'getter', name: 'total' }), {
      name: 'ValidationError',
      message: /decorates methods and functions; got a getter decorator context/,
    });
    assert.throws(() => memoize(42), { name: 'ValidationError', message: /^cacheOnArguments\(\) must be applied to a function; got .*42/ });
    const multi = region.cacheMultiOnArguments({ namespace: 'm' }) as unknown as (fn: unknown, context?: unknown) => unknown;
    assert.throws(() => multi(() => [], { kind: 'field', name: 'x' }), ValidationError);
  });

  it('the legacy convention (prototype, name, descriptor) refuses a descriptor that is not a method', () => {
    const { region } = regionWith(null);
    const legacy = region.cacheOnArguments({ namespace: 'n' }) as unknown as (target: object, name: string, descriptor: unknown) => unknown;
    const notMethods: unknown[] = [
      { get: () => 1 }, // an accessor: no value
      { value: 42 },
      null,
      Object.assign(() => undefined, { value: () => 1 }), // a function, not a property descriptor
    ];
    for (const descriptor of notMethods) {
      assert.throws(
        () => legacy({}, 'total', descriptor),
        { name: 'ValidationError', message: /decorates methods; total is not a method/ },
        String(descriptor),
      );
    }
    const decorated = legacy({}, 'total', { value: () => 1, writable: true }) as PropertyDescriptor;
    assert.equal(typeof decorated.value, 'function');
    assert.equal(decorated.writable, true, 'the other descriptor fields are kept');
  });

  it('options that are not an object are refused, naming which memoizer they were for', () => {
    const { region } = regionWith(null);
    assert.throws(() => region.cacheOnArguments(5 as never), {
      name: 'ValidationError',
      message: /^cacheOnArguments options must be an object; got number 5/,
    });
    assert.throws(() => region.cacheMultiOnArguments('x' as never), {
      name: 'ValidationError',
      message: /^cacheMultiOnArguments options must be an object; got "x"/,
    });
  });
});

describe('cacheMultiOnArguments with asDict', () => {
  it('stores what the function returned: a second call does not call it again', async () => {
    const { region } = regionWith(null);
    const seen: string[][] = [];
    const lookup = region.cacheMultiOnArguments({ namespace: 'dict', asDict: true })(async (...names: string[]) => {
      seen.push(names);
      return Object.fromEntries(names.map((n) => [n, n.toUpperCase()]));
    });
    assert.deepEqual(await lookup('a', 'b'), { a: 'A', b: 'B' });
    assert.deepEqual(await lookup('b', 'a'), { b: 'B', a: 'A' });
    assert.deepEqual(seen, [['a', 'b']]);
  });

  it('a Map result works like an object; keys it leaves out are neither returned nor cached', async () => {
    const { region } = regionWith(null);
    let calls = 0;
    const lookup = region.cacheMultiOnArguments({ namespace: 'map', asDict: true })(async (...ids: number[]) => {
      calls++;
      return new Map(ids.filter((id) => id !== 13).map((id) => [id, id * 10]));
    });
    assert.deepEqual(await lookup(1, 13), { 1: 10 });
    assert.deepEqual(await region.getMulti(['map|1', 'map|13']), [10, NO_VALUE]);
    await lookup(1, 13);
    assert.equal(calls, 2, 'the left-out key is asked for again; the returned one is not');
  });

  it('shouldCacheFn still applies to the values it returned', async () => {
    const { region } = regionWith(null);
    const lookup = region.cacheMultiOnArguments({ namespace: 'dictshould', asDict: true, shouldCacheFn: (v) => v !== 'B' })(
      async (...names: string[]) => Object.fromEntries(names.map((n) => [n, n.toUpperCase()])),
    );
    assert.deepEqual(await lookup('a', 'b'), { a: 'A', b: 'B' });
    assert.deepEqual(await region.getMulti(['dictshould|a', 'dictshould|b']), ['A', NO_VALUE]);
  });

  it('a function that returns neither an object nor a Map is a ValidationError naming what it returned', async () => {
    const { region } = regionWith(null);
    for (const bad of [42, null, 'text']) {
      const lookup = region.cacheMultiOnArguments({ namespace: `bad${String(bad)}`, asDict: true })(async (..._ids: number[]) => bad);
      await assert.rejects(
        lookup(1),
        (error: Error) => error instanceof ValidationError && /must return an object or Map keyed by argument; got /.test(error.message),
      );
    }
  });
});
