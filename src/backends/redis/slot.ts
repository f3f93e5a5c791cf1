/**
 * Redis Cluster's key → hash slot function (CRC16-CCITT/XMODEM of the key, or of its `{hash tag}`,
 * modulo 16384), so a multi-operation can group its keys by slot and by node. Written out here rather
 * than importing ioredis's own dependency, which is not ours to rely on.
 *
 * @module
 */

/** Number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  return crc;
}

/**
 * The slot of `key` (a string's UTF-8 bytes, or the bytes given); only the part between the first `{` and the next `}` counts when it is non-empty.
 *
 * @example
 * ```ts
 * import { keySlot } from 'dogpile-cache/backends/redis';
 * keySlot('foo'); // 12182, as Redis Cluster's CLUSTER KEYSLOT foo
 * keySlot('{user:1}:profile') === keySlot('{user:1}:settings'); // true: only the {hash tag} counts
 * ```
 */
export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOT_COUNT;
  }
  return crc16(bytes, 0, bytes.length) % SLOT_COUNT;
}
