// getOrCreate's miss path (src/region.ts) through the public API: soft and hard invalidation under
// concurrency (soft: the others get the stale value while one caller regenerates; hard: everyone waits),
// soft tag invalidation, creator timeouts and the stale-if-error grace period at their boundaries, the
// background runners, the backend error policy on reads, writes, deletes and the backend's lock, and the
// events and counters of each. Written to kill the mutants the region suites left alive.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  ConfigurationError,
  CreatorTimeoutError,
  DictionaryBackend,
  NO_VALUE,
  ProxyBackend,
  ReentrantCreateError,
  ValidationError,
  manualClock,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
} from '../../src/index.js';
import { VALUE_VERSION } from '../../src/backend.js';

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** Lets pending promise callbacks and timers of 0 ms run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** A creator that returns `value` when released, counting its calls. */
function gatedCreator<T>(value: T): { creator: () => Promise<T>; release(): void; calls(): number } {
  const gate = deferred();
  let calls = 0;
  return {
    creator: async () => {
      calls++;
      await gate.promise;
      return value;
    },
    release: () => gate.resolve(),
    calls: () => calls,
  };
}

describe('soft and hard invalidation with concurrent callers', () => {
  it('soft: one caller regenerates, the others get the stale value at once (counted and emitted as stale)', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, name: 'soft' }).configure('dictionary', { expirationTime: 60 });
    await region.set('k', 'old');
    clock.advance(1);
    region.invalidate(false);
    const stale: string[] = [];
    region.on('stale', (e) => stale.push(`${e.region} ${e.key}`));
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    assert.equal(await region.getOrCreate('k', () => 'other'), 'old');
    assert.equal(await region.getOrCreate('k', () => 'other'), 'old');
    gate.release();
    assert.equal(await leader, 'new');
    assert.equal(gate.calls(), 1);
    assert.equal(await region.getOrCreate('k', () => 'other'), 'new');
    assert.equal(region.stats().staleServed, 2);
    assert.deepEqual(stale, ['soft k', 'soft k']);
  });

  it('hard: every caller waits for the one creator and gets the new value', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    await region.set('k', 'old');
    clock.advance(1);
    region.invalidate(true);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    const other = region.getOrCreate('k', () => 'other');
    let otherDone = false;
    void other.then(() => (otherDone = true));
    await settle();
    assert.equal(otherDone, false, 'no stale value is served after a hard invalidation');
    gate.release();
    assert.deepEqual(await Promise.all([leader, other]), ['new', 'new']);
    assert.equal(region.stats().staleServed, 0);
  });

  it('an expired value: the others get it while one caller regenerates', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    assert.equal(await region.getOrCreate('k', () => 'other'), 'old');
    gate.release();
    assert.equal(await leader, 'new');
  });

  it('an entry past its own TTL: the others get it while one caller regenerates', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 100 });
    await region.set('k', 'old', { expirationTime: 5 });
    clock.advance(5_001);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    assert.equal(await region.getOrCreate('k', () => 'other'), 'old');
    gate.release();
    assert.equal(await leader, 'new');
    assert.equal(gate.calls(), 1);
  });

  it('soft invalidation needs an expiration time: ConfigurationError for a stored value and for a new one; a per-call one is enough', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary');
    await region.set('k', 'old');
    clock.advance(1);
    region.invalidate(false);
    const message =
      /^Non-None expiration time required for soft invalidation: give the region \(or this call\) an expirationTime, or use a hard invalidate\(\)\.$/;
    await assert.rejects(
      region.getOrCreate('k', () => 'new'),
      (e: Error) => e instanceof ConfigurationError && message.test(e.message),
    );
    await assert.rejects(
      region.getOrCreate('missing', () => 'new'),
      (e: Error) => e instanceof ConfigurationError && message.test(e.message),
    );
    assert.equal(await region.get('missing'), NO_VALUE, 'nothing stored');
    await assert.rejects(
      region.getOrCreateMulti(['missing'], () => ['new']),
      (e: Error) => e instanceof ConfigurationError && message.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => ['new']),
      ConfigurationError,
    );
    assert.equal(await region.get('missing'), NO_VALUE, 'nothing stored by the multi creator either');
    assert.equal(await region.getOrCreate('k', () => 'new', { expirationTime: 60 }), 'new');
  });
});

describe('tag invalidation with concurrent callers', () => {
  it('soft, with an expiration time: the others get the stale value while one caller regenerates', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    await region.set('k', 'old', { tags: ['t'] });
    clock.advance(1);
    await region.invalidateTags(['t'], false);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator, { tags: ['t'] });
    await settle();
    assert.equal(await region.getOrCreate('k', () => 'other'), 'old');
    gate.release();
    assert.equal(await leader, 'new');
    assert.equal(await region.get('k'), 'new', 'created after the invalidation: valid');
  });

  it('soft, without an expiration time: a plain miss, the others wait', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary');
    await region.set('k', 'old', { tags: ['t'] });
    clock.advance(1);
    await region.invalidateTags(['t'], false);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    const other = region.getOrCreate('k', () => 'other');
    gate.release();
    assert.deepEqual(await Promise.all([leader, other]), ['new', 'new']);
    assert.equal(gate.calls(), 1);
  });

  it('hard: the others wait; values without the tag are untouched', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    await region.set('k', 'old', { tags: ['t'] });
    await region.set('untagged', 'kept');
    await region.set('other tag', 'kept', { tags: ['u'] });
    clock.advance(1);
    await region.invalidateTags(['t']);
    const gate = gatedCreator('new');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    const other = region.getOrCreate('k', () => 'other');
    gate.release();
    assert.deepEqual(await Promise.all([leader, other]), ['new', 'new']);
    assert.equal(await region.getOrCreate('untagged', () => 'x'), 'kept');
    assert.equal(await region.getOrCreate('other tag', () => 'x'), 'kept');
    assert.deepEqual(await region.getMulti(['untagged', 'other tag']), ['kept', 'kept']);
  });

  it('getOrCreate stores entryExpirationTime and tags with the value it creates', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    assert.equal(await region.getOrCreate('k', () => 'v', { entryExpirationTime: '5s', tags: ['t'] }), 'v');
    const stored = await region.getValueMetadata('k');
    assert.equal(stored?.metadata.ttl, 5);
    assert.deepEqual(stored?.metadata.tags, ['t']);
    clock.advance(1);
    await region.invalidateTags(['t']);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('plain', () => 'v'), 'v');
    assert.deepEqual(Object.keys((await region.getValueMetadata('plain'))?.metadata ?? {}), ['ct', 'v']);
  });
});

