// CacheRegion's options and configuration (src/region.ts), through the public API: written to kill the
// mutants the region suites left alive (every option name accepted by a strict region, the strictness
// handed to the backend's arguments, configureFromConfig's wrap and replacement, the checks that leave a
// failed configure() without effect, the serializer setter, events and listeners, key manglers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  ConfigurationError,
  DefaultInvalidationStrategy,
  DictionaryBackend,
  NO_VALUE,
  ProxyBackend,
  RegionAlreadyConfiguredError,
  RegionNotConfiguredError,
  UNKNOWN_ARGUMENT_WARNING,
  ValidationError,
  jsonSerializer,
  manualClock,
  registerBackend,
  type BackendArguments,
  type BackendResult,
  type CachedValue,
} from '../../src/index.js';

/** The process warnings emitted while `fn` runs (they are delivered on a later tick). */
async function warningsDuring(fn: () => unknown): Promise<Error[]> {
  const seen: Error[] = [];
  const listener = (warning: Error): void => void seen.push(warning);
  process.on('warning', listener);
  try {
    fn();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

class Tagging extends ProxyBackend {
  seen: string[] = [];
  override get(key: string): Promise<BackendResult> {
    this.seen.push(`get ${key}`);
    return super.get(key);
  }
}

describe('region options', () => {
  it('a strict region accepts every documented option name', () => {
    const clock = manualClock();
    assert.doesNotThrow(
      () =>
        new CacheRegion({
          name: 'all',
          functionKeyGenerator: (_ns, fn) => () => fn.name,
          functionMultiKeyGenerator: (_ns, fn) => () => [fn.name],
          keyMangler: (key) => key,
          serializer: 'json',
          asyncCreationRunner: 'background',
          onBackendError: 'miss',
          creatorTimeout: 5,
          staleIfErrorFor: 5,
          clock,
          strictArguments: true,
          tagCheckInterval: 2,
          compression: { algorithm: 'gzip', threshold: 10 },
        }),
    );
  });

  it('a strict region names the unknown option and the known ones; a lenient one warns once', async () => {
    assert.throws(
      () => new CacheRegion({ strictArguments: true, expirationTime: 5 } as never),
      (e: Error) =>
        e instanceof ValidationError &&
        /CacheRegion options has no option "expirationTime"/.test(e.message) &&
        /Known: name, /.test(e.message),
    );
    const warned = await warningsDuring(() => new CacheRegion({ regionNameTypo: 1 } as never));
    assert.equal(warned.length, 1);
    assert.equal((warned[0] as Error & { code?: string }).code, UNKNOWN_ARGUMENT_WARNING);
    assert.match(String(warned[0]?.message), /regionNameTypo/);
    assert.match(String(warned[0]?.message), /strictArguments: true/);
  });

  it('strictArguments: false silences unknown region options (no warning)', async () => {
    const warned = await warningsDuring(() => new CacheRegion({ strictArguments: false, silentlyIgnoredOption: 1 } as never));
    assert.deepEqual(warned, []);
  });

  it('a strict region accepts every configure option name', () => {
    const region = new CacheRegion({ strictArguments: true });
    assert.doesNotThrow(() =>
      region.configure('dictionary', {
        expirationTime: 5,
        arguments: {},
        wrap: [],
        replaceExistingBackend: true,
        regionInvalidator: new DefaultInvalidationStrategy(),
      }),
    );
    assert.throws(
      () => new CacheRegion({ strictArguments: true }).configure('dictionary', { expiration_time: 5 } as never),
      (e: Error) => e instanceof ValidationError && /configure options has no option "expiration_time"/.test(e.message),
    );
  });

  it('an unknown configure option warns, naming the region option that makes it an error', async () => {
    const warned = await warningsDuring(() => new CacheRegion().configure('dictionary', { expirationTimeTypo: 1 } as never));
    assert.equal(warned.length, 1);
    assert.match(String(warned[0]?.message), /configure options has no option "expirationTimeTypo"/);
    assert.match(String(warned[0]?.message), /\(the region option strictArguments: true makes this an error\.\)/);
  });

  it('arguments that are not an object reach the backend, which refuses them (a strict region too)', () => {
    for (const strictArguments of [true, false]) {
      assert.throws(
        () => new CacheRegion({ strictArguments }).configure('dictionary', { arguments: 'expiration_time=5' as never }),
        ValidationError,
      );
    }
  });

  it("a strict region makes the backend's arguments strict, unless they say otherwise", () => {
    assert.throws(
      () => new CacheRegion({ strictArguments: true }).configure('dictionary', { arguments: { no_such_argument: 1 } as never }),
      ValidationError,
    );
    assert.doesNotThrow(() =>
      new CacheRegion({ strictArguments: true }).configure('dictionary', {
        arguments: { no_such_argument: 1, strict_arguments: false } as never,
      }),
    );
    assert.doesNotThrow(() =>
      new CacheRegion({ strictArguments: true }).configure('dictionary', {
        arguments: { no_such_argument: 2, strictArguments: false } as never,
      }),
    );
    // A lenient region leaves them lenient.
    assert.doesNotThrow(() => new CacheRegion().configure('dictionary', { arguments: { no_such_argument: 3 } as never }));
  });

  it('name must be a string; the hooks must be functions; the policy one of two words', () => {
    assert.throws(
      () => new CacheRegion({ name: 5 as never }),
      (e: Error) => e instanceof ValidationError && /^name must be a string; got /.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ clock: 'now' as never }),
      (e: Error) => e instanceof ValidationError && /^clock must be a function/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ keyMangler: 'sha1' as never }),
      (e: Error) => e instanceof ValidationError && /^keyMangler must be a function/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ asyncCreationRunner: 'later' as never }),
      (e: Error) => e instanceof ValidationError && /asyncCreationRunner must be "background" or a function/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ onBackendError: 'ignore' as never }),
      (e: Error) => e instanceof ValidationError && /onBackendError must be "throw" or "miss"/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion(null as never),
      (e: Error) => e instanceof ValidationError && /CacheRegion options must be an object/.test(e.message),
    );
    assert.throws(() => new CacheRegion('x' as never), ValidationError);
    assert.throws(
      () => new CacheRegion([] as never),
      (e: Error) => e instanceof ValidationError && /^CacheRegion options must be an object; got /.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ functionKeyGenerator: 'f' as never }),
      (e: Error) => e instanceof ValidationError && /^functionKeyGenerator must be a function/.test(e.message),
    );
    assert.throws(
      () => new CacheRegion({ functionMultiKeyGenerator: 'f' as never }),
      (e: Error) => e instanceof ValidationError && /^functionMultiKeyGenerator must be a function/.test(e.message),
    );
    // null keyMangler is "none", as absent.
    assert.equal(new CacheRegion({ keyMangler: null }).keyMangler, null);
  });

  it('the custom key generators are the ones memoization uses', async () => {
    const region = new CacheRegion({
      functionKeyGenerator:
        (_ns, fn) =>
        (...args) =>
          `custom:${fn.name}:${args.join(',')}`,
      functionMultiKeyGenerator:
        (_ns, fn) =>
        (...args) =>
          args.map((a) => `multi:${fn.name}:${String(a)}`),
    }).configure('dictionary');
    const one = region.cacheOnArguments()(function single(x: number) {
      return x * 2;
    });
    assert.equal(await one(4), 8);
    assert.equal(await region.get('custom:single:4'), 8);
    const many = region.cacheMultiOnArguments()(function batch(...xs: number[]) {
      return xs.map((x) => x * 3);
    });
    assert.deepEqual(await many(1, 2), [3, 6]);
    assert.deepEqual(await region.getMulti(['multi:batch:1', 'multi:batch:2']), [3, 6]);
  });
});

