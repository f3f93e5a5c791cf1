/**
 * Function memoization on a region (dogpile's `cache_on_arguments` / `cache_multi_on_arguments`),
 * usable as a plain wrapper or as a TC39 standard method decorator.
 *
 * @module
 */
import type { Duration } from './duration.js';
import { ValidationError } from './errors.js';
import type { FunctionKeyGenerator, FunctionMultiKeyGenerator, ToStr } from './keys.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import type { CacheRegion, FunctionKeyGeneratorFactory, FunctionMultiKeyGeneratorFactory } from './region.js';
import { assertSpreadable, describe, ownOptions } from './validate.js';

/** An expiration time, or a function evaluated on every call (`null`/`undefined` → the region's). */
export type ExpirationOption = Duration | null | (() => Duration | null | undefined);

/** Options of `cacheOnArguments`. */
export interface CacheOnArgumentsOptions {
  /** Key prefix instead of the function name (needed for anonymous functions; keeps same-named functions apart). */
  namespace?: string;
  /** Seconds, a duration string, or a function evaluated on each call. */
  expirationTime?: ExpirationOption;
  /** Decides whether a computed value is stored. */
  shouldCacheFn?: (value: unknown) => boolean;
  /** Turns each argument into key text (default: `String()` for primitives; objects need this). */
  toStr?: ToStr;
  /** Replaces the region's key generator factory for this function. */
  functionKeyGenerator?: FunctionKeyGeneratorFactory;
}

/** Options of `cacheMultiOnArguments`. */
export interface CacheMultiOnArgumentsOptions extends Omit<CacheOnArgumentsOptions, 'functionKeyGenerator'> {
  /** The function returns an object keyed by argument (missing entries are not cached and omitted). */
  asDict?: boolean;
  /** Replaces the region's multi key generator factory for this function. */
  functionMultiKeyGenerator?: FunctionMultiKeyGeneratorFactory;
}

// Public function types use `never[]`/`unknown` so any function fits without `any`.
type AnyFunction = (...args: never[]) => unknown;

/** A memoized function with dogpile's helper methods. */
export type CachedFunction<F extends AnyFunction> = ((...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>) & {
  /** Stores `value` as the result for these arguments. */
  set(value: Awaited<ReturnType<F>>, ...args: Parameters<F>): Promise<void>;
  /** The cached result for these arguments, or NO_VALUE. */
  get(...args: Parameters<F>): Promise<Awaited<ReturnType<F>> | NoValue>;
  /** Removes the cached result for these arguments. */
  invalidate(...args: Parameters<F>): Promise<void>;
  /** Calls the function, stores and returns its result. */
  refresh(...args: Parameters<F>): Promise<Awaited<ReturnType<F>>>;
  /** The function before memoization. */
  original: F;
};

/** A memoized multi-key function with dogpile's helper methods. */
export type CachedMultiFunction<F extends AnyFunction> = ((...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>) & {
  /** Stores results: an object or Map of argument → value. */
  set(mapping: Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>): Promise<void>;
  /** The cached results for these arguments (NO_VALUE for each miss). */
  get(...args: Parameters<F>): Promise<unknown[]>;
  /** Removes the cached results for these arguments. */
  invalidate(...args: Parameters<F>): Promise<void>;
  /** Calls the function for these arguments, stores and returns its results. */
  refresh(...args: Parameters<F>): Promise<Awaited<ReturnType<F>>>;
  /** The function before memoization. */
  original: F;
};

/**
 * Works as `decorator(fn)`, as a TC39 method decorator `@decorator`, and as a legacy
 * (`experimentalDecorators`, NestJS/Angular) method decorator, which is called with
 * `(prototype, methodName, descriptor)` and returns the descriptor with the memoized method.
 */
export interface Memoizer {
  <F extends AnyFunction>(fn: F): CachedFunction<F>;
  <F extends AnyFunction>(fn: F, context: ClassMethodDecoratorContext): F;
  <F extends AnyFunction>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<F>): TypedPropertyDescriptor<F>;
}

/** Works as `decorator(fn)`, as a TC39 method decorator, and as a legacy (`experimentalDecorators`) one. */
export interface MultiMemoizer {
  <F extends AnyFunction>(fn: F): CachedMultiFunction<F>;
  <F extends AnyFunction>(fn: F, context: ClassMethodDecoratorContext): F;
  <F extends AnyFunction>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<F>): TypedPropertyDescriptor<F>;
}

