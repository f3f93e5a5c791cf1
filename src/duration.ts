/**
 * Durations: numbers are seconds (as in dogpile and oslo); strings like `"250ms"`, `"30s"`, `"10m"`,
 * `"2h"`, `"1d"` (or a bare number such as `"600"`, seconds) are accepted wherever a duration is.
 *
 * @module
 */
import { ValidationError } from './errors.js';
import { describe } from './validate.js';

/** A duration in seconds, or a string such as `"500ms"`, `"30s"`, `"10m"`, `"2h"`, `"1d"`. */
export type Duration = number | string;

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/;

/**
 * The longest delay Node's timers accept, in seconds (2^31 - 1 ms, about 24.8 days). A duration that
 * drives a timer (a socket timeout, a lock timeout, a sweep interval) must not exceed it: Node would
 * clamp it to 1 ms with a `TimeoutOverflowWarning`.
 */
export const MAX_TIMER_SECONDS = (2 ** 31 - 1) / 1000;

/** Options for {@link toSeconds}. */
export interface ToSecondsOptions {
  /** Accept `-1` (dogpile's "never expires in get-or-create"). Default false. */
  allowMinusOne?: boolean;
  /** The smallest accepted value in seconds (default 0). `-1`, when allowed, is not subject to it. */
  min?: number;
  /**
   * The largest accepted value in seconds (default: none). Options that drive a timer pass
   * {@link MAX_TIMER_SECONDS}; options sent to a server pass the server's own limit.
   */
  max?: number;
}

/**
 * Converts a duration to seconds. Throws a {@link ValidationError} naming `name` for NaN, infinities,
 * negative numbers (except `-1` when allowed) and unparseable strings.
 *
 * @example
 * ```ts
 * import { toSeconds } from 'dogpile-cache/backend';
 * toSeconds('10m', 'expiration_time'); // 600
 * toSeconds(30, 'lock_timeout', { max: 3600 }); // 30
 * toSeconds(-1, 'expiration_time', { allowMinusOne: true }); // -1
 * toSeconds('soon', 'expiration_time'); // throws ValidationError naming "expiration_time"
 * ```
 */
export function toSeconds(value: unknown, name: string, options: ToSecondsOptions = {}): number {
  let seconds: number | undefined;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && (value >= 0 || (value === -1 && options.allowMinusOne === true))) seconds = value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match) seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
    else if (options.allowMinusOne === true && value.trim() === '-1') seconds = -1;
  }
  if (seconds === undefined || !Number.isFinite(seconds)) {
    const also = options.allowMinusOne === true ? ', -1 for "never expires"' : '';
    throw new ValidationError(
      `${name} must be a number of seconds (>= 0${also}) or a duration string like "500ms", "30s", "10m", "2h", "1d"; got ${describe(value)}.`,
    );
  }
  if (seconds === -1) return seconds;
  const min = options.min ?? 0;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  if (seconds < min || seconds > max) {
    throw new ValidationError(`${name} must be between ${formatSeconds(min)} and ${formatSeconds(max)}; got ${describe(value)}.`);
  }
  return seconds;
}

/** `"24.8 days"`-style text for a range bound in an error message. */
function formatSeconds(seconds: number): string {
  if (seconds === Number.POSITIVE_INFINITY) return 'unbounded';
  if (seconds >= 86400) return `${seconds} s (${Math.floor((seconds / 86400) * 10) / 10} days)`;
  return `${seconds} s`;
}

/**
 * Like {@link toSeconds} but `undefined` and `null` pass through as `null` ("not set").
 *
 * @example
 * ```ts
 * import { toOptionalSeconds } from 'dogpile-cache/backend';
 * toOptionalSeconds(undefined, 'socket_timeout'); // null (not set)
 * toOptionalSeconds('1.5s', 'socket_timeout'); // 1.5
 * ```
 */
export function toOptionalSeconds(value: unknown, name: string, options: ToSecondsOptions = {}): number | null {
  return value === undefined || value === null ? null : toSeconds(value, name, options);
}