describe('configure', () => {
  it('is not configured before configure(); every backend call says how to fix it', async () => {
    const region = new CacheRegion();
    assert.equal(region.isConfigured, false);
    assert.throws(
      () => region.backend,
      (e: Error) => e instanceof RegionNotConfiguredError && /call region\.configure\(\.\.\.\) first/.test(e.message),
    );
    await assert.rejects(region.get('k'), RegionNotConfiguredError);
    await assert.doesNotReject(region.close(), 'closing a region without a backend does nothing');
    region.configure('dictionary');
    assert.equal(region.isConfigured, true);
  });

  it('configuring twice names the backend and the option that allows it', () => {
    const region = new CacheRegion().configure('dictionary');
    assert.throws(
      () => region.configure('dictionary'),
      (e: Error) =>
        e instanceof RegionAlreadyConfiguredError &&
        /already configured with backend: DictionaryBackend\. Specify replaceExistingBackend: true/.test(e.message),
    );
    assert.throws(() => region.configure('dictionary', { replaceExistingBackend: 'yes' as never }), RegionAlreadyConfiguredError);
  });

  it('takes a backend instance or class as well as a name; anything else is a ValidationError', async () => {
    const instance = new DictionaryBackend();
    const byInstance = new CacheRegion().configure(instance);
    assert.equal(byInstance.backend, instance);
    const byClass = new CacheRegion().configure(DictionaryBackend);
    assert.ok(byClass.backend instanceof DictionaryBackend);
    await byClass.set('k', 1);
    assert.equal(await byClass.get('k'), 1);
    assert.throws(
      () => new CacheRegion().configure(42 as never),
      (e: Error) =>
        e instanceof ValidationError && /backend must be a registered name, a CacheBackend class or instance; got /.test(e.message),
    );
  });

  it('wrap must be an array; a bad regionInvalidator is refused; neither changes the region', () => {
    const region = new CacheRegion();
    assert.throws(
      () => region.configure('dictionary', { wrap: new ProxyBackend() as never }),
      (e: Error) => e instanceof ValidationError && /^wrap must be an array of ProxyBackend classes or instances/.test(e.message),
    );
    assert.throws(
      () => region.configure('dictionary', { regionInvalidator: {} as never }),
      (e: Error) => e instanceof ValidationError && /^regionInvalidator must implement RegionInvalidationStrategy/.test(e.message),
    );
    assert.throws(() => region.configure('dictionary', { regionInvalidator: null as never }), ValidationError);
    assert.equal(region.isConfigured, false);
  });

  it('a custom regionInvalidator decides invalidation', async () => {
    let invalidatedBefore = -Infinity;
    const strategy = {
      invalidate: () => undefined,
      isInvalidated: (ct: number) => ct < invalidatedBefore,
      isHardInvalidated: (ct: number) => ct < invalidatedBefore,
      isSoftInvalidated: () => false,
      wasHardInvalidated: () => invalidatedBefore !== -Infinity,
      wasSoftInvalidated: () => false,
    };
    const clock = manualClock();
    const region = new CacheRegion({ clock }).configure('dictionary', { regionInvalidator: strategy });
    assert.equal(region.regionInvalidator, strategy);
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'v');
    invalidatedBefore = clock() / 1000 + 1;
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.getOrCreate('k', () => 'new'), 'new');
  });

  it('a failed configure() (compression without bytes) leaves the region as it was', async () => {
    const region = new CacheRegion({ compression: { algorithm: 'gzip' } });
    assert.throws(
      () => region.configure('dictionary', { expirationTime: 5 }),
      (e: Error) =>
        e instanceof ConfigurationError &&
        /compression needs stored bytes: the DictionaryBackend backend keeps values/.test(e.message) &&
        e.message.endsWith('Give the region a serializer ("json" or "v8"), or drop the compression option.'),
    );
    assert.equal(region.isConfigured, false);
    assert.equal(region.expirationTime, null);
    // With a serializer (the region's), the same configuration is fine.
    const bytes = new CacheRegion({ compression: { algorithm: 'gzip', threshold: 1 }, serializer: 'json' }).configure('dictionary', {
      expirationTime: 5,
    });
    await bytes.set('k', 'x'.repeat(100));
    assert.equal(await bytes.get('k'), 'x'.repeat(100));
  });

  it('expirationTime: null and absent mean never; a duration string is read as one', async () => {
    const clock = manualClock();
    for (const expirationTime of [null, undefined]) {
      const region = new CacheRegion({ clock }).configure('dictionary', expirationTime === undefined ? {} : { expirationTime });
      assert.equal(region.expirationTime, null);
    }
    assert.equal(new CacheRegion().configure('dictionary', { expirationTime: '2m' }).expirationTime, 120);
    assert.equal(new CacheRegion().configure('dictionary', { expirationTime: -1 }).expirationTime, -1);
  });

  it('replacing the backend resets actualBackend and keeps values of the new backend only', async () => {
    const region = new CacheRegion().configure('dictionary');
    const first = region.actualBackend;
    await region.set('k', 'first');
    const second = new DictionaryBackend();
    region.configure(second, { replaceExistingBackend: true });
    assert.notEqual(region.actualBackend, first);
    assert.equal(region.actualBackend, second);
    assert.equal(await region.get('k'), NO_VALUE);
  });
});

