/**
 * `dogpile-cache/backends/etcd3`: the etcd v3 backend (oslo.cache's `oslo_cache.etcd3gw`).
 * Importing this module loads no driver; the `etcd3` package is imported on the backend's first call.
 * See docs/backends/etcd3.md.
 *
 * @module
 */
export { Etcd3Backend } from './backend.js';
export { Etcd3Mutex } from './lock.js';
export type { Etcd3BackendArguments, PemSource } from './options.js';
export { encodeOsloValue, decodeOsloValue } from './codec.js';