describe('creator timeouts and the stale-if-error grace period', () => {
  it("the CreatorTimeoutError names the keys and the limit; a per-call creatorTimeout replaces the region's", async () => {
    const region = new CacheRegion({ creatorTimeout: 60 }).configure('dictionary');
    const hung = (): Promise<string> => new Promise(() => {});
    await assert.rejects(
      region.getOrCreate('k', hung, { creatorTimeout: 0.02 }),
      (e: Error) =>
        e instanceof CreatorTimeoutError && e.message.startsWith('The creator of "k" did not finish within creatorTimeout (0.02 s)'),
    );
    await assert.rejects(
      region.getOrCreateMulti(['a', 'b'], () => new Promise<string[]>(() => {}), { creatorTimeout: 0.02 }),
      (e: Error) =>
        e instanceof CreatorTimeoutError && e.message.startsWith('The creator of "a", "b" did not finish within creatorTimeout (0.02 s)'),
    );
    assert.equal(await region.keyIsLocked('k'), false);
    assert.equal(await region.getOrCreate('k', () => 'fast', { creatorTimeout: 0.02 }), 'fast');
  });

  it('a creator that fails before the timeout fails with its own error, not a timeout', async () => {
    const region = new CacheRegion({ creatorTimeout: 5 }).configure('dictionary');
    await assert.rejects(
      region.getOrCreate('k', async () => {
        throw new Error('db down');
      }),
      /db down/,
    );
    assert.equal(await region.getOrCreate('k', async () => 'later'), 'later');
  });

  it('a timed-out creator with a stale value serves it, reporting the timeout as a create error', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, creatorTimeout: 0.02, name: 't' }).configure('dictionary', { expirationTime: 1 });
    await region.set('k', 'stale');
    clock.advance(1_000_000);
    const errors: string[] = [];
    region.on('error', (e) => errors.push(`${e.region} ${e.operation} ${(e.error as Error).name}`));
    assert.equal(await region.getOrCreate('k', () => new Promise<string>(() => {})), 'stale');
    assert.deepEqual(errors, ['t create CreatorTimeoutError']);
    assert.equal(region.stats().staleServed, 1);
    assert.equal(region.stats().errors, 1);
    assert.equal(await region.get('k'), NO_VALUE, 'the stale value is served, not stored again');
  });

  it('staleIfErrorFor: a value expired exactly that long ago is served; a millisecond more and the error propagates', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 30 }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'stale');
    const failing = (): never => {
      throw new Error('db down');
    };
    clock.advance(40_000);
    assert.equal(await region.getOrCreate('k', failing), 'stale');
    clock.advance(1);
    await assert.rejects(region.getOrCreate('k', failing), /db down/);
    assert.equal(region.stats().staleServed, 1);
  });

  it('without staleIfErrorFor a throwing creator propagates its error even with a stale value', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'stale');
    clock.advance(10_001);
    await assert.rejects(
      region.getOrCreate('k', () => {
        throw new Error('db down');
      }),
      /db down/,
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => {
        throw new Error('db down');
      }),
      /db down/,
    );
    assert.equal(region.stats().staleServed, 0);
  });

  it('without staleIfErrorFor a soft-invalidated (unexpired) value does not stand in for a throwing creator', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 600 });
    await region.set('k', 'stale');
    clock.advance(1);
    region.invalidate(false);
    await assert.rejects(
      region.getOrCreate('k', () => {
        throw new Error('db down');
      }),
      /db down/,
    );
  });

  it('the multi creator served stale values: one create error event, one stale per key', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 60, name: 'm' }).configure('dictionary', { expirationTime: 10 });
    await region.setMulti({ a: 'stale a', b: 'stale b' });
    clock.advance(20_000);
    const events: string[] = [];
    region.on('error', (e) => events.push(`error ${e.region} ${e.operation}`));
    region.on('stale', (e) => events.push(`stale ${e.key}`));
    assert.deepEqual(
      await region.getOrCreateMulti(['a', 'b'], () => {
        throw new Error('db down');
      }),
      ['stale a', 'stale b'],
    );
    assert.deepEqual(events, ['error m create', 'stale a', 'stale b']);
  });

  it('the multi creator served stale values but a lock release failed: LockReleaseError', async () => {
    const backend = new FailingLockBackend();
    backend.releaseError = new Error('unlock failed');
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 60 }).configure(backend, { expirationTime: 10 });
    await region.set('a', 'stale a');
    clock.advance(20_000);
    await assert.rejects(
      region.getOrCreateMulti(['a'], () => {
        throw new Error('db down');
      }),
      (e: Error) => e.name === 'LockReleaseError',
    );
  });

  it('staleIfErrorFor with a soft-invalidated (unexpired) value serves it', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 1 }).configure('dictionary', { expirationTime: 600 });
    await region.set('k', 'stale');
    clock.advance(1);
    region.invalidate(false);
    assert.equal(
      await region.getOrCreate('k', () => {
        throw new Error('db down');
      }),
      'stale',
    );
  });
});

