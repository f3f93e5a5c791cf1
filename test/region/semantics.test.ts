// Region semantics fixed in issues 14, 15, 16 and 23, each checked against dogpile.cache 1.1.8 where it
// has the behaviour (the Python scenario is named in the test). In-memory backends only: the faults a
// real server shows are in test/reliability/region-policies.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CacheRegion,
  CreatorTimeoutError,
  DictionaryBackend,
  LockReleaseError,
  MissingDependencyError,
  NO_VALUE,
  ProxyBackend,
  ReentrantCreateError,
  RegionNotConfiguredError,
  SerializationError,
  ValidationError,
  isNoValue,
  manualClock,
  registerBackend,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
  type NoValue,
} from '../../src/index.js';
import { BytesBackend, VALUE_VERSION } from '../../src/backend.js';
import { DeferredBackend } from '../../src/backends/deferred.js';

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Counts every backend call that goes through it. */
class CountingProxy extends ProxyBackend {
  calls: string[] = [];
  override get(key: string): Promise<BackendResult> {
    this.calls.push('get');
    return super.get(key);
  }
  override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    this.calls.push('getMulti');
    return super.getMulti(keys);
  }
  override set(key: string, value: CachedValue): Promise<void> {
    this.calls.push('set');
    return super.set(key, value);
  }
  override setMulti(mapping: ReadonlyMap<string, CachedValue> | Readonly<Record<string, CachedValue>>): Promise<void> {
    this.calls.push('setMulti');
    return super.setMulti(mapping);
  }
}

describe('invalidation timestamps (issue 14.1, issue 23)', () => {
  it('a value set in the same millisecond as a hard invalidate() is invalidated, 200 times out of 200 (dogpile: 0 stale)', async () => {
    const region = new CacheRegion().configure('dictionary');
    let stale = 0;
    for (let i = 0; i < 200; i++) {
      await region.set('k', i);
      region.invalidate();
      if (!isNoValue(await region.get('k'))) stale++;
    }
    assert.equal(stale, 0);
  });

  it('the same for soft invalidation (reads miss)', async () => {
    const region = new CacheRegion().configure('dictionary', { expirationTime: 100 });
    let stale = 0;
    for (let i = 0; i < 200; i++) {
      await region.set('k', i);
      region.invalidate(false);
      if (!isNoValue(await region.get('k'))) stale++;
    }
    assert.equal(stale, 0);
  });

  it('a value created just after invalidate() stays valid, 200 times out of 200', async () => {
    const region = new CacheRegion().configure('dictionary');
    for (let i = 0; i < 200; i++) {
      region.invalidate();
      await region.set('k', i);
      assert.equal(await region.get('k'), i);
    }
  });

  it('ct stays float epoch seconds, close to Date.now()', async () => {
    const region = new CacheRegion().configure('dictionary');
    await region.set('k', 1);
    const ct = (await region.getValueMetadata('k'))?.metadata.ct as number;
    assert.ok(Math.abs(ct - Date.now() / 1000) < 60, `ct ${ct} is epoch seconds`);
  });

  it('with a manual clock, the boundary is strict: a value created at the very instant of the invalidation stays valid', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary');
    await region.set('before', 1);
    clock.advance(1);
    await region.set('at', 2);
    region.invalidate();
    assert.equal(await region.get('before'), NO_VALUE);
    assert.equal(await region.get('at'), 2, 'created == invalidated is not "created before"');
    assert.equal(await region.getOrCreate('at', () => 'recreated'), 2);
  });
});

describe('getMulti applies expiration and invalidation (issue 23)', () => {
  it('reads an expired value and an invalidated value as misses', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await region.set('old', 'old');
    clock.advance(11_000);
    await region.set('new', 'new');
    assert.deepEqual(await region.getMulti(['old', 'new']), [NO_VALUE, 'new']);
    clock.advance(1);
    region.invalidate();
    assert.deepEqual(await region.getMulti(['old', 'new']), [NO_VALUE, NO_VALUE]);
    assert.deepEqual(await region.getMulti(['old', 'new'], { ignoreExpiration: true }), ['old', 'new']);
  });
});