describe('configureFromConfig', () => {
  it('reads backend, expiration_time, arguments, wrap and replace_existing_backend under the prefix', async () => {
    const proxy = new Tagging();
    const region = new CacheRegion().configureFromConfig(
      { 'cache.backend': 'dictionary', 'cache.expiration_time': '30', 'cache.wrap': [proxy], 'other.backend': 'nope' },
      'cache.',
    );
    assert.equal(region.expirationTime, 30);
    assert.equal(region.backend, proxy);
    await region.get('k');
    assert.deepEqual(proxy.seen, ['get k']);
    assert.throws(() => region.configureFromConfig({ 'cache.backend': 'dictionary' }, 'cache.'), RegionAlreadyConfiguredError);
    region.configureFromConfig({ 'cache.backend': 'dictionary', 'cache.replace_existing_backend': 'true' }, 'cache.');
    assert.equal(region.expirationTime, null, 'no expiration_time: never');
    assert.ok(!(region.backend instanceof ProxyBackend), 'wrap null/absent: no proxy');
  });

  it('passes the prefixed arguments to the backend', async () => {
    const region = new CacheRegion({ strictArguments: true });
    assert.throws(
      () =>
        region.configureFromConfig(
          { 'c.backend': 'dictionary', 'c.arguments.bogus_argument': '1', 'c.arguments.strict_arguments': 'true' },
          'c.',
        ),
      ValidationError,
    );
    const clock = manualClock();
    const lenient = new CacheRegion({ clock }).configureFromConfig({ 'c.backend': 'dictionary', 'c.arguments.expiration_time': '1' }, 'c.');
    await lenient.set('k', 'v');
    assert.equal(await lenient.get('k'), 'v');
  });

  it('validates its inputs, naming what is missing', () => {
    const region = new CacheRegion();
    assert.throws(
      () => region.configureFromConfig(null as never, 'c.'),
      (e: Error) => e instanceof ValidationError && /^config must be an object/.test(e.message),
    );
    assert.throws(
      () => region.configureFromConfig('c.backend=dictionary' as never, 'c.'),
      (e: Error) => e instanceof ValidationError && /^config must be an object/.test(e.message),
    );
    assert.throws(
      () => region.configureFromConfig({}, 5 as never),
      (e: Error) => e instanceof ValidationError && /^prefix must be a string such as "cache\.redis\."/.test(e.message),
    );
    assert.throws(
      () => region.configureFromConfig({ 'c.expiration_time': 5 }, 'c.'),
      (e: Error) => e instanceof ConfigurationError && e.message === 'config has no "c.backend" naming the backend to use.',
    );
  });
});

