/**
 * Compression for stored bytes (issue 22 item 6): a region option `compression: { algorithm, threshold }`
 * wraps the region's serializer, so a payload whose serialized bytes exceed `threshold` is stored
 * compressed, behind a marker. Reading checks the marker, so entries written without compression (or by
 * Python) still read; Python peers cannot read compressed entries, hence the default: off.
 *
 * @module
 */
import { SerializationError, ValidationError } from './errors.js';
import type { Serializer } from './serializers.js';
import { describe } from './validate.js';

/** The compression algorithms offered. */
export type CompressionAlgorithm = 'gzip' | 'brotli';

/** The `compression` region option. */
export interface CompressionOptions {
  /** `"gzip"` or `"brotli"` (Node's zlib). */
  algorithm: CompressionAlgorithm;
  /** Payloads whose serialized bytes are longer than this many bytes are compressed. Default 1024. */
  threshold?: number;
}

/**
 * The marker in front of compressed payload bytes: a NUL (which neither JSON nor v8 serialization ever
 * starts with: JSON starts with printable text, v8 with 0xFF), `dpz`, and the algorithm's letter.
 */
const MARKER = Buffer.from('\u0000dpz', 'latin1');
const LETTER: Readonly<Record<CompressionAlgorithm, number>> = { gzip: 0x67 /* g */, brotli: 0x62 /* b */ };
/** The largest decompressed payload accepted: a corrupt or hostile entry must not exhaust memory. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** Checks the `compression` option; null when absent. */
export function readCompression(value: unknown): Required<CompressionOptions> | null {
  if (value === undefined || value === null) return null;
  const algorithm = (value as { algorithm?: unknown }).algorithm;
  if (typeof value !== 'object' || (algorithm !== 'gzip' && algorithm !== 'brotli')) {
    throw new ValidationError(`compression must be { algorithm: "gzip" | "brotli", threshold?: bytes }; got ${describe(value)}.`);
  }
  const threshold = (value as { threshold?: unknown }).threshold ?? 1024;
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0) {
    throw new ValidationError(`compression.threshold must be a whole number of bytes >= 0; got ${describe(threshold)}.`);
  }
  return { algorithm, threshold };
}

/**
 * `inner` with compression: see the module comment. The name says so (`"json+gzip"`).
 *
 * @example
 * ```ts
 * import { compressingSerializer, jsonSerializer } from 'dogpile-cache';
 * const serializer = compressingSerializer(jsonSerializer, { algorithm: 'gzip', threshold: 1024 });
 * serializer.name; // "json+gzip"
 * const bytes = serializer.serialize({ rows: Array(1000).fill('row') }); // gzipped: over 1024 bytes as JSON
 * serializer.deserialize(bytes); // { rows: [...] }
 * ```
 */
export function compressingSerializer(inner: Serializer, options: Required<CompressionOptions>): Serializer {
  const letter = LETTER[options.algorithm];
  // node:zlib loads here, when a region asks for compression, not with the root entry point (issue 20.3).
  const { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } = process.getBuiltinModule('node:zlib');
  const compress = options.algorithm === 'gzip' ? (b: Buffer) => gzipSync(b) : (b: Buffer) => brotliCompressSync(b);
  return Object.freeze({
    name: `${inner.name}+${options.algorithm}`,
    serialize(value: unknown): Buffer {
      const bytes = inner.serialize(value);
      if (bytes.length <= options.threshold) return bytes;
      return Buffer.concat([MARKER, Buffer.of(letter), compress(bytes)]);
    },
    deserialize(bytes: Buffer): unknown {
      if (bytes.length < MARKER.length + 1 || !bytes.subarray(0, MARKER.length).equals(MARKER)) return inner.deserialize(bytes);
      const body = bytes.subarray(MARKER.length + 1);
      const kind = bytes[MARKER.length];
      let plain: Buffer;
      try {
        if (kind === LETTER.gzip) plain = gunzipSync(body, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
        else if (kind === LETTER.brotli) plain = brotliDecompressSync(body, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
        else throw new Error(`unknown compression ${describe(String.fromCharCode(kind ?? 0))}`);
      } catch (error) {
        throw new SerializationError('A compressed entry could not be decompressed (corrupt, or over 256 MiB).', { cause: error });
      }
      return inner.deserialize(plain);
    },
  });
}