describe('soft invalidation serves the stale value while one caller regenerates (issue 23)', () => {
  it('other callers get the old value at once; one creator runs', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 100 });
    await region.set('k', 'old');
    clock.advance(1);
    region.invalidate(false);
    const gate = deferred<string>();
    let calls = 0;
    const creator = (): Promise<string> => {
      calls++;
      return gate.promise;
    };
    const regenerating = region.getOrCreate('k', creator);
    await sleep(5);
    const others = await Promise.all([region.getOrCreate('k', creator), region.getOrCreate('k', creator)]);
    assert.deepEqual(others, ['old', 'old'], 'a hard invalidation would make them wait for the new value');
    gate.resolve('new');
    assert.equal(await regenerating, 'new');
    assert.equal(calls, 1);
  });
});

describe('the value-version check on the hot path (issue 23)', () => {
  it('a value stored with another format version is regenerated by getOrCreate', async () => {
    const backend = new DictionaryBackend();
    const region = new CacheRegion().configure(backend);
    await backend.set('k', { payload: 'old format', metadata: { ct: Date.now() / 1000, v: VALUE_VERSION + 1 } });
    assert.equal(await region.getOrCreate('k', () => 'current'), 'current');
  });
});

describe('asyncCreationRunner failures (issue 14.2)', () => {
  // dogpile 1.1.8: a runner that raises makes get_or_create raise it, and the mutex is released.
  it('a runner that throws makes getOrCreate reject with its error, and releases the lock', async () => {
    const clock = manualClock();
    const region = new CacheRegion({
      clock,
      asyncCreationRunner: () => {
        throw new Error('runner boom');
      },
    }).configure('dictionary', { expirationTime: 1 });
    await region.set('k', 'old');
    clock.advance(2000);
    await assert.rejects(
      region.getOrCreate('k', () => 'new'),
      /runner boom/,
    );
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('a runner that rejects later has the lock released for it (once) and the error reported', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, asyncCreationRunner: async () => Promise.reject(new Error('late boom')) }).configure(
      'dictionary',
      {
        expirationTime: 1,
      },
    );
    const errors: unknown[] = [];
    region.on('error', (event) => void errors.push(event.error));
    await region.set('k', 'old');
    clock.advance(2000);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'old');
    await sleep(5);
    assert.equal(await region.keyIsLocked('k'), false);
    assert.match(String(errors[0]), /late boom/);
  });
});

describe('callers sharing one attempt (issues 14.3, 14.5)', () => {
  it("with a serializer, every joining caller gets its own copy; the leader gets the creator's object", async () => {
    const region = new CacheRegion({ serializer: 'json' }).configure('dictionary');
    const made = { list: [1] };
    const gate = deferred<void>();
    const calls = [0, 1, 2].map(() =>
      region.getOrCreate('k', async () => {
        await gate.promise;
        return made;
      }),
    );
    gate.resolve();
    const results = await Promise.all(calls);
    assert.equal(results[0], made);
    assert.notEqual(results[1], made);
    assert.notEqual(results[2], made);
    assert.notEqual(results[1], results[2]);
    assert.deepEqual(results[1], made);
  });

  it("without a serializer, joiners share the creator's object (documented)", async () => {
    const region = new CacheRegion().configure('dictionary');
    const made = { list: [1] };
    const results = await Promise.all([0, 1].map(() => region.getOrCreate('k', async () => made)));
    assert.equal(results[0], made);
    assert.equal(results[1], made);
  });

  // dogpile 1.1.8: t1 (should_cache_fn refuses) gets 'A', t2 runs its own creator and gets 'B', which is cached.
  it('a caller joining an attempt whose value shouldCacheFn refused runs its own creator and caches by its own rule', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = deferred<void>();
    const calls: string[] = [];
    const first = region.getOrCreate(
      'k',
      async () => {
        calls.push('c1');
        await gate.promise;
        return 'A';
      },
      { shouldCacheFn: () => false },
    );
    await sleep(5);
    const second = region.getOrCreate('k', () => {
      calls.push('c2');
      return 'B';
    });
    gate.resolve();
    assert.deepEqual(await Promise.all([first, second]), ['A', 'B']);
    assert.deepEqual(calls, ['c1', 'c2']);
    assert.equal(await region.get('k'), 'B');
  });
});