describe('backends whose module loads asynchronously', () => {
  /** A Dictionary that records the arguments it was made with. */
  class Recording extends DictionaryBackend {
    static made: BackendArguments[] = [];
    constructor(args: BackendArguments = {}) {
      super();
      Recording.made.push(args);
    }
  }
  registerBackend('mutation-region.async-recording', async () => Recording);

  it('get the arguments given to configure() once loaded (none: an empty object)', async () => {
    Recording.made = [];
    const region = new CacheRegion().configure('mutation-region.async-recording' as never, { arguments: { answer: 42 } as never });
    await region.set('k', 1);
    assert.equal(await region.get('k'), 1);
    const plain = new CacheRegion().configure('mutation-region.async-recording' as never);
    await plain.get('k');
    assert.deepEqual(Recording.made, [{ answer: 42 }, {}]);
  });

  it('get the typed arguments under the prefix from configureFromConfig, without the prefix', async () => {
    Recording.made = [];
    const region = new CacheRegion().configureFromConfig(
      { 'c.backend': 'mutation-region.async-recording', 'c.arguments.answer': '42', 'c.expiration_time': '5', 'other.arguments.x': '1' },
      'c.',
    );
    await region.get('k');
    assert.equal(Recording.made.length, 1);
    assert.deepEqual({ ...Recording.made[0] }, { answer: 42 });
  });
});

