/**
 * The error hierarchy. Every error the library throws on purpose extends {@link DogpileCacheError}
 * and carries a stable `code` and, where a driver or user callback failed underneath, a `cause`.
 *
 * Both the ESM and the CommonJS build may be loaded in one process (a CommonJS dependency beside ESM
 * code), which gives every class two identities. `instanceof` and {@link isDogpileCacheError} check a
 * brand shared through `Symbol.for` instead of the prototype chain, so an error thrown by one build is
 * recognised by the other.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for('dogpile-cache.error-codes') as never;

/** Options accepted by every error constructor. */
export interface DogpileCacheErrorOptions {
  /** The underlying failure (a driver error, a user callback's throw). */
  cause?: unknown;
}

/**
 * Base class of every error thrown by dogpile-cache.
 *
 * @example
 * ```ts
 * import { DogpileCacheError } from 'dogpile-cache';
 * try {
 *   await region.getOrCreate('user:1', () => db.loadUser(1));
 * } catch (error) {
 *   // true for every error the library throws; error.code is e.g. "ERR_DOGPILE_LOCK_TIMEOUT"
 *   if (error instanceof DogpileCacheError) console.error(error.code, error.message);
 * }
 * ```
 */
export class DogpileCacheError extends Error {
  /** Stable machine-readable code of this class, e.g. `"ERR_DOGPILE_VALIDATION"`. */
  static readonly code: string = 'ERR_DOGPILE_CACHE';

  /** Stable machine-readable code, the same as the class's static `code`. */
  readonly code: string;

  declare readonly [BRAND]: readonly string[];

  constructor(message: string, options?: DogpileCacheErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    const ctor = new.target as typeof DogpileCacheError;
    this.name = ctor.name;
    this.code = ctor.code;
    Object.defineProperty(this, BRAND, { value: brandCodes(ctor), enumerable: false });
  }

  /** Cross-build `instanceof`: true when `value` was thrown as this class or a subclass, by either build. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the check runs on (its own code), not this base class
    return hasBrand(value, this.code);
  }
}

function brandCodes(ctor: typeof DogpileCacheError): readonly string[] {
  const codes: string[] = [];
  for (let c: unknown = ctor; typeof c === 'function' && 'code' in c; c = Object.getPrototypeOf(c)) {
    codes.push((c as typeof DogpileCacheError).code);
  }
  return Object.freeze(codes);
}

function hasBrand(value: unknown, code: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const codes = (value as { [BRAND]?: unknown })[BRAND];
  return Array.isArray(codes) && codes.includes(code);
}

/**
 * True when `value` is an error thrown by dogpile-cache (from either the ESM or the CommonJS build);
 * with `code`, true only for that class or its subclasses.
 *
 * @example
 * ```ts
 * import { isDogpileCacheError, ValidationError } from 'dogpile-cache';
 * const error = new ValidationError('expirationTime must be a number of seconds');
 * isDogpileCacheError(error); // true
 * isDogpileCacheError(error, ValidationError.code); // true ("ERR_DOGPILE_VALIDATION")
 * isDogpileCacheError(new Error('boom')); // false
 * ```
 */
export function isDogpileCacheError(value: unknown, code?: string): value is DogpileCacheError {
  return hasBrand(value, code ?? DogpileCacheError.code);
}

/**
 * `configure()` was called on a region that already has a backend; pass `replaceExistingBackend: true`.
 *
 * @example
 * ```ts
 * import { CacheRegion, RegionAlreadyConfiguredError } from 'dogpile-cache';
 * const region = new CacheRegion().configure('dogpile.cache.memory');
 * try {
 *   region.configure('dogpile.cache.null');
 * } catch (error) {
 *   error instanceof RegionAlreadyConfiguredError; // true: pass { replaceExistingBackend: true } to swap
 * }
 * ```
 */
export class RegionAlreadyConfiguredError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REGION_ALREADY_CONFIGURED';
}

/**
 * The region was used before `configure()` gave it a backend.
 *
 * @example
 * ```ts
 * import { CacheRegion, RegionNotConfiguredError } from 'dogpile-cache';
 * const region = new CacheRegion();
 * // rejects with RegionNotConfiguredError: call region.configure(...) first
 * await region.get('k').catch((error) => error instanceof RegionNotConfiguredError); // true
 * ```
 */
