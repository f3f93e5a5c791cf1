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
export { toSeconds, toOptionalSeconds, type Duration, type ToSecondsOptions } from './duration.js';
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
export { ArgumentReader } from './arguments.js';
export { DictionaryBackend, type DictionaryBackendArguments } from './backends/dictionary.js';
export { NullBackend } from './backends/null.js';
