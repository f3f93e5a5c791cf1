import assert from 'node:assert/strict';
import { serialize } from 'node:v8';
import { describe, it } from 'node:test';
import { CacheRegion, NO_VALUE, SerializationError, isNoValue, type NoValue } from '../../src/index.js';

// Compile-time checks: `npm run typecheck` fails when `===` / `!==` stop narrowing.
function narrowsWithTripleEquals(value: string | NoValue): string {
  if (value === NO_VALUE) return 'miss';
  return value.toUpperCase(); // value: string here, only when the else branch removed NoValue
}
function narrowsWithNotEquals(value: number | NoValue): number {
  return value !== NO_VALUE ? value + 1 : 0;
}

describe('NO_VALUE', () => {
  it('narrows with === and !== (the type-check of this file is the test)', async () => {
    const region = new CacheRegion().configure('oslo_cache.dict');
    await region.set('k', 'hello');
    const hit = await region.get<string>('k');
    assert.equal(narrowsWithTripleEquals(hit), 'HELLO');
    assert.equal(narrowsWithTripleEquals(await region.get<string>('absent')), 'miss');
    assert.equal(narrowsWithNotEquals(NO_VALUE), 0);
    assert.equal(narrowsWithNotEquals(1), 2);
    assert.ok(isNoValue(NO_VALUE));
  });

  it('refuses JSON serialization with a SerializationError that says what to do', () => {
    assert.throws(() => JSON.stringify(NO_VALUE), SerializationError);
    assert.throws(() => JSON.stringify({ user: NO_VALUE }), /cannot be serialized.*=== NO_VALUE/);
    assert.throws(() => serialize(NO_VALUE));
  });

  it('is refused by a region with the JSON serializer instead of stored as a value', async () => {
    const region = new CacheRegion({ serializer: 'json' }).configure('oslo_cache.dict');
    await assert.rejects(region.set('k', { nested: NO_VALUE }), SerializationError);
    assert.equal(await region.get('k'), NO_VALUE);
  });

  it('keeps its string form and stays frozen', () => {
    assert.equal(String(NO_VALUE), 'NoValue.NO_VALUE');
    assert.ok(Object.isFrozen(NO_VALUE));
  });
});
