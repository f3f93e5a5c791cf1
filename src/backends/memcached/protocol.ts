/**
 * memcached binary protocol frames (the requests this backend sends) and the rules that turn a
 * time to live into memcached's `exptime`. Pure functions: no sockets, no driver.
 *
 * memjs writes only one-request-one-reply frames (no quiet opcodes, no CAS, flags fixed by its
 * serializer), so the multi-key operations and the lock's compare-and-delete build their frames
 * here and send them over memjs's socket (see connection.ts).
 *
 * Layout of every request: a 24-byte header (magic 0x80, opcode, key length, extras length, data
 * type, vbucket, total body length, opaque, CAS), then extras, key and value.
 * https://github.com/memcached/memcached/wiki/BinaryProtocolRevamped
 *
 * @module
 */

/** The opcodes this backend sends. */
export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  DELETE: 0x04,
  /** Atomic increment, creating the item with an initial value when it is absent (the namespace generation). */
  INCREMENT: 0x05,
  NOOP: 0x0a,
  /** Quiet get that echoes the key: the server answers hits only, so a batch ends with a NOOP. */
  GETKQ: 0x0d,
  /** Quiet set: the server answers failures only. */
  SETQ: 0x11,
  /** Quiet delete: the server answers failures (including "not found") only. */
  DELETEQ: 0x14,
} as const;

/** Response status codes this backend tells apart. */
export const Status = {
  OK: 0x00,
  KEY_NOT_FOUND: 0x01,
  KEY_EXISTS: 0x02,
  VALUE_TOO_LARGE: 0x03,
  INVALID_ARGUMENTS: 0x04,
  NOT_STORED: 0x05,
} as const;

const STATUS_NAMES: Readonly<Record<number, string>> = {
  0x00: 'no error',
  0x01: 'key not found',
  0x02: 'key exists',
  0x03: 'value too large',
  0x04: 'invalid arguments',
  0x05: 'item not stored',
  0x06: 'incr/decr on a non-numeric value',
  0x20: 'authentication error',
  0x21: 'authentication continue',
  0x81: 'unknown command',
  0x82: 'out of memory',
  0x83: 'not supported',
  0x84: 'internal error',
  0x85: 'busy',
  0x86: 'temporary failure',
};

/** A readable name for a response status, e.g. `"value too large (0x03)"`. */
export function statusName(status: number): string {
  return `${STATUS_NAMES[status] ?? 'unknown status'} (0x${status.toString(16).padStart(2, '0')})`;
}

/** Size of a request or response header. */
export const HEADER_BYTES = 24;

/**
 * Bytes memcached adds to every item beyond key and value (measured on memcached 1.6 with CAS on:
 * 48-byte item header + 8-byte CAS + the key's NUL + the value's CRLF). An item must fit the server's
 * item size limit (`-I`, default 1 MiB) with this included.
 */
export const ITEM_OVERHEAD_BYTES = 59;

/** Longest `exptime` memcached reads as relative seconds (30 days); larger values are unix times. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

const MAX_UINT32 = 0xffff_ffff;
const MAGIC_REQUEST = 0x80;
const STORE_EXTRAS = 8; // flags (4) + exptime (4)
const NO_CAS = Buffer.alloc(8);

/**
 * memcached's `exptime` for a time to live of `seconds` (0 = never expires). Fractions round up, so
 * a sub-second TTL becomes 1 s and never 0, which memcached reads as "forever" (the @keyv/memcache
 * bug). TTLs over 30 days are sent as absolute unix times, because memcached reads any larger value
 * that way (sending 31 days as-is would mean January 1970: expired at once).
 * `nowMs` is the current time in epoch milliseconds.
 */
export function toExptime(seconds: number, nowMs: number): number {
  if (!(seconds > 0)) return 0;
  const whole = Math.ceil(seconds);
  if (whole <= MAX_RELATIVE_EXPTIME) return whole;
  return Math.min(Math.ceil(nowMs / 1000) + whole, MAX_UINT32);
}

function writeHeader(
  buf: Buffer,
  at: number,
  opcode: number,
  keyBytes: number,
  extrasBytes: number,
  bodyBytes: number,
  opaque: number,
  cas: Buffer,
): void {
  buf[at] = MAGIC_REQUEST;
  buf[at + 1] = opcode;
  buf.writeUInt16BE(keyBytes, at + 2);
  buf[at + 4] = extrasBytes;
  buf[at + 5] = 0; // data type
  buf.writeUInt16BE(0, at + 6); // vbucket
  buf.writeUInt32BE(bodyBytes, at + 8);
  buf.writeUInt32BE(opaque >>> 0, at + 12);
  cas.copy(buf, at + 16, 0, 8);
}

/** Writes a key-only request (get, delete, noop) at `at`; returns the offset after it. */
function writeKeyRequest(buf: Buffer, at: number, opcode: number, key: string, keyBytes: number, opaque: number, cas: Buffer): number {
  writeHeader(buf, at, opcode, keyBytes, 0, keyBytes, opaque, cas);
  if (keyBytes > 0) buf.write(key, at + HEADER_BYTES, keyBytes, 'utf8');
  return at + HEADER_BYTES + keyBytes;
}