describe('create events and counters', () => {
  it('a create event per creator run, with the keys, a duration and the error when it failed', async () => {
    const region = new CacheRegion({ name: 'c' }).configure('dictionary');
    const events: { region: string | undefined; keys: readonly string[]; durationMs: number; error?: unknown }[] = [];
    region.on('create', (e) => events.push(e));
    await region.getOrCreate('k', () => 1);
    await region.getOrCreateMulti(['b', 'a'], (...keys) => keys);
    await assert.rejects(
      region.getOrCreate('bad', () => {
        throw new Error('boom');
      }),
    );
    assert.deepEqual(
      events.map((e) => [e.region, e.keys, 'error' in e ? (e.error as Error).message : 'ok']),
      [
        ['c', ['k'], 'ok'],
        ['c', ['a', 'b'], 'ok'],
        ['c', ['bad'], 'boom'],
      ],
    );
    for (const e of events) assert.ok(e.durationMs >= 0 && Number.isFinite(e.durationMs));
    // The duration is measured inside the call: never more than the whole call took.
    const timed: number[] = [];
    region.on('create', (e) => timed.push(e.durationMs));
    for (const fail of [false, true]) {
      const started = performance.now();
      await region
        .getOrCreate(`timed ${fail}`, () => {
          if (fail) throw new Error('boom');
          return 1;
        })
        .catch(() => undefined);
      const elapsed = performance.now() - started;
      assert.ok((timed.at(-1) as number) <= elapsed, `${timed.at(-1)} <= ${elapsed}`);
    }
    assert.equal(region.stats().creates, 5);
    assert.equal(region.stats().misses, 6);
  });

  it('callers joining a shared attempt each count a miss and a lock wait, and one create', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = gatedCreator('v');
    const all = [region.getOrCreate('k', gate.creator), region.getOrCreate('k', gate.creator), region.getOrCreate('k', gate.creator)];
    await settle();
    assert.equal(region.stats().waiting, 2);
    gate.release();
    assert.deepEqual(await Promise.all(all), ['v', 'v', 'v']);
    const stats = region.stats();
    assert.equal(stats.misses, 3);
    assert.equal(stats.lockWaits, 2);
    assert.equal(stats.creates, 1);
    assert.equal(stats.waiting, 0);
  });

  it('a joiner that aborts leaves at once with its reason; the leader still finishes', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = gatedCreator('v');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    const controller = new AbortController();
    const joiner = region.getOrCreate('k', () => 'mine', { signal: controller.signal });
    await settle();
    controller.abort(new Error('gave up'));
    await assert.rejects(joiner, /gave up/);
    assert.equal(region.stats().waiting, 0);
    const already = AbortSignal.abort(new Error('before'));
    await assert.rejects(
      region.getOrCreate('k', () => 'mine', { signal: already }),
      /before/,
    );
    gate.release();
    assert.equal(await leader, 'v');
  });

  it('a joiner leaves no listener on its signal, whether it got the value or gave up', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = gatedCreator('v');
    const leader = region.getOrCreate('k', gate.creator);
    await settle();
    const longLived = new AbortController().signal;
    const served = region.getOrCreate('k', () => 'mine', { signal: longLived });
    const giving = new AbortController();
    const leaving = region.getOrCreate('k', () => 'mine', { signal: giving.signal });
    await settle();
    giving.abort(new Error('gave up'));
    await assert.rejects(leaving, /gave up/);
    assert.equal(getEventListeners(giving.signal, 'abort').length, 0);
    gate.release();
    assert.deepEqual(await Promise.all([leader, served]), ['v', 'v']);
    assert.equal(getEventListeners(longLived, 'abort').length, 0);
  });

  it('when the leader gives up (its own signal), a joiner runs its own attempt', async () => {
    const region = new CacheRegion().configure('dictionary');
    const controller = new AbortController();
    const leader = region.getOrCreate('k', () => new Promise<string>(() => {}), { signal: controller.signal });
    await settle();
    const joiner = region.getOrCreate('k', () => 'joiner');
    await settle();
    controller.abort(new Error('leader gave up'));
    await assert.rejects(leader, /leader gave up/);
    assert.equal(await joiner, 'joiner');
    assert.equal(await region.get('k'), 'joiner');
  });

  it('a joiner with a signal of its own (not aborted) also runs its own attempt when the leader gives up', async () => {
    const region = new CacheRegion().configure('dictionary');
    const controller = new AbortController();
    const leader = region.getOrCreate('k', () => new Promise<string>(() => {}), { signal: controller.signal });
    await settle();
    const joiner = region.getOrCreate('k', () => 'joiner', { signal: new AbortController().signal });
    await settle();
    controller.abort(new Error('leader gave up'));
    await assert.rejects(leader, /leader gave up/);
    assert.equal(await joiner, 'joiner');
  });

  it('a leader whose creator failed gets that error to its joiners, even if its signal aborts afterwards', async () => {
    const controller = new AbortController();
    class AbortOnRelease extends DictionaryBackend {
      override getMutex(): CacheMutex {
        let held = false;
        return {
          acquire: async () => (held ? false : (held = true)),
          release: async () => {
            held = false;
            controller.abort(new Error('aborted after the failure'));
          },
          locked: async () => held,
        };
      }
    }
    const region = new CacheRegion().configure(new AbortOnRelease());
    const gate = deferred();
    const leader = region.getOrCreate(
      'k',
      async () => {
        await gate.promise;
        throw new Error('creator failed');
      },
      { signal: controller.signal },
    );
    await settle();
    let joinerCreated = false;
    const joiner = region.getOrCreate('k', () => {
      joinerCreated = true;
      return 'joiner';
    });
    await settle();
    gate.resolve();
    await assert.rejects(leader, /creator failed/);
    await assert.rejects(joiner, /creator failed/);
    assert.equal(joinerCreated, false, 'the leader failed; it did not give up');
  });

  it("a joiner of a leader whose creator failed gets the leader's error", async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = deferred();
    const leader = region.getOrCreate('k', async () => {
      await gate.promise;
      throw new Error('creator failed');
    });
    await settle();
    const joiner = region.getOrCreate('k', () => 'joiner');
    await settle();
    gate.resolve();
    await assert.rejects(leader, /creator failed/);
    await assert.rejects(joiner, /creator failed/);
  });

  it('re-entrance names the key', async () => {
    const region = new CacheRegion().configure('dictionary');
    await assert.rejects(
      region.getOrCreate('self', () => region.getOrCreate('self', () => 1)),
      (e: Error) =>
        e instanceof ReentrantCreateError &&
        e.message ===
          'getOrCreate("self") was called by the creator of that same key, which has no value yet: it would wait for itself forever. Break the cycle (a creator must not need its own value).',
    );
    await assert.rejects(
      region.getOrCreateMulti(['m'], () => region.getOrCreateMulti(['m'], () => [1])),
      (e: Error) =>
        e instanceof ReentrantCreateError && e.message.startsWith('getOrCreateMulti was called with "m" by the creator of that same key'),
    );
  });

  it('creator must be a function', async () => {
    const region = new CacheRegion().configure('dictionary');
    await assert.rejects(
      region.getOrCreate('k', 'value' as never),
      (e: Error) => e instanceof ValidationError && /^creator must be a function returning the value; got /.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], 'value' as never),
      (e: Error) => e instanceof ValidationError && /^creator must be a function of the keys to create; got /.test(e.message),
    );
  });
});

