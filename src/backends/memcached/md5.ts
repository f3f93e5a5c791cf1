/**
 * The first 32 bits of a string's MD5 digest, computed in JavaScript: the key hash of a ketama ring.
 *
 * Why not `node:crypto`: every request hashes its key to find its server, and a one-shot
 * `crypto.hash('md5', key)` costs about 2.2 µs on the 2-vCPU test machine (a native call and a
 * Buffer per key), a third of the time of a whole pipelined memcached get; this routine takes about
 * 0.25 µs and allocates nothing for ASCII keys up to 311 characters (every legal memcached key).
 * The ring tests check it against `node:crypto`.
 *
 * @module
 */

const SHIFTS = Int32Array.from([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11,
  16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);
// MD5's constants, floor(|sin(i + 1)| * 2^32): built on the first digest, not at import, so that
// importing the backend costs little (issue 20.3; the root entry point no longer loads this module).
let sines: Int32Array | undefined;

function buildSines(): Int32Array {
  const table = new Int32Array(64);
  for (let i = 0; i < 64; i++) table[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
  return table;
}

// Room for every legal memcached key (250 bytes) plus MD5 padding, reused across calls.
const SCRATCH_BYTES = new Uint8Array(320);
const WORDS = new Int32Array(16);

/** Writes `key` as UTF-8 into a buffer padded for MD5; returns the buffer and the message length in bytes. */
function utf8Padded(key: string): [Uint8Array, number] {
  let bytes = SCRATCH_BYTES;
  let length = 0;
  let ascii = key.length + 9 <= bytes.length;
  if (ascii) {
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code > 0x7f) {
        ascii = false;
        break;
      }
      bytes[i] = code;
    }
    length = key.length;
  }
  if (!ascii) {
    const encoded = Buffer.from(key, 'utf8');
    length = encoded.length;
    if (length + 9 > bytes.length) bytes = new Uint8Array(((length + 8) >>> 6) * 64 + 64);
    bytes.set(encoded);
  }
  return [bytes, length];
}

/**
 * The first four bytes of MD5(UTF-8 of `key`) read as a little-endian unsigned 32-bit integer: the
 * point of `key` on a ketama ring (libketama's `ketama_hashi`).
 */
export function md5FirstWord(key: string): number {
  sines ??= buildSines();
  const sineTable = sines;
  const [bytes, length] = utf8Padded(key);
  const blocks = ((length + 8) >>> 6) + 1;
  const total = blocks * 64;
  bytes[length] = 0x80;
  bytes.fill(0, length + 1, total - 8);
  const bits = length * 8;
  bytes[total - 8] = bits & 0xff;
  bytes[total - 7] = (bits >>> 8) & 0xff;
  bytes[total - 6] = (bits >>> 16) & 0xff;
  bytes[total - 5] = (bits >>> 24) & 0xff;
  bytes[total - 4] = Math.floor(bits / 2 ** 32) & 0xff;
  bytes[total - 3] = 0;
  bytes[total - 2] = 0;
  bytes[total - 1] = 0;

  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let block = 0; block < total; block += 64) {
    for (let w = 0; w < 16; w++) {
      const at = block + w * 4;
      WORDS[w] =
        (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24);
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      f = (f + a + (sineTable[i] as number) + (WORDS[g] as number)) | 0;
      a = d;
      d = c;
      c = b;
      const s = SHIFTS[i] as number;
      b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  return a0 >>> 0;
}
