// Adversarial tests of region.get / getOrCreate since they stopped being async functions (src/region.ts): every
// failure must be a rejection, never a synchronous throw, on every path, and the synchronous hit path (a
// Dictionary read through its in-process store) must answer exactly as the asynchronous one (the same
// backend behind a no-op ProxyBackend): the same value or the same error class, the same stats. Faults are
// injected one at a time: bad keys and options, an unconfigured region, a throwing key mangler, clock,
// invalidation strategy (a throwing listener's error is rethrown on the next tick by design, src/events.ts), and a backend whose reads fail under both error policies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IN_PROCESS_STORE, type InProcessStore } from '../../src/storage.js';
import { CacheRegion, DefaultInvalidationStrategy, DictionaryBackend, ProxyBackend, type RegionStats } from '../../src/index.js';

type Fault =
  | 'none'
  | 'badKey'
  | 'badOption'
  | 'manglerThrows'
  | 'clockThrows'
  | 'strategyThrows'
  | 'backendGetThrows'
  | 'backendGetThrowsMiss';
const FAULTS: Fault[] = [
  'none',
  'badKey',
  'badOption',
  'manglerThrows',
  'clockThrows',
  'strategyThrows',
  'backendGetThrows',
  'backendGetThrowsMiss',
];
type Call = 'get' | 'getOrCreate' | 'getMulti' | 'getOrCreateMulti' | 'has';
const CALLS: Call[] = ['get', 'getOrCreate', 'getMulti', 'getOrCreateMulti', 'has'];

class Boom extends Error {
  override name = 'Boom';
}

/**
 * A Dictionary backend whose reads throw while `failing()`: its `get`, `getMulti` and the in-process store
 * the region reads synchronously (patched on the instance, so the backend still declares the store).
 */
function failingDictionary(failing: () => boolean): DictionaryBackend {
  const backend = new DictionaryBackend();
  // Read before the methods are patched: the Dictionary decides its store on first use, and declares none
  // once its get is not its own.
  const store = (backend as unknown as Record<symbol, InProcessStore | undefined>)[IN_PROCESS_STORE];
  assert.ok(store !== undefined, 'the Dictionary declares its in-process store');
  const get = backend.get.bind(backend);
  const getMulti = backend.getMulti.bind(backend);
  backend.get = (key) => (failing() ? Promise.reject(new Boom('get')) : get(key));
  backend.getMulti = (keys) => (failing() ? Promise.reject(new Boom('getMulti')) : getMulti(keys));
  const failingStore: InProcessStore = {
    clock: store.clock,
    read: (key, now) => {
      if (failing()) throw new Boom('store read');
      return store.read(key, now);
    },
    write: store.write,
  };
  Object.defineProperty(backend, IN_PROCESS_STORE, { value: failingStore });
  return backend;
}

interface World {
  region: CacheRegion;
  arm: () => void;
}

function world(fault: Fault, proxied: boolean, fresh: boolean): World {
  let armed = false;
  let t = Date.UTC(2026, 0, 1);
  const clock = (): number => {
    if (armed && fault === 'clockThrows') throw new Boom('clock');
    return t;
  };
  const strategy = new DefaultInvalidationStrategy();
  const original = strategy.isInvalidated.bind(strategy);
  strategy.isInvalidated = (createdAt: number): boolean => {
    if (armed && fault === 'strategyThrows') throw new Boom('strategy');
    return original(createdAt);
  };
  const backend = failingDictionary(() => armed && (fault === 'backendGetThrows' || fault === 'backendGetThrowsMiss'));
  const region = new CacheRegion({
    clock,
    keyMangler: (key: string): string => {
      if (armed && fault === 'manglerThrows') throw new Boom('mangler');
      return key;
    },
    onBackendError: fault === 'backendGetThrowsMiss' ? 'miss' : 'throw',
  }).configure(proxied ? new ProxyBackend().wrap(backend) : backend, { expirationTime: 10, regionInvalidator: strategy });
  return {
    region,
    arm: () => {
      if (!fresh) t += 20_000; // every entry stale
      armed = true;
    },
  };
}

function invoke(region: CacheRegion, call: Call, fault: Fault): Promise<unknown> {
  const key = (fault === 'badKey' ? 42 : 'k') as string;
  const options = fault === 'badOption' ? ({ expirationTime: 'one hour' } as never) : undefined;
  const creator = (): string => 'created';
  switch (call) {
    case 'get':
      return region.get(key, options);
    case 'getOrCreate':
      return region.getOrCreate(key, creator, options);
    case 'getMulti':
      return region.getMulti([key, 'other'], options);
    case 'getOrCreateMulti':
      return region.getOrCreateMulti([key, 'other'], (...keys: string[]) => keys.map(() => 'created'), options);
    case 'has':
      return region.has(key, options);
  }
}

interface Outcome {
  threw: string | null;
  value: unknown;
  error: string | null;
  stats: Pick<RegionStats, 'hits' | 'misses'>;
}

async function run(fault: Fault, call: Call, proxied: boolean, fresh: boolean): Promise<Outcome> {
  const w = world(fault, proxied, fresh);
  await w.region.set('k', 'cached');
  await w.region.set('other', 'cached-other');
  w.arm();
  const before = w.region.stats();
  let promise: Promise<unknown>;
  try {
    promise = invoke(w.region, call, fault);
  } catch (error) {
    return { threw: (error as Error).name, value: undefined, error: null, stats: { hits: 0, misses: 0 } };
  }
  assert.ok(promise instanceof Promise, `${call} returned ${String(promise)}`);
  const settled = await promise.then(
    (value) => ({ value, error: null }),
    (error: unknown) => ({ value: undefined, error: (error as Error).name }),
  );
  const after = w.region.stats();
  return { threw: null, ...settled, stats: { hits: after.hits - before.hits, misses: after.misses - before.misses } };
}

describe('attack2: region reads fail by rejecting, the same on the synchronous and asynchronous paths', () => {
  for (const fresh of [true, false]) {
    for (const fault of FAULTS) {
      for (const call of CALLS) {
        it(`${call}, ${fault}, ${fresh ? 'fresh' : 'stale'} entries`, async () => {
          const direct = await run(fault, call, false, fresh);
          const proxied = await run(fault, call, true, fresh);
          assert.equal(direct.threw, null, `${call} threw synchronously (${String(direct.threw)})`);
          assert.equal(proxied.threw, null, `${call} (proxied) threw synchronously (${String(proxied.threw)})`);
          assert.deepEqual(direct, proxied);
        });
      }
    }
  }

  it('an unconfigured region rejects every read', async () => {
    const region = new CacheRegion();
    for (const call of CALLS) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = invoke(region, call, 'none');
      }, call);
      await assert.rejects(promise as Promise<unknown>, call);
    }
  });
});

describe('attack2: null options', () => {
  it('get, getMulti and has take null options as none, as getOrCreate does (they failed with a TypeError)', async () => {
    for (const proxied of [false, true]) {
      const backend = new DictionaryBackend();
      const region = new CacheRegion().configure(proxied ? new ProxyBackend().wrap(backend) : backend);
      await region.set('k', 'v');
      assert.equal(await region.get('k', null as never), 'v');
      assert.deepEqual(await region.getMulti(['k'], null as never), ['v']);
      assert.equal(await region.has('k', null as never), true);
      assert.equal(await region.getOrCreate('k', () => 'new', null as never), 'v');
    }
  });
});
