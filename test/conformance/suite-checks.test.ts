// The conformance suite checked against backends that break the contract on purpose: each test here
// runs the suite on a collecting runner and expects the test that covers the break to fail, so none
// of them can pass by returning early. Also: an undeclared capability the suite cannot check is
// reported (`not applicable`), not passed silently. The broken backends are deliberate fakes over
// DictionaryBackend; no server is involved.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BytesBackend, type CachedValue, type Mapping } from '../../src/api.js';
import { DictionaryBackend, NO_VALUE, type NoValue } from '../../src/index.js';
import { assertKey, assertKeys, mappingEntries } from '../../src/validate.js';
import { runBackendConformance, type BackendCapabilities, type BackendFactory, type TestContextLike } from '../../src/testing/index.js';

interface Outcome {
  passed: boolean;
  error?: unknown;
  diagnostics: string[];
}

/** Registers the suite on a runner that records the tests, runs them in order, and returns each outcome by name. */
async function runSuite(makeBackend: BackendFactory, capabilities: BackendCapabilities): Promise<Map<string, Outcome>> {
  const tests: [string, (context?: TestContextLike) => void | Promise<void>][] = [];
  const hooks: { before: (() => unknown)[]; after: (() => unknown)[] } = { before: [], after: [] };
  runBackendConformance('Fake', makeBackend, capabilities, {
    describe: (_name, fn) => fn(),
    it: (name, fn) => tests.push([name, fn]),
    before: (fn) => hooks.before.push(fn),
    after: (fn) => hooks.after.push(fn),
  });
  for (const hook of hooks.before) await hook();
  const outcomes = new Map<string, Outcome>();
  for (const [name, fn] of tests) {
    const diagnostics: string[] = [];
    try {
      await fn({ diagnostic: (message) => diagnostics.push(message) });
      outcomes.set(name, { passed: true, diagnostics });
    } catch (error) {
      outcomes.set(name, { passed: false, error, diagnostics });
    }
  }
  for (const hook of hooks.after) await hook();
  return outcomes;
}

function outcome(outcomes: Map<string, Outcome>, name: string): Outcome {
  const found = outcomes.get(name);
  assert.ok(found, `the suite has a test named "${name}"; it has: ${[...outcomes.keys()].join(' / ')}`);
  return found;
}

/** Everything except `broken` passes: the break is caught by the test meant for it, not by accident. */
function assertOnlyFails(outcomes: Map<string, Outcome>, broken: string): void {
  assert.equal(outcome(outcomes, broken).passed, false, `"${broken}" should fail`);
  const others = [...outcomes].filter(([name, o]) => name !== broken && !o.passed).map(([name, o]) => `${name}: ${String(o.error)}`);
  assert.deepEqual(others, []);
}

/** A Dictionary that empties itself on an empty deleteMulti (a "delete everything" bug). */
class WipesOnEmptyDelete extends DictionaryBackend {
  override async deleteMulti(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return this.clear();
    return super.deleteMulti(keys);
  }
}

/** A Dictionary whose setMulti walks a record with for...in, so it also writes inherited entries. */
class WritesInherited extends DictionaryBackend {
  override async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    if (mapping instanceof Map) return super.setMulti(mapping);
    const own = new Map<string, CachedValue>();
    for (const key in mapping) own.set(key, (mapping as Record<string, CachedValue>)[key] as CachedValue);
    return super.setMulti(own);
  }
}

/** A minimal, correct BytesBackend over a Map, to check the raw-bytes tests from both sides. */
class MapBytesBackend extends BytesBackend {
  readonly #store = new Map<string, Buffer>();
  async getSerialized(key: string): Promise<Buffer | NoValue> {
    assertKey(key);
    return this.#store.get(key) ?? NO_VALUE;
  }
  async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    assertKeys(keys);
    return keys.map((key) => this.#store.get(key) ?? NO_VALUE);
  }
  async setSerialized(key: string, value: Buffer): Promise<void> {
    assertKey(key);
    this.#store.set(key, value);
  }
  async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    for (const [key, value] of mappingEntries(mapping)) this.#store.set(key, value);
  }
  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#store.delete(key);
  }
  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    for (const key of keys) this.#store.delete(key);
  }
}