describe('background regeneration', () => {
  it('"background": the stale value now, the new one stored; shouldCacheFn is honoured', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, asyncCreationRunner: 'background' }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await settle();
    assert.equal(await region.get('k'), 'new');
    assert.equal(await region.keyIsLocked('k'), false);
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'refused', { shouldCacheFn: (v) => v !== 'refused' }), 'new');
    await settle();
    assert.equal(await region.get('k', { ignoreExpiration: true }), 'new', 'a refused value is not stored');
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('"background": the create event names the key; a creator that needs its own (deleted) key fails as re-entrant, reported', async () => {
    const clock = manualClock();
    const region: CacheRegion = new CacheRegion({ clock, asyncCreationRunner: 'background' }).configure('dictionary', {
      expirationTime: 10,
    });
    const keys: (readonly string[])[] = [];
    const errors: string[] = [];
    region.on('create', (e) => keys.push(e.keys));
    region.on('error', (e) => errors.push(`${e.operation} ${(e.error as Error).name}`));
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await settle();
    assert.deepEqual(keys, [['k']]);
    clock.advance(10_001);
    assert.equal(
      await region.getOrCreate('k', async () => {
        await region.delete('k');
        return region.getOrCreate('k', () => 'inner');
      }),
      'new',
    );
    await settle();
    assert.deepEqual(errors, ['asyncCreationRunner ReentrantCreateError']);
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('"background" stores the entry TTL and tags asked for', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, asyncCreationRunner: 'background' }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new', { entryExpirationTime: 3, tags: ['bg'] }), 'old');
    await settle();
    const stored = await region.getValueMetadata('k');
    assert.equal(stored?.payload, 'new');
    assert.equal(stored?.metadata.ttl, 3);
    assert.deepEqual(stored?.metadata.tags, ['bg']);
  });

  it('"background": a failing creator is reported (operation asyncCreationRunner) and the lock released', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, asyncCreationRunner: 'background', name: 'bg' }).configure('dictionary', {
      expirationTime: 10,
    });
    const errors: string[] = [];
    region.on('error', (e) => errors.push(`${e.region} ${e.operation} ${(e.error as Error).message}`));
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(
      await region.getOrCreate('k', () => {
        throw new Error('db down');
      }),
      'old',
    );
    await settle();
    assert.deepEqual(errors, ['bg asyncCreationRunner db down']);
    assert.equal(await region.keyIsLocked('k'), false);
    assert.equal(await region.get('k', { ignoreExpiration: true }), 'old');
  });

  it('a runner of our own gets the region, the unmangled key, a creator and the held lock', async () => {
    const clock = manualClock();
    const calls: unknown[] = [];
    const region: CacheRegion = new CacheRegion({
      clock,
      keyMangler: (key) => `m:${key}`,
      asyncCreationRunner: async (r, key, creator, mutex) => {
        calls.push(r === region, key, await r.keyIsLocked(key), await mutex.locked(), await mutex.acquire(false));
        await r.set(key, await creator());
        await mutex.release();
      },
    }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await settle();
    assert.deepEqual(calls, [true, 'k', true, true, false]);
    assert.equal(await region.get('k'), 'new');
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('a runner that rejects later is reported, and the lock is released for it once', async () => {
    const clock = manualClock();
    let releases = 0;
    class CountingLock extends DictionaryBackend {
      override getMutex(): CacheMutex {
        let held = false;
        return {
          acquire: async () => (held ? false : (held = true)),
          release: async () => {
            releases++;
            held = false;
          },
          locked: async () => held,
        };
      }
    }
    const region = new CacheRegion({
      clock,
      asyncCreationRunner: async (_r, _key, _creator, mutex) => {
        await mutex.release();
        throw new Error('runner failed');
      },
    }).configure(new CountingLock(), { expirationTime: 10 });
    const errors: string[] = [];
    region.on('error', (e) => errors.push(`${e.operation} ${(e.error as Error).message}`));
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await settle();
    assert.deepEqual(errors, ['asyncCreationRunner runner failed']);
    assert.equal(releases, 1, 'released by the runner; not released again');
  });
});

/** A backend whose every call fails, as a server that is down (behind a proxy, so reads take the async path). */
class DownBackend extends DictionaryBackend {
  down = true;
  #fail(): void {
    if (this.down) throw new Error('server down');
  }
  override async get(key: string): Promise<BackendResult> {
    this.#fail();
    return super.get(key);
  }
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    this.#fail();
    return super.getMulti(keys);
  }
  override async set(key: string, value: CachedValue): Promise<void> {
    this.#fail();
    return super.set(key, value);
  }
  override async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    this.#fail();
    return super.setMulti(mapping);
  }
  override async delete(key: string): Promise<void> {
    this.#fail();
    return super.delete(key);
  }
  override async deleteMulti(keys: readonly string[]): Promise<void> {
    this.#fail();
    return super.deleteMulti(keys);
  }
  override clear(): void {
    this.#fail();
    super.clear();
  }
}