describe('clear', () => {
  it('a proxy that declares clear gets the call (a local tier clears itself and the store under it)', async () => {
    const cleared: string[] = [];
    class ClearingProxy extends ProxyBackend {
      override async clear(): Promise<void> {
        cleared.push('proxy');
        await (this.proxied.clear?.() ?? undefined);
      }
    }
    const region = new CacheRegion().configure('dictionary', { wrap: [new ClearingProxy()] });
    await region.set('k', 1);
    await region.clear();
    assert.deepEqual(cleared, ['proxy']);
    assert.equal(await region.get('k'), NO_VALUE);
  });
});

describe('the serializer property', () => {
  it('switches between stored values and stored bytes', async () => {
    const region = new CacheRegion();
    // Before configure() it is accepted (configure() then adopts the backend's, as dogpile does).
    region.serializer = 'json' as never;
    assert.equal(region.serializer, jsonSerializer);
    const backend = new DictionaryBackend();
    region.configure(backend);
    assert.equal(region.serializer, null, "the backend's recommendation (none) replaces it, as in dogpile");
    region.serializer = 'json' as never;
    const object = { a: 1 };
    await region.set('k', object);
    const stored = (await backend.get('k')) as CachedValue;
    assert.ok(Buffer.isBuffer(stored.payload), 'with a serializer the payload is stored as bytes');
    assert.notEqual(await region.get('k'), object);
    region.serializer = null;
    assert.equal(region.serializer, null);
    await region.set('k2', object);
    assert.equal(((await backend.get('k2')) as CachedValue).payload, object, 'without one, the value itself');
    assert.throws(() => {
      region.serializer = 'yaml' as never;
    }, ValidationError);
  });

  it("a user serializer is kept over the backend's recommended one; the region's mangler too", () => {
    class Recommending extends DictionaryBackend {
      constructor() {
        super();
        this.keyMangler = (key: string) => `backend:${key}`;
      }
    }
    const own = (key: string): string => `own:${key}`;
    const region = new CacheRegion({ keyMangler: own, serializer: 'v8' }).configure(new Recommending());
    assert.equal(region.keyMangler, own);
    assert.notEqual(region.serializer, null);
    const adopting = new CacheRegion().configure(new Recommending());
    assert.equal(adopting.keyMangler?.('k'), 'backend:k');
    assert.equal(adopting.serializer, null);
  });
});

