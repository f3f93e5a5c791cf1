/**
 * Where each kind of key lives in etcd. Cache keys and namespaces are well-formed strings, stored as
 * UTF-8, and UTF-8 never contains the bytes 0xFE and 0xFF; those two bytes mark what no user key can
 * reach:
 *
 * - no namespace: a cache key is stored as its UTF-8 bytes, as oslo stores it (Python interop);
 * - namespace `ns`: `ns 0xFF key`. The 0xFF ends the namespace, so `app/` + `admin/token` and
 *   `app/admin/` + `token` are different keys (a raw prefix made them the same etcd key);
 * - internal keys (locks): `ns 0xFE lock/ key`, never a cache key of any namespace.
 *
 * The cost: a namespaced entry is not under the plain text prefix `ns` + key any more, and tools that
 * print keys as text show the separator as `\xff`.
 *
 * @module
 */

/** Ends a namespace: a byte UTF-8 never produces. */
export const NAMESPACE_END = 0xff;
/** Starts the internal keys of a namespace (or of no namespace): a byte UTF-8 never produces. */
export const INTERNAL_MARK = 0xfe;

/** The etcd keys of one backend (see the module comment). */
export class KeyLayout {
  readonly #entryPrefix: Buffer;
  readonly #lockPrefix: Buffer;

  /** @param namespace the backend's namespace, UTF-8 (empty: none) */
  constructor(namespace: Buffer) {
    this.#entryPrefix = namespace.length === 0 ? Buffer.alloc(0) : Buffer.concat([namespace, Buffer.of(NAMESPACE_END)]);
    this.#lockPrefix = Buffer.concat([namespace, Buffer.of(INTERNAL_MARK), Buffer.from('lock/', 'latin1')]);
  }

  /** The etcd key of cache key `key`. */
  entry(key: string): Buffer {
    const bytes = Buffer.from(key, 'utf8');
    return this.#entryPrefix.length === 0 ? bytes : Buffer.concat([this.#entryPrefix, bytes]);
  }

  /** The etcd key of the distributed lock on cache key `key`. */
  lock(key: string): Buffer {
    return Buffer.concat([this.#lockPrefix, Buffer.from(key, 'utf8')]);
  }
}