/**
 * Accepts the three calling conventions: `(fn)`, TC39 `(fn, context)`, and legacy
 * `(prototype, key, descriptor)`. The legacy form is told apart by its third argument, a property
 * descriptor; TypeScript's `__decorate` and Babel's legacy plugin both pass one.
 */
function bothConventions(memoize: (fn: AnyFunction, context?: ClassMethodDecoratorContext) => AnyFunction, what: string) {
  return (first: unknown, second?: unknown, third?: unknown): unknown => {
    if (third !== undefined) {
      const descriptor = third as PropertyDescriptor;
      if (typeof descriptor !== 'object' || descriptor === null || typeof descriptor.value !== 'function') {
        throw new ValidationError(
          `${what} decorates methods; ${String(second)} is not a method (got a ${describe(descriptor?.value)} property).`,
        );
      }
      const memoized = memoize(descriptor.value as AnyFunction, { kind: 'method', name: second } as ClassMethodDecoratorContext);
      return { ...descriptor, value: memoized };
    }
    return memoize(first as AnyFunction, second as ClassMethodDecoratorContext | undefined);
  };
}

/** `fn`, with a synchronous throw (a key generator refusing an argument) turned into a rejection. */
function rejecting<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => {
    try {
      return fn(...args);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

function expirationOf(option: ExpirationOption | undefined): () => Duration | null | undefined {
  if (typeof option === 'function') return option;
  return () => option;
}

function targetName(fn: AnyFunction, context: unknown): { name: string } {
  if (context !== undefined) {
    const ctx = context as Partial<ClassMethodDecoratorContext>;
    if (ctx.kind !== 'method')
      throw new ValidationError(`cacheOnArguments decorates methods and functions; got a ${String(ctx.kind)} decorator context.`);
    return { name: String(ctx.name) };
  }
  if (typeof fn !== 'function') throw new ValidationError(`cacheOnArguments() must be applied to a function; got ${describe(fn)}.`);
  return fn;
}

function callOptions(expiration: () => Duration | null | undefined, shouldCacheFn: ((value: unknown) => boolean) | undefined) {
  const expirationTime = expiration();
  // No prototype: the region reads these options, and a polluted Object.prototype must not add one.
  const options: { expirationTime?: Duration; shouldCacheFn?: (value: unknown) => boolean } = Object.create(null);
  if (expirationTime !== undefined && expirationTime !== null) options.expirationTime = expirationTime;
  if (shouldCacheFn !== undefined) options.shouldCacheFn = shouldCacheFn;
  return options;
}

/**
 * Memoizes a function on a region. Keys exclude `this` (as dogpile skips `self`), so every instance
 * of a class shares the results of a decorated method for the same arguments.
 */
export function cacheOnArguments(region: CacheRegion, userOptions: CacheOnArgumentsOptions = {}): Memoizer {
  const options = ownOptions(userOptions, 'cacheOnArguments options');
  const expiration = expirationOf(options.expirationTime);
  const { shouldCacheFn } = options;
  const factory = options.functionKeyGenerator ?? region.functionKeyGenerator;
  return bothConventions((fn: AnyFunction, context?: ClassMethodDecoratorContext) => {
    const keyFor: FunctionKeyGenerator = factory(options.namespace, targetName(fn, context), ...(options.toStr ? [options.toStr] : []));
    const call = (self: unknown, args: unknown[]): Promise<unknown> => Promise.resolve(fn.apply(self, args as never[]));
    // Not async (a hit stays on getOrCreate's synchronous path), but failing as if it were: an argument
    // the key generator refuses, or an expirationTime function that throws, rejects.
    const cached = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        return region.getOrCreate(keyFor(...args), () => call(this, args), callOptions(expiration, shouldCacheFn));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    Object.assign(cached, {
      set: rejecting((value: unknown, ...args: unknown[]) => region.set(keyFor(...args), value)),
      get: rejecting((...args: unknown[]) => region.get(keyFor(...args), {})),
      invalidate: rejecting((...args: unknown[]) => region.delete(keyFor(...args))),
      refresh: async function (this: unknown, ...args: unknown[]) {
        const value = await call(this, args);
        await region.set(keyFor(...args), value);
        return value;
      },
      original: fn,
    });
    return cached;
  }, 'cacheOnArguments') as Memoizer;
}

/**
 * Memoizes a function whose arguments are each one key and which returns one value per argument
 * (or, with `asDict`, an object keyed by argument). Only missing keys reach the function, in one call.
 */
export function cacheMultiOnArguments(region: CacheRegion, userOptions: CacheMultiOnArgumentsOptions = {}): MultiMemoizer {
  const options = ownOptions(userOptions, 'cacheMultiOnArguments options');
  const expiration = expirationOf(options.expirationTime);
  const asDict = options.asDict === true;
  const userShouldCache = options.shouldCacheFn;
  // With asDict, keys the function left out come back as NO_VALUE: returned as "missing", never cached.
  const shouldCacheFn = asDict
    ? (value: unknown) => !isNoValue(value) && (userShouldCache === undefined || userShouldCache(value))
    : userShouldCache;
  const factory = options.functionMultiKeyGenerator ?? region.functionMultiKeyGenerator;
  return bothConventions((fn: AnyFunction, context?: ClassMethodDecoratorContext) => {
    const generate: FunctionMultiKeyGenerator = factory(
      options.namespace,
      targetName(fn, context),
      ...(options.toStr ? [options.toStr] : []),
    );
    // The limit is checked before any spread, and the generator gets the arguments in slices: the
    // caller's own spread is still on the stack here, and a second full copy would overflow it.
    // A multi key generator gives one key per argument, each on its own, so slicing changes nothing.
    const keysFor = (args: unknown[]): string[] => {
      assertSpreadable(args.length, 'A cacheMultiOnArguments function');
      if (args.length <= KEY_SLICE) return generate(...args);
      const keys: string[] = [];
      for (let start = 0; start < args.length; start += KEY_SLICE) {
        for (const key of generate(...args.slice(start, start + KEY_SLICE))) keys.push(key);
      }
      return keys;
    };
    const compute = async (self: unknown, args: unknown[]): Promise<unknown[]> => {
      // Let the creator's frame (and the keys it was given on the stack) unwind before the function
      // gets its own copy of the arguments: two full copies at once would overflow at the limit.
      await undefined;
      const result = await fn.apply(self, args as never[]);
      if (asDict) {
        const lookup = result instanceof Map ? (arg: unknown) => (result.has(arg) ? result.get(arg) : NO_VALUE) : byKey(result);
        return args.map(lookup);
      }
      if (!Array.isArray(result) || result.length !== args.length) {
        throw new ValidationError(
          `A cacheMultiOnArguments function must return an array with one value per argument (${args.length}); got ${describe(result)}. Use asDict for functions returning an object.`,
        );
      }
      return result;
    };
    const shape = (args: unknown[], values: unknown[]): unknown =>
      asDict ? Object.fromEntries(args.map((arg, i) => [String(arg), values[i]]).filter(([, value]) => !isNoValue(value))) : values;
    const cached = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const keys = keysFor(args);
      const argOf = new Map(keys.map((key, i) => [key, args[i]]));
      const values = await region.getOrCreateMulti(
        keys,
        (...missing: string[]) =>
          compute(
            this,
            missing.map((key) => argOf.get(key)),
          ),
        callOptions(expiration, shouldCacheFn),
      );
      return shape(args, values);
    };
    Object.assign(cached, {
      set: rejecting((mapping: Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>) => {
        const entries = mapping instanceof Map ? [...mapping.entries()] : Object.entries(mapping);
        const keys = keysFor(entries.map(([arg]) => arg));
        return region.setMulti(new Map(keys.map((key, i) => [key, (entries[i] as [unknown, unknown])[1]])));
      }),
      // Written out rather than through rejecting(): a second spread of up to MAX_SPREAD_ARGUMENTS
      // arguments would overflow the stack.
      get: (...args: unknown[]) => {
        try {
          return region.getMulti(keysFor(args));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      invalidate: (...args: unknown[]) => {
        try {
          return region.deleteMulti(keysFor(args));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      refresh: async function (this: unknown, ...args: unknown[]) {
        const values = await compute(this, args);
        const keys = keysFor(args);
        await region.setMulti(new Map(keys.map((key, i): [string, unknown] => [key, values[i]]).filter(([, value]) => !isNoValue(value))));
        return shape(args, values);
      },
      original: fn,
    });
    return cached;
  }, 'cacheMultiOnArguments') as MultiMemoizer;
}

/** How many arguments a multi key generator is given at once. */
const KEY_SLICE = 4096;

function byKey(result: unknown): (arg: unknown) => unknown {
  if (typeof result !== 'object' || result === null) {
    throw new ValidationError(
      `A cacheMultiOnArguments({ asDict: true }) function must return an object or Map keyed by argument; got ${describe(result)}.`,
    );
  }
  const record = result as Record<string, unknown>;
  return (arg) => (Object.hasOwn(record, String(arg)) ? record[String(arg)] : NO_VALUE);
}