describe('the null backend never merges callers (issue 14.8)', () => {
  // dogpile 1.1.8: 5 threads on dogpile.cache.null: 5 creator calls, 5 distinct objects.
  it('every concurrent caller runs its own creator and gets its own object', async () => {
    const region = new CacheRegion().configure('null');
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        region.getOrCreate('k', async () => {
          calls++;
          await sleep(10);
          return {};
        }),
      ),
    );
    assert.equal(calls, 5);
    assert.equal(new Set(results).size, 5);
  });
});

describe('getOrCreateMulti backend calls (issue 14.6)', () => {
  it('50 cold keys without contention: one getMulti and one setMulti', async () => {
    const proxy = new CountingProxy();
    const region = new CacheRegion().configure('dictionary', { wrap: [proxy] });
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    assert.deepEqual(
      await region.getOrCreateMulti(keys, (...ks) => ks.map((k) => `v${k}`)),
      keys.map((k) => `v${k}`),
    );
    assert.deepEqual(proxy.calls, ['getMulti', 'setMulti']);
  });

  it('keys whose lock had to wait are read again in one getMulti, and not created twice', async () => {
    const proxy = new CountingProxy();
    const region = new CacheRegion().configure('dictionary', { wrap: [proxy] });
    const gate = deferred<void>();
    const first = region.getOrCreateMulti(['a', 'b'], async (...ks) => {
      await gate.promise;
      return ks.map((k) => `first ${k}`);
    });
    await sleep(5);
    let secondCreated: string[] = [];
    const second = region.getOrCreateMulti(['a', 'b', 'c'], (...ks) => {
      secondCreated = ks;
      return ks.map((k) => `second ${k}`);
    });
    await sleep(5);
    gate.resolve();
    assert.deepEqual(await first, ['first a', 'first b']);
    assert.deepEqual(await second, ['first a', 'first b', 'second c']);
    assert.deepEqual(secondCreated, ['c']);
    assert.deepEqual(proxy.calls, ['getMulti', 'getMulti', 'setMulti', 'getMulti', 'setMulti']);
  });

  it('200,000 keys: a ValidationError naming the limit, not a RangeError (issue 16.10)', async () => {
    const region = new CacheRegion().configure('dictionary');
    const keys = Array.from({ length: 200_000 }, (_, i) => `k${i}`);
    await assert.rejects(
      region.getOrCreateMulti(keys, (...ks) => ks),
      (e: Error) => e instanceof ValidationError && /at most 65536/.test(e.message),
    );
  });
});