export class RegionNotConfiguredError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REGION_NOT_CONFIGURED';
}

/**
 * An argument of a public call has the wrong type or value; the message names the argument and the fix.
 *
 * @example
 * ```ts
 * import { CacheRegion, ValidationError } from 'dogpile-cache';
 * try {
 *   new CacheRegion().configure('dogpile.cache.memory', { expirationTime: 'one hour' });
 * } catch (error) {
 *   error instanceof ValidationError; // true; the message says to use seconds or a string like "10m"
 * }
 * ```
 */
export class ValidationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_VALIDATION';
}

/**
 * No backend is registered under the requested name; see `registerBackend`.
 *
 * @example
 * ```ts
 * import { CacheRegion, PluginNotFoundError } from 'dogpile-cache';
 * try {
 *   new CacheRegion().configure('dogpile.cache.nosuchstore');
 * } catch (error) {
 *   error instanceof PluginNotFoundError; // true: register the name with registerBackend() first
 * }
 * ```
 */
export class PluginNotFoundError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_PLUGIN_NOT_FOUND';
}

/**
 * A backend or region configuration is incomplete or contradictory (oslo's `ConfigurationError`).
 *
 * @example
 * ```ts
 * import { ConfigurationError } from 'dogpile-cache';
 * import { configureCacheRegion, createRegion } from 'dogpile-cache/oslo';
 * const conf = { cache: { enabled: true, backend: 'oslo_cache.dict', proxies: ['my.UnknownProxy'] } };
 * try {
 *   configureCacheRegion(conf, createRegion()); // the proxy was never registered
 * } catch (error) {
 *   error instanceof ConfigurationError; // true; error.code is "ERR_DOGPILE_CONFIGURATION"
 * }
 * ```
 */
export class ConfigurationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_CONFIGURATION';
}

/**
 * A backend's optional driver package(s) are not installed; the message names every missing npm
 * package at once, with one install command (`npm install memjs generic-pool`), so that a user does
 * not fix them one failed start at a time.
 *
 * @example
 * ```ts
 * import { isDogpileCacheError, MissingDependencyError } from 'dogpile-cache';
 * try { await region.get('k'); } catch (error) {
 *   if (isDogpileCacheError(error, MissingDependencyError.code)) console.error(error.message); // "… npm install memjs generic-pool"
 * }
 * ```
 */
export class MissingDependencyError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_MISSING_DEPENDENCY';
  /** The (first) npm package to install. */
  readonly packageName: string;
  /** Every missing npm package, in the order the backend needs them. */
  readonly packageNames: readonly string[];
  constructor(packageName: string | readonly string[], backendName: string, options?: DogpileCacheErrorOptions) {
    const names = typeof packageName === 'string' ? [packageName] : [...packageName];
    const quoted = names.map((name) => `"${name}"`);
    const list =
      quoted.length === 1
        ? `the ${quoted[0]} package, which is`
        : `the ${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)} packages, which are`;
    super(
      `The ${backendName} backend needs ${list} not installed. Install ${names.length === 1 ? 'it' : 'them'} with: npm install ${names.join(' ')}`,
      options,
    );
    this.packageName = names[0] ?? '';
    this.packageNames = Object.freeze(names);
  }
}

/**
 * No pooled connection became free within `pool_connection_get_timeout` (oslo's `QueueEmpty`).
 *
 * @example
 * ```ts
 * import { isDogpileCacheError, QueueEmptyError } from 'dogpile-cache';
 * // a pooled memcached region whose pool stayed busy past pool_connection_get_timeout
 * const value = await region.get('k').catch((error) => {
 *   if (isDogpileCacheError(error, QueueEmptyError.code)) return undefined; // treat as a miss here
 *   throw error;
 * });
 * ```
 */
export class QueueEmptyError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_QUEUE_EMPTY';
}

