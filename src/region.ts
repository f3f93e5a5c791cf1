/**
 * `CacheRegion` (dogpile.cache's `region.py`): what applications call. A region owns a backend, an
 * expiration time, a key mangler, an optional serializer and an invalidation strategy, and runs
 * get-or-create under the dogpile lock.
 *
 * @module
 */
import {
  CacheBackend,
  VALUE_VERSION,
  entryTtl,
  makeCachedValue,
  type BackendArguments,
  type BackendClass,
  type CacheMutex,
  type CachedValue,
  type CachedValueMetadata,
  type Mapping,
} from './api.js';
import { keepingOsloScope, reportUnknownNames, withOsloCommonArguments } from './arguments.js';
import type { ArgumentsFor, BackendArgumentsMap } from './backend-arguments.js';
import { DeferredBackend } from './backends/deferred.js';
import { hotClocks, systemClock, type Clock } from './clock.js';
import { coerceStringConf, isTruthyConf } from './config.js';
import { MAX_TIMER_SECONDS, toSeconds, warnIfLooksLikeMilliseconds, type Duration } from './duration.js';
import {
  ConfigurationError,
  CreatorTimeoutError,
  MissingDependencyError,
  PluginNotFoundError,
  RegionAlreadyConfiguredError,
  RegionNotConfiguredError,
  ReentrantCreateError,
  SerializationError,
  UnsupportedOperationError,
  ValidationError,
  ValueTooLargeError,
  isDogpileCacheError,
} from './errors.js';
import { RegionEvents, type RegionEventMap, type RegionEventName } from './events.js';
import { DefaultInvalidationStrategy, validSince, type RegionInvalidationStrategy } from './invalidation.js';
import {
  functionKeyGenerator as defaultFunctionKeyGenerator,
  functionMultiKeyGenerator as defaultFunctionMultiKeyGenerator,
  KEEPS_KEY,
  type MayKeepKeys,
  type FunctionKeyGenerator,
  type FunctionMultiKeyGenerator,
  type KeyMangler,
  type ToStr,
} from './keys.js';
import {
  KeyedMutexes,
  LayeredMutex,
  NEED_REGENERATION,
  dogpileLock,
  dogpileLockMulti,
  holdsLock,
  releaseAll,
  isFresh,
  raceAbort,
  runHoldingLocks,
  type ValueOrRegenerate,
} from './lock.js';
import { cacheMultiOnArguments, cacheOnArguments, type CacheMultiOnArgumentsOptions, type CacheOnArgumentsOptions } from './memoize.js';
import { NO_VALUE, isNoValue, type NoValue } from './no-value.js';
import { ProxyBackend, toProxyInstance, type ProxyClass } from './proxy.js';
import { isBackendClass, loadBackend } from './registry.js';
import { resolveSerializer, type Serializer } from './serializers.js';
import { compressingSerializer, readCompression, type CompressionOptions } from './compression.js';
import { DEFAULT_TAG_CHECK_SECONDS, TAG_KEY_PREFIX, TagInvalidations, readTags } from './tags.js';
import { NOT_FRESH, regionStorage, type FreshRead, type RegionStorage, type SyncRead, type SyncWrite } from './storage.js';
import { MAX_SPREAD_ARGUMENTS, assertKey, assertKeys, describe, mappingEntries, ownOptions } from './validate.js';

/** The first UTF-16 code of {@link TAG_KEY_PREFIX}: a key that does not start with it is not in the prefix. */
const TAG_KEY_FIRST_CODE = TAG_KEY_PREFIX.charCodeAt(0);

/** Makes the key generator of a decorated function (dogpile's `function_key_generator` signature). */
export type FunctionKeyGeneratorFactory = (namespace: string | undefined, fn: { name: string }, toStr?: ToStr) => FunctionKeyGenerator;
/** Makes the multi key generator of a decorated function. */
export type FunctionMultiKeyGeneratorFactory = (
  namespace: string | undefined,
  fn: { name: string },
  toStr?: ToStr,
) => FunctionMultiKeyGenerator;

/**
 * Regenerates a stale value in the background (dogpile's `async_creation_runner`). It receives the
 * region, the (unmangled) key, the creator and the held mutex; it must store the new value (e.g.
 * `region.set(key, await creator())`) and release the mutex when done, even on failure.
 */
export type AsyncCreationRunner = (
  region: CacheRegion,
  key: string,
  creator: () => Promise<unknown>,
  mutex: CacheMutex,
) => void | Promise<void>;

/** What to do when the backend fails (server down, timeout). */
export type BackendErrorPolicy = 'throw' | 'miss';

/** Options of {@link CacheRegion}. */
export interface CacheRegionOptions {
  /** A name, shown in events. */
  name?: string;
  /** Makes key generators for `cacheOnArguments` (default: {@link defaultFunctionKeyGenerator}). */
  functionKeyGenerator?: FunctionKeyGeneratorFactory;
  /** Makes key generators for `cacheMultiOnArguments`. */
  functionMultiKeyGenerator?: FunctionMultiKeyGeneratorFactory;
  /** Turns keys into backend keys; when unset, the backend's recommended mangler is adopted. */
  keyMangler?: KeyMangler | null;
  /**
   * Stores values as dogpile bytes `JSON(metadata)|serializer(payload)`: `"json"` (Python
   * compatible), `"v8"`, or your own. When unset, the backend's recommended serializer is adopted.
   */
  serializer?: Serializer | 'json' | 'v8';
  /**
   * Serves stale values while regenerating in the background: `"background"` for the built-in runner
   * (it honours `shouldCacheFn` and reports failures as events), or your own runner.
   */
  asyncCreationRunner?: AsyncCreationRunner | 'background';
  /**
   * `"throw"` (default) rejects when the backend fails; `"miss"` treats a failed read as a miss and a
   * failed write as done, counting and emitting each error, so the app keeps serving from creators.
   * Bad input (validation, values too large or unserializable) always throws.
   */
  onBackendError?: BackendErrorPolicy;
  /**
   * Seconds (or a duration string) a get-or-create creator may run. When it fires, the lock is
   * released and the caller and everyone sharing its attempt get a {@link CreatorTimeoutError}, or
   * the stale value when there is one; the late result is dropped (never cached). Default: no limit.
   * Up to `MAX_TIMER_SECONDS`.
   */
  creatorTimeout?: Duration;
  /**
   * A grace period in seconds (or a duration string): when a creator throws and a value expired less
   * than this long ago (or was soft-invalidated), that stale value is returned instead of the error,
   * which is still reported as an `error` event (operation `"create"`). Default: none (0), as dogpile.
   */
  staleIfErrorFor?: Duration;
  /** Time source in epoch milliseconds (tests inject a manual clock). */
  clock?: Clock;
  /**
   * How often (seconds or a duration string) this region reads a tag's invalidation times from the
   * backend when it meets an entry with that tag: another process's `invalidateTags` reaches this one
   * within this bound. Default 1 s. Entries without tags never pay for it.
   */
  tagCheckInterval?: Duration;
  /**
   * Compresses stored payloads longer than `threshold` bytes (default 1024) with gzip or brotli, behind
   * a marker, so uncompressed entries still read. Needs a serializer (the region's, or a bytes
   * backend's). Default off: Python dogpile cannot read compressed entries. On memcached, the 1 MiB item
   * limit then applies to the compressed size.
   */
  compression?: CompressionOptions;
  /**
   * `true`: an unknown option name (here, in `configure` options, or in the backend's `arguments`) is a
   * `ValidationError` instead of a once-per-name warning (`DOGPILE_CACHE_UNKNOWN_ARGUMENT`). `false`
   * (given explicitly): unknown region options are only logged at debug level. Default: warn.
   */
  strictArguments?: boolean;
}

// Every option name, checked against the interfaces at compile time: adding an option without
// listing it here fails `npm run typecheck` (else it would warn as unknown).
const REGION_OPTION_NAMES = [
  'name',
  'functionKeyGenerator',
  'functionMultiKeyGenerator',
  'keyMangler',
  'serializer',
  'asyncCreationRunner',
  'onBackendError',
  'creatorTimeout',
  'staleIfErrorFor',
  'clock',
  'strictArguments',
  'tagCheckInterval',
  'compression',
] as const satisfies readonly (keyof CacheRegionOptions)[];
const CONFIGURE_OPTION_NAMES = [
  'expirationTime',
  'arguments',
  'wrap',
  'replaceExistingBackend',
  'regionInvalidator',
] as const satisfies readonly (keyof ConfigureOptions)[];
const allListed = <T extends true>(value: T): T => value;
allListed<Exclude<keyof CacheRegionOptions, (typeof REGION_OPTION_NAMES)[number]> extends never ? true : false>(true);
allListed<Exclude<keyof ConfigureOptions, (typeof CONFIGURE_OPTION_NAMES)[number]> extends never ? true : false>(true);

/** Options of {@link CacheRegion.configure}; `A` is the backend's arguments type (see {@link BackendArgumentsMap}). */
export interface ConfigureOptions<A = BackendArguments> {
  /** Seconds (or a duration string) a value stays fresh; `null`/absent never expires; `-1` never expires in get-or-create. */
  expirationTime?: Duration | null;
  /** The backend's arguments (snake_case or camelCase), typed by backend name or class. Never modified. */
  arguments?: A;
  /** Proxies to wrap the backend in; the first is the outermost. */
  wrap?: readonly (ProxyBackend | ProxyClass)[];
  /** Replace a backend configured before instead of throwing {@link RegionAlreadyConfiguredError}. */
  replaceExistingBackend?: boolean;
  /** A custom invalidation strategy. */
  regionInvalidator?: RegionInvalidationStrategy;
}

/** Options of `get`, `getMulti` and `getValueMetadata`. */
export interface GetOptions {
  /** Overrides the region's expiration time for this call only (not stored). */
  expirationTime?: Duration | null;
  /** Returns the value whatever its age or invalidation. */
  ignoreExpiration?: boolean;
}