describe('aborted callers release everything at once (issue 15.4)', () => {
  it('20,000 callers joining a hung creator, then aborting: none stays waiting', async () => {
    const region = new CacheRegion().configure('dictionary');
    const leader = new AbortController();
    const started = deferred<void>();
    const hung = region.getOrCreate(
      'k',
      () => {
        started.resolve();
        return new Promise<never>(() => {});
      },
      { signal: leader.signal },
    );
    await started.promise;
    const controllers = Array.from({ length: 20_000 }, () => new AbortController());
    const waiters = controllers.map((c) => region.getOrCreate('k', () => 'unused', { signal: c.signal }));
    assert.equal(region.stats().waiting, 20_000);
    for (const c of controllers) c.abort(new Error('gave up'));
    await Promise.allSettled(waiters);
    assert.equal(region.stats().waiting, 0);
    leader.abort(new Error('leader gave up'));
    await assert.rejects(hung, /leader gave up/);
  });

  it('a caller that really waits on the lock (not on a shared attempt) leaves the lock queue when it aborts', async () => {
    const region = new CacheRegion().configure('dictionary');
    const gate = deferred<void>();
    const started = deferred<void>();
    // getOrCreateMulti holds the key's lock without registering a shared attempt, so getOrCreate must wait on the lock.
    const holder = region.getOrCreateMulti(['k'], async (...ks) => {
      started.resolve();
      await gate.promise;
      return ks.map(() => 'held');
    });
    await started.promise;
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const waiters = controllers.map((c) => region.getOrCreate('k', () => 'unused', { signal: c.signal }));
    const multiWaiter = new AbortController();
    const multi = region.getOrCreateMulti(['k'], (...ks) => ks, { signal: multiWaiter.signal });
    await sleep(5);
    assert.equal(region.stats().waiting, 101, 'one on the lock, 99 sharing its attempt, one multi on the lock');
    for (const c of controllers) c.abort(new Error('waited too long'));
    multiWaiter.abort(new Error('multi waited too long'));
    await Promise.allSettled([...waiters, multi]);
    await assert.rejects(multi, /multi waited too long/);
    assert.equal(region.stats().waiting, 0);
    gate.resolve();
    assert.deepEqual(await holder, ['held']);
    assert.equal(await region.keyIsLocked('k'), false);
  });
});

describe('creatorTimeout and staleIfErrorFor (issue 15.4)', () => {
  it('validates both options', () => {
    assert.throws(
      () => new CacheRegion({ creatorTimeout: 'soon' as never }),
      (e: Error) => e instanceof ValidationError && /creatorTimeout/.test(e.message),
    );
    assert.throws(() => new CacheRegion({ creatorTimeout: 0 }), /creatorTimeout must be between/);
    assert.throws(() => new CacheRegion({ creatorTimeout: 3e6 }), /creatorTimeout must be between/);
    assert.throws(() => new CacheRegion({ staleIfErrorFor: -5 }), /staleIfErrorFor/);
    assert.throws(() => new CacheRegion({ staleIfErrorFor: '30 days' }), /staleIfErrorFor/);
  });

  it('a hung creator fails with CreatorTimeoutError for the caller and those sharing its attempt; the lock is released; the late value is not cached', async () => {
    const region = new CacheRegion({ creatorTimeout: '50ms' }).configure('dictionary');
    const late = deferred<string>();
    const outcomes = await Promise.allSettled([region.getOrCreate('k', () => late.promise), region.getOrCreate('k', () => 'unused')]);
    for (const o of outcomes)
      assert.ok(o.status === 'rejected' && o.reason instanceof CreatorTimeoutError, String(o.status === 'rejected' ? o.reason : o.value));
    assert.equal(await region.keyIsLocked('k'), false);
    late.resolve('late');
    await sleep(5);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'next'), 'next');
  });

  it('with a stale value, a timed-out creator serves the stale value', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 1 });
    await region.set('k', 'stale');
    clock.advance(5000);
    assert.equal(await region.getOrCreate('k', () => new Promise<string>(() => {}), { creatorTimeout: 0.05 }), 'stale');
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('staleIfErrorFor serves a value expired within the grace period when the creator throws, and only then', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 60 }).configure('dictionary', { expirationTime: 10 });
    const errors: string[] = [];
    region.on('error', (event) => void errors.push(event.operation));
    await region.set('k', 'stale');
    clock.advance(30_000); // expired 20 s ago: within the grace
    const failing = (): never => {
      throw new Error('db down');
    };
    assert.equal(await region.getOrCreate('k', failing), 'stale');
    assert.deepEqual(errors, ['create']);
    clock.advance(60_000); // expired 80 s ago
    await assert.rejects(region.getOrCreate('k', failing), /db down/);
    const noGrace = new CacheRegion({ clock }).configure('dictionary', { expirationTime: 10 });
    await noGrace.set('k', 'stale');
    clock.advance(11_000);
    await assert.rejects(noGrace.getOrCreate('k', failing), /db down/, 'no grace by default, as dogpile');
  });
});