/**
 * The cache server is down, unreachable, or did not answer within its timeout.
 *
 * @example
 * ```ts
 * import { BackendUnavailableError } from 'dogpile-cache';
 * try {
 *   await region.set('user:1', { name: 'Ada' });
 * } catch (error) {
 *   // the server is down or timed out; error.cause is the driver's own error
 *   if (error instanceof BackendUnavailableError) console.warn('cache down', error.cause);
 * }
 * ```
 */
export class BackendUnavailableError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_BACKEND_UNAVAILABLE';
}

/**
 * A value is larger than the backend can store (e.g. memcached's item size limit).
 *
 * @example
 * ```ts
 * import { ValueTooLargeError } from 'dogpile-cache';
 * try {
 *   await region.set('report', 'x'.repeat(2 * 1024 * 1024)); // over memcached's 1 MiB item limit
 * } catch (error) {
 *   if (error instanceof ValueTooLargeError) console.warn('not cached:', error.message);
 * }
 * ```
 */
export class ValueTooLargeError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_VALUE_TOO_LARGE';
}

/**
 * A value could not be serialized for storage, or stored bytes could not be read back.
 *
 * @example
 * ```ts
 * import { SerializationError, jsonSerializer } from 'dogpile-cache';
 * const cyclic: Record<string, unknown> = {};
 * cyclic.self = cyclic;
 * try {
 *   jsonSerializer.serialize(cyclic);
 * } catch (error) {
 *   error instanceof SerializationError; // true: JSON cannot store a cycle
 * }
 * ```
 */
export class SerializationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_SERIALIZATION';
}

/**
 * A lock could not be acquired, or was lost, within its `lockTimeout`.
 *
 * @example
 * ```ts
 * import { LockTimeoutError } from 'dogpile-cache';
 * const report = await region.getOrCreate('report', () => db.load(1, 'en')).catch((error) => {
 *   // another process held the creation lock past lockTimeout
 *   if (error instanceof LockTimeoutError) return db.load(1, 'en');
 *   throw error;
 * });
 * ```
 */
export class LockTimeoutError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_LOCK_TIMEOUT';
}

/**
 * A get-or-create creator did not settle within `creatorTimeout`; the lock was released.
 *
 * @example
 * ```ts
 * import { CreatorTimeoutError } from 'dogpile-cache';
 * // the creator did not settle in time: the lock is released and the call rejects
 * await region
 *   .getOrCreate('slow', () => new Promise<string>(() => {}))
 *   .catch((error) => error instanceof CreatorTimeoutError); // true when the region has a creatorTimeout
 * ```
 */
export class CreatorTimeoutError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_CREATOR_TIMEOUT';
}

/**
 * A creator (or something it called) asked for a key whose lock it holds, with no value to serve:
 * waiting would wait for itself forever (a creator calling `getOrCreate` on its own key, or memoized
 * recursion over a cycle).
 *
 * @example
 * ```ts
 * import { ReentrantCreateError } from 'dogpile-cache';
 * // a creator that asks for its own key would wait for itself forever: it rejects instead
 * const result = region.getOrCreate('a', () => region.getOrCreate('a', () => 1));
 * await result.catch((error) => error instanceof ReentrantCreateError); // true
 * ```
 */
export class ReentrantCreateError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REENTRANT_CREATE';
}

/**
 * Releasing one or more locks failed; `cause` is an `AggregateError` with every failure.
 *
 * @example
 * ```ts
 * import { LockReleaseError } from 'dogpile-cache';
 * try {
 *   await region.getOrCreate('k', () => 42);
 * } catch (error) {
 *   // error.cause is an AggregateError listing every failed release
 *   if (error instanceof LockReleaseError) console.error((error.cause as AggregateError).errors);
 * }
 * ```
 */
export class LockReleaseError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_LOCK_RELEASE';
}

/**
 * The configured backend cannot do what was asked (e.g. `region.clear()` on a backend that has no way
 * to remove only its own entries). The message names the backend and the alternative.
 *
 * @example
 * ```ts
 * import { UnsupportedOperationError } from 'dogpile-cache';
 * try {
 *   await region.clear();
 * } catch (error) {
 *   // the backend cannot remove only its own entries; the message names the alternative
 *   if (error instanceof UnsupportedOperationError) region.invalidate();
 * }
 * ```
 */
export class UnsupportedOperationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_UNSUPPORTED';
}