/**
 * A duration given in milliseconds, as every Node cache (cache-manager, keyv, lru-cache, bentocache)
 * takes it, written as a duration string this library reads: `ms(600_000)` is `"600000ms"` (ten
 * minutes). A string is checked and returned as it is (`ms('10m')` is `"10m"`). Use it where a
 * millisecond figure comes from elsewhere, since bare numbers here are seconds.
 * @throws {ValidationError} for a negative, non-finite or unparseable value.
 *
 * @example
 * ```ts
 * import { CacheRegion, ms } from 'dogpile-cache';
 * const ttlMs = 600_000; // ten minutes, from a config that counts in milliseconds
 * ms(ttlMs); // "600000ms"
 * const region = new CacheRegion().configure('dogpile.cache.memory', { expirationTime: ms(ttlMs) });
 * ```
 */
export function ms(value: number | string): string {
  if (typeof value === 'string') {
    toSeconds(value, 'ms(value)');
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(`ms(value) takes a number of milliseconds >= 0 or a duration string like "10m"; got ${describe(value)}.`);
  }
  return `${value}ms`;
}

/**
 * A duration in seconds (the unit of every bare number in this library, as in dogpile), checked:
 * `seconds(600)` is `600`, `seconds('10m')` is `600`. Spelling the unit out keeps a reader from
 * taking the number for milliseconds.
 * @throws {ValidationError} for a negative, non-finite or unparseable value.
 *
 * @example
 * ```ts
 * import { CacheRegion, seconds } from 'dogpile-cache';
 * seconds('10m'); // 600
 * const region = new CacheRegion().configure('dogpile.cache.memory', { expirationTime: seconds(600) });
 * ```
 */
export function seconds(value: number | string): number {
  return toSeconds(value, 'seconds(value)');
}

/**
 * A duration (seconds, or a string like `"10m"`) in milliseconds, for Node APIs: `toMilliseconds('10m')` is `600000`.
 *
 * @example
 * ```ts
 * import { toMilliseconds } from 'dogpile-cache';
 * toMilliseconds('10m'); // 600000
 * setTimeout(() => console.log('refresh'), toMilliseconds(30)); // 30 s later
 * ```
 */
export function toMilliseconds(value: Duration): number {
  return toSeconds(value, 'toMilliseconds(value)') * 1000;
}

/** The code of the warning `warnIfLooksLikeMilliseconds` (called by the region) emits (`process.on('warning')` sees it). */
export const MILLISECONDS_WARNING_CODE = 'DOGPILE_CACHE_MILLISECONDS';

/** 30 days in seconds: a bare expiration this long that is also a multiple of 1,000 was likely meant in ms. */
const MILLISECONDS_SUSPECT_SECONDS = 30 * 86400;

let warnedMilliseconds = false;

/**
 * True when a bare number given as a duration looks like milliseconds: 30 days or more and a multiple
 * of 1,000 (`600000`, ten minutes in ms, is about 7 days in seconds, so it stays quiet; `3600000`,
 * an hour in ms, is 41 days in seconds).
 *
 * @example
 * ```ts
 * import { looksLikeMilliseconds } from 'dogpile-cache/backend';
 * looksLikeMilliseconds(3_600_000); // true: an hour in ms would be 41 days in seconds
 * looksLikeMilliseconds(600); // false
 * ```
 */
export function looksLikeMilliseconds(value: unknown): boolean {
  return typeof value === 'number' && value >= MILLISECONDS_SUSPECT_SECONDS && value % 1000 === 0;
}

/**
 * Emits one process warning (Node's `process.emitWarning`, code {@link MILLISECONDS_WARNING_CODE}),
 * once per process, the first time an expiration given as a bare number {@link looksLikeMilliseconds}.
 * The value is still used as seconds: a warning, never a guess.
 */
export function warnIfLooksLikeMilliseconds(value: unknown, name: string): void {
  if (warnedMilliseconds || !looksLikeMilliseconds(value)) return;
  warnedMilliseconds = true;
  process.emitWarning(
    `${name} ${String(value)} is read as seconds (${((value as number) / 86400).toFixed(1)} days), as in dogpile. ` +
      `If you meant milliseconds, write ms(${String(value)}) or "${String(value)}ms". This warning is shown once.`,
    { code: MILLISECONDS_WARNING_CODE },
  );
}