describe('creatorTimeout and staleIfErrorFor in getOrCreateMulti (issue 15.4)', () => {
  it('a hung creator: stale values when every key has one, else CreatorTimeoutError; every lock released', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, creatorTimeout: 0.05 }).configure('dictionary', { expirationTime: 1 });
    await region.setMulti({ a: 'stale a', b: 'stale b' });
    clock.advance(5000);
    const hung = (): Promise<string[]> => new Promise(() => {});
    assert.deepEqual(await region.getOrCreateMulti(['a', 'b'], hung), ['stale a', 'stale b']);
    await assert.rejects(region.getOrCreateMulti(['a', 'b', 'c'], hung), CreatorTimeoutError);
    for (const key of ['a', 'b', 'c']) assert.equal(await region.keyIsLocked(key), false, key);
    assert.equal(region.stats().waiting, 0);
  });

  it('staleIfErrorFor applies to the multi creator too', async () => {
    const clock = manualClock();
    const region = new CacheRegion({ clock, staleIfErrorFor: 60 }).configure('dictionary', { expirationTime: 10 });
    await region.setMulti({ a: 'stale a', b: 'stale b' });
    clock.advance(30_000);
    const failing = (): never => {
      throw new Error('db down');
    };
    assert.deepEqual(await region.getOrCreateMulti(['b', 'a'], failing), ['stale b', 'stale a']);
    clock.advance(60_000);
    await assert.rejects(region.getOrCreateMulti(['a', 'b'], failing), /db down/);
  });
});

describe('re-entrance (issue 15.5)', () => {
  it('a creator that calls getOrCreate on its own key fails with ReentrantCreateError instead of hanging', async () => {
    const region = new CacheRegion().configure('dictionary');
    const outcome = region.getOrCreate('k', () => region.getOrCreate('k', () => 'inner'));
    await assert.rejects(Promise.race([outcome, sleep(2000).then(() => 'hung')]), ReentrantCreateError);
    assert.equal(await region.keyIsLocked('k'), false);
  });

  it('memoized recursion over a cycle fails with ReentrantCreateError', async () => {
    const region = new CacheRegion().configure('dictionary');
    const memo = region.cacheOnArguments();
    // even(1) -> odd(1) -> even(1): a cycle.
    const even = memo(async function even(n: number): Promise<boolean> {
      return n === 0 ? true : odd(n);
    });
    const odd = memo(async function odd(n: number): Promise<boolean> {
      return even(n);
    });
    await assert.rejects(Promise.race([even(1), sleep(2000).then(() => 'hung')]), ReentrantCreateError);
  });

  it('getOrCreateMulti creators too', async () => {
    const region = new CacheRegion().configure('dictionary');
    const outcome = region.getOrCreateMulti(['a', 'b'], async (...ks) => [await region.getOrCreate('b', () => 'inner'), ...ks.slice(1)]);
    await assert.rejects(Promise.race([outcome, sleep(2000).then(() => 'hung')]), ReentrantCreateError);
  });

  it('with the null backend too (it would recurse for ever)', async () => {
    const region = new CacheRegion().configure('null');
    await assert.rejects(
      region.getOrCreate('k', () => region.getOrCreate('k', () => 'inner')),
      ReentrantCreateError,
    );
  });

  it('different regions with the same key are not re-entrance', async () => {
    const a = new CacheRegion().configure('dictionary');
    const b = new CacheRegion().configure('dictionary');
    assert.equal(await a.getOrCreate('k', () => b.getOrCreate('k', () => 'from b')), 'from b');
  });
});

