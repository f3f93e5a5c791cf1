// Region options from user objects: dogpile's truthiness for replace_existing_backend in a config dict
// (issue 14.11), and own properties only (issue 16.8: a polluted Object.prototype configures nothing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, NullBackend, RegionAlreadyConfiguredError } from '../../src/index.js';

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
