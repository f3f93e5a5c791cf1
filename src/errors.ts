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

/** Base class of every error thrown by dogpile-cache. */
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
 */
export function isDogpileCacheError(value: unknown, code?: string): value is DogpileCacheError {
  return hasBrand(value, code ?? DogpileCacheError.code);
}

/** `configure()` was called on a region that already has a backend; pass `replaceExistingBackend: true`. */
export class RegionAlreadyConfiguredError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REGION_ALREADY_CONFIGURED';
}

/** The region was used before `configure()` gave it a backend. */
export class RegionNotConfiguredError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REGION_NOT_CONFIGURED';
}

/** An argument of a public call has the wrong type or value; the message names the argument and the fix. */
export class ValidationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_VALIDATION';
}

/** No backend is registered under the requested name; see `registerBackend`. */
export class PluginNotFoundError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_PLUGIN_NOT_FOUND';
}

/** A backend or region configuration is incomplete or contradictory (oslo's `ConfigurationError`). */
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
    const list = quoted.length === 1 ? `the ${quoted[0]} package, which is` : `the ${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)} packages, which are`;
    super(`The ${backendName} backend needs ${list} not installed. Install ${names.length === 1 ? 'it' : 'them'} with: npm install ${names.join(' ')}`, options);
    this.packageName = names[0] ?? '';
    this.packageNames = Object.freeze(names);
  }
}

/** No pooled connection became free within `pool_connection_get_timeout` (oslo's `QueueEmpty`). */
export class QueueEmptyError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_QUEUE_EMPTY';
}

/** The cache server is down, unreachable, or did not answer within its timeout. */
export class BackendUnavailableError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_BACKEND_UNAVAILABLE';
}

/** A value is larger than the backend can store (e.g. memcached's item size limit). */
export class ValueTooLargeError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_VALUE_TOO_LARGE';
}

/** A value could not be serialized for storage, or stored bytes could not be read back. */
export class SerializationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_SERIALIZATION';
}

/** A lock could not be acquired, or was lost, within its `lockTimeout`. */
export class LockTimeoutError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_LOCK_TIMEOUT';
}

/** A get-or-create creator did not settle within `creatorTimeout`; the lock was released. */
export class CreatorTimeoutError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_CREATOR_TIMEOUT';
}

/**
 * A creator (or something it called) asked for a key whose lock it holds, with no value to serve:
 * waiting would wait for itself forever (a creator calling `getOrCreate` on its own key, or memoized
 * recursion over a cycle).
 */
export class ReentrantCreateError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_REENTRANT_CREATE';
}

/** Releasing one or more locks failed; `cause` is an `AggregateError` with every failure. */
export class LockReleaseError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_LOCK_RELEASE';
}

/**
 * The configured backend cannot do what was asked (e.g. `region.clear()` on a backend that has no way
 * to remove only its own entries). The message names the backend and the alternative.
 */
export class UnsupportedOperationError extends DogpileCacheError {
  static override readonly code: string = 'ERR_DOGPILE_UNSUPPORTED';
}
