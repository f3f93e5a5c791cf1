/**
 * Region invalidation strategies (dogpile's `RegionInvalidationStrategy`). The default one is local
 * to the region object (and so to the process), as in dogpile; plug in your own to share
 * invalidation across processes (e.g. a timestamp kept in the cache itself).
 *
 * @module
 */
import { systemClock, type Clock } from './clock.js';

/**
 * Decides which values an `invalidate()` call made stale. Timestamps are epoch seconds, as stored in
 * `CachedValue.metadata.ct`.
 */
export interface RegionInvalidationStrategy {
  /** Marks every value created before now as invalid; `hard` false means "soft" (stale, served while one caller regenerates). */
  invalidate(hard?: boolean): void;
  /** True when a value created at `createdAt` was invalidated by a hard invalidation. */
  isHardInvalidated(createdAt: number): boolean;
  /** True when a value created at `createdAt` was invalidated by a soft invalidation. */
  isSoftInvalidated(createdAt: number): boolean;
  /** True when a value created at `createdAt` was invalidated either way. */
  isInvalidated(createdAt: number): boolean;
  /** True when the last invalidation was soft. */
  wasSoftInvalidated(): boolean;
  /** True when the last invalidation was hard. */
  wasHardInvalidated(): boolean;
}

/**
 * Where a strategy that declares it (see {@link declareValidSince}) keeps the time {@link validSince}
 * reads: the creation time from which its `isInvalidated` holds values valid. Not part of any API.
 * @internal
 */
export const VALID_SINCE = Symbol('validSince');
/** The `isInvalidated` method whose answers a strategy's {@link VALID_SINCE} describes (on its prototype). */
const DESCRIBES = Symbol('validSinceDescribes');

/** A strategy as {@link validSince} reads it. */
interface DeclaresValidSince {
  readonly [VALID_SINCE]?: number;
  readonly [DESCRIBES]?: unknown;
  readonly isInvalidated: unknown;
}

/**
 * Declares that instances of the class of `prototype` keep {@link VALID_SINCE} current: a value created
 * at `ct` is invalidated exactly when `ct < this[VALID_SINCE]` (-Infinity before any invalidation), as
 * the prototype's own `isInvalidated` decides. A subclass that overrides `isInvalidated` is no longer
 * described (its method is another function), so {@link validSince} answers NaN for it.
 * @internal
 */
export function declareValidSince(prototype: RegionInvalidationStrategy): void {
  Object.defineProperty(prototype, DESCRIBES, { value: prototype.isInvalidated });
}

/**
 * The creation time (epoch seconds) from which values are valid under `strategy`: -Infinity when it
 * never invalidated, NaN when it does not declare this time ({@link declareValidSince}: the
 * {@link DefaultInvalidationStrategy} and the tier's `SharedInvalidationStrategy` do) or overrides
 * `isInvalidated` (then only its own `isInvalidated` can tell). A value is valid exactly when its
 * creation time is at least this, as that `isInvalidated` decides; the region's hit path compares it in
 * the store, without a call per hit.
 */
export function validSince(strategy: RegionInvalidationStrategy): number {
  const declared = strategy as unknown as DeclaresValidSince;
  return declared[DESCRIBES] === declared.isInvalidated ? (declared[VALID_SINCE] ?? NaN) : NaN;
}

/**
 * dogpile's `DefaultInvalidationStrategy`: the last invalidation's time and mode, kept in memory.
 *
 * @example
 * ```ts
 * import { CacheRegion, DefaultInvalidationStrategy } from 'dogpile-cache';
 * const strategy = new DefaultInvalidationStrategy();
 * const region = new CacheRegion().configure('dogpile.cache.memory', { regionInvalidator: strategy });
 * region.invalidate(false); // soft: existing values are stale, served while one caller regenerates
 * strategy.wasSoftInvalidated(); // true
 * ```
 */
export class DefaultInvalidationStrategy implements RegionInvalidationStrategy {
  #hard: boolean | null = null;
  #invalidatedAt: number | null = null;
  readonly #clock: Clock;
  /**
   * `#invalidatedAt`, or -Infinity before any invalidation, for the region's hit path (`validSince`).
   * @internal
   */
  [VALID_SINCE] = -Infinity;

  /** @param clock time source in epoch milliseconds (default `Date.now`). */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  invalidate(hard = true): void {
    this.#hard = hard;
    this.#invalidatedAt = this.#clock() / 1000;
    this[VALID_SINCE] = this.#invalidatedAt;
  }

  isInvalidated(createdAt: number): boolean {
    return this.#invalidatedAt !== null && createdAt < this.#invalidatedAt;
  }

  wasHardInvalidated(): boolean {
    return this.#hard === true;
  }

  wasSoftInvalidated(): boolean {
    return this.#hard === false;
  }

  isHardInvalidated(createdAt: number): boolean {
    return this.wasHardInvalidated() && this.isInvalidated(createdAt);
  }

  isSoftInvalidated(createdAt: number): boolean {
    return this.wasSoftInvalidated() && this.isInvalidated(createdAt);
  }
}

declareValidSince(DefaultInvalidationStrategy.prototype);
