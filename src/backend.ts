/**
 * `dogpile-cache/backend`: what a backend author needs beyond the application API. The contract
 * (CacheBackend, BytesBackend, CachedValue), argument reading as dogpile and oslo spell it
 * (ArgumentReader, coerceStringConf), dogpile's byte format (buildSerialized, parseSerialized,
 * metadataJson, pythonJsonDumps), durations, and the dogpile lock itself. Prove a backend with
 * `runBackendConformance` from `dogpile-cache/testing`.
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
export { toSeconds, toOptionalSeconds, looksLikeMilliseconds, type Duration, type ToSecondsOptions } from './duration.js';
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
  MAX_JSON_DEPTH,
  type Serializer,
} from './serializers.js';
export { ArgumentReader, UNKNOWN_ARGUMENT_WARNING } from './arguments.js';
export { coerceStringConf, isTruthyConf } from './config.js';
export {
  dogpileLock,
  neverBlocks,
  NEED_REGENERATION,
  type DogpileLockOptions,
  type ValueAndCreated,
  type ValueOrRegenerate,
  type NonBlockingMutex,
} from './lock.js';
export { registerBackend, registeredBackends, type BackendLoader } from './registry.js';
export { MAX_SPREAD_ARGUMENTS } from './validate.js';