describe('replacing a backend closes the old one (issue 15.8)', () => {
  class ClosableBackend extends DictionaryBackend {
    closed = 0;
    gate: Promise<void> | undefined;
    override async get(key: string): Promise<BackendResult> {
      await this.gate;
      return super.get(key);
    }
    override async close(): Promise<void> {
      this.closed++;
    }
  }

  it('once its in-flight calls settle; the same instance configured again stays open', async () => {
    const old = new ClosableBackend();
    const gate = deferred<void>();
    old.gate = gate.promise;
    const region = new CacheRegion({ serializer: 'json' }).configure(old);
    const inFlight = region.get('k');
    await sleep(1);
    region.configure('dictionary', { replaceExistingBackend: true });
    assert.equal(old.closed, 0, 'a call is still in flight');
    gate.resolve();
    assert.equal(await inFlight, NO_VALUE);
    await sleep(1);
    assert.equal(old.closed, 1);
    const same = new ClosableBackend();
    const region2 = new CacheRegion().configure(same);
    region2.configure(same, { replaceExistingBackend: true });
    await sleep(1);
    assert.equal(same.closed, 0);
  });
});

/** A mutex whose release can be made to fail (a lock server going away between acquire and release). */
class FlakyMutex implements CacheMutex {
  held = false;
  constructor(readonly failRelease: boolean) {}
  async acquire(): Promise<boolean> {
    if (this.held) return false;
    this.held = true;
    return true;
  }
  async release(): Promise<void> {
    if (this.failRelease) throw new Error('release failed');
    this.held = false;
  }
  async locked(): Promise<boolean> {
    return this.held;
  }
}

describe('getOrCreateMulti releases every lock (issue 15.10)', () => {
  it('a release that throws does not stop the others; failures are reported together', async () => {
    const mutexes = new Map<string, FlakyMutex>();
    class LockingBackend extends DictionaryBackend {
      override getMutex(key: string): CacheMutex {
        let mutex = mutexes.get(key);
        if (mutex === undefined) mutexes.set(key, (mutex = new FlakyMutex(key === 'a' || key === 'c')));
        return mutex;
      }
    }
    const region = new CacheRegion().configure(new LockingBackend());
    await assert.rejects(
      region.getOrCreateMulti(['a', 'b', 'c', 'd'], (...ks) => ks),
      (e: Error) => e instanceof LockReleaseError && (e.cause as AggregateError).errors.length === 2,
    );
    assert.equal(mutexes.get('b')?.held, false);
    assert.equal(mutexes.get('d')?.held, false);
    assert.equal(await region.keyIsLocked('b'), false);
  });
});

describe('a backend still loading (issue 15.10)', () => {
  it("getMutex before the load finishes still uses the loaded backend's distributed lock", async () => {
    const remote = new FlakyMutex(false);
    class LockingBackend extends DictionaryBackend {
      override getMutex(): CacheMutex {
        return remote;
      }
    }
    const loading = deferred<typeof LockingBackend>();
    const backend = new DeferredBackend(loading.promise, {});
    const mutex = backend.getMutex('k');
    assert.notEqual(mutex, null);
    const acquiring = mutex?.acquire(true);
    loading.resolve(LockingBackend);
    assert.equal(await acquiring, true);
    assert.equal(remote.held, true);
    await mutex?.release();
    assert.equal(remote.held, false);
  });
});

describe('programming errors are never misses (issue 15.2)', () => {
  it("onBackendError 'miss' still throws RegionNotConfiguredError and MissingDependencyError", async () => {
    await assert.rejects(new CacheRegion({ onBackendError: 'miss' }).get('k'), RegionNotConfiguredError);
    await assert.rejects(
      new CacheRegion({ onBackendError: 'miss' }).getOrCreate('k', () => 1),
      RegionNotConfiguredError,
    );
    registerBackend('test.semantics-missing-driver', async () => {
      throw new MissingDependencyError('some-driver', 'test.semantics-missing-driver');
    });
    const region = new CacheRegion({ onBackendError: 'miss' }).configure('test.semantics-missing-driver');
    await assert.rejects(
      region.getOrCreate('k', () => 1),
      MissingDependencyError,
    );
  });
});

