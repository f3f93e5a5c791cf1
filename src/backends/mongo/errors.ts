/**
 * Driver errors → library errors, only where we add meaning: the server is down or timed out
 * ({@link BackendUnavailableError}), a value cannot be stored ({@link SerializationError},
 * {@link ValueTooLargeError}), the pool had no connection in time ({@link QueueEmptyError}). Any other
 * driver error (authorization, a misconfigured server…) is passed through unchanged, never swallowed.
 *
 * Classes are recognised by name along the prototype chain, so this works with every supported
 * driver major without importing it.
 *
 * @module
 */
import { BackendUnavailableError, isDogpileCacheError, QueueEmptyError, SerializationError, ValueTooLargeError } from '../../errors.js';

const UNAVAILABLE_CLASSES = new Set([
  'MongoNetworkError', // includes MongoNetworkTimeoutError and MongoPoolClearedError
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoClientClosedError',
  'MongoServerClosedError',
  'MongoOperationTimeoutError',
  'MongoWriteConcernError', // wtimeout expired: the write was not confirmed in time
  'PoolClosedError',
  'PoolClearedError',
]);

/** Server codes meaning "not now": shutting down, stepped down, not primary, time limit exceeded. */
const UNAVAILABLE_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
/** BadValue (FerretDB: `$`/`.` keys, infinities), DollarPrefixedFieldName, EmptyFieldName, DottedFieldName, InvalidBSON. */
const SERIALIZATION_CODES = new Set([2, 22, 52, 56, 57]);
/** BSONObjectTooLarge and friends. */
const TOO_LARGE_CODES = new Set([10334, 17419, 17420, 13133]);

function classNames(error: object): Set<string> {
  const names = new Set<string>();
  for (
    let proto: unknown = Object.getPrototypeOf(error);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string') names.add(name);
  }
  return names;
}

interface WriteError {
  index?: number;
  code?: number;
  errmsg?: string;
}

function writeErrorsOf(error: object): WriteError[] {
  const list = (error as { writeErrors?: unknown }).writeErrors;
  if (Array.isArray(list)) return list as WriteError[];
  return list !== undefined && list !== null && typeof list === 'object' ? [list as WriteError] : [];
}

function isTooLarge(error: object, code: unknown): boolean {
  if (typeof code === 'number' && TOO_LARGE_CODES.has(code)) return true;
  const message = String((error as { message?: unknown }).message ?? '');
  // The driver's serializer overflows its buffer with a RangeError past ~16 MB; BSON and the server say "too large".
  return (
    (error instanceof RangeError && (error as { code?: unknown }).code === 'ERR_OUT_OF_RANGE') ||
    /too large|larger than the maximum/i.test(message)
  );
}

/**
 * Maps a driver error thrown while working on `keys` (used to name the entries of a failed bulk
 * write) to the library error that says what happened, with the driver error as `cause`.
 */
export function mapDriverError(error: unknown, operation: string, keys: readonly string[] = []): unknown {
  if (typeof error !== 'object' || error === null || isDogpileCacheError(error)) return error;
  const names = classNames(error);
  const code = (error as { code?: unknown }).code;
  const labels = (error as { errorLabels?: unknown }).errorLabels;
  const message = String((error as { message?: unknown }).message ?? '');

  if (names.has('WaitQueueTimeoutError') || names.has('MongoWaitQueueTimeoutError')) {
    return new QueueEmptyError(`MongoBackend ${operation}: no pooled connection became free in time (waitQueueTimeoutMS).`, {
      cause: error,
    });
  }
  if (
    [...names].some((n) => UNAVAILABLE_CLASSES.has(n)) ||
    (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) ||
    (Array.isArray(labels) && (labels.includes('RetryableWriteError') || labels.includes('SystemOverloadedError')))
  ) {
    return new BackendUnavailableError(
      `MongoBackend ${operation}: the MongoDB server is unavailable or did not answer in time (${message}).`,
      { cause: error },
    );
  }
  // A bulk write that failed as a whole (no per-document errors) carries the real failure inside.
  const inner = (error as { errorResponse?: unknown }).errorResponse;
  if (inner instanceof Error && writeErrorsOf(error).length === 0) {
    const mapped = mapDriverError(inner, operation, keys);
    if (mapped !== inner) return mapped;
  }
  if (names.has('BSONError') || names.has('BSONVersionError') || isTooLarge(error, code)) {
    return isTooLarge(error, code)
      ? new ValueTooLargeError(`MongoBackend ${operation}: the document is larger than MongoDB's 16 MB limit (${message}).`, {
          cause: error,
        })
      : new SerializationError(`MongoBackend ${operation}: the value cannot be encoded as BSON (${message}).`, { cause: error });
  }
  const writeErrors = writeErrorsOf(error);
  // Duplicate keys come from a concurrent writer of the same key (its value is as fresh): not a value problem.
  const failed = (writeErrors.length > 0 ? writeErrors : [{ code: code as number }]).filter((w) => w.code !== 11000);
  const rejected = failed.filter((w) => typeof w.code === 'number' && (SERIALIZATION_CODES.has(w.code) || TOO_LARGE_CODES.has(w.code)));
  if (rejected.length > 0 && rejected.length === failed.length) {
    const named = writeErrors
      .map((w) => (typeof w.index === 'number' ? keys[w.index] : undefined))
      .filter((k): k is string => k !== undefined);
    const which = named.length > 0 ? ` for key(s) ${named.map((k) => `"${k}"`).join(', ')}` : '';
    const detail = writeErrors[0]?.errmsg ?? message;
    const tooLarge = rejected.every((w) => TOO_LARGE_CODES.has(w.code as number));
    const Ctor = tooLarge ? ValueTooLargeError : SerializationError;
    const others = keys.length > named.length && named.length > 0 ? '; the other entries of the batch may have been stored' : '';
    return new Ctor(`MongoBackend ${operation}: the server refused the value${which} (${detail})${others}.`, { cause: error });
  }
  return error;
}
