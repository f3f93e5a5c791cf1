/**
 * The stored document shape and the value-transform hook that replaces oslo's `son_manipulator`.
 *
 * oslo's `BaseTransform` (a PyMongo 2 SONManipulator) turned a `CachedValue` into the fields `value`
 * and `meta` on the way in and back into a `CachedValue` on the way out. PyMongo 3 and 4 removed
 * manipulators, which is one of the reasons oslo dropped its Mongo backend. Here the same job is a
 * plain hook called by the backend itself on every document it writes and reads.
 *
 * @module
 */
import type { BackendResult, CachedValue, CachedValueMetadata } from '../../api.js';
import { SerializationError } from '../../errors.js';
import { describe } from '../../validate.js';
import { assertStorable } from './storable.js';

// The argument's check lives in son-manipulator.ts, so that the root entry point (which checks arguments at
// configure()) does not load this module; re-exported for the callers that import it from here.
export { resolveTransform } from './son-manipulator.js';

/**
 * One cache entry as stored: `{ _id: key, value: payload, meta: metadata, doc_date: expiry }`.
 * `value` is absent when the payload is `undefined` (BSON has no `undefined`; an absent field reads
 * back as `undefined`). `doc_date` is the instant the entry expires (9999-12-31 when it never does).
 */
export interface MongoCacheDocument {
  _id: string;
  value?: unknown;
  meta: CachedValueMetadata;
  doc_date: Date;
  [field: string]: unknown;
}

/**
 * A value-transform hook (oslo's `son_manipulator`): converts documents on their way to and from
 * MongoDB, e.g. to store class instances, `Map`s or `Set`s that BSON cannot represent.
 * `transformIncoming` receives the document about to be written and returns the document to write
 * (it must keep `_id` and `doc_date`, and must not mutate the payload it was given: that object is the
 * caller's). `transformOutgoing` receives a stored document and returns one in the
 * {@link MongoCacheDocument} shape. A throw from either is a {@link SerializationError}.
 */
export interface MongoDocumentTransform {
  transformIncoming(doc: MongoCacheDocument): Record<string, unknown>;
  transformOutgoing(doc: Record<string, unknown>): MongoCacheDocument;
}

/** The class form of a transform: instantiated once, with no arguments. */
export type MongoDocumentTransformClass = new () => MongoDocumentTransform;

/**
 * Builds the document to write for `key`, runs the transform and checks that BSON stores every value
 * faithfully. Throws a {@link SerializationError} otherwise; nothing is written.
 */
export function encodeEntry(
  key: string,
  value: CachedValue,
  docDate: Date,
  transform: MongoDocumentTransform | null,
): Record<string, unknown> {
  const doc: MongoCacheDocument =
    value.payload === undefined
      ? { _id: key, meta: value.metadata, doc_date: docDate }
      : { _id: key, value: value.payload, meta: value.metadata, doc_date: docDate };
  let out: Record<string, unknown> = doc;
  if (transform !== null) {
    try {
      out = transform.transformIncoming(doc);
    } catch (error) {
      throw new SerializationError(`MongoBackend: son_manipulator.transformIncoming failed for key "${key}".`, { cause: error });
    }
    if (typeof out !== 'object' || out === null || out._id !== key) {
      throw new SerializationError(`MongoBackend: son_manipulator.transformIncoming must return a document whose _id is the key "${key}".`);
    }
  }
  assertStorable(out, key);
  return out;
}

/** How far in the future a creation time may be before the entry is taken for corrupt: a day covers any clock skew. */
export const MAX_CT_SKEW_SECONDS = 86400;

/** Why `meta` is not `{ ct, v }` metadata written by this library at or before `nowMs`, or null when it is. */
function metadataProblem(meta: unknown, nowMs: number): string | null {
  if (typeof meta !== 'object' || meta === null) return 'no {ct, v} metadata';
  const { ct, v } = meta as { ct?: unknown; v?: unknown };
  if (typeof ct !== 'number' || !Number.isFinite(ct)) return `a creation time ct that is not a finite number (${describe(ct)})`;
  if (ct > nowMs / 1000 + MAX_CT_SKEW_SECONDS) return `a creation time ct in the future (${new Date(ct * 1000).toISOString()})`;
  if (typeof v !== 'number') return `a version v that is not a number (${describe(v)})`;
  return null;
}

/**
 * Turns a stored document back into a {@link CachedValue}. A document that is not a usable entry (no
 * `{ct, v}` metadata, a non-finite `ct` or one more than a day ahead of `nowMs`, a failing transform)
 * is a {@link SerializationError}: `get` raises it (the region reads it as a miss and regenerates,
 * overwriting the document) and `getMulti` returns `NO_VALUE` for that key alone.
 */
export function decodeEntry(doc: Record<string, unknown>, transform: MongoDocumentTransform | null, nowMs: number): BackendResult {
  let entry: Record<string, unknown> = doc;
  if (transform !== null) {
    try {
      entry = transform.transformOutgoing(doc);
    } catch (error) {
      throw new SerializationError(`MongoBackend: son_manipulator.transformOutgoing failed for key "${String(doc._id)}".`, {
        cause: error,
      });
    }
  }
  const problem = typeof entry !== 'object' || entry === null ? 'no document from transformOutgoing' : metadataProblem(entry.meta, nowMs);
  if (problem !== null) {
    throw new SerializationError(
      `MongoBackend: the stored document for key "${String(doc._id)}" is not a cache entry (${problem}); delete it or let the region overwrite it.`,
    );
  }
  return { payload: entry.value, metadata: entry.meta as CachedValueMetadata };
}