describe('the backend error policy', () => {
  it('"miss": every failed call is counted and emitted with its operation, and the caller carries on', async () => {
    const region = new CacheRegion({ onBackendError: 'miss', name: 'p' }).configure(new DownBackend(), { wrap: [new ProxyBackend()] });
    const operations: string[] = [];
    region.on('error', (e) => operations.push(`${e.region} ${e.operation}`));
    assert.equal(await region.get('k'), NO_VALUE);
    assert.deepEqual(await region.getMulti(['a', 'b']), [NO_VALUE, NO_VALUE]);
    await region.set('k', 1);
    await region.setMulti({ a: 1 });
    await region.delete('k');
    await region.deleteMulti(['a']);
    await region.clear();
    assert.equal(await region.getOrCreate('k', () => 'created'), 'created');
    assert.deepEqual(await region.getOrCreateMulti(['x', 'y'], (...keys) => keys), ['x', 'y']);
    assert.equal(region.stats().errors, operations.length);
    assert.deepEqual(new Set(operations.map((o) => o.split(' ')[0])), new Set(['p']));
    assert.deepEqual(
      new Set(operations.map((o) => o.split(' ')[1])),
      new Set(['get', 'getMulti', 'set', 'setMulti', 'delete', 'deleteMulti', 'clear']),
    );
  });

  it('"throw" (default): each failed call rejects with the backend\'s error, counted and emitted too', async () => {
    const region = new CacheRegion().configure(new DownBackend(), { wrap: [new ProxyBackend()] });
    const operations: string[] = [];
    region.on('error', (e) => operations.push(e.operation));
    await assert.rejects(region.get('k'), /server down/);
    await assert.rejects(region.set('k', 1), /server down/);
    await assert.rejects(region.delete('k'), /server down/);
    await assert.rejects(region.deleteMulti(['k']), /server down/);
    await assert.rejects(region.clear(), /server down/);
    await assert.rejects(
      region.getOrCreate('k', () => 1),
      /server down/,
    );
    assert.deepEqual(operations, ['get', 'set', 'delete', 'deleteMulti', 'clear', 'get']);
    assert.equal(region.stats().errors, 6);
  });

  it('deleteMulti of no keys calls nothing; it validates its keys', async () => {
    const region = new CacheRegion().configure(new DownBackend(), { wrap: [new ProxyBackend()] });
    await region.deleteMulti([]);
    await assert.rejects(region.deleteMulti('k' as never), ValidationError);
  });
});

/** A backend whose distributed lock fails as configured. */
class FailingLockBackend extends DictionaryBackend {
  acquireError: Error | null = null;
  releaseError: Error | null = null;
  held = false;
  override getMutex(): CacheMutex {
    return {
      acquire: async () => {
        if (this.acquireError !== null) throw this.acquireError;
        if (this.held) return false;
        this.held = true;
        return true;
      },
      release: async () => {
        this.held = false;
        if (this.releaseError !== null) throw this.releaseError;
      },
      locked: async () => this.held,
    };
  }
}

