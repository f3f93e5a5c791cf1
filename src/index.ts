/**
 * dogpile-cache: dogpile.cache for Node.js. The root is the application API: regions, the
 * in-process backends, key and serializer choices, proxies, invalidation, events and the errors.
 * It loads no driver and no remote backend module: those load on first use (a region configured by
 * name) or from their own subpaths (`dogpile-cache/backends/memcached`, …). What backend authors
 * need is in `dogpile-cache/backend`, the oslo.cache layer in `dogpile-cache/oslo`, the local tier
 * and shared invalidation in `dogpile-cache/tier`.
 *
 * @module
 */
export {
  NO_VALUE,
  isNoValue,
  CacheBackend,
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
export { ms, seconds, toMilliseconds, MAX_TIMER_SECONDS, MILLISECONDS_WARNING_CODE, type Duration } from './duration.js';
export { systemClock, manualClock, type Clock, type ManualClock, type ManualClockOptions } from './clock.js';
export {
  sha1MangleKey,
  lengthConditionalMangler,
  memcachedSafeMangler,
  MEMCACHED_MAX_KEY_BYTES,
  functionKeyGenerator,
  functionMultiKeyGenerator,
  uniqueFunctionKeyGenerator,
  uniqueFunctionMultiKeyGenerator,
  defaultToStr,
  type KeyMangler,
  type ToStr,
  type FunctionKeyGenerator,
  type FunctionMultiKeyGenerator,
} from './keys.js';
export { jsonSerializer, v8Serializer, serializers, type Serializer } from './serializers.js';
export { compressingSerializer, type CompressionOptions, type CompressionAlgorithm } from './compression.js';
export { UNKNOWN_ARGUMENT_WARNING } from './arguments.js';
export type {
  ArgumentsFor,
  BackendArgumentsMap,
  BackendArgumentsOf,
  CommonBackendArguments,
  PymemcacheArguments,
} from './backend-arguments.js';
export { DictionaryBackend, MemoryBackend, MemoryPickleBackend, type DictionaryBackendArguments } from './backends/dictionary.js';
export { NullBackend } from './backends/null.js';
export {
  CacheRegion,
  makeRegion,
  type CacheRegionOptions,
  type ConfigureOptions,
  type GetOptions,
  type GetOrCreateOptions,
  type SetOptions,
  type RegionStats,
  type AsyncCreationRunner,
  type BackendErrorPolicy,
  type FunctionKeyGeneratorFactory,
  type FunctionMultiKeyGeneratorFactory,
} from './region.js';
export type {
  CacheOnArgumentsOptions,
  CacheMultiOnArgumentsOptions,
  CachedFunction,
  CachedMultiFunction,
  ExpirationOption,
  Memoizer,
  MultiMemoizer,
} from './memoize.js';
export { TAG_KEY_PREFIX } from './tags.js';
export { ProxyBackend, type ProxyClass } from './proxy.js';
export { DefaultInvalidationStrategy, type RegionInvalidationStrategy } from './invalidation.js';
export { registerBackend, registeredBackends, type BackendLoader } from './registry.js';
export { CHANNEL_NAMES, type RegionEventMap, type RegionEventName } from './events.js';
export { MAX_SPREAD_ARGUMENTS } from './validate.js';