/** A backend whose stored entries can be corrupt: reading one throws SerializationError, as a bytes backend does. */
class CorruptibleBackend extends DictionaryBackend {
  readonly corrupt = new Set<string>();
  override async get(key: string): Promise<BackendResult> {
    if (this.corrupt.has(key)) throw new SerializationError(`entry ${key} is corrupt`);
    return super.get(key);
  }
  override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    if (keys.some((key) => this.corrupt.has(key))) throw new SerializationError('an entry is corrupt');
    return super.getMulti(keys);
  }
  override async set(key: string, value: CachedValue): Promise<void> {
    this.corrupt.delete(key);
    return super.set(key, value);
  }
}

describe('corrupt entries are misses (issue 16.6)', () => {
  it('a SerializationError from a read is a miss with an error event, and get-or-create regenerates, under either policy', async () => {
    for (const onBackendError of ['throw', 'miss'] as const) {
      const backend = new CorruptibleBackend();
      // Through a proxy: the region then reads with the async get (no in-memory synchronous read).
      const region = new CacheRegion({ onBackendError }).configure(backend, { wrap: [ProxyBackend] });
      const errors: string[] = [];
      region.on('error', (event) => void errors.push(event.operation));
      await region.set('good', 'good');
      await region.set('bad', 'bad');
      backend.corrupt.add('bad');
      assert.equal(await region.get('bad'), NO_VALUE);
      assert.deepEqual(await region.getMulti(['good', 'bad']), ['good', NO_VALUE]);
      assert.equal(await region.getOrCreate('bad', () => 'regenerated'), 'regenerated');
      assert.equal(await region.get('bad'), 'regenerated');
      assert.ok(errors.length >= 2 && errors.every((op) => op === 'deserialize'), errors.join());
    }
  });

  it('a write that cannot be serialized still throws', async () => {
    const region = new CacheRegion({ onBackendError: 'miss', serializer: 'json' }).configure('dictionary');
    await assert.rejects(
      region.getOrCreate('k', () => 10n as never),
      SerializationError,
    );
  });

  it('a ct that is not finite, or more than a day ahead, is a miss for get, getMulti and getOrCreate', async () => {
    /** Serves entry "bad" with a corrupt ct, as a store written by a broken client would (the backend's set refuses one). */
    class CorruptCt extends ProxyBackend {
      ct = 0;
      override async get(key: string): Promise<BackendResult> {
        return key === 'bad' ? { payload: 'corrupt', metadata: { ct: this.ct, v: VALUE_VERSION } } : super.get(key);
      }
      override async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
        return Promise.all(keys.map((key) => this.get(key)));
      }
    }
    const proxy = new CorruptCt();
    const region = new CacheRegion().configure('dictionary', { wrap: [proxy] });
    const now = Date.now() / 1000;
    await region.set('good', 'good');
    for (const ct of [Number.NaN, Number.POSITIVE_INFINITY, now + 2 * 86_400]) {
      proxy.ct = ct;
      assert.equal(await region.get('bad'), NO_VALUE, `ct ${ct}`);
      assert.deepEqual(await region.getMulti(['good', 'bad']), ['good', NO_VALUE]);
      assert.equal(await region.getOrCreate('bad', () => 'regenerated'), 'regenerated', `ct ${ct}`);
    }
    proxy.ct = now + 60;
    assert.equal(await region.getOrCreate('bad', () => 'regenerated'), 'corrupt', 'a minute of clock skew is fine');
  });

  it('with the in-memory synchronous read too: a ct far ahead never makes a value fresh forever', async () => {
    const backend = new DictionaryBackend();
    const region = new CacheRegion().configure(backend);
    await backend.set('bad', { payload: 'corrupt', metadata: { ct: Date.now() / 1000 + 2 * 86_400, v: VALUE_VERSION } });
    assert.equal(await region.getOrCreate('bad', () => 'regenerated'), 'regenerated');
  });
});

