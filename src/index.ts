/**
 * dogpile-cache: dogpile.cache and oslo.cache for Node.js. This entry point loads no driver; the
 * memcached, MongoDB and etcd3 backends live in their own subpath exports.
 *
 * @module
 */
export {
  NO_VALUE,
  isNoValue,
  isCachedValue,
  makeCachedValue,
  entryTtl,
  VALUE_VERSION,
  CacheBackend,
  BytesBackend,
  type NoValue,
  type CachedValue,
  type CachedValueMetadata,
  type BackendResult,
  type BackendArguments,
  type BackendClass,
  type CacheMutex,
  type Mapping,
} from './api.js';
export * from './errors.js';
export { toSeconds, toOptionalSeconds, MAX_TIMER_SECONDS, ms, seconds, toMilliseconds, looksLikeMilliseconds, MILLISECONDS_WARNING_CODE, type Duration, type ToSecondsOptions } from './duration.js';
export { systemClock, manualClock, type Clock, type ManualClock } from './clock.js';
export {
  sha1MangleKey,
  lengthConditionalMangler,
  memcachedSafeMangler,
  MEMCACHED_MAX_KEY_BYTES,
  functionKeyGenerator,
  functionMultiKeyGenerator,
  defaultToStr,
  type KeyMangler,
  type ToStr,
  type FunctionKeyGenerator,
  type FunctionMultiKeyGenerator,
} from './keys.js';
export {
  jsonSerializer,
  v8Serializer,
  serializers,
  resolveSerializer,
  pythonJsonDumps,
  pythonFloatRepr,
  buildSerialized,
  parseSerialized,
  metadataJson,
  type Serializer,
} from './serializers.js';
export { ArgumentReader, UNKNOWN_ARGUMENT_WARNING } from './arguments.js';
export type { ArgumentsFor, BackendArgumentsMap, BackendArgumentsOf, CommonBackendArguments, PymemcacheArguments } from './backend-arguments.js';
export { DictionaryBackend, type DictionaryBackendArguments } from './backends/dictionary.js';
export { NullBackend } from './backends/null.js';
export { MemoryBackend } from './backends/dictionary.js';
export { TAG_KEY_PREFIX } from './tags.js';
export { compressingSerializer, type CompressionOptions, type CompressionAlgorithm } from './compression.js';
export { CacheRegion, makeRegion, type CacheRegionOptions, type ConfigureOptions, type GetOptions, type GetOrCreateOptions, type SetOptions, type RegionStats, type AsyncCreationRunner, type BackendErrorPolicy, type FunctionKeyGeneratorFactory, type FunctionMultiKeyGeneratorFactory } from './region.js';
export { type CacheOnArgumentsOptions, type CacheMultiOnArgumentsOptions, type CachedFunction, type CachedMultiFunction, type ExpirationOption, type Memoizer, type MultiMemoizer } from './memoize.js';
export { ProxyBackend, type ProxyClass } from './proxy.js';
export { DefaultInvalidationStrategy, type RegionInvalidationStrategy } from './invalidation.js';
export { registerBackend, registeredBackends, type BackendLoader } from './registry.js';
export { CHANNEL_NAMES, type RegionEventMap, type RegionEventName } from './events.js';
export { coerceStringConf } from './config.js';
export { dogpileLock, NEED_REGENERATION, type DogpileLockOptions, type ValueAndCreated } from './lock.js';
export {
  createRegion,
  configureCacheRegion,
  getMemoizationDecorator,
  loadOsloConfig,
  buildCacheConfig,
  registerProxy,
  DebugProxy,
  CacheIsolatingProxy,
  OSLO_CACHE_OPTIONS,
  type OsloConf,
  type OsloMemoizer,
} from './oslo/index.js';
export { neverBlocks, type NonBlockingMutex } from './lock.js';
export { isTruthyConf } from './config.js';
export { MemoryPickleBackend } from './backends/dictionary.js';
export { uniqueFunctionKeyGenerator, uniqueFunctionMultiKeyGenerator } from './keys.js';
export { MAX_JSON_DEPTH } from './serializers.js';
export { MAX_SPREAD_ARGUMENTS } from './validate.js';
export { LocalTier, SharedInvalidationStrategy, RedisNotifications, Etcd3Notifications, type LocalTierOptions, type LocalTierStats, type SharedInvalidationOptions, type NotificationTransport, type NotificationListener, type NotificationSubscription } from './tier/index.js';
