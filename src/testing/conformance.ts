/**
 * The backend contract as a test suite. Every backend of this package runs it, and a third-party
 * backend can prove itself with the same call:
 *
 * ```ts
 * import { describe, it, before, after } from 'node:test';
 * import { runBackendConformance } from 'dogpile-cache/testing';
 * runBackendConformance('MyBackend', () => new MyBackend({ ... }), { mutex: false, bytes: false }, { describe, it, before, after });
 * ```
 *
 * The suite registers its tests on the runner passed in (node:test, mocha, or anything with the same
 * four functions) and uses random keys, so it can share a server with other suites.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BytesBackend, NO_VALUE, isNoValue, makeCachedValue, type CacheBackend, type CacheMutex, type CachedValue } from '../api.js';
import { ValidationError } from '../errors.js';

/**
 * What the suite uses of the context a runner passes to each test: node:test's `TestContext` has
 * `diagnostic`, which prints a `# ...` line under the test. Runners without it pass nothing.
 */
export interface TestContextLike {
  /** Reports a line about this test (e.g. `not applicable: ...`) without failing it. */
  diagnostic?(message: string): void;
}

/** The test functions the suite registers on (node:test's `describe`, `it`, `before`, `after` fit). */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: (context?: TestContextLike) => void | Promise<void>): unknown;
  before(fn: () => void | Promise<void>): unknown;
  after(fn: () => void | Promise<void>): unknown;
}

/** What a backend can do, so the suite tests what applies instead of skipping silently. */
export interface BackendCapabilities {
  /** The backend returns a cross-process {@link CacheMutex} from `getMutex` (and the mutex tests run). */
  mutex: boolean;
  /**
   * True when `getMutex` returns a mutex that never blocks (the Null backend), so the mutex tests
   * check that instead.
   */
  nonBlockingMutex?: boolean;
  /** True for a backend that stores nothing (the Null backend): every read is expected to miss. */
  storesNothing?: boolean;
  /**
   * Whether the backend is a {@link BytesBackend} (its own `getSerialized`/`setSerialized` in dogpile's
   * byte format). `true`: the raw-bytes test runs and fails unless it extends BytesBackend. `false`: the
   * suite checks that it does not. Left out: the raw-bytes test runs if the backend turns out to be one,
   * and otherwise reports `not applicable` through the runner's `diagnostic` (it checks nothing then, so
   * declare the flag).
   */
  bytes?: boolean;
}

/** Creates the backend under test; called once per suite. */
export type BackendFactory = () => CacheBackend | Promise<CacheBackend>;

/**
 * Registers the backend contract tests (oslo.cache's functional `test_base.py` plus dogpile's generic
 * backend suite items that need no region) under `describe(name)`.
 *
 * @example
 * ```ts
 * import { after, before, describe, it } from 'node:test';
 * import { runBackendConformance } from 'dogpile-cache/testing';
 * import { DictionaryBackend } from 'dogpile-cache/backends/dictionary';
 * // in test/my-backend.test.ts: registers the contract tests under "MyBackend conformance"
 * runBackendConformance('MyBackend', () => new DictionaryBackend(), { mutex: false, bytes: false }, { describe, it, before, after });
 * ```
 */
