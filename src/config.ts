/**
 * String configuration helpers shared by `configureFromConfig` and the oslo layer.
 *
 * @module
 */
import { isSecretOption } from './secrets.js';

// Python's `\d` on a str is any Unicode decimal digit (category Nd), and int()/float() read them all:
// dogpile's regexes below, with `\p{Nd}` for `\d`, so "１２" and "١٢٣" are numbers on both sides.
// Compiled on first use: a `\p{Nd}` pattern costs about 0.1 ms to build, and the root entry point
// imports this module (issue 20.3).
interface DigitPatterns {
  readonly integer: RegExp;
  readonly float: RegExp;
  readonly digit: RegExp;
  readonly digits: RegExp;
}
let digitPatterns: DigitPatterns | undefined;
const patterns = (): DigitPatterns =>
  (digitPatterns ??= {
    integer: /^[-+]?\p{Nd}+$/u,
    float: /^[-+]?(?:\p{Nd}+(?:\.\p{Nd}*)?|\.\p{Nd}+)(?:[eE][-+]?\p{Nd}+)?$/u,
    digit: /\p{Nd}/u,
    digits: /\p{Nd}/gu,
  });

/**
 * Types string values as dogpile's `coerce_string_conf` does: each string is trimmed, then integers
 * and floats become numbers (in any Unicode decimal digits, as Python reads them: `"１２"` is 12),
 * `"true"`/`"false"` (any case) booleans, exactly `"None"` null; other strings are kept, trimmed
 * (dogpile keeps the stripped text too).
 *
 * Unlike dogpile, an option holding a secret (a password, SASL login, TLS key: see
 * `isSecretOption`) is never typed: a password of digits stays the string it is, where dogpile would
 * make it an int that no driver accepts. Only the caller's own properties are read (an
 * `Object.prototype` pollution cannot add options), and the result has no prototype for the same
 * reason. `config` is not modified.
 *
 * @example
 * ```ts
 * import { coerceStringConf } from 'dogpile-cache/backend';
 * coerceStringConf({ expiration_time: ' 600 ', distributed_lock: 'True', password: '1234', socket_timeout: 'None' });
 * // { expiration_time: 600, distributed_lock: true, password: '1234', socket_timeout: null }
 * ```
 */
export function coerceStringConf(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(config)) {
    result[name] = typeof value !== 'string' ? value : isSecretOption(name) ? value.trim() : coerceString(value);
  }
  return result;
}

/** Types one string value as {@link coerceStringConf} does (the value trimmed first). */
export function coerceString(value: string): unknown {
  const text = value.trim();
  const { integer, float } = patterns();
  if (integer.test(text) || float.test(text)) return Number(asciiDigits(text));
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (text === 'None') return null;
  return text;
}

/**
 * Replaces every Unicode decimal digit (category Nd: `"１２"`, `"١٢٣"`) with its ASCII digit, so that
 * `Number()` reads what Python's `int()` and `float()` read. Other characters are kept.
 */
export function asciiDigits(text: string): string {
  const { digit: oneDigit, digits } = patterns();
  return text.replace(digits, (digit) => {
    // Unicode encodes every Nd digit in runs of ten, 0 to 9 in order (a stability guarantee), and
    // adjacent runs (the mathematical digits) are whole runs too: the digit's value is its distance
    // from the start of its run, modulo 10.
    let start = digit.codePointAt(0) as number;
    while (oneDigit.test(String.fromCodePoint(start - 1))) start -= 1;
    return String(((digit.codePointAt(0) as number) - start) % 10);
  });
}

/**
 * Python's truthiness of a configuration value after {@link coerceStringConf}, which is how dogpile
 * reads flags such as `replace_existing_backend`: `false`, `0`, `""`, `null`/`undefined`, an empty
 * array or an empty object are false; everything else (`true`, `1`, `"yes"`, any other non-empty
 * string) is true. Use it on coerced values: the string `"false"` is true here.
 *
 * @example
 * ```ts
 * import { coerceStringConf, isTruthyConf } from 'dogpile-cache/backend';
 * const conf = coerceStringConf({ replace_existing_backend: 'false', flag: '1' });
 * isTruthyConf(conf.replace_existing_backend); // false
 * isTruthyConf(conf.flag); // true
 * isTruthyConf('false'); // true: coerce first, as Python would
 * ```
 */
export function isTruthyConf(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return Object.keys(value).length > 0;
  }
  return true;
}
