/**
 * `NO_VALUE`, the miss marker, in a module of its own so that everything can import it without cycles.
 *
 * @module
 */
import { SerializationError } from './errors.js';

const NO_VALUE_SLOT = Symbol.for('dogpile-cache.NO_VALUE');

function createNoValue(): object {
  return Object.freeze({
    toString: () => 'NoValue.NO_VALUE' as const,
    // A miss written into a cache or a JSON reply would come back as a value: refuse it at the first
    // JSON.stringify instead (the v8 serializer already refuses it, as the object holds functions).
    toJSON: () => {
      throw new SerializationError(
        'NO_VALUE (a cache miss) cannot be serialized: check the value with `=== NO_VALUE` or isNoValue() before storing or sending it.',
      );
    },
    [Symbol.for('nodejs.util.inspect.custom')]: () => 'NO_VALUE',
  });
}

const globalSlots = globalThis as { [NO_VALUE_SLOT]?: object };

/**
 * The one "no value" marker: what a backend or region returns for a miss. `null`, `undefined`, `""`,
 * `0` and `false` are values, never misses, so compare with `=== NO_VALUE` (or {@link isNoValue}), not
 * truthiness. One frozen object per process, shared by the ESM and CommonJS builds; `String(NO_VALUE)`
 * is `"NoValue.NO_VALUE"`, and `JSON.stringify` of it throws {@link SerializationError}.
 *
 * Its type is a `unique symbol` although the value is an object: a unique type is what lets
 * `value === NO_VALUE` narrow `T | NoValue` in both branches (an object type narrows in neither).
 *
 * @example
 * ```ts
 * import { CacheRegion, NO_VALUE } from 'dogpile-cache';
 * const region = new CacheRegion().configure('oslo_cache.dict');
 * const value = await region.get<string>('greeting');
 * if (value !== NO_VALUE) console.log(value.toUpperCase()); // value: string here
 * ```
 */
export const NO_VALUE: unique symbol = (globalSlots[NO_VALUE_SLOT] ??= createNoValue()) as never;

/** The type of {@link NO_VALUE}: `T | NoValue` is "a T, or a miss". */
export type NoValue = typeof NO_VALUE;

/**
 * True when `value` is {@link NO_VALUE} (a miss); the same as `value === NO_VALUE`.
 *
 * @example
 * ```ts
 * import { isNoValue, NO_VALUE } from 'dogpile-cache';
 * isNoValue(NO_VALUE); // true
 * isNoValue(null);     // false: null is a value
 * ```
 */
export function isNoValue(value: unknown): value is NoValue {
  return value === NO_VALUE;
}