describe('a creation time at or below 0 is no value to getOrCreate, as in dogpile (its lock: ct <= 0 means no value)', () => {
  /** A store of bytes over a Map: it hands back any bytes a dogpile writer could have stored. */
  class MapBytes extends BytesBackend {
    readonly map = new Map<string, Buffer>();
    async getSerialized(key: string): Promise<Buffer | NoValue> {
      return this.map.get(key) ?? NO_VALUE;
    }
    async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
      return keys.map((key) => this.map.get(key) ?? NO_VALUE);
    }
    async setSerialized(key: string, value: Buffer): Promise<void> {
      this.map.set(key, value);
    }
    async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
      for (const [key, value] of mapping instanceof Map ? mapping : Object.entries(mapping)) this.map.set(key, value);
    }
    async delete(key: string): Promise<void> {
      this.map.delete(key);
    }
    async deleteMulti(keys: readonly string[]): Promise<void> {
      for (const key of keys) this.map.delete(key);
    }
  }

  /** get, getMulti, getOrCreate and getOrCreateMulti on an entry created at `ct` (each on a fresh copy of it). */
  async function outcomes(ct: number, expirationTime: number | null, serializer: boolean): Promise<unknown[]> {
    const show = (value: unknown) => (isNoValue(value) ? 'NO_VALUE' : value);
    const values = new DictionaryBackend();
    const bytes = new MapBytes();
    const region = serializer
      ? new CacheRegion({ serializer: 'json' }).configure(bytes, { expirationTime })
      : new CacheRegion().configure(values, { expirationTime });
    const seed = async () => {
      // JSON has no -Infinity: dogpile's bytes can still hold a ct that reads as one, -1e999.
      if (serializer) await bytes.setSerialized('k', Buffer.from(`{"ct": ${Object.is(ct, -Infinity) ? '-1e999' : ct}, "v": 2}|"old"`));
      else await values.set('k', { payload: 'old', metadata: { ct, v: VALUE_VERSION } });
    };
    await seed();
    const got = [show(await region.get('k')), (await region.getMulti(['k'])).map(show), await region.getOrCreate('k', () => 'new')];
    await seed();
    got.push(await region.getOrCreateMulti(['k'], (...keys) => keys.map(() => 'new')));
    return got;
  }

  // What /usr/bin/python3's dogpile.cache 1.1.8 returns for a memory region holding CachedValue("old", {"ct": ct, "v": 2})
  // (get, get_multi, get_or_create, get_or_create_multi): get serves any old value when nothing expires it, but
  // get_or_create regenerates one whose ct is not above 0 (Lock._has_value), with or without an expiration time.
  const cases: [number, number | null, unknown[]][] = [
    [0, null, ['old', ['old'], 'new', ['new']]],
    [-5, null, ['old', ['old'], 'new', ['new']]],
    [0, 60, ['NO_VALUE', ['NO_VALUE'], 'new', ['new']]],
    [-5, 60, ['NO_VALUE', ['NO_VALUE'], 'new', ['new']]],
    // An old value above 0 is a value: served when nothing expires it.
    [5, null, ['old', ['old'], 'old', ['old']]],
    [5, 60, ['NO_VALUE', ['NO_VALUE'], 'new', ['new']]],
  ];
  for (const [ct, expirationTime, expected] of cases) {
    it(`ct ${ct}, expiration ${expirationTime}: values and bytes`, async () => {
      assert.deepEqual(await outcomes(ct, expirationTime, false), expected, 'values');
      assert.deepEqual(await outcomes(ct, expirationTime, true), expected, 'bytes');
    });
  }

  it('ct -Infinity (bytes "-1e999", which Python reads as -inf too) is the oldest value there is', async () => {
    assert.deepEqual(await outcomes(-Infinity, null, true), ['old', ['old'], 'new', ['new']]);
    assert.deepEqual(await outcomes(-Infinity, 60, true), ['NO_VALUE', ['NO_VALUE'], 'new', ['new']]);
  });
});