/** Options of `set` and `setMulti`. */
export interface SetOptions {
  /**
   * This entry's own time to live (seconds, or a duration string like `"10m"`), stored in its metadata:
   * `get`, `has` and `getOrCreate` treat the entry as expired once it is older than this, whatever the
   * region's or the read's expiration time. Default: none (the read's expiration time applies).
   */
  expirationTime?: Duration | null;
  /** Tags for `region.invalidateTags(tags)`, stored in the entry's metadata. Default: none. */
  tags?: readonly string[];
}

/** Options of `getOrCreate` and `getOrCreateMulti`. */
export interface GetOrCreateOptions<T = unknown> {
  /** Overrides the region's expiration time for this call only (not stored with the value). */
  expirationTime?: Duration | null;
  /**
   * The created value's own time to live (seconds or a duration string), stored with it as `set`'s
   * `expirationTime` is. `expirationTime` above stays a read-side override, as in dogpile.
   */
  entryExpirationTime?: Duration | null;
  /** Tags stored with the created value, as `set`'s `tags`. */
  tags?: readonly string[];
  /** Decides whether a created value is stored; a rejected value is still returned. */
  shouldCacheFn?: (value: T) => boolean;
  /** Stops waiting (for the lock or the creator) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the region's `creatorTimeout` for this call. */
  creatorTimeout?: Duration;
}

/** Counters since the region was created, and one gauge (`waiting`). */
export interface RegionStats {
  hits: number;
  misses: number;
  creates: number;
  staleServed: number;
  /** Times a caller had to wait because another held the key's lock (or was creating its value). */
  lockWaits: number;
  errors: number;
  /** Creators run without the lock because the lock server failed (`onBackendError: 'miss'`). */
  unlockedCreates: number;
  /** Callers waiting right now for a lock or for another caller's attempt (a gauge, not a counter). */
  waiting: number;
}

/** A `ct` more than this many seconds ahead of now is corrupt (clock skew between hosts stays far below). */
const MAX_FUTURE_SECONDS = 86_400;

/** A getOrCreate call's checked arguments, and its clock reading (NaN: none), before its value is judged. */
interface GetOrCreateRead<T> extends Omit<GetOrCreateCall<T>, 'initial' | 'stale' | 'settled'> {
  now: number;
}

/** One getOrCreate call past its fresh-value check (the miss path). */
interface GetOrCreateCall<T> {
  key: string;
  backendKey: string;
  creator: () => T | Promise<T>;
  expiration: number | null;
  /** The created value's own TTL in seconds (`entryExpirationTime`), or null. */
  ttl: number | null;
  /** The created value's tags, checked. */
  tags: string[] | undefined;
  initial: ValueOrRegenerate<T>;
  /** The value read, when it is usable as a stale value (for the creator timeout and grace period). */
  stale: CachedValue | undefined;
  /** The creator timeout in milliseconds, or null. */
  timeoutMs: number | null;
  options: GetOrCreateOptions<T> | undefined;
  /**
   * Called once this attempt holds the value it will return (found on the re-read under the lock, or
   * made by the creator): its flight then takes no more joiners (see #lockedGetOrCreate).
   */
  settled?: () => void;
}

/** How an attempt shared by concurrent callers ended. */
type FlightOutcome =
  | { ok: true; payload: unknown; cached: boolean; copy: (() => unknown) | null }
  | { ok: false; error: unknown; leaderGaveUp: boolean };

/** One get-or-create attempt for a key with no value, joined by concurrent callers of this process. */
class Flight {
  /** A Set, so a caller that aborts leaves at once instead of staying attached until the creator settles. */
  readonly waiters = new Set<(outcome: FlightOutcome) => void>();
}

/** Backend errors that are the caller's to fix: never turned into a miss, whatever the policy. */
function isProgrammingError(error: unknown): boolean {
  return (
    isDogpileCacheError(error, ValidationError.code) ||
    isDogpileCacheError(error, ValueTooLargeError.code) ||
    isDogpileCacheError(error, MissingDependencyError.code) ||
    isDogpileCacheError(error, RegionNotConfiguredError.code) ||
    isDogpileCacheError(error, PluginNotFoundError.code) ||
    isDogpileCacheError(error, ConfigurationError.code) ||
    isDogpileCacheError(error, UnsupportedOperationError.code)
  );
}

/** A backend and the backend calls in flight on it, so a replaced backend is closed once they settle. */
interface Generation {
  readonly backend: CacheBackend;
  inflight: number;
  retired: boolean;
}

const SOFT_NEEDS_EXPIRATION =
  'Non-None expiration time required for soft invalidation: give the region (or this call) an expirationTime, or use a hard invalidate().';

/**
 * A cache region: get-or-create with the dogpile lock over a backend. Create one per kind of data,
 * `configure()` it once, then call `getOrCreate`, `get`, `set`, or decorate functions with
 * `cacheOnArguments()`.
 *
 * @example
 * ```ts
 * import { CacheRegion } from 'dogpile-cache';
 * const region = new CacheRegion().configure('oslo_cache.dict', { expirationTime: '10m' });
 * const user = await region.getOrCreate(`user:${id}`, () => db.loadUser(id)); // loaded once per 10 minutes
 * ```
 */
export class CacheRegion {
  /** The region's name, if given. */
  readonly name: string | undefined;
  /** Makes key generators for `cacheOnArguments`. */
  readonly functionKeyGenerator: FunctionKeyGeneratorFactory;
  /** Makes key generators for `cacheMultiOnArguments`. */
  readonly functionMultiKeyGenerator: FunctionMultiKeyGeneratorFactory;
  /** Turns keys into backend keys (oslo sets it to the sha1 mangler after configuring). */
  keyMangler: KeyMangler | null;
  /** Seconds a value stays fresh; `null` never expires; `-1` never expires in get-or-create. */
  expirationTime: number | null = null;
  /** The invalidation strategy. */
  regionInvalidator: RegionInvalidationStrategy;

