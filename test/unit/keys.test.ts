import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import {
  ValidationError,
  functionKeyGenerator,
  functionMultiKeyGenerator,
  lengthConditionalMangler,
  memcachedSafeMangler,
  sha1MangleKey,
  uniqueFunctionKeyGenerator,
  uniqueFunctionMultiKeyGenerator,
} from '../../src/index.js';

describe('key manglers', () => {
  it('sha1MangleKey equals dogpile sha1_mangle_key (values from CPython hashlib)', () => {
    assert.equal(sha1MangleKey('some_key'), '53def077a4264bd3183d4eb21b1f56f883e1b572');
    assert.equal(sha1MangleKey('fäké1'), '249a4f4aeebc9c4990b899a1eda409d7d12c6a24');
    assert.equal(sha1MangleKey('x'.repeat(300)), '02fd68253071f895718c8d41f7ff665abe1a6290');
  });

  it('sha1MangleKey refuses a lone surrogate, as Python cannot encode it (UnicodeEncodeError)', () => {
    // Hashing U+FFFD in its place would make 'a\ud800' and 'a\ufffd' one key.
    assert.throws(() => sha1MangleKey('a\ud800'), { name: 'ValidationError', message: /lone UTF-16 surrogate.*toWellFormed/ });
    assert.throws(() => sha1MangleKey('\udc00b'), ValidationError);
    assert.equal(sha1MangleKey('\ud83d\ude00'), sha1MangleKey('😀'), 'a surrogate pair is one code point');
    assert.equal(sha1MangleKey(''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'empty key hashes, as in Python');
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
    assert.throws(
      () => functionKeyGenerator(undefined, loadUser)({ id: 1 }),
      (e: Error) => e instanceof ValidationError && e.message.includes('toStr'),
    );
    assert.equal(functionKeyGenerator(undefined, loadUser, JSON.stringify)({ id: 1 }), 'loadUser|{"id":1}');
  });

  it('needs a namespace for anonymous functions', () => {
    assert.throws(() => functionKeyGenerator(undefined, { name: '' }), ValidationError);
  });

  it('multi generator makes one key per argument', () => {
    assert.deepEqual(functionMultiKeyGenerator('ns', loadUser)(1, 2, 3), ['ns|1', 'ns|2', 'ns|3']);
  });
});

describe('key manglers: issue 14/16/23 cases', () => {
  it('lengthConditionalMangler counts code points, as Python len() does', () => {
    const mangle = lengthConditionalMangler(3, (key) => `M(${key})`);
    assert.equal(mangle('a😀'), 'a😀', 'two code points (three UTF-16 units): below 3, as dogpile');
    assert.equal(mangle('ab😀'), 'M(ab😀)', 'three code points');
    assert.equal(mangle('😀😀'), '😀😀');
    assert.equal(mangle('😀😀😀'), 'M(😀😀😀)');
    assert.equal(mangle('abc'), 'M(abc)');
    assert.equal(mangle('ab'), 'ab');
    assert.equal(
      lengthConditionalMangler(2, (key) => `M(${key})`)('a\uD800'),
      'M(a\uD800)',
      'a lone surrogate counts as one, as in Python',
    );
  });

  it('lengthConditionalMangler(length > 40, sha1MangleKey): a 40-hex user key cannot equal a hashed key', () => {
    const mangle = lengthConditionalMangler(250, sha1MangleKey);
    const long = 'k'.repeat(300);
    const hashed = mangle(long);
    assert.equal(hashed, sha1MangleKey(long));
    assert.notEqual(mangle(hashed), hashed, 'a user key that looks like a sha1 digest is hashed itself');
    assert.equal(mangle('A'.repeat(40)), 'A'.repeat(40), 'only lowercase hex, the digest alphabet');
    assert.equal(mangle('short'), 'short');
    assert.equal(lengthConditionalMangler(40, sha1MangleKey)(hashed), sha1MangleKey(hashed), 'length <= 40 needs no special case');
  });

  it('memcachedSafeMangler: no user key equals the hashed form of another key', () => {
    const long = 'k'.repeat(300);
    const hashed = memcachedSafeMangler(long);
    assert.equal(hashed, `sha1:${sha1MangleKey(long)}`);
    assert.notEqual(memcachedSafeMangler(hashed), hashed, 'a user key that looks hashed is hashed itself');
    assert.equal(memcachedSafeMangler(hashed), `sha1:${sha1MangleKey(hashed)}`);
    assert.equal(memcachedSafeMangler('sha1:'), `sha1:${sha1MangleKey('sha1:')}`);
    assert.equal(memcachedSafeMangler('sha1'), 'sha1', 'only the full prefix');
  });

  it('memcachedSafeMangler hashes a 300-byte key of 3-byte characters (the fast path must not let it through)', () => {
    const key = '€'.repeat(100); // 100 UTF-16 units, 300 UTF-8 bytes
    assert.equal(Buffer.byteLength(key), 300);
    assert.equal(memcachedSafeMangler(key), `sha1:${sha1MangleKey(key)}`);
    assert.equal(memcachedSafeMangler('€'.repeat(83)), '€'.repeat(83), '249 bytes pass unchanged');
  });
});

describe('uniqueFunctionKeyGenerator: a key per distinct call', () => {
  function f(..._args: unknown[]): void {}

  it("the calls that share a key under dogpile's format get distinct keys", () => {
    const dogpile = functionKeyGenerator(undefined, f);
    const unique = uniqueFunctionKeyGenerator(undefined, f);
    const pairs: [unknown[], unknown[]][] = [
      [['a b'], ['a', 'b']],
      [[1], ['1']],
      [[null], ['null']],
      [[undefined], ['undefined']],
      [[true], ['true']],
      [[], ['']],
    ];
    for (const [a, b] of pairs) {
      assert.equal(dogpile(...a), dogpile(...b), `dogpile's format collides on ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
      assert.notEqual(unique(...a), unique(...b), `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
    }
    assert.equal(unique('a b'), 'f|"a b"');
    assert.equal(unique('a', 'b'), 'f|"a","b"');
    assert.equal(unique(1, -0, 10n, NaN), 'f|1,-0,10n,NaN');
    assert.equal(unique({ b: 1, a: [2] }), unique({ a: [2], b: 1 }), 'object keys are sorted');
    assert.equal(
      unique(Object.assign(Object.create(null), { a: 1 })),
      unique({ a: 1 }),
      'a plain object keys by its contents, with or without a prototype',
    );
    const foreign = runInNewContext('({ a: [1, { d: new Date(0) }] })') as unknown;
    assert.equal(unique(foreign), unique({ a: [1, { d: new Date(0) }] }), 'plain data from a node:vm context keys the same');
  });

  it('namespaces holding "|" cannot meet another namespace\'s arguments', () => {
    const a = uniqueFunctionKeyGenerator('ns|x', f)('y');
    const b = uniqueFunctionKeyGenerator('ns', f)('x|y');
    assert.notEqual(a, b);
    assert.equal(functionKeyGenerator('ns|x', f)('y'), functionKeyGenerator('ns', f)('x|y'), "dogpile's format collides here");
  });

  it('is one-to-one on primitives, arrays and plain objects (property)', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt());
    const arg = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(fc.string(), leaf, { maxKeys: 3, noNullPrototype: true }));
    const args = fc.array(arg, { maxLength: 4 });
    const key = uniqueFunctionKeyGenerator('ns', f);
    // (Objects without a prototype key as plain objects of the same contents: the oracle's objects have one.)
    fc.assert(
      fc.property(args, args, (a, b) => (key(...a) === key(...b)) === isDeepStrictEqual(a, b)),
      { numRuns: 2000 },
    );
    // Pairs that differ only in how a string is cut or typed are where collisions hide.
    fc.assert(
      fc.property(fc.string(), fc.nat(), (text, at) => {
        const cut = at % (text.length + 1);
        return key(text) !== key(text.slice(0, cut), text.slice(cut)) && key(text) !== key([text]);
      }),
    );
  });

  it('refuses what it cannot key, naming toStr; multi keys equal the single-call keys', () => {
    const key = uniqueFunctionKeyGenerator('ns', f);
    assert.throws(
      () => key(new Map()),
      (e: Error) => e instanceof ValidationError && /toStr/.test(e.message),
    );
    assert.throws(() => key(() => 1), ValidationError);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => key(cyclic), ValidationError);
    assert.equal(uniqueFunctionKeyGenerator('ns', f, (x) => String((x as Map<unknown, unknown>).size))(new Map()), 'ns|"0"');
    assert.deepEqual(uniqueFunctionMultiKeyGenerator('ns', f)(1, '1'), [key(1), key('1')]);
  });
});
