/**
 * The value format of an etcd entry. Two layouts, told apart by their first byte:
 *
 * - `[` — oslo.cache's etcd3gw format: the `CachedValue` tuple as a JSON array
 *   `[payload, {"ct": 1795531495.2178211, "v": 2}]`, written the way oslo's `jsonutils.dumps` writes
 *   it (Python `json.dumps` defaults), so an oslo region and ours read each other's entries.
 * - `{` — dogpile's byte format `{"ct": …, "v": 2}|<payload bytes>`, for a payload that is a Buffer:
 *   what a region with a serializer (`'json'`, `'v8'`) hands this backend. JSON cannot hold bytes
 *   (a Buffer would be written as `{"type":"Buffer","data":[…]}` and read back as an object), and
 *   these are the bytes a Python dogpile region with the same serializer stores.
 *
 * Anything else, or either layout with bad metadata, is a corrupt entry: {@link SerializationError}.
 *
 * @module
 */
import { NO_VALUE, type BackendResult, type CachedValue } from '../../api.js';
import { SerializationError } from '../../errors.js';
import { metadataJson, pythonJsonDumps } from '../../serializers.js';

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const PIPE = 0x7c;

/**
 * How far in the future a creation time may be before the entry counts as corrupt, seconds. Clocks of
 * the hosts sharing a cache differ by seconds; a `ct` days ahead would keep the entry fresh for days
 * past its expiration time (and `1e999` parses as Infinity: fresh forever).
 */
export const MAX_CT_AHEAD_SECONDS = 86_400;

/**
 * Encodes a value for etcd: oslo's JSON array for JSON payloads, dogpile's `metadata|bytes` for a
 * Buffer payload (see the module comment). The metadata goes through {@link metadataJson} because
 * `ct` is a Python float: `1700000000.0` must stay `1700000000.0`, which a plain JSON writer would
 * shorten to `1700000000`.
 * Throws {@link SerializationError} for payloads JSON cannot hold (see {@link pythonJsonDumps}).
 *
 * @example
 * ```ts
 * import { makeCachedValue } from 'dogpile-cache/backend';
 * import { encodeOsloValue } from 'dogpile-cache/backends/etcd3';
 * encodeOsloValue(makeCachedValue({ id: 1 }, Date.UTC(2026, 0, 1))).toString();
 * // '[{"id": 1}, {"ct": 1767225600.0, "v": 2}]', what oslo's etcd3gw backend writes
 * ```
 */
export function encodeOsloValue(value: CachedValue): Buffer {
  if (Buffer.isBuffer(value.payload)) return Buffer.concat([Buffer.from(`${metadataJson(value.metadata)}|`, 'latin1'), value.payload]);
  // pythonJsonDumps escapes everything outside ASCII, so the text is ASCII and latin1 = utf8 here.
  return Buffer.from(`[${pythonJsonDumps(value.payload)}, ${metadataJson(value.metadata)}]`, 'latin1');
}

/**
 * Decodes bytes written by {@link encodeOsloValue} or by oslo's etcd3gw backend. `undefined` (no such
 * key) is {@link NO_VALUE}. Throws {@link SerializationError} for a corrupt entry: bytes in neither
 * layout (junk, truncated JSON, a missing `|`), or metadata that is not `{"ct": <finite number>, …}`
 * with `ct` at most `MAX_CT_AHEAD_SECONDS` ahead of `nowMs`.
 *
 * @param key the cache key, for the message
 * @param nowMs the current time, epoch ms (default `Date.now()`)
 *
 * @example
 * ```ts
 * import { decodeOsloValue } from 'dogpile-cache/backends/etcd3';
 * decodeOsloValue(Buffer.from('[{"id": 1}, {"ct": 1767225600.0, "v": 2}]'), 'user:1');
 * // { payload: { id: 1 }, metadata: { ct: 1767225600, v: 2 } }
 * decodeOsloValue(undefined, 'user:2'); // NO_VALUE
 * ```
 */
export function decodeOsloValue(bytes: Buffer | undefined, key: string, nowMs: number = Date.now()): BackendResult {
  if (bytes === undefined) return NO_VALUE;
  if (bytes[0] === OPEN_BRACKET) return decodeJsonArray(bytes, key, nowMs);
  if (bytes[0] === OPEN_BRACE) return decodeDogpileBytes(bytes, key, nowMs);
  throw corrupt(key, 'it is neither an oslo.cache value [payload, {"ct": ..., "v": 2}] nor dogpile bytes {"ct": ...}|payload');
}

function decodeJsonArray(bytes: Buffer, key: string, nowMs: number): CachedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw corrupt(key, 'it is not valid JSON (truncated or overwritten?)', error);
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw corrupt(key, 'it is not a JSON array [payload, metadata]');
  return { payload: parsed[0], metadata: checkMetadata(parsed[1], key, nowMs) };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeDogpileBytes(bytes: Buffer, key: string, nowMs: number): CachedValue {
  const bar = bytes.indexOf(PIPE);
  if (bar < 0) throw corrupt(key, 'dogpile bytes lack the "|" between metadata and payload');
  let metadata: unknown;
  try {
    // UTF-8, refusing bytes that are not, as Python's json.loads reads them.
    metadata = JSON.parse(STRICT_UTF8.decode(bytes.subarray(0, bar)));
  } catch (error) {
    throw corrupt(key, 'its metadata is not valid UTF-8 JSON', error);
  }
  // A copy: the payload must not pin the gRPC response buffer it was cut from.
  return { payload: Buffer.from(bytes.subarray(bar + 1)), metadata: checkMetadata(metadata, key, nowMs) };
}

function checkMetadata(metadata: unknown, key: string, nowMs: number): CachedValue['metadata'] {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw corrupt(key, 'its metadata is not a JSON object');
  const { ct, v } = metadata as { ct?: unknown; v?: unknown };
  if (typeof ct !== 'number' || !Number.isFinite(ct) || ct < 0) throw corrupt(key, 'its metadata has no finite, non-negative "ct"');
  if (ct > nowMs / 1000 + MAX_CT_AHEAD_SECONDS) throw corrupt(key, `its creation time ${ct} is more than a day in the future`);
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw corrupt(key, 'its metadata "v" is not a number');
  return metadata as CachedValue['metadata'];
}

function corrupt(key: string, why: string, cause?: unknown): SerializationError {
  return new SerializationError(
    `etcd key "${key}" holds a corrupt or foreign entry: ${why}. Delete the key; a region regenerates the value.`,
    cause === undefined ? undefined : { cause },
  );
}