export function runBackendConformance(
  name: string,
  makeBackend: BackendFactory,
  capabilities: BackendCapabilities,
  runner: TestRunner,
): void {
  const { describe, it, before, after } = runner;
  describe(`${name} conformance`, () => {
    let backend: CacheBackend;
    const run = randomUUID().slice(0, 8);
    let counter = 0;
    const key = (label = 'k'): string => `conformance-${run}-${label}-${counter++}`;
    const cv = <T>(payload: T): CachedValue<T> => makeCachedValue(payload);
    const stored = (expected: unknown): unknown => (capabilities.storesNothing === true ? NO_VALUE : expected);
    const payloadOf = (value: unknown): unknown => (isNoValue(value) ? NO_VALUE : (value as CachedValue).payload);

    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend.close();
      await backend.close(); // close() must be idempotent
    });

    it('returns NO_VALUE for a missing key', async () => {
      assert.equal(await backend.get(key('missing')), NO_VALUE);
    });

    it('round-trips a string with its metadata', async () => {
      const k = key();
      const value = cv('some value');
      await backend.set(k, value);
      const got = await backend.get(k);
      if (capabilities.storesNothing === true) return assert.equal(got, NO_VALUE);
      assert.ok(!isNoValue(got));
      assert.equal(got.payload, 'some value');
      assert.equal(got.metadata.v, 2);
      assert.ok(Math.abs(got.metadata.ct - value.metadata.ct) < 1e-6, 'metadata.ct must survive the round trip');
    });

    for (const [label, payload] of [
      ['null', null],
      ['an empty string', ''],
      ['zero', 0],
      ['false', false],
    ] as const) {
      it(`stores ${label} as a value, not a miss`, async () => {
        const k = key();
        await backend.set(k, cv(payload));
        assert.deepEqual(payloadOf(await backend.get(k)), stored(payload));
      });
    }

    it('round-trips nested JSON data and unicode', async () => {
      const k = key('fäké-ключ-🔑');
      const payload = { a: [1, 'x', true, null, { b: 1.5, c: 'ü€𝄞' }], n: -42, s: 'a|b' };
      await backend.set(k, cv(payload));
      assert.deepEqual(payloadOf(await backend.get(k)), stored(payload));
    });

    it('round-trips a 100 kB value', async () => {
      const k = key();
      const payload = 'x'.repeat(100_000);
      await backend.set(k, cv(payload));
      assert.equal(payloadOf(await backend.get(k)), stored(payload));
    });

    it('overwrites a key: string, then object, then string', async () => {
      const k = key();
      await backend.set(k, cv('first'));
      assert.equal(payloadOf(await backend.get(k)), stored('first'));
      await backend.set(k, cv({ second: [2] }));
      assert.deepEqual(payloadOf(await backend.get(k)), stored({ second: [2] }));
      await backend.set(k, cv('third'));
      assert.equal(payloadOf(await backend.get(k)), stored('third'));
    });

    it('setMulti stores every entry; other keys stay missing', async () => {
      const [k1, k2, k3] = [key(), key(), key()];
      await backend.setMulti({ [k1]: cv('one'), [k2]: cv(2) });
      assert.equal(payloadOf(await backend.get(k1)), stored('one'));
      assert.equal(payloadOf(await backend.get(k2)), stored(2));
      assert.equal(await backend.get(k3), NO_VALUE);
    });

    it('setMulti accepts a Map', async () => {
      const [k1, k2] = [key(), key()];
      await backend.setMulti(
        new Map([
          [k1, cv('a')],
          [k2, cv('b')],
        ]),
      );
      assert.deepEqual((await backend.getMulti([k1, k2])).map(payloadOf), [stored('a'), stored('b')]);
    });

    it('getMulti is aligned with its keys, with duplicates, blanks and misses', async () => {
      const [k1, k2, k3, missing] = [key(), key(), key(), key('missing')];
      await backend.setMulti({ [k1]: cv('v1'), [k2]: cv(''), [k3]: cv(null) });
      const got = await backend.getMulti([k3, missing, k1, k2, k1]);
      assert.equal(got.length, 5);
      assert.deepEqual(got.map(payloadOf), [stored(null), NO_VALUE, stored('v1'), stored(''), stored('v1')]);
    });

    it('setMulti updates a subset and leaves the rest', async () => {
      const [k1, k2, k3] = [key(), key(), key()];
      await backend.setMulti({ [k1]: cv('a'), [k2]: cv('b'), [k3]: cv('c') });
      await backend.setMulti({ [k2]: cv('B'), [k3]: cv(null) });
      assert.deepEqual((await backend.getMulti([k1, k2, k3])).map(payloadOf), [stored('a'), stored('B'), stored(null)]);
    });

    it('setMulti never mutates its argument', async () => {
      const [k1, k2] = [key(), key()];
      const record = Object.freeze({ [k1]: Object.freeze(cv('a')), [k2]: Object.freeze(cv('b')) });
      await backend.setMulti(record); // frozen: any write would throw in strict mode
      const map = new Map([[k1, cv('x')]]);
      await backend.setMulti(map);
      assert.deepEqual([...map.keys()], [k1]);
      assert.equal(map.get(k1)?.payload, 'x');
    });

    it('multi operations on no keys do nothing', async () => {
      const [kept, inherited] = [key('kept'), key('inherited')];
      await backend.set(kept, cv('kept'));
      assert.deepEqual(await backend.getMulti([]), []);
      await backend.setMulti({});
      await backend.setMulti(new Map());
      // No own entries: an entry only on the prototype is not part of the record and must not be written.
      await backend.setMulti(Object.create({ [inherited]: cv('not mine') }) as Record<string, CachedValue>);
      await backend.deleteMulti([]);
      assert.equal(payloadOf(await backend.get(kept)), stored('kept'), 'an empty write or delete left other keys alone');
      assert.equal(await backend.get(inherited), NO_VALUE, 'nothing was written for an inherited entry');
    });

    it('delete removes an entry and is idempotent', async () => {
      const k = key();
      await backend.set(k, cv('doomed'));
      await backend.delete(k);
      assert.equal(await backend.get(k), NO_VALUE);
      await backend.delete(k);
      await backend.delete(key('never-set'));
    });

    it('deleteMulti removes entries, ignores absent keys, leaves others', async () => {
      const [k1, k2, k3] = [key(), key(), key()];
      await backend.setMulti({ [k1]: cv(1), [k2]: cv(2), [k3]: cv(3) });
      await backend.deleteMulti([k1, k2, key('InvalidKey')]);
      assert.deepEqual((await backend.getMulti([k1, k2, k3])).map(payloadOf), [NO_VALUE, NO_VALUE, stored(3)]);
      await backend.deleteMulti([k1, k2]);
    });

    it('rejects bad keys with ValidationError', async () => {
      for (const bad of ['', 42, null, undefined, {}, '\ud800']) {
        await assert.rejects(backend.get(bad as string), ValidationError, `get(${String(bad)})`);
        await assert.rejects(backend.set(bad as string, cv(1)), ValidationError);
        await assert.rejects(backend.delete(bad as string), ValidationError);
      }
      await assert.rejects(backend.getMulti('abc' as unknown as string[]), ValidationError);
      await assert.rejects(backend.getMulti([key(), '']), ValidationError);
      await assert.rejects(backend.deleteMulti([key(), 7 as unknown as string]), ValidationError);
    });

    it('rejects a value that is not a CachedValue, and stores nothing half-way', async () => {
      const [k1, k2] = [key(), key()];
      await assert.rejects(backend.set(k1, 'raw' as unknown as CachedValue), ValidationError);
      await assert.rejects(backend.set(k1, { payload: 1 } as unknown as CachedValue), ValidationError);
      await assert.rejects(backend.setMulti({ [k1]: cv('ok'), [k2]: 'raw' as unknown as CachedValue }), ValidationError);
      assert.deepEqual(await backend.getMulti([k1, k2]), [NO_VALUE, NO_VALUE]);
    });

    it('offers a mutex only if it says so', () => {
      const mutex = backend.getMutex(key());
      if (capabilities.mutex || capabilities.nonBlockingMutex === true) assert.ok(mutex, 'getMutex should return a CacheMutex');
      else assert.equal(mutex, null);
    });

    if (capabilities.nonBlockingMutex === true) {
      it('has a mutex that never blocks', async () => {
        const mutex = backend.getMutex(key());
        assert.ok(mutex);
        assert.equal(await mutex.acquire(), true);
        assert.equal(await mutex.acquire(false), true);
        assert.equal(await mutex.locked(), false);
        await mutex.release();
      });
    }

    if (capabilities.mutex) {
      it('mutex: acquire, non-blocking re-acquire fails, release, acquire again', async () => {
        const k = key('lock');
        const mutex = backend.getMutex(k);
        const other = backend.getMutex(k);
        assert.ok(mutex && other);
        assert.equal(await mutex.locked(), false);
        assert.equal(await mutex.acquire(), true);
        assert.equal(await other.acquire(false), false);
        assert.equal(await other.locked(), true);
        await mutex.release();
        assert.equal(await mutex.locked(), false);
        assert.equal(await other.acquire(false), true);
        await other.release();
      });

      it('mutex: different keys lock independently', async () => {
        const foo = backend.getMutex(key('foo'));
        const bar = backend.getMutex(key('bar'));
        assert.ok(foo && bar);
        assert.equal(await foo.acquire(), true);
        assert.equal(await bar.acquire(false), true);
        await bar.release();
        await foo.release();
      });
    }

    const roundTripBytes = async (bytesBackend: BytesBackend): Promise<void> => {
      const k = key();
      const raw = Buffer.from('{"ct": 1700000000.5, "v": 2}|"some value"', 'utf8');
      await bytesBackend.setSerialized(k, raw);
      const got = await bytesBackend.getSerialized(k);
      if (capabilities.storesNothing === true) return assert.equal(got, NO_VALUE);
      assert.ok(Buffer.isBuffer(got), 'getSerialized returns a Buffer');
      assert.deepEqual(got, raw);
      assert.deepEqual(payloadOf(await bytesBackend.get(k)), 'some value');
      assert.equal(await bytesBackend.getSerialized(key('missing')), NO_VALUE);
    };

    if (capabilities.bytes === true) {
      it('BytesBackend: raw bytes round-trip in dogpile format', async () => {
        assert.ok(backend instanceof BytesBackend, 'capabilities.bytes is true, so the backend must extend BytesBackend');
        await roundTripBytes(backend);
      });
    } else if (capabilities.bytes === false) {
      it('is not a BytesBackend, as declared (capabilities.bytes: false)', () => {
        // Every backend has *Serialized methods (the contract's defaults); a BytesBackend implements its own.
        assert.ok(!(backend instanceof BytesBackend), 'the backend extends BytesBackend: declare capabilities.bytes: true');
      });
    } else {
      it('BytesBackend: raw bytes round-trip in dogpile format (capabilities.bytes not declared)', async (context) => {
        if (backend instanceof BytesBackend) return roundTripBytes(backend);
        // Nothing to check, and saying so: a silent early return here used to count as a pass.
        context?.diagnostic?.(
          `not applicable: ${name} is not a BytesBackend; declare capabilities.bytes (false) so the suite checks that instead`,
        );
      });
    }
  });
}
