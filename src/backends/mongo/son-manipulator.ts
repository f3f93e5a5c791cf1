/**
 * The `son_manipulator` argument's check, apart from the document encoding in transform.ts: the registry
 * checks Mongo arguments when a region is configured, so this check is part of the root entry point,
 * while the encoding (and its BSON checks, storable.ts) loads with the backend.
 *
 * @module
 */
import { ConfigurationError } from '../../errors.js';
import { describe } from '../../validate.js';
import type { MongoDocumentTransform, MongoDocumentTransformClass } from './transform.js';

/** oslo's default manipulator, accepted by name as "the default transform". */
const OSLO_BASE_TRANSFORM = 'oslo_cache.backends.mongo.BaseTransform';

/**
 * Checks a `son_manipulator` argument: a {@link MongoDocumentTransform} object, a class building one,
 * or nothing / oslo's `"oslo_cache.backends.mongo.BaseTransform"` (the default: payload and metadata
 * stored as `value` and `meta` unchanged). Other class paths are a {@link ConfigurationError}.
 */
export function resolveTransform(value: unknown): MongoDocumentTransform | null {
  // oslo's own default, named in a config file, is our default.
  if (value === undefined || value === null || value === '' || value === OSLO_BASE_TRANSFORM) return null;
  let candidate: unknown = value;
  if (typeof value === 'function') {
    try {
      candidate = new (value as MongoDocumentTransformClass)();
    } catch (error) {
      throw new ConfigurationError('MongoBackend argument son_manipulator: constructing the transform class failed.', { cause: error });
    }
  }
  const t = candidate as Partial<MongoDocumentTransform> | null;
  if (typeof t !== 'object' || t === null || typeof t.transformIncoming !== 'function' || typeof t.transformOutgoing !== 'function') {
    throw new ConfigurationError(
      'MongoBackend argument son_manipulator must be an object (or a class) with transformIncoming(doc) and ' +
        `transformOutgoing(doc) methods; got ${describe(value)}. oslo's dotted class paths are not supported: import the class and pass it.`,
    );
  }
  return t as MongoDocumentTransform;
}
