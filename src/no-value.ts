/**
 * `NO_VALUE`, the miss marker, in a module of its own so that everything can import it without cycles.
 *
 * @module
 */

const NO_VALUE_SLOT = Symbol.for('dogpile-cache.NO_VALUE');

/** The type of {@link NO_VALUE}. */
export interface NoValue {
  readonly __dogpileCacheNoValue: true;
  toString(): 'NoValue.NO_VALUE';
}

function createNoValue(): NoValue {
  return Object.freeze({
    __dogpileCacheNoValue: true as const,
    toString: () => 'NoValue.NO_VALUE' as const,
    [Symbol.for('nodejs.util.inspect.custom')]: () => 'NO_VALUE',
  });
}

const globalSlots = globalThis as { [NO_VALUE_SLOT]?: NoValue };

/**
 * The one "no value" marker: what a backend or region returns for a miss. `null`, `undefined`, `""`,
 * `0` and `false` are values, never misses, so compare with {@link isNoValue}, not truthiness.
 * One object per process, shared by the ESM and CommonJS builds.
 */
export const NO_VALUE: NoValue = (globalSlots[NO_VALUE_SLOT] ??= createNoValue());

/** True when `value` is {@link NO_VALUE} (a miss). */
export function isNoValue(value: unknown): value is NoValue {
  return value === NO_VALUE;
}