  readonly #userKeyMangler: boolean;
  readonly #userSerializer: boolean;
  readonly #asyncRunner: AsyncCreationRunner | 'background' | undefined;
  readonly #onBackendError: BackendErrorPolicy;
  readonly #clock: Clock;
  /**
   * The hot paths' clocks: a `set`'s creation time, and the time a hit is judged at. With `systemClock`
   * (the default), its coarse readings, taken at most once per millisecond (src/clock.ts says how they
   * stay ordered with `invalidate()`'s); any other clock (a manual one in tests) is read every time.
   */
  readonly #stampClock: Clock;
  readonly #readClock: Clock;
  /** The clock in epoch seconds, as the lock reads it. */
  readonly #now = (): number => this.#clock() / 1000;
  readonly #events = new RegionEvents();
  readonly #mutexes = new KeyedMutexes();
  /** get-or-create attempts in flight for keys that had no value, shared by concurrent callers in this process. */
  readonly #flights = new Map<string, Flight>();
  #flightWaiters = 0;
  readonly #stats: RegionStats = {
    hits: 0,
    misses: 0,
    creates: 0,
    staleServed: 0,
    lockWaits: 0,
    errors: 0,
    unlockedCreates: 0,
    waiting: 0,
  };
  /** Milliseconds, or null for no limit. */
  readonly #creatorTimeoutMs: number | null;
  /** Seconds. */
  readonly #staleIfErrorFor: number;
  readonly #tags: TagInvalidations;
  readonly #compression: Required<CompressionOptions> | null;
  #backend: CacheBackend | undefined;
  #generation: Generation | undefined;
  #actualBackend: CacheBackend | undefined;
  #serializer: Serializer | null;
  /** How values reach the backend (src/storage.ts): rebuilt whenever the backend or the serializer changes. */
  #storage: RegionStorage | undefined;
  /** The storage's synchronous read, when it has one (the in-memory hot path). */
  #readSync: SyncRead | null = null;
  /** The store's own freshness check (see `FreshRead`), when the store shares the region's clock; else null. */
  #readFresh: FreshRead | null = null;
  #writeSync: SyncWrite | null = null;
  /** The sync store reads the region's own clock: one reading per call serves both (see InProcessStore.clock). */
  #sharesClock = false;
  /**
   * Epoch seconds no sane `ct` exceeds: a past clock reading plus a day, so `ct <= horizon` proves a value
   * is not corrupt-from-the-future without reading the clock (the hit path with no expiration reads none).
   */
  #horizon = 0;
  /** `strictArguments`: unknown option names throw instead of warning. */
  readonly #strictArguments: boolean;

  constructor(userOptions: CacheRegionOptions = {}) {
    if (typeof userOptions !== 'object' || userOptions === null)
      throw new ValidationError(`CacheRegion options must be an object; got ${describe(userOptions)}.`);
    // Own properties only: a polluted Object.prototype must not configure a region.
    const options: CacheRegionOptions = ownOptions(userOptions, 'CacheRegion options');
    this.#strictArguments = options.strictArguments === true;
    reportUnknownNames('CacheRegion options', Object.keys(options), REGION_OPTION_NAMES, {
      strict: this.#strictArguments,
      silent: options.strictArguments === false,
      strictHint: 'strictArguments: true',
    });
    this.name = optionalString(options.name, 'name');
    this.functionKeyGenerator = optionalFunction(options.functionKeyGenerator, 'functionKeyGenerator') ?? defaultFunctionKeyGenerator;
    this.functionMultiKeyGenerator =
      optionalFunction(options.functionMultiKeyGenerator, 'functionMultiKeyGenerator') ?? defaultFunctionMultiKeyGenerator;
    this.keyMangler = optionalFunction(options.keyMangler ?? undefined, 'keyMangler') ?? null;
    this.#userKeyMangler = this.keyMangler !== null;
    this.#serializer = options.serializer === undefined ? null : resolveSerializer(options.serializer);
    this.#userSerializer = this.#serializer !== null;
    const runner = options.asyncCreationRunner;
    if (runner !== undefined && runner !== 'background' && typeof runner !== 'function') {
      throw new ValidationError(`asyncCreationRunner must be "background" or a function; got ${describe(runner)}.`);
    }
    this.#asyncRunner = runner;
    const policy = options.onBackendError ?? 'throw';
    if (policy !== 'throw' && policy !== 'miss')
      throw new ValidationError(`onBackendError must be "throw" or "miss"; got ${describe(policy)}.`);
    this.#onBackendError = policy;
    this.#creatorTimeoutMs = creatorTimeoutMs(options.creatorTimeout);
    this.#staleIfErrorFor =
      options.staleIfErrorFor === undefined ? 0 : toSeconds(options.staleIfErrorFor, 'staleIfErrorFor', { min: 0, max: MAX_TIMER_SECONDS });
    this.#clock = optionalFunction(options.clock, 'clock') ?? systemClock;
    const hot = hotClocks(this.#clock);
    this.#stampClock = hot.stamp;
    this.#readClock = hot.read;
    this.regionInvalidator = new DefaultInvalidationStrategy(this.#clock);
    this.#compression = readCompression(options.compression);
    const tagInterval =
      options.tagCheckInterval === undefined
        ? DEFAULT_TAG_CHECK_SECONDS
        : toSeconds(options.tagCheckInterval, 'tagCheckInterval', { max: MAX_TIMER_SECONDS });
    this.#tags = new TagInvalidations(
      (keys) => this.#store().readMulti(keys),
      (entries) => this.#store().writeMulti(entries),
      (tag) => this.#backendKey(TAG_KEY_PREFIX + tag, true),
      this.#now,
      tagInterval,
    );
  }

  // ---------------------------------------------------------------- configuration

  /**
   * Gives the region its backend: a registered name (`"oslo_cache.dict"`, `"oslo_cache.memcache_pool"`,
   * …), a backend class, or a backend instance. Returns the region.
   * @throws {RegionAlreadyConfiguredError} when configured before, unless `replaceExistingBackend`.
   * @throws {PluginNotFoundError} for an unknown backend name.
   * @throws {ValidationError} for a bad expiration time or backend argument.
   */
  configure<Name extends keyof BackendArgumentsMap>(backend: Name, options?: ConfigureOptions<ArgumentsFor<Name>>): this;
  configure<Args>(backend: new (args: Args) => CacheBackend, options?: ConfigureOptions<Args>): this;
  configure<B extends string | CacheBackend | BackendClass>(
    backend: B extends keyof BackendArgumentsMap ? never : B,
    options?: ConfigureOptions,
  ): this;
  configure(
    backend: string | CacheBackend | BackendClass | (new (args: never) => CacheBackend),
    userOptions: ConfigureOptions<unknown> = {},
  ): this {
    const options = ownOptions(userOptions, 'configure options') as ConfigureOptions;
    reportUnknownNames('configure options', Object.keys(options), CONFIGURE_OPTION_NAMES, {
      strict: this.#strictArguments,
      strictHint: 'the region option strictArguments: true',
    });
    const args = this.#backendArguments(options.arguments ?? {});
    // A class without fromConfigDict (typed by its constructor only) is still a backend class: only configureFromConfig calls that.
    return this.#configure(
      backend as string | CacheBackend | BackendClass,
      options,
      (Backend) => new Backend(args),
      (loading) => new DeferredBackend(loading, args),
    );
  }

  /**
   * The arguments a backend is made with: a strict region makes them strict too, unless they say
   * otherwise (or are not an object, which the backend refuses itself). Every configuration path (a
   * backend loaded at once or asynchronously, `configure` or `configureFromConfig`) goes through here.
   */
  #backendArguments<A>(args: A): A {
    return this.#strictArguments &&
      typeof args === 'object' &&
      args !== null &&
      !('strictArguments' in args) &&
      !('strict_arguments' in args)
      ? { ...args, strictArguments: true }
      : args;
  }

  /**
   * Configures from a flat dictionary, as dogpile's `configure_from_config`: `<prefix>backend`,
   * `<prefix>expiration_time`, `<prefix>arguments.*`, `<prefix>wrap`, `<prefix>replace_existing_backend`.
   * String values are typed first (`"600"` → 600, `"true"` → true, `"None"` → null).
   */
  configureFromConfig(config: Readonly<Record<string, unknown>>, prefix: string): this {
    if (typeof config !== 'object' || config === null) throw new ValidationError(`config must be an object; got ${describe(config)}.`);
    if (typeof prefix !== 'string') throw new ValidationError(`prefix must be a string such as "cache.redis."; got ${describe(prefix)}.`);
    const typed = coerceStringConf(config);
    const backend = typed[`${prefix}backend`];
    if (typeof backend !== 'string') throw new ConfigurationError(`config has no "${prefix}backend" naming the backend to use.`);
    const argumentPrefix = `${prefix}arguments.`;
    const options: ConfigureOptions = {
      expirationTime: typed[`${prefix}expiration_time`] as Duration | null,
      replaceExistingBackend: isTruthyConf(typed[`${prefix}replace_existing_backend`]),
    };
    const wrap = typed[`${prefix}wrap`];
    if (wrap !== undefined && wrap !== null) options.wrap = wrap as ConfigureOptions['wrap'] & object;
    // The strictness goes in under the prefix, so a backend's own fromConfigDict reads it as any argument.
    const strictness = this.#backendArguments(argumentsUnder(typed, argumentPrefix));
    const strictConfig = 'strictArguments' in strictness ? { ...typed, [`${argumentPrefix}strictArguments`]: true } : typed;
    // Built from a config dictionary, now or once loaded: oslo's common arguments stay quiet either way.
    return this.#configure(
      backend,
      options,
      (Backend) => withOsloCommonArguments(() => Backend.fromConfigDict(strictConfig, argumentPrefix)),
      (loading) =>
        withOsloCommonArguments(() => new DeferredBackend(keepingOsloScope(loading), argumentsUnder(strictConfig, argumentPrefix))),
    );
  }

  /**
   * `construct` makes the backend from a class loaded at once, `defer` from one still loading (a
   * registered asynchronous loader), with the same arguments.
   */
  #configure(
    backend: string | CacheBackend | BackendClass,
    options: ConfigureOptions,
    construct: (Backend: BackendClass) => CacheBackend,
    defer: (loading: Promise<BackendClass>) => CacheBackend,
  ): this {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError(`configure options must be an object; got ${describe(options)}.`);
    if (this.#backend !== undefined && options.replaceExistingBackend !== true) {
      throw new RegionAlreadyConfiguredError(
        `This region is already configured with backend: ${this.#backend.constructor.name}. Specify replaceExistingBackend: true to replace.`,
      );
    }
    const expirationTime =
      options.expirationTime === undefined || options.expirationTime === null
        ? null
        : toSeconds(options.expirationTime, 'expirationTime', { allowMinusOne: true });
    if (expirationTime !== null) warnIfLooksLikeMilliseconds(options.expirationTime, 'expirationTime');
    let instance: CacheBackend;
    if (backend instanceof CacheBackend) instance = backend;
    else if (isBackendClass(backend)) instance = construct(backend);
    else if (typeof backend === 'string') {
      const loaded = loadBackend(backend);
      instance = loaded instanceof Promise ? defer(loaded) : construct(loaded);
    } else {
      throw new ValidationError(`backend must be a registered name, a CacheBackend class or instance; got ${describe(backend)}.`);
    }
    const wrap = options.wrap ?? [];
    if (!Array.isArray(wrap))
      throw new ValidationError(`wrap must be an array of ProxyBackend classes or instances; got ${describe(wrap)}.`);
    const proxies = wrap.map(toProxyInstance);
    const invalidator = options.regionInvalidator;
    if (invalidator !== undefined && typeof invalidator?.isInvalidated !== 'function') {
      throw new ValidationError('regionInvalidator must implement RegionInvalidationStrategy (invalidate, isInvalidated, …).');
    }

    if (this.#compression !== null && (this.#userSerializer ? this.#serializer : (instance.serializer ?? null)) === null) {
      throw new ConfigurationError(
        `compression needs stored bytes: the ${instance.constructor.name} backend keeps values, not bytes, and the region has no serializer. ` +
          'Give the region a serializer ("json" or "v8"), or drop the compression option.',
      );
    }
    // Everything is checked: now change state, so a failed configure() leaves the region as it was.
    this.expirationTime = expirationTime;
    if (!this.#userKeyMangler) this.keyMangler = instance.keyMangler ?? null;
    if (!this.#userSerializer) this.#serializer = instance.serializer ?? null;
    this.#retire(instance);
    this.#backend = instance;
    this.#generation = { backend: instance, inflight: 0, retired: false };
    this.#actualBackend = undefined;
    for (const proxy of proxies.reverse()) this.#backend = proxy.wrap(this.#backend);
    this.#useStorage();
    if (invalidator !== undefined) this.regionInvalidator = invalidator;
    return this;
  }

  /**
   * A replaced backend is closed once the calls in flight on it settle (dogpile leaves it open, and
   * with it the connections of a memcached pool or a Mongo client). The same instance configured again
   * is kept open.
   */
  #retire(next: CacheBackend): void {
    const old = this.#generation;
    if (old === undefined || old.backend === next) return;
    old.retired = true;
    if (old.inflight === 0) this.#closeRetired(old);
  }

  #closeRetired(generation: Generation): void {
    generation.backend.close().catch((error: unknown) => this.#backendError('close', error));
  }

  /**
   * The serializer in use; `null` stores `CachedValue` objects as they are. Assigning one switches the
   * storage path (values or bytes, see src/storage.ts) for the calls that follow.
   * @throws {ValidationError} on assignment of something that is not a serializer, `"json"`, `"v8"` or null.
   */
  get serializer(): Serializer | null {
    return this.#serializer;
  }

  set serializer(value: Serializer | null) {
    this.#serializer = value === null ? null : resolveSerializer(value);
    if (this.#backend !== undefined) this.#useStorage();
  }

  /** Builds the storage path for the current backend and serializer. */
  #useStorage(): void {
    const serializer = this.#serializer;
    this.#storage = regionStorage(
      this.backend,
      serializer === null || this.#compression === null ? serializer : compressingSerializer(serializer, this.#compression),
      (operation, call, onMiss, reading) => this.#guard(operation, call, onMiss, reading),
      (operation, error, onMiss, reading) => this.#failed(operation, error, onMiss, reading),
      (error) => this.#backendError('deserialize', error),
    );
    this.#readSync = this.#storage.readSync;
    this.#writeSync = this.#storage.writeSync;
    this.#sharesClock = this.#storage.syncClock === this.#clock;
    const freshClock = this.#storage.freshClock;
    this.#readFresh = freshClock === null || freshClock === this.#clock ? this.#storage.readFresh : null;
  }

  /** The storage path. @throws {RegionNotConfiguredError} before `configure()`. */
  #store(): RegionStorage {
    return this.#storage ?? notConfigured();
  }

  /** True once `configure()` has given the region a backend. */
  get isConfigured(): boolean {
    return this.#backend !== undefined;
  }

  /** The backend (the outermost proxy when wrapped). @throws {RegionNotConfiguredError} before `configure()`. */
  get backend(): CacheBackend {
    return this.#backend ?? notConfigured();
  }

  /** The backend under all proxies. */
  get actualBackend(): CacheBackend {
    if (this.#actualBackend === undefined) {
      let backend = this.backend;
      while (backend instanceof ProxyBackend) backend = backend.proxied;
      this.#actualBackend = backend;
    }
    return this.#actualBackend;
  }

  /** Wraps the backend in a proxy (a class is instantiated with no arguments). Returns the region. */
  wrap(proxy: ProxyBackend | ProxyClass): this {
    this.#backend = toProxyInstance(proxy).wrap(this.backend);
    this.#useStorage();
    return this;
  }

  /** Closes the backend (connections, timers). */
  async close(): Promise<void> {
    await this.#backend?.close();
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value for `key`, or {@link NO_VALUE} when absent, expired (by the region's or this call's
   * expiration time), invalidated or unreadable (corrupt bytes, a creation time that is not a number
   * or is more than a day ahead: a miss with an `error` event, never a failure).
   */
  get<T = unknown>(key: string, options?: GetOptions): Promise<T | NoValue> {
    // Not async: a value found synchronously (an in-process store, a local tier) is answered without an
    // async function's frame, and this code stays the same whatever other regions in the process await
    // (V8 compiled the suspending path of every region into it). Errors still reject, never throw.
    try {
      // The clock reading the early lookup took (NaN: none), which the general path below reuses.
      let early = NaN;
      // NaN since: a strategy the store cannot read (it overrides isInvalidated); only the general path can tell.
      const since =
        this.#readFresh !== null && options === undefined && this.#mayBeStoredAsIs(key) ? validSince(this.regionInvalidator) : NaN;
      if (since === since) {
        early = this.#earlyReading(this.expirationTime);
        const settled = this.#freshInStore(key, this.expirationTime, since, early);
        if (settled !== NOT_FRESH) {
          this.#hit(key);
          return settled as Promise<T>;
        }
      }
      const backendKey = this.#backendKey(key);
      const expiration = this.#readExpiration(options);
      const checksAge = typeof expiration === 'number' && expiration !== -1;
      // One clock reading for the store's expiry and the region's, when both need it (NaN: not read).
      // Read here too for a store-judged hit (its rules need the reading), which #unexpired then reuses.
      const now = (this.#sharesClock || this.#readFresh !== null) && checksAge ? (early === early ? early : this.#readClock()) : NaN;
      const fresh = this.#readFresh;
      // Not again when the early lookup above already asked the store (with these very rules: no options).
      if (fresh !== null && since !== since && (checksAge || expiration === null)) {
        // The store judges its entry by the region's rules (#unexpired's); what it cannot vouch for is read below.
        const settled = fresh(backendKey, now, expiration ?? Infinity, validSince(this.regionInvalidator), this.#horizon);
        if (settled !== NOT_FRESH) {
          this.#hit(key);
          return settled as Promise<T>;
        }
      }
      const readSync = this.#readSync;
      // A synchronous read answers undefined for what it does not hold (a local tier's miss).
      const raw = readSync === null ? undefined : readSync(backendKey, now);
      if (raw === undefined) return this.#getAsync(key, backendKey, expiration, now);
      if (isNoValue(raw)) {
        this.#miss(key);
        return Promise.resolve(NO_VALUE);
      }
      // Tagged entries are checked after their tags' times are read (a round trip, maybe).
      if (raw.metadata.tags !== undefined) return this.#getAsync(key, backendKey, expiration, now, raw);
      // Read before any user code (an invalidation strategy, a listener) runs: a synchronous read may lend its value.
      const payload = raw.payload;
      if (isNoValue(this.#unexpired(raw, expiration, now))) {
        this.#miss(key);
        return Promise.resolve(NO_VALUE);
      }
      this.#hit(key);
      return Promise.resolve(payload as T);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@link get} for a value the backend reads asynchronously, or (`found`) one whose tags must be read first. */
  async #getAsync<T>(
    key: string,
    backendKey: string,
    expiration: number | null | undefined,
    now: number,
    found?: CachedValue,
  ): Promise<T | NoValue> {
    const raw = found ?? (await this.#store().read(backendKey));
    if (isNoValue(raw)) {
      this.#miss(key);
      return NO_VALUE;
    }
    // Read before any user code (an invalidation strategy, a listener) runs: a synchronous read may lend its value.
    const payload = raw.payload;
    if (raw.metadata.tags !== undefined) await this.#refreshTags([raw]);
    if (isNoValue(this.#unexpired(raw, expiration, now))) {
      this.#miss(key);
      return NO_VALUE;
    }
    this.#hit(key);
    return payload as T;
  }

  /** Values for `keys`, aligned with them ({@link NO_VALUE} for each miss, including unreadable entries). */
  async getMulti<T = unknown>(keys: readonly string[], options?: GetOptions): Promise<(T | NoValue)[]> {
    assertKeys(keys);
    const expiration = this.#readExpiration(options);
    if (keys.length === 0) return [];
    const values = await this.#store().readMulti(keys.map((key) => this.#backendKey(key)));
    await this.#refreshTags(values);
    return values.map((raw, i) => {
      const value = this.#unexpired(raw, expiration);
      if (isNoValue(value)) {
        this.#miss(keys[i] as string);
        return NO_VALUE;
      }
      this.#hit(keys[i] as string);
      return value.payload as T;
    });
  }

  /** Like `get`, but returns the whole {@link CachedValue} (payload and metadata), or `null`. */
  async getValueMetadata<T = unknown>(key: string, options?: GetOptions): Promise<CachedValue<T> | null> {
    const backendKey = this.#backendKey(key);
    const expiration = this.#readExpiration(options);
    const raw = await this.#store().read(backendKey);
    await this.#refreshTags([raw]);
    const value = this.#unexpired(raw, expiration);
    return isNoValue(value) ? null : (value as CachedValue<T>);
  }

  /**
   * The expiration a read applies, checked before the backend is touched (so a bad option fails on a
   * miss too): `undefined` to ignore expiration and invalidation, `null` for never.
   */
  #readExpiration(options: GetOptions | undefined): number | null | undefined {
    // null as none, as getOrCreate reads its options (a JavaScript caller's "no options").
    if (options === undefined || options === null) return this.expirationTime;
    const override = options.expirationTime;
    const expiration =
      override === undefined || override === null ? this.expirationTime : toSeconds(override, 'expirationTime', { allowMinusOne: true });
    return options.ignoreExpiration === true ? undefined : expiration;
  }

  /** `now`: a reading of the region's clock in ms, or NaN (read here if needed). */
  #unexpired(value: CachedValue | NoValue, readExpiration: number | null | undefined, now = NaN): CachedValue | NoValue {
    if (isNoValue(value) || readExpiration === undefined) return value;
    const createdAt = value.metadata.ct;
    if (!(createdAt <= this.#horizon || this.#plausible(createdAt))) return NO_VALUE;
    // The entry's own TTL replaces the read's expiration time (an entry without one pays one property read).
    const expiration = value.metadata.ttl === undefined ? readExpiration : (entryTtl(value.metadata) ?? readExpiration);
    // dogpile treats -1 as "always expired" in get() (a bug: it means "never" everywhere else).
    if (expiration !== null && expiration !== -1 && (now === now ? now : this.#readClock()) / 1000 - createdAt > expiration)
      return NO_VALUE;
    if (this.regionInvalidator.isInvalidated(createdAt)) return NO_VALUE;
    if (value.metadata.tags !== undefined && this.#tags.verdict(value.metadata) !== null) return NO_VALUE;
    return value;
  }

  /** Reads the invalidation times of the tags these entries carry, where older than `tagCheckInterval`. */
  async #refreshTags(values: readonly (CachedValue | NoValue)[]): Promise<void> {
    let tags: string[] | undefined;
    for (const value of values) {
      if (isNoValue(value) || value.metadata.tags === undefined || !Array.isArray(value.metadata.tags)) continue;
      if (this.#tags.needsRefresh(value.metadata.tags)) (tags ??= []).push(...value.metadata.tags);
    }
    if (tags !== undefined) await this.#tags.refresh(tags);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores `value` under `key`, created now; with `expirationTime`, the entry expires after that long
   * whatever the region's expiration time (see {@link SetOptions}).
   * @throws {ValidationError} for an `expirationTime` that is not a positive duration.
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const backendKey = this.#backendKey(key);
    const ttl = options === undefined ? null : entryTtlOption(options.expirationTime, 'expirationTime');
    const tags = options === undefined ? undefined : readTags(options.tags);
    const now = this.#stampClock();
    const entry = makeCachedValue(value, now, ttl, tags);
    const writeSync = this.#writeSync;
    if (writeSync === null) {
      await this.#store().write(backendKey, entry);
      return;
    }
    // A failure of the in-process store's write meets the error policy as a failed backend set would.
    writeSync(backendKey, entry, this.#sharesClock ? now : NaN);
  }

  /** Stores every entry of `mapping` with one shared creation time (and `options` as in `set`); never mutates `mapping`. */
  async setMulti(mapping: Mapping<unknown>, options?: SetOptions): Promise<void> {
    const ttl = options === undefined ? null : entryTtlOption(options.expirationTime, 'expirationTime');
    const tags = options === undefined ? undefined : readTags(options.tags);
    const entries = mappingEntries(mapping);
    if (entries.length === 0) return;
    const now = this.#stampClock();
    await this.#store().writeMulti(new Map(entries.map(([key, value]) => [this.#backendKey(key), makeCachedValue(value, now, ttl, tags)])));
  }

  /**
   * True when `get(key, options)` would return a value: it applies expiration, the entry's own TTL and
   * invalidation exactly as `get` does, but counts no hit or miss and emits no event (it is a probe).
   */
  async has(key: string, options?: GetOptions): Promise<boolean> {
    const backendKey = this.#backendKey(key);
    const expiration = this.#readExpiration(options);
    const readSync = this.#readSync;
    const raw = (readSync === null ? undefined : readSync(backendKey, NaN)) ?? (await this.#store().read(backendKey));
    if (!isNoValue(raw) && raw.metadata.tags !== undefined) await this.#refreshTags([raw]);
    return !isNoValue(this.#unexpired(raw, expiration));
  }

  /**
   * Removes every entry of this region's backend, and only those (the backend's own map, key prefix
   * or collection), through the backend's declared `clear` (see `CacheBackend.clear`).
   * @throws {UnsupportedOperationError} when the backend has no way to remove only its own entries;
   *   the message says what to use instead.
   */
  async clear(): Promise<void> {
    const backend = this.backend;
    // A proxy forwards only the contract's required calls; clear belongs to the store under the proxies.
    const target = backend.clear !== undefined ? backend : this.actualBackend;
    if (target.clear === undefined) {
      throw new UnsupportedOperationError(
        `region.clear() is not supported by the ${target.constructor.name} backend: it cannot remove only this region's entries ` +
          '(see its guide). Use region.invalidate() to make every entry a miss, or deleteMulti(keys) for known keys.',
      );
    }
    await this.#guard('clear', async () => target.clear?.(), undefined);
  }

  /** Removes `key`; absent keys are fine. */
  async delete(key: string): Promise<void> {
    const backendKey = this.#backendKey(key);
    await this.#guard('delete', () => this.backend.delete(backendKey), undefined);
  }

  /** Removes `keys`; absent keys are fine. */
  async deleteMulti(keys: readonly string[]): Promise<void> {
    assertKeys(keys);
    if (keys.length === 0) return;
    const backendKeys = keys.map((key) => this.#backendKey(key));
    await this.#guard('deleteMulti', () => this.backend.deleteMulti(backendKeys), undefined);
  }

  // ---------------------------------------------------------------- get-or-create

  /**
   * Returns the value for `key`, creating it with `creator` when absent, expired or invalidated — with
   * one creator per key at a time (the dogpile lock): a stale value is served to concurrent callers
   * while one regenerates; with no value, they all wait for that one. A creator's error is propagated,
   * the lock released, and nothing cached.
   *
   * Callers in this process that find no value share one attempt: they get its outcome (with a
   * serializer, each its own deserialized copy; without one, the creator's own object, shared). A
   * caller joining an attempt whose value `shouldCacheFn` refused runs its own attempt instead.
   * @throws {ReentrantCreateError} when a creator asks for its own key (which has no value).
   * @throws {CreatorTimeoutError} when the creator outlives `creatorTimeout` and there is no stale value.
   */
  getOrCreate<T>(key: string, creator: () => T | Promise<T>, options?: GetOrCreateOptions<T>): Promise<T> {
    // Not async, as get: a fresh value found synchronously is answered without an async function's frame.
    try {
      // The clock reading the early lookup took (NaN: none), which the general path below reuses.
      let early = NaN;
      // NaN since: a strategy the store cannot read (it overrides isInvalidated); only the general path can tell.
      const since =
        this.#readFresh !== null && options === undefined && typeof creator === 'function' && this.#mayBeStoredAsIs(key)
          ? validSince(this.regionInvalidator)
          : NaN;
      if (since === since) {
        // #isFresh's rules; a creation time of 0 or below is no value (dogpile's _has_value): at least MIN_VALUE.
        const expiration = this.expirationTime === -1 ? null : this.expirationTime;
        early = this.#earlyReading(expiration);
        const settled = this.#freshInStore(key, expiration, Math.max(since, Number.MIN_VALUE), early);
        if (settled !== NOT_FRESH) {
          this.#hit(key);
          return settled as Promise<T>;
        }
      }
      const backendKey = this.#backendKey(key);
      if (typeof creator !== 'function')
        throw new ValidationError(`creator must be a function returning the value; got ${describe(creator)}.`);
      const expiration = this.#createExpiration(options?.expirationTime);
      const ttl = options?.entryExpirationTime === undefined ? null : entryTtlOption(options.entryExpirationTime, 'entryExpirationTime');
      const tags = options?.tags === undefined ? undefined : readTags(options.tags);
      // Checked before the read, so a bad option fails on a hit too.
      const timeoutMs = options?.creatorTimeout === undefined ? this.#creatorTimeoutMs : creatorTimeoutMs(options.creatorTimeout);
      const now =
        (this.#sharesClock || this.#readFresh !== null) && expiration !== null ? (early === early ? early : this.#readClock()) : NaN;
      const fresh = this.#readFresh;
      // Not again when the early lookup above already asked the store (with these very rules: no options).
      if (fresh !== null && since !== since) {
        // #isFresh's rules, judged by the store; a creation time of 0 or below is no value (above MIN_VALUE).
        const settled = fresh(
          backendKey,
          now,
          expiration ?? Infinity,
          Math.max(validSince(this.regionInvalidator), Number.MIN_VALUE),
          this.#horizon,
        );
        if (settled !== NOT_FRESH) {
          this.#hit(key);
          return settled as Promise<T>;
        }
      }
      const readSync = this.#readSync;
      const lent = readSync === null ? undefined : readSync(backendKey, now);
      // Not found synchronously, or tagged (its tags' times are read first): the asynchronous path.
      if (lent === undefined || isNoValue(lent) || lent.metadata.tags !== undefined) {
        return this.#getOrCreateFound({ key, backendKey, creator, expiration, ttl, tags, timeoutMs, options, now }, lent);
      }
      // Read before any user code (an invalidation strategy, a listener) runs: a synchronous read may lend its value.
      const payload = lent.payload;
      const metadata = lent.metadata;
      const createdAt = metadata.ct;
      // The hot path: a fresh, valid value takes no lock, allocates nothing, and reads the clock at most once.
      if (this.#isFresh(metadata, createdAt, expiration, now)) {
        this.#hit(key);
        return Promise.resolve(payload as T);
      }
      // Kept past this call's awaits as the stale value: a value of its own, never a lent one.
      const own: CachedValue = { payload, metadata: { ...metadata, ct: createdAt } };
      return this.#lockedFrom({ key, backendKey, creator, expiration, ttl, tags, timeoutMs, options, now }, own);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link getOrCreate} for a value `found` by the synchronous read (it may be lent) or, when undefined,
   * read now: a fresh one is the answer, anything else goes to the lock.
   */
  async #getOrCreateFound<T>(call: GetOrCreateRead<T>, found: CachedValue | NoValue | undefined): Promise<T> {
    let value = found ?? (await this.#store().read(call.backendKey));
    if (!isNoValue(value)) {
      // Read before any user code (an invalidation strategy, a listener) runs: a synchronous read may lend its value.
      const payload = value.payload;
      const metadata = value.metadata;
      const createdAt = metadata.ct;
      if (metadata.tags !== undefined) await this.#refreshTags([value]);
      if (this.#isFresh(metadata, createdAt, call.expiration, call.now)) {
        this.#hit(call.key);
        return payload as T;
      }
      // Kept past this call's awaits as the stale value: a value of its own, never a lent one.
      if (found !== undefined) value = { payload, metadata: { ...metadata, ct: createdAt } };
    }
    return this.#lockedFrom(call, value);
  }

  /**
   * True when `key` may be looked up in the store as it is, before it is validated: a string the region
   * does not mangle (no key mangler, or one that declares it keeps this key: {@link KEEPS_KEY}), outside
   * the tag entries' prefix. A key that is not valid (empty, a lone surrogate) was never stored (every
   * write validates its key, and a mangler keeps no invalid key another key is mangled into), so it cannot
   * be found, and the general path that follows a miss validates it and rejects: the hit path of valid
   * keys skips the validation and the mangling.
   */
  #mayBeStoredAsIs(key: unknown): key is string {
    if (typeof key !== 'string') return false;
    const mangler = this.keyMangler;
    if (mangler !== null) {
      const keeps = (mangler as MayKeepKeys)[KEEPS_KEY];
      if (keeps === undefined || !keeps(key)) return false;
    }
    // The first character decides for nearly every key (startsWith costs more than the rest of this check).
    return key.charCodeAt(0) !== TAG_KEY_FIRST_CODE || !key.startsWith(TAG_KEY_PREFIX);
  }

  /**
   * A promise of the payload of `key`'s entry when the in-process store judges it fresh under `expiration` (the
   * region's, seconds or null) and the region's invalidation, created at or after `oldest`; else
   * NOT_FRESH (including an expiration of -1 or a non-number, left to the general path).
   */
  #freshInStore(key: string, expiration: number | null, oldest: number, now: number): Promise<unknown> | typeof NOT_FRESH {
    const fresh = this.#readFresh as FreshRead;
    const checksAge = typeof expiration === 'number' && expiration !== -1;
    if (!checksAge && expiration !== null) return NOT_FRESH;
    return fresh(key, now, expiration ?? Infinity, oldest, this.#horizon);
  }

  /**
   * The clock reading {@link #freshInStore} judges at under `expiration` (the region's): NaN, without
   * reading the clock, when it needs none. The caller's general path reuses it, so a call that the early
   * lookup does not answer (a miss, an entry with a TTL or tags) still reads the clock once; a strategy the
   * store cannot read skips the lookup, and so the reading, altogether.
   */
  #earlyReading(expiration: number | null): number {
    return typeof expiration === 'number' && expiration !== -1 ? this.#readClock() : NaN;
  }

  /** True when a value with `metadata` (created at `createdAt`, read before any user code ran) is fresh and valid for getOrCreate. */
  #isFresh(metadata: CachedValueMetadata, createdAt: number, expiration: number | null, now: number): boolean {
    if (metadata.v !== VALUE_VERSION) return false;
    const own = metadata.ttl === undefined ? expiration : (entryTtl(metadata) ?? expiration);
    // A ct of 0 or below is no value to the lock (dogpile's `_has_value`), fresh or not: the lock decides.
    return (
      createdAt > 0 &&
      (createdAt <= this.#horizon || this.#plausible(createdAt)) &&
      (own === null || (now === now ? now : this.#readClock()) / 1000 - createdAt <= own) &&
      !this.regionInvalidator.isInvalidated(createdAt) &&
      (metadata.tags === undefined || this.#tags.verdict(metadata) === null)
    );
  }

  /** The lock path of {@link getOrCreate} for `value`, a value of this call's own (or NO_VALUE) that is not fresh. */
  #lockedFrom<T>(call: GetOrCreateRead<T>, value: CachedValue | NoValue): Promise<T> {
    const initial = this.#valueAndCreated<T>(value, call.expiration);
    const stale = initial === NEED_REGENERATION ? undefined : (value as CachedValue);
    const { key, backendKey, creator, expiration, ttl, tags, timeoutMs, options } = call;
    return this.#lockedGetOrCreate({ key, backendKey, creator, expiration, ttl, tags, initial, stale, timeoutMs, options });
  }

  /**
   * With no value, every caller would wait for the one creator and then re-read, one at a time. Callers
   * in this process instead share one attempt, and its outcome (value or error): only one of them goes
   * through the lock, which matters when the lock and the re-read are round trips to a server.
   */
  async #lockedGetOrCreate<T>(call: GetOrCreateCall<T>): Promise<T> {
    const { key, backendKey, initial, options } = call;
    // A creator asking for its own missing key would wait for itself (or, with the null backend, recurse for ever).
    if (initial === NEED_REGENERATION && holdsLock(this, backendKey)) {
      throw new ReentrantCreateError(
        `getOrCreate("${key}") was called by the creator of that same key, which has no value yet: it would wait for itself forever. ` +
          'Break the cycle (a creator must not need its own value).',
      );
    }
    const mutex = this.#mutex(backendKey);
    // The null backend's lock never blocks: every caller runs its creator, as in dogpile.
    if (initial !== NEED_REGENERATION || mutex.neverBlocks === true)
      return this.#runDogpileLock(call, mutex).then((created) => created.payload);
    const signal = options?.signal;
    const joined = this.#flights.get(backendKey);
    if (joined !== undefined) {
      this.#miss(key);
      this.#stats.lockWaits++;
      const outcome = await this.#join(joined, signal);
      if (outcome.ok) {
        if (outcome.cached) return (outcome.copy === null ? outcome.payload : outcome.copy()) as T;
        // The leader's shouldCacheFn refused its value: as in dogpile, we run our own creator. Under the
        // key's current mutex: the one fetched before the wait was dropped when the leader released it.
        return this.#runDogpileLock(call, this.#mutex(backendKey)).then((created) => created.payload);
      }
      // The leading caller gave up (its own signal): that is not our failure; try again ourselves.
      if (outcome.leaderGaveUp && signal?.aborted !== true) return this.getOrCreate(key, call.creator, options);
      throw outcome.error;
    }
    const flight = new Flight();
    this.#flights.set(backendKey, flight);
    // Once the leader holds its value, a newcomer must not join: the value may be replaced or deleted
    // before the leader's write and release complete, and a caller that began after that change would get
    // it back. A newcomer then takes the lock itself and re-reads, as every waiter does in dogpile.
    const settled = (): void => {
      if (this.#flights.get(backendKey) === flight) this.#flights.delete(backendKey);
    };
    let outcome: FlightOutcome | undefined;
    try {
      const created = await this.#runDogpileLock({ ...call, settled }, mutex);
      const serializer = this.serializer;
      let bytes: Buffer | undefined;
      const copy =
        serializer === null
          ? null
          : () => {
              // Serialized once, only if someone joined; each joiner gets its own copy (dogpile's memory_pickle).
              bytes ??= serializer.serialize(created.payload);
              return serializer.deserialize(bytes);
            };
      outcome = { ok: true, payload: created.payload, cached: created.cached, copy };
      return created.payload;
    } catch (error) {
      outcome = { ok: false, error, leaderGaveUp: signal?.aborted === true && error === signal.reason };
      throw error;
    } finally {
      if (this.#flights.get(backendKey) === flight) this.#flights.delete(backendKey);
      for (const waiter of flight.waiters) waiter(outcome as FlightOutcome);
      flight.waiters.clear();
    }
  }

  /** Waits for a flight's outcome; an aborted caller leaves the flight at once. */
  #join(flight: Flight, signal: AbortSignal | undefined): Promise<FlightOutcome> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const done = (outcome: FlightOutcome): void => {
        this.#flightWaiters--;
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => {
        if (!flight.waiters.delete(done)) return;
        this.#flightWaiters--;
        reject(signal?.reason);
      };
      flight.waiters.add(done);
      this.#flightWaiters++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async #runDogpileLock<T>(call: GetOrCreateCall<T>, mutex: CacheMutex): Promise<{ payload: T; cached: boolean }> {
    const { key, backendKey, creator, expiration, ttl, tags, initial, stale, timeoutMs, options } = call;
    this.#miss(key);
    const shouldCacheFn = options?.shouldCacheFn;
    const signal = options?.signal;
    let cached = true;
    const generation = this.#enter();
    try {
      const payload = await dogpileLock<T>({
        mutex,
        recheckAfterAcquire: mutex instanceof LayeredMutex,
        initial,
        expirationTime: expiration,
        now: this.#now,
        valueAndCreated: async () => {
          const read = await this.#store().read(backendKey);
          await this.#refreshTags([read]);
          const found = this.#valueAndCreated<T>(read, expiration);
          if (found !== NEED_REGENERATION) call.settled?.();
          return found;
        },
        creator: async () => {
          let payload: T;
          try {
            payload = await this.#runCreator([key], [backendKey], creator, signal, timeoutMs);
          } catch (error) {
            const fallback = this.#staleOnError(key, stale, expiration, error);
            if (fallback === undefined) throw error;
            cached = false;
            call.settled?.();
            return [fallback.payload as T, fallback.metadata.ct] as const;
          }
          call.settled?.();
          const value = makeCachedValue(payload, this.#clock(), ttl, tags);
          if (expiration === null && this.regionInvalidator.wasSoftInvalidated()) throw new ConfigurationError(SOFT_NEEDS_EXPIRATION);
          if (shouldCacheFn === undefined || shouldCacheFn(payload)) await this.#store().write(backendKey, value);
          else cached = false;
          return [payload, value.metadata.ct] as const;
        },
        asyncCreator:
          this.#asyncRunner === undefined
            ? undefined
            : (held) => this.#regenerateInBackground(key, backendKey, creator, shouldCacheFn, ttl, tags, held),
        signal,
        onWait: () => this.#stats.lockWaits++,
        onStale: () => this.#stale(key),
      });
      return { payload, cached };
    } finally {
      this.#leave(generation);
    }
  }

  /**
   * The stale value to serve instead of a creator's error: after a creator timeout, any stale value;
   * after a throw, one that expired less than `staleIfErrorFor` seconds ago (bentocache's grace period).
   */
  #staleOnError(key: string, stale: CachedValue | undefined, expiration: number | null, error: unknown): CachedValue | undefined {
    if (!this.#servesStale(stale, expiration, error)) return undefined;
    this.#backendError('create', error);
    this.#stale(key);
    return stale;
  }

  #servesStale(stale: CachedValue | NoValue | undefined, expiration: number | null, error: unknown): stale is CachedValue {
    if (stale === undefined || isNoValue(stale)) return false;
    if (isDogpileCacheError(error, CreatorTimeoutError.code)) return true;
    if (this.#staleIfErrorFor === 0) return false;
    const expiredFor = expiration === null ? 0 : this.#clock() / 1000 - stale.metadata.ct - expiration;
    return expiredFor <= this.#staleIfErrorFor;
  }

  /**
   * `getOrCreate` for many keys: one backend read for all, the dogpile lock once per key (in sorted
   * order, so two callers never deadlock), one `creator(...keysToCreate)` call with the keys that need
   * a value (unique, sorted, unmangled), one write; results in the caller's order with duplicates kept.
   * Only the keys locked after some lock had to wait are read again (in one `getMulti`). The creator must return one
   * value per key it was given, in that order.
   * @throws {ValidationError} for more than {@link MAX_SPREAD_ARGUMENTS} distinct keys (split them into batches).
   * @throws {LockReleaseError} when releasing some locks failed (every lock is still released).
   */
  async getOrCreateMulti<T>(
    keys: readonly string[],
    creator: (...keys: string[]) => T[] | Promise<T[]>,
    options: GetOrCreateOptions<T> = {},
  ): Promise<T[]> {
    assertKeys(keys);
    if (typeof creator !== 'function')
      throw new ValidationError(`creator must be a function of the keys to create; got ${describe(creator)}.`);
    if (keys.length === 0) return [];
    const expiration = this.#createExpiration(options.expirationTime);
    const ttl = options.entryExpirationTime === undefined ? null : entryTtlOption(options.entryExpirationTime, 'entryExpirationTime');
    const tags = options.tags === undefined ? undefined : readTags(options.tags);
    const { shouldCacheFn, signal } = options;
    const timeoutMs = options.creatorTimeout === undefined ? this.#creatorTimeoutMs : creatorTimeoutMs(options.creatorTimeout);
    const uniqueKeys = [...new Set(keys)].sort();
    if (uniqueKeys.length > MAX_SPREAD_ARGUMENTS) {
      throw new ValidationError(
        `getOrCreateMulti takes at most ${MAX_SPREAD_ARGUMENTS} distinct keys per call (the creator receives them as arguments); ` +
          `got ${uniqueKeys.length}. Split the keys into batches.`,
      );
    }
    const backendKeyOf = new Map(uniqueKeys.map((key) => [key, this.#backendKey(key)]));
    const read = await this.#store().readMulti(uniqueKeys.map((key) => backendKeyOf.get(key) as string));
    await this.#refreshTags(read);
    const values = new Map<string, CachedValue | NoValue>(uniqueKeys.map((key, i) => [key, read[i] ?? NO_VALUE]));
    const held = new Map<string, CacheMutex>();
    const generation = this.#enter();
    let failed = true;
    try {
      // Keys that need the lock, with their value as the lock sees it (hits counted here, in key order).
      const toLock = new Map<string, ValueOrRegenerate<T>>();
      for (const key of uniqueKeys) {
        const initial = this.#valueAndCreated<T>(values.get(key) ?? NO_VALUE, expiration);
        // A ct of 0 or below is no value (dogpile's `_has_value`), as the lock below judges it.
        if (initial !== NEED_REGENERATION && initial[1] > 0 && isFresh(initial[1], expiration, this.#now)) {
          this.#hit(key);
          continue;
        }
        this.#miss(key);
        if (initial === NEED_REGENERATION && holdsLock(this, backendKeyOf.get(key) as string)) {
          throw new ReentrantCreateError(
            `getOrCreateMulti was called with "${key}" by the creator of that same key, which has no value yet: it would wait for itself forever.`,
          );
        }
        toLock.set(key, initial);
      }
      const reread = new Map<string, CachedValue | NoValue>();
      const fresh = await dogpileLockMulti<T>({
        keys: [...toLock.keys()],
        mutex: (key) => this.#mutex(backendKeyOf.get(key) as string),
        initial: (key) => toLock.get(key) ?? NEED_REGENERATION,
        // Someone created these while we waited (dogpile re-creates them anyway; we re-read, in one call).
        reread: async (rereadKeys) => {
          const read = await this.#store().readMulti(rereadKeys.map((key) => backendKeyOf.get(key) as string));
          await this.#refreshTags(read);
          return rereadKeys.map((key, i) => {
            const value = read[i] ?? NO_VALUE;
            reread.set(key, value);
            return this.#valueAndCreated<T>(value, expiration);
          });
        },
        held,
        expirationTime: expiration,
        now: this.#now,
        signal,
        onWait: () => this.#stats.lockWaits++,
        onStale: (key) => this.#stale(key),
      });
      for (const key of fresh.keys()) values.set(key, reread.get(key) ?? NO_VALUE);
      if (held.size > 0) {
        const keysToCreate = [...held.keys()].sort();
        const heldBackendKeys = keysToCreate.map((key) => backendKeyOf.get(key) as string);
        let created: T[];
        try {
          created = await this.#runCreator(keysToCreate, heldBackendKeys, () => creator(...keysToCreate), signal, timeoutMs);
        } catch (error) {
          // The stale values stand in only when every key to create has one the rule allows: a partial
          // answer would mix an error with values.
          const stale = keysToCreate.map((key) => {
            const value = values.get(key);
            return value !== undefined && this.#valueAndCreated(value, expiration) !== NEED_REGENERATION ? value : undefined;
          });
          if (!stale.every((value) => this.#servesStale(value, expiration, error))) throw error;
          this.#backendError('create', error);
          for (const key of keysToCreate) this.#stale(key);
          failed = false;
          return keys.map((key) => (values.get(key) as CachedValue<T>).payload);
        }
        if (!Array.isArray(created) || created.length !== keysToCreate.length) {
          throw new ValidationError(
            `getOrCreateMulti creator must return an array of ${keysToCreate.length} value(s), one per key it was given, in order; ` +
              `got ${Array.isArray(created) ? `${created.length} value(s)` : describe(created)}. Nothing was cached.`,
          );
        }
        if (expiration === null && this.regionInvalidator.wasSoftInvalidated()) throw new ConfigurationError(SOFT_NEEDS_EXPIRATION);
        const now = this.#clock();
        const toStore = new Map<string, CachedValue>();
        keysToCreate.forEach((key, i) => {
          const value = makeCachedValue(created[i] as T, now, ttl, tags);
          values.set(key, value);
          if (shouldCacheFn === undefined || shouldCacheFn(value.payload)) toStore.set(backendKeyOf.get(key) as string, value);
        });
        if (toStore.size > 0) await this.#store().writeMulti(toStore);
      }
      failed = false;
      return keys.map((key) => (values.get(key) as CachedValue<T>).payload);
    } finally {
      this.#leave(generation);
      // Every lock is released even when one release fails; failures are reported together, and never
      // hide the error that brought us here.
      try {
        await releaseAll([...held.values()].map((mutex) => mutex.release()));
      } catch (error) {
        // biome-ignore lint/correctness/noUnsafeFinally: a release failure surfaces only when the body succeeded; it never hides the body's error
        if (!failed) throw error;
        this.#backendError('unlock', error);
      }
    }
  }

  /**
   * The slow half of the corrupt-`ct` check: reads the clock, moves the horizon, and says whether `createdAt`
   * is at most a day ahead. NaN compares false everywhere, so it is never plausible; a very old `ct` (down
   * to -Infinity, which JSON's `-1e999` reads as in Python too) is plausible, an old value as any other.
   */
  #plausible(createdAt: number): boolean {
    this.#horizon = this.#clock() / 1000 + MAX_FUTURE_SECONDS;
    return createdAt <= this.#horizon;
  }

  /** Effective expiration for get-or-create: the call's or the region's; -1 means never. */
  #createExpiration(override: Duration | null | undefined): number | null {
    const expiration =
      override === undefined || override === null ? this.expirationTime : toSeconds(override, 'expirationTime', { allowMinusOne: true });
    return expiration === -1 ? null : expiration;
  }

  /** The value and its creation time as the lock sees them, or NEED_REGENERATION (dogpile's `_is_cache_miss`). */
  #valueAndCreated<T>(value: CachedValue | NoValue, expiration: number | null): ValueOrRegenerate<T> {
    if (isNoValue(value) || value.metadata.v !== VALUE_VERSION) return NEED_REGENERATION;
    let createdAt = value.metadata.ct;
    // A corrupt creation time (not a number, or far ahead of now) is a miss, never a value forever fresh.
    if (!(createdAt <= this.#horizon || this.#plausible(createdAt))) return NEED_REGENERATION;
    if (this.regionInvalidator.isHardInvalidated(createdAt)) return NEED_REGENERATION;
    const byTags = value.metadata.tags === undefined ? null : this.#tags.verdict(value.metadata);
    // A soft tag invalidation with no expiration time to be stale against is a plain miss.
    if (byTags === 'hard' || (byTags === 'soft' && expiration === null)) return NEED_REGENERATION;
    const ttl = value.metadata.ttl === undefined ? undefined : entryTtl(value.metadata);
    if (ttl !== undefined) {
      // The lock judges freshness by the call's expiration time: shift the creation time so that the
      // entry goes stale at its own TTL. With no expiration time the lock never calls a value stale, so
      // an entry past its TTL is a plain miss.
      if (expiration === null) {
        if (this.#clock() / 1000 - createdAt > ttl) return NEED_REGENERATION;
      } else createdAt += ttl - expiration;
    }
    if (this.regionInvalidator.isSoftInvalidated(value.metadata.ct)) {
      if (expiration === null) throw new ConfigurationError(SOFT_NEEDS_EXPIRATION);
      createdAt = this.#clock() / 1000 - expiration - 0.0001; // forces "expired": served stale while regenerating
    } else if (byTags === 'soft' && expiration !== null) createdAt = this.#clock() / 1000 - expiration - 0.0001;
    return [value.payload as T, createdAt];
  }

  /**
   * Runs a creator: counted, reported as a `create` event, aware that this context holds `backendKeys`
   * (so a re-entrant call fails instead of deadlocking), bounded by the caller's signal and the timeout.
   */
  async #runCreator<R>(
    keys: readonly string[],
    backendKeys: readonly string[],
    creator: () => R | Promise<R>,
    signal: AbortSignal | undefined,
    timeoutMs: number | null,
  ): Promise<R> {
    this.#stats.creates++;
    const started = performance.now();
    try {
      const running = runHoldingLocks(this, backendKeys, () => Promise.resolve().then(creator));
      const value = await raceAbort(timeoutMs === null ? running : withTimeout(running, timeoutMs, keys), signal);
      if (this.#events.wanted('create')) this.#events.emit('create', { region: this.name, keys, durationMs: performance.now() - started });
      return value;
    } catch (error) {
      if (this.#events.wanted('create'))
        this.#events.emit('create', { region: this.name, keys, durationMs: performance.now() - started, error });
      throw error;
    }
  }

  /**
   * Hands a held mutex to the background runner. A user runner that throws at once has not taken the
   * mutex: the error propagates and the lock is released (dogpile). One that rejects later has its
   * error reported and the mutex released for it, once (a release it already made is not repeated).
   */
  #regenerateInBackground<T>(
    key: string,
    backendKey: string,
    creator: () => T | Promise<T>,
    shouldCacheFn: ((value: T) => boolean) | undefined,
    ttl: number | null,
    tags: string[] | undefined,
    mutex: CacheMutex,
  ): void {
    const runner = this.#asyncRunner;
    const report = (error: unknown): void => this.#backendError('asyncCreationRunner', error);
    if (typeof runner === 'function') {
      const handle = releaseOnce(mutex);
      // The creator runs holding the key's lock (the runner's mutex), as under 'background': a request
      // of its own for the key, once gone, must be a ReentrantCreateError, not a wait for itself.
      const run = (): Promise<unknown> => runHoldingLocks(this, [backendKey], () => Promise.resolve().then(creator));
      const result = runner(this, key, run, handle);
      Promise.resolve(result).catch((error: unknown) => {
        report(error);
        return handle.release().catch(report);
      });
      return;
    }
    void (async () => {
      try {
        const payload = await this.#runCreator([key], [backendKey], creator, undefined, this.#creatorTimeoutMs);
        if (shouldCacheFn === undefined || shouldCacheFn(payload))
          await this.#store().write(backendKey, makeCachedValue(payload, this.#clock(), ttl, tags));
      } catch (error) {
        report(error);
      } finally {
        await mutex.release().catch(report);
      }
    })();
  }

  // ---------------------------------------------------------------- locks, invalidation, stats, events

  #mutex(backendKey: string): CacheMutex {
    const remote = this.backend.getMutex(backendKey);
    if (remote !== null && remote.neverBlocks === true) return remote;
    const local = this.#mutexes.get(backendKey);
    if (remote === null) return local;
    return new LayeredMutex(local, this.#onBackendError === 'miss' ? this.#lenientMutex(remote) : remote);
  }

  /**
   * Under `onBackendError: 'miss'`, a lock server that fails does not stop the creator: a failed
   * acquire runs it unlocked (counted in `unlockedCreates`, with an `error` event, operation "lock"),
   * and a failed release still returns the value (an `error` event, operation "unlock").
   */
  #lenientMutex(remote: CacheMutex): CacheMutex {
    return {
      acquire: async (wait?: boolean, signal?: AbortSignal) => {
        try {
          return await remote.acquire(wait, signal);
        } catch (error) {
          if (isProgrammingError(error)) throw error;
          // The caller gave up: nothing was granted (a mutex that rejects then, rather than resolving false
          // as the contract says, did not fail), so no lock error and no unlocked create for a caller who left.
          if (signal?.aborted === true) return false;
          this.#backendError('lock', error);
          this.#stats.unlockedCreates++;
          return true;
        }
      },
      release: async () => {
        try {
          await remote.release();
        } catch (error) {
          if (isProgrammingError(error)) throw error;
          this.#backendError('unlock', error);
        }
      },
      locked: () => remote.locked(),
    };
  }

  /** Counts a backend call (or a held lock) on the current backend, so replacing it waits for them. */
  #enter(): Generation | undefined {
    const generation = this.#generation;
    if (generation !== undefined) generation.inflight++;
    return generation;
  }

  #leave(generation: Generation | undefined): void {
    if (generation === undefined) return;
    generation.inflight--;
    if (generation.inflight === 0 && generation.retired) this.#closeRetired(generation);
  }

  /** True while a creator holds the lock for `key` (the key is mangled first, unlike in dogpile). */
  async keyIsLocked(key: string): Promise<boolean> {
    const backendKey = this.#backendKey(key);
    if (this.#mutexes.isLocked(backendKey)) return true;
    const remote = this.backend.getMutex(backendKey);
    return remote === null ? false : remote.locked();
  }

  /**
   * Invalidates every value created before now. Hard (default): reads miss and get-or-create
   * regenerates, every caller waiting. Soft: reads miss, and get-or-create treats values as expired,
   * serving them while one caller regenerates (needs an expiration time). Local to this region object.
   */
  invalidate(hard = true): void {
    if (typeof hard !== 'boolean') throw new ValidationError(`hard must be true or false; got ${describe(hard)}.`);
    this.regionInvalidator.invalidate(hard);
    if (this.#events.wanted('invalidate')) this.#events.emit('invalidate', { region: this.name, hard });
  }

  /**
   * Invalidates every value stored with one of `tags` (`set`/`getOrCreate` option `tags`) and created
   * before now, in every process sharing the backend. Hard (default): reads miss, get-or-create
   * regenerates. Soft: reads miss, get-or-create serves the old value while one caller regenerates
   * (without an expiration time, a soft tag invalidation is a plain miss). This region sees it at once;
   * other processes within their `tagCheckInterval` (default 1 s). The times are kept in the backend
   * under `dogpile-cache:tag:<tag>` keys, with no expiration of their own (a server TTL configured on
   * the backend applies to them too: past it, an invalidation is forgotten).
   * @throws {ValidationError} unless `tags` is a non-empty array of non-empty strings.
   */
  async invalidateTags(tags: readonly string[], hard = true): Promise<void> {
    const checked = readTags(tags);
    if (checked === undefined) throw new ValidationError('tags must name at least one tag, e.g. invalidateTags(["user:42"]); got [].');
    if (typeof hard !== 'boolean') throw new ValidationError(`hard must be true or false; got ${describe(hard)}.`);
    await this.#tags.invalidate(checked, hard);
  }

  /** A copy of the region's counters, with `waiting` read now. */
  stats(): RegionStats {
    return { ...this.#stats, waiting: this.#flightWaiters + this.#mutexes.waiting };
  }

  /** Listens to a region event (also published on `node:diagnostics_channel`); returns an unsubscribe function. */
  on<E extends RegionEventName>(event: E, listener: (event: RegionEventMap[E]) => void): () => void {
    if (typeof listener !== 'function') throw new ValidationError(`listener must be a function; got ${describe(listener)}.`);
    return this.#events.on(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<E extends RegionEventName>(event: E, listener: (event: RegionEventMap[E]) => void): void {
    this.#events.off(event, listener);
  }

  #hit(key: string): void {
    this.#stats.hits++;
    if (this.#events.wanted('hit')) this.#events.emit('hit', { region: this.name, key });
  }

  #miss(key: string): void {
    this.#stats.misses++;
    if (this.#events.wanted('miss')) this.#events.emit('miss', { region: this.name, key });
  }

  #stale(key: string): void {
    this.#stats.staleServed++;
    if (this.#events.wanted('stale')) this.#events.emit('stale', { region: this.name, key });
  }

  #backendError(operation: string, error: unknown): void {
    this.#stats.errors++;
    if (this.#events.wanted('error')) this.#events.emit('error', { region: this.name, operation, error });
  }

  // ---------------------------------------------------------------- memoization

  /**
   * Memoizes a function (or, as `@region.cacheOnArguments()`, a class method) on its arguments:
   * the key is `"<namespace or function name>|<args joined by a space>"`. The result carries
   * `.set(value, ...args)`, `.get(...args)`, `.invalidate(...args)`, `.refresh(...args)`, `.original`.
   */
  cacheOnArguments(options: CacheOnArgumentsOptions = {}): ReturnType<typeof cacheOnArguments> {
    return cacheOnArguments(this, options);
  }

  /**
   * Memoizes a function whose arguments are each one key (`fn(...ids)` returning one value per id),
   * creating only the missing ones in one call. `asDict: true` for functions returning an object keyed
   * by argument.
   */
  cacheMultiOnArguments(options: CacheMultiOnArgumentsOptions = {}): ReturnType<typeof cacheMultiOnArguments> {
    return cacheMultiOnArguments(this, options);
  }

  // ---------------------------------------------------------------- backend access

  #backendKey(key: string, internal = false): string {
    assertKey(key);
    if (!internal && key.charCodeAt(0) === TAG_KEY_FIRST_CODE && key.startsWith(TAG_KEY_PREFIX)) {
      throw new ValidationError(
        `key must not start with "${TAG_KEY_PREFIX}": the region keeps tag invalidation times under that prefix; got ${describe(key)}.`,
      );
    }
    if (this.keyMangler === null) return key;
    const mangled = this.keyMangler(key);
    // The key passed assertKey above: a mangler that returns it unchanged (every plain key, for the
    // memcached backend's) needs no second check; any other result is checked.
    if (mangled !== key) assertKey(mangled, 'the key mangler result');
    return mangled;
  }

  /**
   * Runs a backend call under the region's error policy. Programming errors (bad input, a missing
   * driver, no backend configured) always throw; so does a SerializationError of a write (an
   * unserializable value). A SerializationError of a read is corrupt data: a miss, whatever the policy.
   */
  async #guard<R>(operation: string, call: () => Promise<R>, onMiss: R, reading = false): Promise<R> {
    const generation = this.#enter();
    try {
      return await call();
    } catch (error) {
      return this.#failed(operation, error, onMiss, reading);
    } finally {
      this.#leave(generation);
    }
  }

  /**
   * The error policy for a backend call that threw `error`, promise or synchronous (the storage's
   * synchronous reads and writes come here directly): returns `onMiss` or throws, as {@link #guard} says.
   */
  #failed<R>(operation: string, error: unknown, onMiss: R, reading = false): R {
    if (reading && isDogpileCacheError(error, SerializationError.code)) {
      this.#backendError('deserialize', error);
      return onMiss;
    }
    if (isProgrammingError(error) || isDogpileCacheError(error, SerializationError.code)) throw error;
    this.#backendError(operation, error);
    if (this.#onBackendError === 'miss') return onMiss;
    throw error;
  }
}

/** `creatorTimeout` in milliseconds, validated; null when unset. */
function creatorTimeoutMs(value: Duration | undefined): number | null {
  if (value === undefined) return null;
  return toSeconds(value, 'creatorTimeout', { min: 0.001, max: MAX_TIMER_SECONDS }) * 1000;
}

/** Rejects with a {@link CreatorTimeoutError} when `running` has not settled within `ms`. */
function withTimeout<R>(running: Promise<R>, ms: number, keys: readonly string[]): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new CreatorTimeoutError(
          `The creator of ${keys.map((key) => `"${key}"`).join(', ')} did not finish within creatorTimeout (${ms / 1000} s); its lock was released and its late result will not be cached.`,
        ),
      );
    }, ms);
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A mutex whose release takes effect once: a runner that released and then failed is not released twice. */
function releaseOnce(mutex: CacheMutex): CacheMutex {
  let released = false;
  return {
    acquire: (wait?: boolean, signal?: AbortSignal) => mutex.acquire(wait, signal),
    release: async () => {
      if (released) return;
      released = true;
      await mutex.release();
    },
    locked: () => mutex.locked(),
  };
}

function notConfigured(): never {
  throw new RegionNotConfiguredError('No backend is configured on this region; call region.configure(...) first.');
}

/** An entry TTL option (`set`'s `expirationTime`, `entryExpirationTime`) in seconds; null when unset. */
function entryTtlOption(value: Duration | null | undefined, name: string): number | null {
  if (value === undefined || value === null) return null;
  const seconds = toSeconds(value, name, { min: 0.001 });
  warnIfLooksLikeMilliseconds(value, name);
  return seconds;
}

/**
 * Creates a {@link CacheRegion} (dogpile's `make_region`).
 *
 * @example
 * ```ts
 * import { makeRegion } from 'dogpile-cache';
 * const region = makeRegion({ name: 'users' }).configure('dogpile.cache.memory', { expirationTime: '10m' });
 * const user = await region.getOrCreate('user:1', () => db.loadUser(1)); // cached for ten minutes
 * ```
 */
export function makeRegion(options?: CacheRegionOptions): CacheRegion {
  return new CacheRegion(options);
}

function argumentsUnder(config: Readonly<Record<string, unknown>>, prefix: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) if (name.startsWith(prefix)) args[name.slice(prefix.length)] = value;
  return args;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError(`${name} must be a string; got ${describe(value)}.`);
  return value;
}

function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ValidationError(`${name} must be a function; got ${describe(value)}.`);
  return value;
}
