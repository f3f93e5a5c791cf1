import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ValidationError,
  functionKeyGenerator,
  functionMultiKeyGenerator,
  lengthConditionalMangler,
  memcachedSafeMangler,
  sha1MangleKey,
} from '../../src/index.js';

describe('key manglers', () => {
  it('sha1MangleKey equals dogpile sha1_mangle_key (values from CPython hashlib)', () => {
    assert.equal(sha1MangleKey('some_key'), '53def077a4264bd3183d4eb21b1f56f883e1b572');
    assert.equal(sha1MangleKey('fäké1'), '249a4f4aeebc9c4990b899a1eda409d7d12c6a24');
    assert.equal(sha1MangleKey('x'.repeat(300)), '02fd68253071f895718c8d41f7ff665abe1a6290');
  });

  it('lengthConditionalMangler mangles only keys at least that long', () => {
    const mangle = lengthConditionalMangler(10, sha1MangleKey);
    assert.equal(mangle('short'), 'short');
    assert.equal(mangle('exactly10!'), sha1MangleKey('exactly10!'));
    assert.throws(() => lengthConditionalMangler(-1, sha1MangleKey), ValidationError);
  });

  it('memcachedSafeMangler leaves safe keys and hashes long or unsafe ones', () => {
    assert.equal(memcachedSafeMangler('user:42'), 'user:42');
    assert.equal(memcachedSafeMangler('k'.repeat(250)), 'k'.repeat(250));
    assert.equal(memcachedSafeMangler('k'.repeat(251)), `sha1:${sha1MangleKey('k'.repeat(251))}`);
    assert.equal(memcachedSafeMangler('é'.repeat(126)), `sha1:${sha1MangleKey('é'.repeat(126))}`, '252 UTF-8 bytes');
    assert.equal(memcachedSafeMangler('has space'), `sha1:${sha1MangleKey('has space')}`);
    assert.equal(memcachedSafeMangler('ctl\x01'), `sha1:${sha1MangleKey('ctl\x01')}`);
    assert.equal(memcachedSafeMangler('del\x7f'), `sha1:${sha1MangleKey('del\x7f')}`);
  });
});

describe('function key generators', () => {
  function loadUser(_id: number, _name: string): void {}

  it('keys by function name and space-joined arguments', () => {
    assert.equal(functionKeyGenerator(undefined, loadUser)(1, 'a'), 'loadUser|1 a');
    assert.equal(functionKeyGenerator('users', loadUser)(1, 'a'), 'users|1 a');
    assert.equal(functionKeyGenerator(undefined, loadUser)(), 'loadUser|');
    assert.equal(functionKeyGenerator(undefined, loadUser)(null, undefined, true), 'loadUser|null undefined true');
  });

  it('keys unicode arguments unchanged', () => {
    assert.equal(functionKeyGenerator('ns', loadUser)('fäké'), 'ns|fäké');
  });

  it('refuses object arguments unless told how to key them', () => {
    assert.throws(() => functionKeyGenerator(undefined, loadUser)({ id: 1 }), (e: Error) => e instanceof ValidationError && e.message.includes('toStr'));
    assert.equal(functionKeyGenerator(undefined, loadUser, JSON.stringify)({ id: 1 }), 'loadUser|{"id":1}');
  });

  it('needs a namespace for anonymous functions', () => {
    assert.throws(() => functionKeyGenerator(undefined, { name: '' }), ValidationError);
  });

  it('multi generator makes one key per argument', () => {
    assert.deepEqual(functionMultiKeyGenerator('ns', loadUser)(1, 2, 3), ['ns|1', 'ns|2', 'ns|3']);
  });
});