/** Returns the bytes with the last byte changed: a store that corrupts what it keeps. */
class CorruptingBytesBackend extends MapBytesBackend {
  override async setSerialized(key: string, value: Buffer): Promise<void> {
    const copy = Buffer.from(value);
    copy[copy.length - 1] = 0x20;
    return super.setSerialized(key, copy);
  }
}

const BYTES_TEST = 'BytesBackend: raw bytes round-trip in dogpile format';
const UNDECLARED_BYTES_TEST = `${BYTES_TEST} (capabilities.bytes not declared)`;
const NOT_BYTES_TEST = 'is not a BytesBackend, as declared (capabilities.bytes: false)';
const EMPTY_MULTI_TEST = 'multi operations on no keys do nothing';

describe('the backend conformance suite catches what it claims to check', () => {
  it('a correct backend passes every test', async () => {
    for (const [make, capabilities] of [
      [() => new DictionaryBackend(), { mutex: false, bytes: false }],
      [() => new MapBytesBackend(), { mutex: false, bytes: true }],
    ] as const) {
      const outcomes = await runSuite(make, capabilities);
      assert.ok(outcomes.size > 15);
      assert.deepEqual(
        [...outcomes].filter(([, o]) => !o.passed).map(([name, o]) => `${name}: ${String(o.error)}`),
        [],
      );
    }
  });

  it('multi operations on no keys: an empty deleteMulti that deletes other keys fails', async () => {
    assertOnlyFails(await runSuite(() => new WipesOnEmptyDelete(), { mutex: false, bytes: false }), EMPTY_MULTI_TEST);
  });

  it("multi operations on no keys: a setMulti that writes a record's inherited entries fails", async () => {
    assertOnlyFails(await runSuite(() => new WritesInherited(), { mutex: false, bytes: false }), EMPTY_MULTI_TEST);
  });

  it('bytes: true on a backend without getSerialized fails', async () => {
    assertOnlyFails(await runSuite(() => new DictionaryBackend(), { mutex: false, bytes: true }), BYTES_TEST);
  });

  it('bytes: true on a BytesBackend that corrupts the bytes fails', async () => {
    const outcomes = await runSuite(() => new CorruptingBytesBackend(), { mutex: false, bytes: true });
    assert.equal(outcome(outcomes, BYTES_TEST).passed, false);
  });

  it('bytes: false on a BytesBackend fails', async () => {
    assertOnlyFails(await runSuite(() => new MapBytesBackend(), { mutex: false, bytes: false }), NOT_BYTES_TEST);
  });

  it('bytes left out: a BytesBackend is checked; any other backend is reported "not applicable", never passed silently', async () => {
    const corrupt = outcome(await runSuite(() => new CorruptingBytesBackend(), { mutex: false }), UNDECLARED_BYTES_TEST);
    assert.equal(corrupt.passed, false, 'undeclared, the test still checks a backend that offers the methods');
    const dictionary = outcome(await runSuite(() => new DictionaryBackend(), { mutex: false }), UNDECLARED_BYTES_TEST);
    assert.equal(dictionary.diagnostics.length, 1);
    assert.match(dictionary.diagnostics[0] as string, /^not applicable: Fake is not a BytesBackend; declare capabilities\.bytes/);
  });

  it('mutex: false on a backend that returns a mutex fails', async () => {
    class WithMutex extends DictionaryBackend {
      override getMutex(): null {
        return { acquire: async () => true, release: async () => {}, locked: async () => false } as unknown as null;
      }
    }
    assertOnlyFails(await runSuite(() => new WithMutex(), { mutex: false, bytes: false }), 'offers a mutex only if it says so');
  });
});
