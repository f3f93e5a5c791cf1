/**
 * oslo.config and dogpile parity for the five differences the differential suite found
 * (test/interop/differential, scenarios with a `found` note before this fix). Each expected value
 * below was read from the reference on /usr/bin/python3 (oslo.config's iniparser + cfg, oslo.cache
 * 3.2, dogpile.cache 1.1.8's coerce_string_conf).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, ValidationError, DictionaryBackend, NullBackend } from '../../src/index.js';
import { coerceStringConf } from '../../src/backend.js';
import { configureCacheRegion, createRegion, loadOsloConfig } from '../../src/oslo/index.js';

describe('oslo parity: loadOsloConfig reads what oslo.config reads', () => {
  it('an option given twice in one section keeps the last value (cfg: values[-1])', () => {
    const conf = loadOsloConfig('[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = 10\nexpiration_time = 20\n');
    assert.equal(conf.cache.expiration_time, 20);
    assert.equal(conf.cache.enabled, true);
  });

  it('a MultiStr option (backend_argument) given twice keeps every value, in file order', () => {
    const conf = loadOsloConfig('[cache]\nbackend_argument = a:1\nbackend_argument = b:2\n');
    assert.deepEqual(conf.cache.backend_argument, ['a:1', 'b:2']);
  });

  it('an option given twice in a caching group keeps the last value too', () => {
    const conf = loadOsloConfig('[identity]\ncache_time = 5\ncache_time = 9\ncaching = false\ncaching = true\n');
    assert.equal(conf.identity?.cache_time, 9);
    assert.equal(conf.identity?.caching, true);
  });

  it('an empty int or float value is null (types.Number: a blank string is None)', () => {
    const conf = loadOsloConfig('[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time =\nsocket_timeout =   \n');
    assert.equal(conf.cache.expiration_time, null);
    assert.equal(conf.cache.socket_timeout, null);
    const region = configureCacheRegion(conf, createRegion());
    assert.ok(region.backend instanceof DictionaryBackend);
    assert.equal(region.expirationTime, null, 'oslo configures the region with expiration_time None: no expiration');
  });

  it("an empty bool value is still an error, as in oslo.config (Unexpected boolean value '')", () => {
    assert.throws(
      () => loadOsloConfig('[cache]\nenabled =\n'),
      (e: Error) => e instanceof ConfigurationError && /\[cache\] enabled must be true or false/.test(e.message),
    );
  });

  it('section names match case-insensitively ([CACHE] is [cache]), merged in file order', () => {
    assert.ok(
      configureCacheRegion(loadOsloConfig('[CACHE]\nenabled = true\nbackend = oslo_cache.dict\n'), createRegion()).backend instanceof
        DictionaryBackend,
    );
    assert.equal(loadOsloConfig('[CACHE]\nexpiration_time = 5\n[cache]\nexpiration_time = 7\n').cache.expiration_time, 7);
    assert.equal(loadOsloConfig('[cache]\nexpiration_time = 7\n[Cache]\nexpiration_time = 5\n').cache.expiration_time, 5);
    assert.deepEqual(loadOsloConfig('[cache]\nbackend_argument = a:1\n[CACHE]\nbackend_argument = b:2\n').cache.backend_argument, [
      'a:1',
      'b:2',
    ]);
    assert.equal(loadOsloConfig('[Identity]\ncache_time = 3\n').identity?.cache_time, 3);
  });

  it('[DEFAULT] keeps its case (oslo normalizes every other name to lower case)', () => {
    const conf = loadOsloConfig('[DEFAULT]\ndebug = true\n[cache]\n');
    assert.equal(conf.DEFAULT?.debug, 'true');
    assert.equal(conf.default, undefined);
  });

  it('section names are not trimmed: [ cache ] is another group', () => {
    const conf = loadOsloConfig('[ cache ]\nenabled = true\nbackend = oslo_cache.dict\n');
    assert.equal(conf.cache.enabled, false, 'the oslo default: [ cache ] is not [cache]');
    assert.ok(configureCacheRegion(conf, createRegion()).backend instanceof NullBackend);
    assert.equal(conf[' cache ']?.enabled, 'true');
  });

  it('a list keeps its empty items; only trailing commas go (types.List: strip, rstrip(","), split)', () => {
    const list = (value: string): unknown => loadOsloConfig(`[cache]\nmemcache_servers = ${value}\n`).cache.memcache_servers;
    assert.deepEqual(list('a:1,,b:2,'), ['a:1', '', 'b:2']);
    assert.deepEqual(list('a , , b'), ['a', '', 'b']);
    assert.deepEqual(list(',a'), ['', 'a']);
    assert.deepEqual(list('a,,,'), ['a']);
    assert.deepEqual(list(''), []);
  });

  it("an int in Unicode decimal digits is a number, as Python's int() reads it", () => {
    assert.equal(loadOsloConfig('[cache]\nexpiration_time = ١٢٣\n').cache.expiration_time, 123);
    assert.equal(loadOsloConfig('[cache]\nexpiration_time = １２\n').cache.expiration_time, 12);
    assert.equal(loadOsloConfig('[cache]\nexpiration_time = 1_000\n').cache.expiration_time, 1000);
    assert.throws(
      () => loadOsloConfig('[cache]\nexpiration_time = 1__0\n'),
      ConfigurationError,
      'int() takes single underscores between digits only',
    );
  });

  it("a float reads as Python's float(): Unicode digits, underscores, no hex; inf and nan are refused (deliberate)", () => {
    const timeout = (value: string): unknown => loadOsloConfig(`[cache]\nsocket_timeout = ${value}\n`).cache.socket_timeout;
    assert.equal(timeout('1_0.5'), 10.5);
    assert.equal(timeout('１.５'), 1.5);
    assert.equal(timeout('5.'), 5);
    assert.equal(timeout('.5'), 0.5);
    assert.equal(timeout('1e1'), 10);
    for (const bad of ['0x10', '0b1', 'inf', 'nan', 'Infinity', '1__0', '_1'])
      assert.throws(
        () => timeout(bad),
        (e: Error) => e instanceof ConfigurationError && /socket_timeout must be a finite number/.test(e.message),
        bad,
      );
  });

  it("lines are read in iniparser's order: an indented line continues the value, even one starting with #", () => {
    assert.deepEqual(loadOsloConfig('[cache]\nbackend_argument = a\n  # b\n\tc\n').cache.backend_argument, ['a\n# b\nc']);
    assert.throws(() => loadOsloConfig('[cache]\n  # note\nbackend = oslo_cache.dict\n'), /Line 2 .*continues no/);
    assert.throws(() => loadOsloConfig('[cache]\n\tbackend = oslo_cache.dict\n'), /Line 2 .*continues no/);
  });

  it('names and section headers are split as iniparser does', () => {
    assert.deepEqual(loadOsloConfig('[cache]\nbackend_argument = a b = c\n').cache.backend_argument, ['a b = c']);
    assert.equal(loadOsloConfig('[cache]\nmy key = 1\n').cache['my key'], '1', 'a name may hold spaces (the text before the first = or :)');
    assert.equal(loadOsloConfig('[ca]che]\nx = 1\n')['ca]che']?.x, '1', 'the name is everything between the first [ and the last ]');
    assert.throws(() => loadOsloConfig('[]\nx = 1\n'), /Line 1 .*empty section name/);
    assert.throws(() => loadOsloConfig('[cache\nx = 1\n'), /Line 1 .*does not end with/);
    assert.throws(() => loadOsloConfig('[cache]\n= 1\n'), /Line 2 .*empty name/);
    assert.throws(() => loadOsloConfig('x = 1\n[cache]\n'), /Line 1 .*before any/);
  });

  it('a malformed line is named by its number, never quoted (it may hold a password)', () => {
    for (const text of [
      '[cache]\npassword hunter2-planted\n',
      '[cache]\npassword = x\n\n  hunter2-planted\n',
      'password = hunter2-planted\n[cache]\n',
    ]) {
      assert.throws(
        () => loadOsloConfig(text),
        (e: Error) => e instanceof ValidationError && /^Line \d of the oslo config/.test(e.message) && !e.message.includes('hunter2'),
        text,
      );
    }
  });

  it('a blank or comment line ends a multi-line value: an indented line after it is an error', () => {
    assert.deepEqual(loadOsloConfig('[cache]\nbackend_argument = a:1\n  b\n').cache.backend_argument, ['a:1\nb']);
    assert.throws(() => loadOsloConfig('[cache]\nbackend_argument = a:1\n\n  b\n'), /Line 4/);
    assert.throws(() => loadOsloConfig('[cache]\nbackend_argument = a:1\n# note\n  b\n'), /Line 4/);
  });
});

describe('oslo parity: coerceStringConf reads Unicode decimal digits as dogpile does', () => {
  it('full-width, Arabic-Indic and mixed digits become numbers (Python: \\d and int())', () => {
    const coerced = coerceStringConf({
      fullwidth: '１２',
      arabic: '١٢٣',
      mixed: '1٢',
      math: '\u{1D7D9}\u{1D7E2}',
      float: '１.５',
      exp: '１e２',
    });
    assert.deepEqual({ ...coerced }, { fullwidth: 12, arabic: 123, mixed: 12, math: 10, float: 1.5, exp: 100 });
  });

  it('a secret option in Unicode digits stays the string it is', () => {
    const coerced = coerceStringConf({ password: ' １２ ', memcache_password: '١٢٣' });
    assert.deepEqual({ ...coerced }, { password: '１２', memcache_password: '١٢٣' });
  });

  it('digits of another kind (superscripts, Roman numerals) are not decimal digits, in Python either', () => {
    const coerced = coerceStringConf({ sup: '²', roman: 'Ⅻ' });
    assert.deepEqual({ ...coerced }, { sup: '²', roman: 'Ⅻ' });
  });
});
