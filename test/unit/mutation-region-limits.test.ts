// The documented limit of getOrCreateMulti (src/region.ts): at most MAX_SPREAD_ARGUMENTS distinct keys,
// because the creator receives them as arguments. Its own file, run last by `npm run mutation -- region`:
// creating 65,536 values takes about a second.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion, MAX_SPREAD_ARGUMENTS, ValidationError } from '../../src/index.js';

describe('getOrCreateMulti key limit', () => {
  it('exactly MAX_SPREAD_ARGUMENTS distinct keys are fine; one more is a ValidationError naming both numbers', async () => {
    const region = new CacheRegion().configure('dictionary');
    const keys = Array.from({ length: MAX_SPREAD_ARGUMENTS }, (_, i) => `k${i}`);
    const values = await region.getOrCreateMulti(keys, (...asked) => asked.map((key) => key.length));
    assert.equal(values.length, MAX_SPREAD_ARGUMENTS);
    await assert.rejects(
      region.getOrCreateMulti([...keys, 'one more'], (...asked) => asked),
      (e: Error) =>
        e instanceof ValidationError &&
        e.message ===
          `getOrCreateMulti takes at most ${MAX_SPREAD_ARGUMENTS} distinct keys per call (the creator receives them as arguments); got ${MAX_SPREAD_ARGUMENTS + 1}. Split the keys into batches.`,
    );
  });
});
