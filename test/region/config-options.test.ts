// Region options from user objects: dogpile's truthiness for replace_existing_backend in a config dict
// (issue 14.11), own properties only (issue 16.8: a polluted Object.prototype configures nothing), and a
// strict region's strictness reaching its backend on every configuration path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheRegion,
  DictionaryBackend,
  NullBackend,
  RegionAlreadyConfiguredError,
  ValidationError,
  registerBackend,
  type BackendArguments,
} from '../../src/index.js';

describe('configureFromConfig: replace_existing_backend', () => {
  for (const value of [1, '1', 'yes', 'true', true]) {
    it(`treats ${JSON.stringify(value)} as yes, as dogpile does after coercion`, async () => {
      const region = new CacheRegion().configure('dictionary');
      region.configureFromConfig({ 'cache.backend': 'dogpile.cache.null', 'cache.replace_existing_backend': value }, 'cache.');
      assert.ok(region.backend instanceof NullBackend);
      await region.close();
    });
  }
  for (const value of [0, '0', 'false', 'None', '']) {
    it(`treats ${JSON.stringify(value)} as no`, async () => {
      const region = new CacheRegion().configure('dictionary');
      assert.throws(
        () => region.configureFromConfig({ 'cache.backend': 'dogpile.cache.null', 'cache.replace_existing_backend': value }, 'cache.'),
        RegionAlreadyConfiguredError,
      );
      await region.close();
    });
  }
});

describe('region options are read from own properties only', () => {
  it('a polluted Object.prototype sets no region or configure option', async () => {
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.onBackendError = 'bogus';
    polluted.replaceExistingBackend = true;
    polluted.expirationTime = 'not a duration';
    try {
      const region = new CacheRegion().configure('dictionary');
      assert.equal(region.expirationTime, null);
      assert.throws(() => region.configure('dictionary'), RegionAlreadyConfiguredError);
      await region.close();
    } finally {
      delete polluted.onBackendError;
      delete polluted.replaceExistingBackend;
      delete polluted.expirationTime;
    }
  });
});

describe("a strict region makes its backend's arguments strict on every path", () => {
  /** A Dictionary that records the arguments it was made with. */
  class Recording extends DictionaryBackend {
    static made: BackendArguments[] = [];
    constructor(args: BackendArguments = {}) {
      super(args);
      Recording.made.push({ ...args });
    }
  }
  // The same class loaded at once and loaded asynchronously (a lazily imported module).
  registerBackend('config-options.strict-now', () => Recording);
  registerBackend('config-options.strict-later', async () => Recording);

  /** Whether `region`'s backend was made: the error a sync-loaded one throws now, an async one on the first call. */
  async function built(configure: () => CacheRegion): Promise<string> {
    try {
      const region = configure();
      await region.get('k');
      return 'built';
    } catch (error) {
      return error instanceof ValidationError ? `ValidationError: ${/has no option "(\w+)"/.exec(error.message)?.[1]}` : String(error);
    }
  }

  for (const name of ['config-options.strict-now', 'config-options.strict-later']) {
    it(`configure(): ${name} gets strictArguments, unless its arguments say otherwise`, async () => {
      Recording.made = [];
      const strict = () => new CacheRegion({ strictArguments: true });
      assert.equal(
        await built(() => strict().configure(name as never, { arguments: { no_such_argument: 1 } as never })),
        'ValidationError: no_such_argument',
      );
      assert.equal(await built(() => strict().configure(name as never)), 'built');
      assert.equal(
        await built(() => strict().configure(name as never, { arguments: { no_such_argument: 1, strict_arguments: false } as never })),
        'built',
      );
      assert.deepEqual(Recording.made.slice(-2), [{ strictArguments: true }, { no_such_argument: 1, strict_arguments: false }]);
      // A lenient region passes the arguments as they are.
      assert.equal(
        await built(() => new CacheRegion({ strictArguments: false }).configure(name as never, { arguments: { x: 1 } as never })),
        'built',
      );
      assert.deepEqual(Recording.made.at(-1), { x: 1 });
    });

    it(`configureFromConfig(): ${name} gets strictArguments too, oslo's common arguments staying quiet`, async () => {
      Recording.made = [];
      const strict = (config: Record<string, unknown>) => () =>
        new CacheRegion({ strictArguments: true }).configureFromConfig({ 'c.backend': name, ...config }, 'c.');
      assert.equal(await built(strict({ 'c.arguments.no_such_argument': '1' })), 'ValidationError: no_such_argument');
      assert.equal(await built(strict({ 'c.arguments.url': 'localhost:11211', 'c.arguments.dead_retry': '30' })), 'built');
      assert.equal(await built(strict({ 'c.arguments.no_such_argument': '1', 'c.arguments.strict_arguments': 'false' })), 'built');
      assert.equal(
        await built(() => new CacheRegion().configureFromConfig({ 'c.backend': name, 'c.arguments.x': '1', 'c.arguments.url': 'h' }, 'c.')),
        'built',
      );
      assert.deepEqual(Recording.made.slice(-3), [
        { url: 'localhost:11211', dead_retry: 30, strictArguments: true },
        { no_such_argument: 1, strict_arguments: false },
        { x: 1, url: 'h' },
      ]);
    });
  }
});
