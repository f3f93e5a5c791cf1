import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BackendUnavailableError,
  CacheBackend,
  CacheRegion,
  DictionaryBackend,
  NO_VALUE,
  NullBackend,
  ProxyBackend,
  isNoValue,
  registerBackend,
  SerializationError,
  systemClock,
  ValidationError,
  type BackendResult,
  type CachedValue,
  type CacheMutex,
  type Mapping,
  type NoValue,
} from '../../src/index.js';
import { BytesBackend } from '../../src/backend.js';
import { IN_PROCESS_STORE, LOCAL_COPIES, type InProcessStore, type LocalCopies } from '../../src/storage.js';

/** A bytes store over a Map, so the bytes path runs in-process; counts the calls the region makes. */
class MapBytes extends BytesBackend {
  readonly map = new Map<string, Buffer>();
  calls: string[] = [];
  async getSerialized(key: string): Promise<Buffer | NoValue> {
    this.calls.push('getSerialized');
    return this.map.get(key) ?? NO_VALUE;
  }
  async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    this.calls.push('getSerializedMulti');
    return keys.map((key) => this.map.get(key) ?? NO_VALUE);
  }
  async setSerialized(key: string, value: Buffer): Promise<void> {
    this.calls.push('setSerialized');
    this.map.set(key, value);
  }
  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    this.calls.push('setSerializedMulti');
    for (const [key, value] of mapping instanceof Map ? mapping : Object.entries(mapping)) this.map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async deleteMulti(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.map.delete(key);
  }
}

/** A Dictionary that counts its promise reads, to see which read the region chose. */
class CountingDictionary extends DictionaryBackend {
  asyncGets = 0;
  syncGets = 0;
  override async get(key: string): Promise<BackendResult> {
    this.asyncGets++;
    return super.get(key);
  }
  override getSync(key: string): BackendResult {
    this.syncGets++;
    return super.getSync(key);
  }
}