describe("the backend's lock under the error policy", () => {
  it('"miss": a lock server that fails to lock runs the creator unlocked (counted, emitted as "lock")', async () => {
    const backend = new FailingLockBackend();
    backend.acquireError = new Error('lock server down');
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(backend);
    const operations: string[] = [];
    region.on('error', (e) => operations.push(e.operation));
    assert.equal(await region.getOrCreate('k', () => 'v'), 'v');
    assert.equal(region.stats().unlockedCreates, 1);
    assert.deepEqual(operations, ['lock']);
    assert.equal(await region.get('k'), 'v');
  });

  it('"miss": a failed release still returns the value (emitted as "unlock")', async () => {
    const backend = new FailingLockBackend();
    backend.releaseError = new Error('lock server down');
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(backend);
    const operations: string[] = [];
    region.on('error', (e) => operations.push(e.operation));
    assert.equal(await region.getOrCreate('k', () => 'v'), 'v');
    assert.deepEqual(operations, ['unlock']);
    assert.equal(region.stats().unlockedCreates, 0);
  });

  it('a runner of our own under "miss" gets a lock handle that answers locked() from the backend\'s lock', async () => {
    const clock = manualClock();
    const backend = new FailingLockBackend();
    const seen: boolean[] = [];
    const region = new CacheRegion({
      clock,
      onBackendError: 'miss',
      asyncCreationRunner: async (r, key, creator, mutex) => {
        seen.push(await mutex.locked());
        await r.set(key, await creator());
        await mutex.release();
        seen.push(await mutex.locked());
      },
    }).configure(backend, { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await settle();
    assert.deepEqual(seen, [true, false]);
    assert.equal(await region.get('k'), 'new');
  });

  it('"miss" never hides a programming error from the lock; "throw" propagates a lock failure', async () => {
    const backend = new FailingLockBackend();
    backend.acquireError = new ValidationError('bad lock key');
    const lenient = new CacheRegion({ onBackendError: 'miss' }).configure(backend);
    await assert.rejects(
      lenient.getOrCreate('k', () => 'v'),
      /bad lock key/,
    );
    assert.equal(lenient.stats().unlockedCreates, 0);
    const releasing = new FailingLockBackend();
    releasing.releaseError = new ValidationError('bad unlock');
    await assert.rejects(
      new CacheRegion({ onBackendError: 'miss' }).configure(releasing).getOrCreate('k', () => 'v'),
      /bad unlock/,
    );
    const strict = new FailingLockBackend();
    strict.acquireError = new Error('lock server down');
    await assert.rejects(
      new CacheRegion().configure(strict).getOrCreate('k', () => 'v'),
      /lock server down/,
    );
  });

  it('a key locked by another process: the caller waits for it (counted in lockWaits), then reads what it stored', async () => {
    const backend = new FailingLockBackend();
    backend.held = true;
    let wake: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const remote = backend.getMutex();
    backend.getMutex = () => ({
      acquire: async (wait?: boolean) => {
        if (backend.held && wait === false) return false;
        if (backend.held) await released;
        return remote.acquire();
      },
      release: () => remote.release(),
      locked: () => remote.locked(),
    });
    const region = new CacheRegion().configure(backend);
    const waiting = region.getOrCreate('k', () => 'ours');
    await settle();
    assert.equal(region.stats().lockWaits, 1);
    assert.equal(await region.keyIsLocked('k'), true);
    await backend.set('k', { payload: 'theirs', metadata: { ct: Date.now() / 1000, v: VALUE_VERSION } });
    backend.held = false;
    wake();
    assert.equal(await waiting, 'theirs', 'the value the other process created, not a second creation');
    assert.equal(region.stats().creates, 0);
  });

  it("keyIsLocked asks the backend's lock, under the mangled key", async () => {
    const asked: string[] = [];
    class Locked extends DictionaryBackend {
      override getMutex(key: string): CacheMutex {
        asked.push(key);
        return { acquire: async () => false, release: async () => undefined, locked: async () => key === 'm:busy' };
      }
    }
    const region = new CacheRegion({ keyMangler: (key) => `m:${key}` }).configure(new Locked());
    assert.equal(await region.keyIsLocked('busy'), true);
    assert.equal(await region.keyIsLocked('free'), false);
    assert.deepEqual(asked, ['m:busy', 'm:free']);
    const local = new CacheRegion().configure('dictionary');
    assert.equal(await local.keyIsLocked('k'), false);
  });
});

describe('getOrCreateMulti', () => {
  it('counts a hit per fresh key and a miss per key it creates, in key order; the creator gets the sorted unique keys', async () => {
    const region = new CacheRegion({ name: 'm' }).configure('dictionary');
    const events: string[] = [];
    region.on('hit', (e) => events.push(`hit ${e.key}`));
    region.on('miss', (e) => events.push(`miss ${e.key}`));
    await region.set('b', 'stored b');
    let asked: string[] = [];
    const result = await region.getOrCreateMulti(['c', 'b', 'a', 'c'], (...keys) => {
      asked = keys;
      return keys.map((key) => `new ${key}`);
    });
    assert.deepEqual(result, ['new c', 'stored b', 'new a', 'new c']);
    assert.deepEqual(asked, ['a', 'c']);
    assert.deepEqual(events, ['miss a', 'hit b', 'miss c']);
    assert.deepEqual(await region.getMulti(['a', 'c']), ['new a', 'new c']);
  });

  it("a per-call expirationTime replaces the region's; -1 never expires; the boundary is inclusive", async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_000);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['new']), ['old']);
    clock.advance(5_000);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['never'], { expirationTime: -1 }), ['old']);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['longer'], { expirationTime: 15 }), ['old']);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['shorter'], { expirationTime: 14 }), ['shorter']);
  });

  it('stores entryExpirationTime and tags with every value it creates; shouldCacheFn decides per value', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    const result = await region.getOrCreateMulti(['a', 'b', 'skip'], (...keys) => keys.map((k) => `v ${k}`), {
      entryExpirationTime: 2,
      tags: ['t'],
      shouldCacheFn: (value) => value !== 'v skip',
    });
    assert.deepEqual(result, ['v a', 'v b', 'v skip']);
    assert.equal(await region.get('skip'), NO_VALUE);
    const a = await region.getValueMetadata('a');
    assert.equal(a?.metadata.ttl, 2);
    assert.deepEqual(a?.metadata.tags, ['t']);
    assert.equal(a?.metadata.ct, (await region.getValueMetadata('b'))?.metadata.ct, 'one creation time for all');
    clock.advance(2_001);
    assert.deepEqual(await region.getMulti(['a', 'b']), [NO_VALUE, NO_VALUE], "their own 2 s TTL, not the region's minute");
  });

  it('a soft-invalidated key: the others get the stale value while one caller regenerates it', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    await region.setMulti({ a: 'old a', b: 'old b' });
    clock.advance(1);
    region.invalidate(false);
    const gate = deferred();
    const leader = region.getOrCreateMulti(['a', 'b'], async (...keys) => {
      await gate.promise;
      return keys.map((key) => `new ${key}`);
    });
    await settle();
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b'], (...keys) => keys.map((key) => `other ${key}`)), ['old a', 'old b']);
    assert.equal(region.stats().staleServed, 2);
    gate.resolve();
    assert.deepEqual(await leader, ['new a', 'new b']);
  });

  it('a hard-invalidated or soft-tag-invalidated key is created again', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 60 });
    await region.set('a', 'old', { tags: ['t'] });
    await region.set('b', 'old');
    clock.advance(1);
    await region.invalidateTags(['t'], false);
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b'], (...keys) => keys.map((key) => `new ${key}`)), ['new a', 'old']);
    clock.advance(1);
    region.invalidate();
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b'], (...keys) => keys.map((key) => `newer ${key}`)), ['newer a', 'newer b']);
  });

  it('a caller whose keys are locked by another waits (counted in lockWaits), then uses what the other created', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = deferred();
    const first = region.getOrCreateMulti(['a', 'b'], async (...keys) => {
      await gate.promise;
      return keys.map((key) => `first ${key}`);
    });
    await settle();
    let created: string[] = [];
    const second = region.getOrCreateMulti(['a', 'b'], (...keys) => {
      created = keys;
      return keys.map((key) => `second ${key}`);
    });
    await settle();
    assert.equal(region.stats().lockWaits, 1);
    gate.resolve();
    assert.deepEqual(await first, ['first a', 'first b']);
    assert.deepEqual(await second, ['first a', 'first b']);
    assert.deepEqual(created, []);
  });

  it('stores nothing when shouldCacheFn refuses every value', async () => {
    let writes = 0;
    class Counting extends ProxyBackend {
      override setMulti(mapping: Mapping<CachedValue>): Promise<void> {
        writes++;
        return super.setMulti(mapping);
      }
    }
    const region = new CacheRegion().configure('dictionary', { wrap: [new Counting()] });
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b'], (...keys) => keys, { shouldCacheFn: () => false }), ['a', 'b']);
    assert.equal(writes, 0);
  });

  it("without an expiration time, an entry's own TTL decides: fresh up to it, created again after it", async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary');
    await region.set('k', 'old', { expirationTime: 10 });
    clock.advance(10_000);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['new']), ['old']);
    clock.advance(1);
    assert.deepEqual(await region.getOrCreateMulti(['k'], () => ['new']), ['new']);
  });

  it('a creator returning something other than an array is a ValidationError describing it; nothing is cached', async () => {
    const region = new CacheRegion().configure('dictionary');
    await assert.rejects(
      region.getOrCreateMulti(['a', 'b'], () => 'ab' as never),
      (e: Error) =>
        e instanceof ValidationError &&
        /must return an array of 2 value\(s\), one per key it was given, in order; got "ab"\. Nothing was cached\./.test(e.message),
    );
    await assert.rejects(
      region.getOrCreateMulti(['a', 'b'], () => ['a', 'b', 'c']),
      (e: Error) => e instanceof ValidationError && /got 3 value\(s\)/.test(e.message),
    );
    assert.deepEqual(await region.getMulti(['a', 'b']), [NO_VALUE, NO_VALUE]);
    assert.equal(await region.keyIsLocked('a'), false);
    assert.deepEqual(await region.getOrCreateMulti([], () => ['x']), []);
  });

  it("a release failure after a success rejects with LockReleaseError; after a creator failure the creator's error wins and the release failure is reported", async () => {
    const backend = new FailingLockBackend();
    backend.releaseError = new Error('unlock failed');
    const region = new CacheRegion().configure(backend);
    const operations: string[] = [];
    region.on('error', (e) => operations.push(e.operation));
    await assert.rejects(
      region.getOrCreateMulti(['a'], (...keys) => keys),
      (e: Error) => e.name === 'LockReleaseError',
    );
    assert.deepEqual(operations, []);
    await assert.rejects(
      region.getOrCreateMulti(['b'], () => {
        throw new Error('creator failed');
      }),
      /creator failed/,
    );
    assert.deepEqual(operations, ['unlock']);
  });
});

