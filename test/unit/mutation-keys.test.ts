// Key manglers and key generators (src/keys.ts): written to kill the mutants test/unit/keys.test.ts left
// alive (issue 23). Where dogpile.cache defines the behaviour, the expected values come from the Python
// reference (Debian's dogpile.cache 1.1.8 and python-memcached 1.58 under /usr/bin/python3), recorded
// here so the test needs no Python; the script that printed each is quoted beside it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ValidationError,
  defaultToStr,
  functionKeyGenerator,
  functionMultiKeyGenerator,
  lengthConditionalMangler,
  memcachedSafeMangler,
  sha1MangleKey,
  uniqueFunctionKeyGenerator,
  uniqueFunctionMultiKeyGenerator,
} from '../../src/index.js';

const M = (key: string): string => `M(${key})`;

/** Asserts that `fn` throws a ValidationError whose message matches `message`. */
function throwsValidation(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof ValidationError && message.test(error.message));
}

describe('sha1MangleKey', () => {
  it('hashes the UTF-8 bytes of any text, as dogpile does', () => {
    // python3 -c 'from dogpile.cache import util; print(util.sha1_mangle_key("\U0001F600 ünïcode"))'
    assert.equal(sha1MangleKey('\u{1F600} ünïcode'), '71a3422b5a9ae8cae69317a11124f1b3e8def5e5');
  });
});

describe("lengthConditionalMangler: dogpile's length_conditional_mangler, len() in code points", () => {
  it('length 0 mangles every key, the empty one too (len("") >= 0)', () => {
    // length_conditional_mangler(0, M)("") == "M()"; length_conditional_mangler(1, M)("") == ""
    assert.equal(lengthConditionalMangler(0, M)(''), 'M()');
    assert.equal(lengthConditionalMangler(0, M)('a'), 'M(a)');
    assert.equal(lengthConditionalMangler(1, M)(''), '');
  });

  it('a surrogate pair is one character; a lone surrogate is one character (Python counts code points)', () => {
    // Each row: length_conditional_mangler(n, M)(key) in Python, with the same code points.
    const cases: [number, string, boolean][] = [
      [2, String.fromCodePoint(0x10000), false], // '\U00010000': len 1
      [2, String.fromCodePoint(0x10ffff), false], // '\U0010ffff': len 1
      [3, String.fromCodePoint(0x10000, 0x10ffff), false], // len 2
      [3, `a${String.fromCodePoint(0x10000)}b`, true], // len 3
      [2, 'a\uDC00', true], // a lone low surrogate after a letter: len 2
      [2, '\uDC00\uDC00', true], // two lone low surrogates: len 2
      [2, '\uD7FF\uDC00', true], // below the high-surrogate range, then a lone low one: len 2
      [2, '\uE000\uDC00', true], // above it: len 2
      [2, '\uD800a', true], // a lone high surrogate before a letter: len 2
      [2, '\uD800\uE000', true], // a high surrogate before a non-surrogate: len 2
      [2, '\uDBFF\uDBFF', true], // two lone high surrogates: len 2
    ];
    for (const [length, key, mangled] of cases) {
      const codes = [...key].map((c) => c.codePointAt(0)?.toString(16)).join(' ');
      assert.equal(lengthConditionalMangler(length, M)(key), mangled ? M(key) : key, `length ${length}, code points ${codes}`);
    }
  });

  it('with another mangler, a 40-hex key shorter than length stays as it is (dogpile)', () => {
    // length_conditional_mangler(50, M)("0123456789abcdef0123456789abcdef01234567") returns the key itself
    const hex = '0123456789abcdef0123456789abcdef01234567';
    assert.equal(lengthConditionalMangler(50, M)(hex), hex);
    assert.equal(lengthConditionalMangler(50, sha1MangleKey)(hex), sha1MangleKey(hex), "only sha1MangleKey's own outputs are guarded");
  });

  it('refuses a bad length or mangler, naming the argument', () => {
    throwsValidation(() => lengthConditionalMangler(-1, M), /^length must be a non-negative integer; got number -1\.$/);
    throwsValidation(() => lengthConditionalMangler(1.5, M), /^length must be a non-negative integer; got number 1\.5\.$/);
    throwsValidation(() => lengthConditionalMangler(10, 'sha1' as never), /^mangler must be a function; got "sha1"\.$/);
  });
});

describe("memcachedSafeMangler: keys python-memcached's check_key accepts pass unchanged", () => {
  // python-memcached: valid_key_chars_re = b"[!-~\x80-\xff]+$", SERVER_MAX_KEY_LENGTH = 250 (bytes).
  // Client.check_key(key.encode()) accepts: "a!", "a~", "a\x80", "\x85", "\xa0", "é" * 125 (250 bytes),
  // "€" * 83 (249 bytes); it refuses "a\x1f", "a " (0x20), "a\x7f", "é" * 126 (252), "€" * 84 (252).
  it('printable ASCII and every non-ASCII character are safe; 0x00–0x20 and 0x7f are not', () => {
    for (const key of ['a!', 'a~', 'a\x80', '\x85', '\xa0', '\x21', '~']) assert.equal(memcachedSafeMangler(key), key, JSON.stringify(key));
    for (const key of ['a\x00', 'a\x1f', 'a\x20', 'a\x7f', '\n'])
      assert.equal(memcachedSafeMangler(key), `sha1:${sha1MangleKey(key)}`, JSON.stringify(key));
  });

  it('the limit is 250 UTF-8 bytes, whatever the number of characters', () => {
    assert.equal(memcachedSafeMangler('é'.repeat(125)), 'é'.repeat(125), '250 bytes');
    assert.equal(memcachedSafeMangler('€'.repeat(83)), '€'.repeat(83), '249 bytes');
    assert.equal(memcachedSafeMangler('€'.repeat(84)), `sha1:${sha1MangleKey('€'.repeat(84))}`, '252 bytes in 84 characters');
    const emoji = '\u{1F600}'.repeat(63); // 126 UTF-16 units, 252 bytes
    assert.equal(memcachedSafeMangler(emoji), `sha1:${sha1MangleKey(emoji)}`);
    const fits = `${'\u{1F600}'.repeat(62)}ab`; // 250 bytes
    assert.equal(memcachedSafeMangler(fits), fits);
  });
});

