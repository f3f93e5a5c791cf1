/**
 * Time sources. Every component that reads the time takes a {@link Clock}, so tests move time
 * forward by hand instead of sleeping.
 *
 * @module
 */

/** Returns the current time in epoch milliseconds, like `Date.now`. */
export type Clock = () => number;

import { ValidationError } from './errors.js';

/** The latest reading handed out by {@link systemClock} or {@link coarseClock}: neither ever goes below it. */
let last = 0;
// Read once: `performance.timeOrigin` is a getter that costs as much as the clock read itself.
const origin = performance.timeOrigin;

/**
 * The real clock, with sub-millisecond resolution (`performance.timeOrigin + performance.now()`) and
 * strictly increasing within the process: a value set and an `invalidate()` in the same millisecond
 * must still be ordered, as dogpile's `time.time()` orders them. Each reading is at least 1 µs after
 * the previous one (of this clock or of the coarse readings the hot paths use), a step that survives the division into
 * epoch seconds (a float near 1.8e9 has about 0.24 µs of precision).
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

/** The longest a {@link coarseClock} reading is reused while the event loop turns, in milliseconds. */
export const COARSE_CLOCK_RESOLUTION_MS = 1;
/** The most readings {@link coarseClock} serves from one real reading (bounds a run that never yields). */
export const COARSE_CLOCK_READINGS = 1024;

/** The real reading coarseClock serves, or 0 once it is too old (the timer, or the reading budget). */
let cached = 0;
let budget = 0;
let timerArmed = false;
const expireCached = (): void => {
  cached = 0;
  timerArmed = false;
};

function readReal(): number {
  cached = origin + performance.now();
  budget = COARSE_CLOCK_READINGS;
  if (!timerArmed) {
    timerArmed = true;
    // unref: the clock never keeps a process alive.
    setTimeout(expireCached, COARSE_CLOCK_RESOLUTION_MS).unref();
  }
  return cached;
}

/** A real reading at most {@link COARSE_CLOCK_RESOLUTION_MS} (or {@link COARSE_CLOCK_READINGS} readings) old. */
function coarseBase(): number {
  return cached !== 0 && --budget > 0 ? cached : readReal();
}

/**
 * {@link systemClock}'s time read at most once per millisecond (lru-cache's `ttlResolution`), for the
 * creation time of a value: a region whose clock is `systemClock` stamps `set`s with it, and judges hits
 * with {@link coarseReadClock}, where a real clock read cost as much as the map lookup. Its readings:
 * - lag the real time by at most {@link COARSE_CLOCK_RESOLUTION_MS} while the event loop turns (a timer
 *   that does not keep the process alive drops the reading), and by at most {@link COARSE_CLOCK_READINGS}
 *   readings in a run that never yields to the event loop (a chain of awaits);
 * - never go back, and are never below an earlier `systemClock` reading: a value set after an
 *   `invalidate()` is never taken for one created before it;
 * - may repeat. The strict steps dogpile's ordering needs come from `systemClock`, which `invalidate()`
 *   reads and which is strictly above every coarse reading handed out before it, so a value set before
 *   an `invalidate()` is always invalidated by it.
 *
 * A region with any other clock (a {@link manualClock} in tests) reads that clock on every call, exactly.
 * Internal (not exported from the package root): `systemClock` is the public choice, and this is how
 * the region reads it cheaply.
 */
export const coarseClock: Clock = () => {
  const base = coarseBase();
  if (base > last) last = base;
  return last;
};

/**
 * The time a read is judged at, from the same coarse reading as {@link coarseClock}: strictly after
 * every reading handed out before it (by 1 µs when the coarse reading has not moved), as dogpile's
 * `time.time()` has always moved on between a write and a read. So a value created at `t` with
 * expiration `e` is stale for every read judged past `t + e`, and expiration 0 is always stale;
 * the readings lag the real time as {@link coarseClock}'s do. Never go back. Internal, as `coarseClock`.
 *
 * ```ts
 * const t = coarseClock(); // a set's creation time
 * coarseReadClock() > t; // true: a read after it has aged, even within the same millisecond
 * ```
 */
export const coarseReadClock: Clock = () => {
  const base = coarseBase();
  return Math.max(base, last + 0.001);
};

/**
 * The two clocks a hot path reads in place of `clock`: `stamp` for creation and expiry times of
 * writes, `read` for judging a read. For {@link systemClock}, {@link coarseClock} and
 * {@link coarseReadClock}; any other clock (a {@link manualClock}) is both, read on every call, exactly.
 */
export function hotClocks(clock: Clock): { readonly stamp: Clock; readonly read: Clock } {
  return clock === systemClock ? { stamp: coarseClock, read: coarseReadClock } : { stamp: clock, read: clock };
}

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
  if (!(Number.isFinite(tick) && tick >= 0))
    throw new ValidationError(`tickMs must be a number of milliseconds >= 0; got ${String(tick)}.`);
  const clock = (tick === 0 ? () => now : () => (now += tick)) as ManualClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}