describe('stale values, and which values may stand in for a failed creator', () => {
  it('a creator that asks for its own key while a stale value exists gets that value (dogpile: the lock is held, the stale value served)', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'old');
    clock.advance(10_001);
    assert.equal(await region.getOrCreate('k', async () => `${await region.getOrCreate('k', () => 'inner')} refreshed`), 'old refreshed');
    assert.equal(await region.get('k'), 'old refreshed');
    clock.advance(10_001);
    assert.deepEqual(
      await region.getOrCreateMulti(['k'], async () => [`${(await region.getOrCreateMulti(['k'], () => ['inner']))[0]} again`]),
      ['old refreshed again'],
    );
  });

  it('a hard-invalidated value never stands in for a creator that timed out or failed', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, creatorTimeout: 0.02, staleIfErrorFor: 3600 }).configure('dictionary', { expirationTime: 10 });
    await region.set('k', 'invalidated');
    clock.advance(1);
    region.invalidate();
    await assert.rejects(
      region.getOrCreate('k', () => new Promise<string>(() => {})),
      CreatorTimeoutError,
    );
    await assert.rejects(
      region.getOrCreate('k', () => {
        throw new Error('db down');
      }),
      /db down/,
    );
    await assert.rejects(
      region.getOrCreateMulti(['k'], () => new Promise<string[]>(() => {})),
      CreatorTimeoutError,
    );
    assert.equal(region.stats().staleServed, 0);
  });

  it('getOrCreate on a fresh tagged value is a hit', async () => {
    const region = new CacheRegion().configure('dictionary', { expirationTime: 60 });
    await region.set('k', 'v', { tags: ['t'] });
    assert.equal(await region.getOrCreate('k', () => 'new'), 'v');
    assert.deepEqual([region.stats().hits, region.stats().misses, region.stats().creates], [1, 0, 0]);
  });

  it('getOrCreateMulti of no keys reads nothing', async () => {
    let reads = 0;
    class Counting extends ProxyBackend {
      override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
        reads++;
        return super.getMulti(keys);
      }
    }
    const region = new CacheRegion().configure('dictionary', { wrap: [new Counting()] });
    assert.deepEqual(await region.getOrCreateMulti([], () => []), []);
    assert.equal(reads, 0);
  });

  it("after waiting for another process's lock, the value it left is judged by its tags' times, read again", async () => {
    const backend = new FailingLockBackend();
    backend.held = true;
    let wake: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const remote = backend.getMutex();
    backend.getMutex = () => ({
      acquire: async (wait?: boolean) => {
        if (backend.held && wait === false) return false;
        if (backend.held) await released;
        return remote.acquire();
      },
      release: () => remote.release(),
      locked: () => remote.locked(),
    });
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure(backend);
    const waiting = region.getOrCreate('k', () => 'ours');
    await settle();
    // Meanwhile the other process stores a tagged value, and a third one invalidates the tag.
    const other = new CacheRegion({ clock }).configure(backend);
    await other.set('k', 'theirs', { tags: ['t'] });
    clock.advance(1);
    await other.invalidateTags(['t']);
    backend.held = false;
    wake();
    assert.equal(await waiting, 'ours');
  });
});

