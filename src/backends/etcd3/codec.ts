/**
 * The value format of oslo.cache's etcd3gw backend: the `CachedValue` tuple as a JSON array
 * `[payload, {"ct": 1795531495.2178211, "v": 2}]`, written the way oslo's `jsonutils.dumps` writes it
 * (Python `json.dumps` defaults), so an oslo region and ours read each other's entries.
 *
 * @module
 */
import { NO_VALUE, type BackendResult, type CachedValue } from '../../api.js';
import { SerializationError } from '../../errors.js';
import { metadataJson, pythonJsonDumps } from '../../serializers.js';

/**
 * Encodes a value as oslo's etcd3gw backend stores it. The metadata goes through
 * {@link metadataJson} because `ct` is a Python float: `1700000000.0` must stay `1700000000.0`,
 * which a plain JSON writer would shorten to `1700000000`.
 * Throws {@link SerializationError} for payloads JSON cannot hold (see {@link pythonJsonDumps}).
 */
export function encodeOsloValue(value: CachedValue): Buffer {
  // pythonJsonDumps escapes everything outside ASCII, so the text is ASCII and latin1 = utf8 here.
  return Buffer.from(`[${pythonJsonDumps(value.payload)}, ${metadataJson(value.metadata)}]`, 'latin1');
}

/**
 * Decodes bytes written by {@link encodeOsloValue} or by oslo's etcd3gw backend.
 * `undefined` (no such key) is {@link NO_VALUE}. Throws {@link SerializationError} for bytes that
 * are not a JSON array `[payload, {"ct": number, ...}]` (a key written by something else).
 */
export function decodeOsloValue(bytes: Buffer | undefined, key: string): BackendResult {
  if (bytes === undefined) return NO_VALUE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SerializationError(`etcd key "${key}" does not hold JSON; it was not written by a dogpile-cache or oslo.cache region.`, {
      cause: error,
    });
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const metadata: unknown = parsed[1];
    if (typeof metadata === 'object' && metadata !== null && typeof (metadata as { ct?: unknown }).ct === 'number') {
      return { payload: parsed[0], metadata: metadata as CachedValue['metadata'] };
    }
  }
  throw new SerializationError(
    `etcd key "${key}" does not hold an oslo.cache value [payload, {"ct": ..., "v": 2}]; it was written by something else.`,
  );
}