describe('defaultToStr', () => {
  it('keys primitives with String() and Dates by their ISO time', () => {
    assert.equal(defaultToStr(42), '42');
    assert.equal(defaultToStr(null), 'null');
    assert.equal(defaultToStr(10n), '10');
    assert.equal(defaultToStr(new Date(0)), '1970-01-01T00:00:00.000Z');
  });

  it('refuses objects, functions and symbols, whose String() would collide, naming the value and the fix', () => {
    throwsValidation(() => defaultToStr({ id: 1 }), /String\(\), which cannot tell an object \(Object\) apart .*Pass toStr/);
    throwsValidation(() => defaultToStr(function load() {}), /cannot tell a function apart/);
    throwsValidation(() => defaultToStr(Symbol('s')), /cannot tell symbol Symbol\(s\) apart/);
  });
});

describe('functionKeyGenerator / functionMultiKeyGenerator: the namespace', () => {
  function loadUser(_id: number): void {}

  it("a null or undefined namespace means the function's name", () => {
    assert.equal(functionKeyGenerator(null, loadUser)(1), 'loadUser|1');
    assert.deepEqual(functionMultiKeyGenerator(null, loadUser)(1, 2), ['loadUser|1', 'loadUser|2']);
  });

  it('refuses an empty or non-string namespace, and a function without a string name', () => {
    throwsValidation(() => functionKeyGenerator('', loadUser), /^namespace must be a non-empty string; got ""\.$/);
    throwsValidation(() => functionKeyGenerator(7 as never, loadUser), /^namespace must be a non-empty string; got number 7\.$/);
    throwsValidation(() => functionMultiKeyGenerator('', loadUser), /namespace must be a non-empty string/);
    throwsValidation(() => functionKeyGenerator(undefined, { name: '' }), /anonymous function .*pass a namespace/);
    throwsValidation(() => functionKeyGenerator(undefined, { name: ['loadUser'] } as never), /anonymous function/);
  });
});

describe('uniqueFunctionKeyGenerator: the tokens', () => {
  function f(..._args: unknown[]): void {}
  const key = uniqueFunctionKeyGenerator('ns', f);

  it('writes arrays and objects as comma-separated tokens in brackets and braces', () => {
    assert.equal(key([1, 'a', [true, null]], {}), 'ns|[1,"a",[true,null]],{}');
    assert.equal(key([]), 'ns|[]');
    assert.equal(key({ b: [2], a: 'x' }), 'ns|{"a":"x","b":[2]}');
    assert.notEqual(key([1, 2]), key([12]));
    assert.notEqual(key({ a: 1, b: 2 }), key({ a: 12 }));
  });

  it('writes a Date as Date("<ISO time>"), and an invalid one as Date(NaN)', () => {
    assert.equal(key(new Date(0)), 'ns|Date("1970-01-01T00:00:00.000Z")');
    assert.equal(key(new Date(NaN)), 'ns|Date(NaN)');
    assert.notEqual(key(new Date(0)), key(new Date(1)));
  });

  it('escapes "|" and "\\" in the namespace', () => {
    assert.equal(uniqueFunctionKeyGenerator('a|b\\c', f)(1), 'a\\|b\\\\c|1');
    assert.deepEqual(uniqueFunctionMultiKeyGenerator('a|b', f)(1), ['a\\|b|1']);
  });

  it('keys nesting up to 64 levels and refuses deeper, arrays and objects alike', () => {
    const arrays = (levels: number): unknown => (levels === 0 ? 0 : [arrays(levels - 1)]);
    const objects = (levels: number): unknown => (levels === 0 ? 0 : { a: objects(levels - 1) });
    assert.equal(key(arrays(64)), `ns|${'['.repeat(64)}0${']'.repeat(64)}`);
    assert.equal(key(objects(64)), `ns|${'{"a":'.repeat(64)}0${'}'.repeat(64)}`);
    const message = /^uniqueFunctionKeyGenerator cannot key an argument that contains itself or is nested over 64 levels; pass toStr\.$/;
    throwsValidation(() => key(arrays(65)), message);
    throwsValidation(() => key(objects(65)), message);
  });

  it('the same object twice (not a cycle) is keyed twice', () => {
    const shared = { a: 1 };
    assert.equal(key([shared, shared], shared), 'ns|[{"a":1},{"a":1}],{"a":1}');
  });

  it('refuses values it cannot key, naming them and toStr', () => {
    throwsValidation(
      () => key(Symbol('s')),
      /^uniqueFunctionKeyGenerator keys primitives, Dates, arrays and plain objects; got symbol Symbol\(s\)\. Pass toStr/,
    );
    throwsValidation(() => key(new (class Point {})()), /got an object \(Point\)\. Pass toStr/);
  });
});
