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

/** Options for {@link toSeconds}. */
export interface ToSecondsOptions {
  /** Accept `-1` (dogpile's "never expires in get-or-create"). Default false. */
  allowMinusOne?: boolean;
}

/**
 * Converts a duration to seconds. Throws a {@link ValidationError} naming `name` for NaN, infinities,
 * negative numbers (except `-1` when allowed) and unparseable strings.
 */
export function toSeconds(value: unknown, name: string, options: ToSecondsOptions = {}): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && (value >= 0 || (value === -1 && options.allowMinusOne === true))) return value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match) return Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
    if (options.allowMinusOne === true && value.trim() === '-1') return -1;
  }
  const also = options.allowMinusOne === true ? ', -1 for "never expires"' : '';
  throw new ValidationError(
    `${name} must be a number of seconds (>= 0${also}) or a duration string like "500ms", "30s", "10m", "2h", "1d"; got ${describe(value)}.`,
  );
}

/** Like {@link toSeconds} but `undefined` and `null` pass through as `null` ("not set"). */
export function toOptionalSeconds(value: unknown, name: string, options: ToSecondsOptions = {}): number | null {
  return value === undefined || value === null ? null : toSeconds(value, name, options);
}