describe('the region storage path (src/storage.ts)', () => {
  it('values mode: an unwrapped backend that declares getSync serves hits synchronously; wrapped, reads go through the proxy', async () => {
    const backend = new CountingDictionary();
    const region = new CacheRegion().configure(backend);
    await region.set('k', 1);
    assert.equal(await region.get('k'), 1);
    assert.equal(await region.getOrCreate('k', () => 2), 1);
    assert.deepEqual([backend.syncGets, backend.asyncGets], [2, 0]);
    region.wrap(ProxyBackend);
    assert.equal(await region.get('k'), 1);
    assert.deepEqual([backend.syncGets, backend.asyncGets], [2, 1], 'a proxy declares no getSync: the region reads through it');
  });

  it('bytes mode on a store of values: the payload stays serialized in a CachedValue (memory_pickle), through the contract defaults', async () => {
    const backend = new CountingDictionary();
    const region = new CacheRegion({ serializer: 'json' }).configure(backend);
    await region.setMulti({ a: { n: 1 }, b: [2] });
    await region.set('c', 'three');
    const stored = await backend.get('c');
    assert.ok(!isNoValue(stored));
    assert.deepEqual(stored.payload, Buffer.from('"three"'));
    assert.equal(typeof stored.metadata.ct, 'number');
    assert.deepEqual(await region.getMulti(['a', 'missing', 'b', 'c']), [{ n: 1 }, NO_VALUE, [2], 'three']);
    const read = await region.get<{ n: number }>('a');
    assert.ok(!isNoValue(read));
    read.n = 99;
    assert.deepEqual(await region.get('a'), { n: 1 }, 'each read is its own copy');
    assert.equal(backend.syncGets, 0, 'no synchronous read with a serializer: the value must be decoded');
  });

  it('bytes mode on a store of values: a payload stored without the serializer is a miss with a "deserialize" error, the other keys kept', async () => {
    const backend = new DictionaryBackend();
    await new CacheRegion().configure(backend).set('plain', 'not bytes');
    const region = new CacheRegion({ serializer: 'json' }).configure(backend);
    await region.set('good', 'yes');
    const errors: string[] = [];
    region.on('error', (event) => errors.push(event.operation));
    assert.equal(await region.get('plain'), NO_VALUE);
    assert.deepEqual(await region.getMulti(['good', 'plain']), ['yes', NO_VALUE]);
    assert.deepEqual(errors, ['deserialize', 'deserialize']);
  });

  it('bytes mode on a store of bytes: only the *Serialized methods are called', async () => {
    const backend = new MapBytes();
    const region = new CacheRegion().configure(backend);
    assert.equal(region.serializer?.name, 'json', 'the backend recommends its serializer');
    await region.set('k', 'v');
    await region.setMulti({ a: 1 });
    assert.equal(await region.get('k'), 'v');
    assert.deepEqual(await region.getMulti(['a', 'k']), [1, 'v']);
    assert.deepEqual(backend.calls, ['setSerialized', 'setSerializedMulti', 'getSerialized', 'getSerializedMulti']);
    assert.equal(backend.map.get('k')?.toString('utf8').endsWith('|"v"'), true, "dogpile's byte format");
  });

  it('an async-loaded store of bytes gets the serialized calls too (they were sent to its CachedValue methods, and every read missed)', async () => {
    const backend = new MapBytes();
    registerBackend(
      'test.storage-async-bytes',
      async () =>
        class extends BytesBackend {
          getSerialized = (key: string) => backend.getSerialized(key);
          getSerializedMulti = (keys: readonly string[]) => backend.getSerializedMulti(keys);
          setSerialized = (key: string, value: Buffer) => backend.setSerialized(key, value);
          setSerializedMulti = (mapping: Mapping<Buffer>) => backend.setSerializedMulti(mapping);
          delete = (key: string) => backend.delete(key);
          deleteMulti = (keys: readonly string[]) => backend.deleteMulti(keys);
        },
    );
    const region = new CacheRegion({ serializer: 'json' }).configure('test.storage-async-bytes');
    await region.set('k', { a: 1 });
    assert.deepEqual(await region.get('k'), { a: 1 });
    assert.equal(backend.map.get('k')?.toString('utf8').endsWith('|{"a": 1}'), true, "dogpile's byte format, readable by Python");
  });

  it('switching the serializer switches the storage path', async () => {
    const backend = new CountingDictionary();
    const region = new CacheRegion().configure(backend);
    region.serializer = {
      name: 'upper',
      serialize: (value) => Buffer.from(String(value).toUpperCase()),
      deserialize: (bytes) => bytes.toString(),
    };
    await region.set('k', 'v');
    assert.equal(await region.get('k'), 'V');
    assert.equal(backend.syncGets, 0);
    assert.throws(() => {
      region.serializer = 'xml' as never;
    }, /serializer/);
  });

  it('a proxy with a serializer sees the *Serialized calls, whatever the store (as dogpile)', async () => {
    const seen: string[] = [];
    class Watch extends ProxyBackend {
      override getSerialized(key: string): Promise<Buffer | NoValue> {
        seen.push(`getSerialized ${key}`);
        return super.getSerialized(key);
      }
      override setSerialized(key: string, value: Buffer): Promise<void> {
        seen.push(`setSerialized ${key}`);
        return super.setSerialized(key, value);
      }
    }
    const region = new CacheRegion({ serializer: 'v8' }).configure(new DictionaryBackend(), { wrap: [Watch] });
    assert.equal(await region.getOrCreate('k', () => 'v'), 'v');
    assert.equal(await region.get('k'), 'v');
    assert.deepEqual(seen, ['getSerialized k', 'getSerialized k', 'setSerialized k', 'getSerialized k']);
  });
});