describe('events and listeners', () => {
  it('invalidate emits the region name and the mode; hard must be a boolean', () => {
    const region = new CacheRegion({ name: 'events' }).configure('dictionary');
    const seen: unknown[] = [];
    const off = region.on('invalidate', (event) => seen.push(event));
    region.invalidate();
    region.invalidate(false);
    off();
    region.invalidate();
    assert.deepEqual(seen, [
      { region: 'events', hard: true },
      { region: 'events', hard: false },
    ]);
    assert.throws(
      () => region.invalidate('soft' as never),
      (e: Error) => e instanceof ValidationError && /^hard must be true or false; got /.test(e.message),
    );
  });

  it('hit and miss events name the region and the key; off() stops them', async () => {
    const region = new CacheRegion({ name: 'r' }).configure('dictionary');
    const seen: string[] = [];
    const hit = (e: { region: string | undefined; key: string }): void => void seen.push(`hit ${e.region} ${e.key}`);
    const miss = (e: { region: string | undefined; key: string }): void => void seen.push(`miss ${e.region} ${e.key}`);
    region.on('hit', hit);
    region.on('miss', miss);
    await region.set('a', 1);
    await region.get('a');
    await region.get('b');
    await region.getMulti(['a', 'b']);
    region.off('hit', hit);
    region.off('miss', miss);
    await region.get('a');
    await region.get('b');
    assert.deepEqual(seen, ['hit r a', 'miss r b', 'hit r a', 'miss r b']);
    assert.throws(
      () => region.on('hit', 'listener' as never),
      (e: Error) => e instanceof ValidationError && /^listener must be a function/.test(e.message),
    );
  });

  it('invalidateTags validates its tags and mode', async () => {
    const region = new CacheRegion().configure('dictionary');
    await assert.rejects(
      region.invalidateTags([]),
      (e: Error) =>
        e instanceof ValidationError &&
        /tags must name at least one tag, e\.g\. invalidateTags\(\["user:42"\]\); got \[\]\./.test(e.message),
    );
    await assert.rejects(
      region.invalidateTags(['t'], 'soft' as never),
      (e: Error) => e instanceof ValidationError && /^hard must be true or false/.test(e.message),
    );
  });
});

describe('keys', () => {
  it("the key mangler's result is checked: an empty key is refused", async () => {
    const region = new CacheRegion({ keyMangler: () => '' }).configure('dictionary');
    await assert.rejects(region.get('k'), (e: Error) => e instanceof ValidationError && /the key mangler result/.test(e.message));
  });

  it('every result other than the key itself is checked: not a string, or a lone surrogate; the key unchanged is used', async () => {
    for (const mangler of [() => 42, (key: string) => `${key}\ud800`]) {
      const region = new CacheRegion({ keyMangler: mangler as never }).configure('dictionary');
      await assert.rejects(region.set('k', 1), (e: Error) => e instanceof ValidationError && /the key mangler result/.test(e.message));
    }
    const unchanged = new CacheRegion({ keyMangler: (key) => key }).configure('dictionary');
    await unchanged.set('k', 1);
    assert.equal(await unchanged.get('k'), 1);
    await assert.rejects(
      unchanged.get('\ud800'),
      (e: Error) => e instanceof ValidationError && /^key contains a lone UTF-16 surrogate/.test(e.message),
    );
  });

  it('user keys may not use the tag prefix; tags still work', async () => {
    const region = new CacheRegion({ keyMangler: (key) => `m:${key}` }).configure('dictionary');
    await assert.rejects(
      region.set('dogpile-cache:tag:t', 1),
      (e: Error) => e instanceof ValidationError && /must not start with "dogpile-cache:tag:"/.test(e.message),
    );
    await region.set('k', 1, { tags: ['t'] });
    await region.invalidateTags(['t']);
    assert.equal(await region.get('k'), NO_VALUE);
    assert.equal(await region.get('dogpile-cachex'), NO_VALUE, 'a key that only starts like the prefix is fine');
  });
});