describe('getOrCreate: a caller that begins after a change never gets the value from before it', () => {
  /** A server-style lock whose acquire and release wait for the test, like round trips to a server. */
  class GatedLock extends DictionaryBackend {
    acquireGate = deferred();
    releaseGate = deferred();
    held = false;
    /** Acquisitions that succeeded: one per caller that went through the lock itself. */
    granted = 0;
    override getMutex(): CacheMutex {
      return {
        acquire: async () => {
          await this.acquireGate.promise;
          if (this.held) return false;
          this.held = true;
          this.granted++;
          return true;
        },
        release: async () => {
          await this.releaseGate.promise;
          this.held = false;
        },
        locked: async () => this.held,
      };
    }
  }

  it('found on the re-read: a newcomer after a delete does not join the attempt that read the deleted value', async () => {
    // Seen in the Redis soak with the distributed lock: a getOrCreate that began after a delete had
    // completed returned the deleted value, taken from an attempt whose re-read ran before the delete.
    const backend = new GatedLock();
    const region = new CacheRegion().configure(backend);
    const leader = region.getOrCreate('k', () => 'leader created');
    await settle(); // the leader missed and waits for the lock
    await region.set('k', 'v1');
    backend.acquireGate.resolve(); // it takes the lock and its re-read finds v1; its release waits
    await settle();
    await region.delete('k');
    const newcomer = region.getOrCreate('k', () => 'made after the delete');
    await settle();
    backend.releaseGate.resolve();
    assert.equal(await leader, 'v1');
    assert.equal(await newcomer, 'made after the delete', 'v1 was deleted before the newcomer began');
  });

  it('made by the creator: a newcomer after a delete does not get the deleted value', async () => {
    const backend = new GatedLock();
    backend.acquireGate.resolve();
    const region = new CacheRegion().configure(backend);
    const leader = region.getOrCreate('k', () => 'first');
    await settle(); // created and written; the release waits
    assert.equal(await region.get('k'), 'first');
    await region.delete('k');
    const newcomer = region.getOrCreate('k', () => 'second');
    await settle();
    backend.releaseGate.resolve();
    assert.equal(await leader, 'first');
    assert.equal(await newcomer, 'second', 'first was deleted before the newcomer began');
  });

  it("a settled leader finishing later leaves the newcomer's attempt open to the callers after it", async () => {
    const backend = new GatedLock();
    backend.acquireGate.resolve();
    const region = new CacheRegion().configure(backend);
    const leader = region.getOrCreate('k', () => 'first');
    await settle(); // created and written; the release waits
    await region.delete('k');
    const newcomer = region.getOrCreate('k', () => 'second'); // its own attempt, waiting for the lock
    await settle();
    const releaseOfLeader = backend.releaseGate;
    backend.releaseGate = deferred();
    releaseOfLeader.resolve(); // the leader finishes; the newcomer's attempt must stay the key's attempt
    assert.equal(await leader, 'first');
    const third = region.getOrCreate('k', () => 'third'); // misses: joins the newcomer's attempt
    await settle();
    backend.releaseGate.resolve();
    assert.deepEqual(await Promise.all([newcomer, third]), ['second', 'second']);
    assert.equal(backend.granted, 2, "the third caller shared the newcomer's attempt instead of taking the lock");
  });

  it('callers that missed while the leader worked still share its one attempt', async () => {
    const backend = new GatedLock();
    const region = new CacheRegion().configure(backend);
    let calls = 0;
    const creator = async () => {
      calls++;
      return 'once';
    };
    const callers = Array.from({ length: 20 }, () => region.getOrCreate('k', creator));
    await settle();
    backend.acquireGate.resolve();
    backend.releaseGate.resolve();
    assert.deepEqual(await Promise.all(callers), Array(20).fill('once'));
    assert.equal(calls, 1);
  });
});

describe('getOrCreate: a fresh value takes no lock', () => {
  /** A Dictionary whose lock counts its acquisitions (getMutex overridden: the synchronous read path stays). */
  class CountingLock extends DictionaryBackend {
    acquired = 0;
    override getMutex(): CacheMutex {
      let held = false;
      return {
        acquire: async () => {
          this.acquired++;
          if (held) return false;
          held = true;
          return true;
        },
        release: async () => {
          held = false;
        },
        locked: async () => held,
      };
    }
  }

  it('with no expiration time, however old; with one, while younger than it; a plain value and a tagged one: a hit', async () => {
    const clock = manualClock();
    const backend = new CountingLock({ clock });
    const forever = new CacheRegion({ clock }).configure(backend);
    await forever.set('old', 'kept');
    clock.advance(10 * 365 * 86_400_000);
    assert.equal(await forever.getOrCreate('old', () => 'created'), 'kept');
    assert.equal(backend.acquired, 0, 'no lock taken for a value with no expiration time');
    assert.deepEqual([forever.stats().hits, forever.stats().misses], [1, 0], 'counted as a hit');
    const timed = new CacheRegion({ clock }).configure(backend, { expirationTime: 60 });
    await timed.set('plain', 'p');
    await timed.getOrCreate('tagged', () => 't', { tags: ['t1'] });
    const afterCreate = backend.acquired;
    clock.advance(30_000);
    assert.equal(await timed.getOrCreate('plain', () => 'created'), 'p');
    assert.equal(await timed.getOrCreate('tagged', () => 'created', { tags: ['t1'] }), 't');
    assert.equal(backend.acquired, afterCreate, 'no lock taken for a fresh value');
    assert.deepEqual([timed.stats().hits, timed.stats().misses], [2, 1], 'two hits; the one miss was the creation');
    assert.equal(afterCreate, 1, 'the one creation took it once');
    clock.advance(31_000);
    assert.equal(await timed.getOrCreate('plain', () => 'created'), 'created');
    assert.equal(backend.acquired, afterCreate + 1, 'an expired one takes it');
  });
});