/** Writes a store request (set, add, setq) with flags 0 at `at`; returns the offset after it. */
function writeStoreRequest(
  buf: Buffer,
  at: number,
  opcode: number,
  key: string,
  keyBytes: number,
  value: Uint8Array,
  exptime: number,
  opaque: number,
): number {
  writeHeader(buf, at, opcode, keyBytes, STORE_EXTRAS, STORE_EXTRAS + keyBytes + value.length, opaque, NO_CAS);
  // Flags 0: python-memcached stores bytes with flags 0, so Python clients read our items as bytes.
  buf.writeUInt32BE(0, at + HEADER_BYTES);
  buf.writeUInt32BE(exptime, at + HEADER_BYTES + 4);
  let offset = at + HEADER_BYTES + STORE_EXTRAS;
  offset += buf.write(key, offset, keyBytes, 'utf8');
  buf.set(value, offset);
  return offset + value.length;
}

/** A GET (or another key-only opcode) request. */
export function encodeKeyRequest(opcode: number, key: string, opaque: number, cas: Buffer = NO_CAS): Buffer {
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + keyBytes);
  writeKeyRequest(buf, 0, opcode, key, keyBytes, opaque, cas);
  return buf;
}

/**
 * A SET or ADD request storing `value` with flags 0 and `exptime` (see {@link toExptime}); with `cas`, a
 * SET stores only if the item still has that CAS token.
 */
export function encodeStore(opcode: number, key: string, value: Uint8Array, exptime: number, opaque: number, cas: Buffer = NO_CAS): Buffer {
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + STORE_EXTRAS + keyBytes + value.length);
  writeStoreRequest(buf, 0, opcode, key, keyBytes, value, exptime, opaque);
  if (cas !== NO_CAS) cas.copy(buf, 16, 0, 8);
  return buf;
}

const INCREMENT_EXTRAS = 20; // delta (8) + initial value (8) + exptime (4)

/**
 * An INCREMENT of `key` by `delta`; an absent item is created holding `initial` (memcached does that
 * atomically when the exptime is not 0xffffffff). The item holds the number as ASCII decimal.
 */
export function encodeIncrement(key: string, delta: bigint, initial: bigint, exptime: number, opaque: number): Buffer {
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + INCREMENT_EXTRAS + keyBytes);
  writeHeader(buf, 0, Opcode.INCREMENT, keyBytes, INCREMENT_EXTRAS, INCREMENT_EXTRAS + keyBytes, opaque, NO_CAS);
  buf.writeBigUInt64BE(delta, HEADER_BYTES);
  buf.writeBigUInt64BE(initial, HEADER_BYTES + 8);
  buf.writeUInt32BE(exptime, HEADER_BYTES + 16);
  buf.write(key, HEADER_BYTES + INCREMENT_EXTRAS, keyBytes, 'utf8');
  return buf;
}

/** A NOOP request: the reply that closes a batch of quiet requests. */
export function encodeNoop(opaque: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES);
  writeHeader(buf, 0, Opcode.NOOP, 0, 0, 0, opaque, NO_CAS);
  return buf;
}

/**
 * One buffer holding a quiet key-only request (GETKQ or DELETEQ) per key and a closing NOOP, all
 * with the same `opaque`: the server answers only hits (GETKQ) or failures (DELETEQ), then the NOOP,
 * and memcached answers a connection's requests in order, so the NOOP's reply means the batch is done.
 */
export function encodeKeyBatch(opcode: number, keys: readonly string[], opaque: number): Buffer {
  const sizes = keys.map((key) => Buffer.byteLength(key, 'utf8'));
  let total = HEADER_BYTES;
  for (const size of sizes) total += HEADER_BYTES + size;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < keys.length; i++) at = writeKeyRequest(buf, at, opcode, keys[i] as string, sizes[i] as number, opaque, NO_CAS);
  writeHeader(buf, at, Opcode.NOOP, 0, 0, 0, opaque, NO_CAS);
  return buf;
}

/** One buffer holding a SETQ per entry (flags 0, the same `exptime`) and a closing NOOP, one `opaque`. */
export function encodeStoreBatch(entries: readonly (readonly [string, Uint8Array])[], exptime: number, opaque: number): Buffer {
  const sizes = entries.map(([key]) => Buffer.byteLength(key, 'utf8'));
  let total = HEADER_BYTES;
  for (let i = 0; i < entries.length; i++)
    total += HEADER_BYTES + STORE_EXTRAS + (sizes[i] as number) + (entries[i] as readonly [string, Uint8Array])[1].length;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as readonly [string, Uint8Array];
    at = writeStoreRequest(buf, at, Opcode.SETQ, key, sizes[i] as number, value, exptime, opaque);
  }
  writeHeader(buf, at, Opcode.NOOP, 0, 0, 0, opaque, NO_CAS);
  return buf;
}
