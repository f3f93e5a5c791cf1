/**
 * Time sources. Every component that reads the time takes a {@link Clock}, so tests move time
 * forward by hand instead of sleeping.
 *
 * @module
 */

/** Returns the current time in epoch milliseconds, like `Date.now`. */
export type Clock = () => number;

import { ValidationError } from './errors.js';

let last = 0;
// Read once: `performance.timeOrigin` is a getter that costs as much as the clock read itself.
const origin = performance.timeOrigin;

/**
 * The real clock, with sub-millisecond resolution (`performance.timeOrigin + performance.now()`) and
 * strictly increasing within the process: a value set and an `invalidate()` in the same millisecond
 * must still be ordered, as dogpile's `time.time()` orders them. Each reading is at least 1 µs after
 * the previous one, a step that survives the division into epoch seconds (a float near 1.8e9 has
 * about 0.24 µs of precision).
 *
 * @example
 * ```ts
 * import { CacheRegion, systemClock } from 'dogpile-cache';
 * systemClock(); // epoch milliseconds with a fractional part, e.g. 1767225600000.123
 * const region = new CacheRegion({ clock: systemClock }); // the default clock
 * ```
 */
export const systemClock: Clock = () => {
  const now = origin + performance.now();
  last = Math.max(now, last + 0.001);
  return last;
};

/**
 * A clock that moves only when told: for tests of expiry and invalidation.
 * `const clock = manualClock(); clock.advance(1500)`.
 */
export interface ManualClock extends Clock {
  /** Moves the time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the time to `ms` epoch milliseconds. */
  set(ms: number): void;
}

/** Options of {@link manualClock}. */
export interface ManualClockOptions {
  /**
   * Milliseconds each reading moves the clock forward (default 0: the time moves only when told).
   * `0.001` makes it behave like {@link systemClock}, which never returns the same instant twice, so
   * a write and an `invalidate()` "in the same instant" are still ordered, as with a real clock.
   */
  tickMs?: number;
}

/**
 * Creates a {@link ManualClock} starting at `startMs` (default: a fixed instant, 2026-01-01).
 *
 * @example
 * ```ts
 * import { CacheRegion, manualClock } from 'dogpile-cache';
 * const clock = manualClock(); // starts at 2026-01-01T00:00:00Z
 * const region = new CacheRegion({ clock }).configure('dogpile.cache.memory', { expirationTime: 60 });
 * await region.set('k', 'v');
 * clock.advance(61_000); // milliseconds
 * await region.get('k'); // NO_VALUE: expired, without sleeping
 * ```
 */
export function manualClock(startMs = Date.UTC(2026, 0, 1), options: ManualClockOptions = {}): ManualClock {
  let now = startMs;
  const tick = options.tickMs ?? 0;
  if (!(Number.isFinite(tick) && tick >= 0)) throw new ValidationError(`tickMs must be a number of milliseconds >= 0; got ${String(tick)}.`);
  const clock = (tick === 0 ? () => now : () => (now += tick)) as ManualClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}