describe('the mutex contract: acquire(wait, signal) and neverBlocks', () => {
  it("a backend mutex gets the caller's signal through the region's in-process lock when it has to wait", async () => {
    const waits: (AbortSignal | undefined)[] = [];
    let held = true; // held by "another process" until the region waits for it
    const mutex: CacheMutex = {
      acquire: async (wait = true, signal?: AbortSignal) => {
        if (wait) waits.push(signal);
        while (held && wait) await new Promise((resolve) => setImmediate(resolve));
        if (held) return false;
        held = true;
        return true;
      },
      release: async () => {
        held = false;
      },
      locked: async () => held,
    };
    class Locking extends DictionaryBackend {
      override getMutex(): CacheMutex {
        return mutex;
      }
    }
    const region = new CacheRegion().configure(new Locking());
    const controller = new AbortController();
    const value = region.getOrCreate('k', () => 1, { signal: controller.signal });
    while (waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
    held = false;
    assert.equal(await value, 1);
    assert.deepEqual(waits, [controller.signal], 'the waiting acquire got the signal (acquire(wait, signal) in the contract)');
  });

  it('a backend mutex that declares neverBlocks is used alone: every concurrent caller runs its creator', async () => {
    const mutex: CacheMutex = { neverBlocks: true, acquire: async () => true, release: async () => {}, locked: async () => false };
    class Unlocked extends NullBackend {
      override getMutex(): CacheMutex {
        return mutex;
      }
    }
    const region = new CacheRegion().configure(new Unlocked());
    let runs = 0;
    const creator = async (): Promise<number> => {
      runs++;
      await new Promise((resolve) => setImmediate(resolve));
      return runs;
    };
    await Promise.all([region.getOrCreate('k', creator), region.getOrCreate('k', creator), region.getOrCreate('k', creator)]);
    assert.equal(runs, 3);
    assert.equal(await region.keyIsLocked('k'), false);
  });
});

/** A store of values whose reads all fail with `error` (the promise path; no synchronous read). */
class FailingReads extends CacheBackend {
  readonly map = new Map<string, CachedValue>();
  constructor(readonly error: unknown) {
    super();
  }
  async get(_key: string): Promise<BackendResult> {
    throw this.error;
  }
  async getMulti(_keys: readonly string[]): Promise<BackendResult[]> {
    throw this.error;
  }
  async set(key: string, value: CachedValue): Promise<void> {
    this.map.set(key, value);
  }
  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    for (const [key, value] of mapping instanceof Map ? mapping : Object.entries(mapping)) this.map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async deleteMulti(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.map.delete(key);
  }
}

/** The same store with the contract's synchronous read, failing as its `get` does (the contract says they agree). */
class FailingSyncReads extends FailingReads {
  override getSync(_key: string): BackendResult {
    throw this.error;
  }
}

/** The same store declaring local copies (the local tier's capability) whose synchronous reads fail. */
class FailingLocalCopies extends FailingReads {
  readonly [LOCAL_COPIES]: LocalCopies;
  constructor(error: unknown, sharesDecoded: boolean) {
    super(error);
    this[LOCAL_COPIES] = {
      sharesDecoded,
      read: () => {
        throw this.error;
      },
      bytes: () => {
        throw this.error;
      },
      decoded: () => {},
    };
  }
}

/** The same store declaring an in-process store (the Dictionary's capability) whose reads and writes fail. */
class FailingInProcessStore extends FailingReads {
  readonly [IN_PROCESS_STORE]: InProcessStore;
  constructor(error: unknown) {
    super(error);
    const fail = (): never => {
      throw this.error;
    };
    this[IN_PROCESS_STORE] = { clock: systemClock, read: fail, write: fail };
  }
  override async set(_key: string, _value: CachedValue): Promise<void> {
    throw this.error;
  }
}

/** What each read API does on `region`: its result or the error's name, with the error events and count. */
async function readOutcomes(region: CacheRegion): Promise<unknown[]> {
  const events: string[] = [];
  region.on('error', (event) => events.push(`${event.operation}:${(event.error as Error).name}`));
  const shown = (value: unknown) => (isNoValue(value) ? 'NO_VALUE' : value);
  const outcome = (promise: Promise<unknown>) =>
    promise.then(
      (value) => (Array.isArray(value) ? value.map(shown) : shown(value)),
      (error: Error) => `rejects ${error.name}`,
    );
  return [
    await outcome(region.get('k')),
    await outcome(region.has('k')),
    await outcome(region.getOrCreate('k', () => 'created')),
    await outcome(region.getMulti(['k'])),
    await outcome(region.getValueMetadata('k')),
    events,
    region.stats().errors,
  ];
}

describe('a synchronous read that fails follows the region error policy, as the promise read does', () => {
  const failures = [
    () => new BackendUnavailableError('the store is down'),
    () => new Error('a driver error'),
    () => new SerializationError('an unreadable entry'),
    () => new ValidationError('a programming error'),
  ];
  for (const onBackendError of ['throw', 'miss'] as const) {
    for (const failure of failures) {
      const name = failure().name;
      it(`${onBackendError}, ${name}: getSync, local copies (values and bytes) and the promise path agree`, async () => {
        const expected = await readOutcomes(new CacheRegion({ onBackendError }).configure(new FailingReads(failure())));
        assert.deepEqual(
          await readOutcomes(new CacheRegion({ onBackendError }).configure(new FailingSyncReads(failure()))),
          expected,
          'getSync',
        );
        assert.deepEqual(
          await readOutcomes(new CacheRegion({ onBackendError }).configure(new FailingLocalCopies(failure(), true))),
          expected,
          'local copies, values',
        );
        assert.deepEqual(
          await readOutcomes(new CacheRegion({ onBackendError }).configure(new FailingInProcessStore(failure()))),
          // Its getOrCreate fails to write the created value too (a "set" error, or the rejection).
          await readOutcomes(new CacheRegion({ onBackendError }).configure(new FailingInProcessStore(failure()), { wrap: [ProxyBackend] })),
          'in-process store',
        );
        // Bytes mode (a serializer): the store of values keeps the payload bytes; the promise path fails as above.
        const bytesExpected = await readOutcomes(
          new CacheRegion({ onBackendError, serializer: 'json' }).configure(new FailingReads(failure())),
        );
        for (const sharesDecoded of [true, false]) {
          assert.deepEqual(
            await readOutcomes(
              new CacheRegion({ onBackendError, serializer: 'json' }).configure(new FailingLocalCopies(failure(), sharesDecoded)),
            ),
            bytesExpected,
            `local copies, bytes, sharesDecoded ${sharesDecoded}`,
          );
        }
      });
    }
  }

  it('the expected outcomes themselves: "miss" turns an unavailable store into misses, "throw" rejects, corrupt data is a miss under both', async () => {
    const down = await readOutcomes(
      new CacheRegion({ onBackendError: 'miss' }).configure(new FailingSyncReads(new BackendUnavailableError('down'))),
    );
    assert.deepEqual(down.slice(0, 5), ['NO_VALUE', false, 'created', ['NO_VALUE'], null]);
    // get, has, getOrCreate's read and its re-read under the lock, getMulti, getValueMetadata.
    assert.deepEqual(
      down[5],
      Array(6)
        .fill('')
        .map((_, i) => `${i === 4 ? 'getMulti' : 'get'}:BackendUnavailableError`),
    );
    assert.equal(down[6], 6);
    const thrown = await readOutcomes(new CacheRegion().configure(new FailingSyncReads(new BackendUnavailableError('down'))));
    assert.deepEqual(thrown.slice(0, 5), Array(5).fill('rejects BackendUnavailableError'));
    assert.equal(thrown[6], 5);
    const store = await readOutcomes(new CacheRegion({ onBackendError: 'miss' }).configure(new FailingInProcessStore(new Error('full'))));
    assert.deepEqual(store.slice(0, 5), ['NO_VALUE', false, 'created', ['NO_VALUE'], null]);
    assert.deepEqual(
      store[5],
      ['get', 'get', 'get', 'get', 'set', 'getMulti', 'get'].map((operation) => `${operation}:Error`),
    );
    const corrupt = await readOutcomes(new CacheRegion().configure(new FailingSyncReads(new SerializationError('bad'))));
    assert.deepEqual(corrupt.slice(0, 3), ['NO_VALUE', false, 'created']);
  });

  it('a failed synchronous write (region.set on an in-process store) follows the policy as a failed backend set does', async () => {
    for (const onBackendError of ['throw', 'miss'] as const) {
      const region = new CacheRegion({ onBackendError }).configure(new FailingInProcessStore(new BackendUnavailableError('full')));
      const wrapped = new CacheRegion({ onBackendError }).configure(new FailingInProcessStore(new BackendUnavailableError('full')), {
        wrap: [ProxyBackend],
      });
      const outcomes: unknown[] = [];
      for (const r of [region, wrapped]) {
        const events: string[] = [];
        r.on('error', (event) => events.push(event.operation));
        outcomes.push([
          await r.set('k', 1).then(
            () => 'stored',
            (error: Error) => error.name,
          ),
          events,
        ]);
      }
      assert.deepEqual(outcomes[0], outcomes[1], onBackendError);
      assert.deepEqual(outcomes[0], [onBackendError === 'miss' ? 'stored' : 'BackendUnavailableError', ['set']]);
      // A SerializationError from a write is the caller's value that cannot be stored: thrown under every policy, as by set.
      const refusing = [
        new FailingInProcessStore(new SerializationError('cannot store')),
        new FailingInProcessStore(new SerializationError('x')),
      ];
      const viaSync = new CacheRegion({ onBackendError }).configure(refusing[0] as FailingInProcessStore);
      const viaPromise = new CacheRegion({ onBackendError }).configure(refusing[1] as FailingInProcessStore, { wrap: [ProxyBackend] });
      for (const r of [viaSync, viaPromise]) {
        const events: string[] = [];
        r.on('error', (event) => events.push(event.operation));
        await assert.rejects(r.set('k', 1), SerializationError);
        assert.deepEqual(events, [], onBackendError);
      }
    }
  });

  it("a failure of the local copies' decoded() after a good read meets the policy too: 'throw' rejects, 'miss' keeps the value read", async () => {
    /** Bytes read through the backend; the local copies hold none and fail to keep the decoding. */
    class KeepingFails extends MapBytes {
      readonly [LOCAL_COPIES]: LocalCopies = {
        sharesDecoded: true,
        read: () => undefined,
        bytes: () => undefined,
        decoded: () => {
          throw new BackendUnavailableError('the local tier is full');
        },
      };
    }
    for (const onBackendError of ['throw', 'miss'] as const) {
      const region = new CacheRegion({ onBackendError, serializer: 'json' }).configure(new KeepingFails());
      const events: string[] = [];
      region.on('error', (event) => events.push(event.operation));
      await region.set('k', 'v');
      const got = await region.get('k').catch((error: Error) => error.name);
      assert.deepEqual([got, events], [onBackendError === 'miss' ? 'v' : 'BackendUnavailableError', ['get']], onBackendError);
    }
  });
});
