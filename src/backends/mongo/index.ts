/**
 * `dogpile-cache/backends/mongo`: the MongoDB backend (oslo.cache's `oslo_cache.mongo`). Importing this
 * module does not load the `mongodb` driver; the first operation does, and a missing driver is a
 * `MissingDependencyError` naming the package. See docs/backends/mongo.md.
 *
 * @module
 */
export { MongoBackend, MONGO_WARNING_CHANNEL } from './backend.js';
export type { MongoBackendArguments } from './options.js';
export type { MongoCacheDocument, MongoDocumentTransform, MongoDocumentTransformClass } from './transform.js';
export { NEVER_EXPIRES, type MongoBackendWarning } from './expiry.js';
export type { MongoMutex, LockDocument } from './lock.js';
