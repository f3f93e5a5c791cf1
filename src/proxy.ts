/**
 * `ProxyBackend` (dogpile's `proxy.py`): a backend that wraps another and passes every call through,
 * so a subclass can override just the calls it wants to observe or change (logging, copying,
 * metrics). `region.wrap(proxy)` or `configure(..., { wrap: [...] })` installs it; the first proxy in
 * `wrap` is the outermost.
 *
 * @module
 */
import { CacheBackend, type BackendResult, type CacheMutex, type CachedValue, type Mapping } from './api.js';
import { ValidationError } from './errors.js';
import type { NoValue } from './no-value.js';

/** A proxy class, instantiated with no arguments by `region.wrap`. */
export type ProxyClass = new () => ProxyBackend;

/**
 * Passes every call to the wrapped backend. The `*Serialized` methods are passed through too: a
 * proxy that must see every value should override both `get`/`set` and the `*Serialized` variants,
 * because a region with a serializer calls only the latter (as dogpile's). A proxy has no `getSync`:
 * a wrapped region reads through the proxy's `get`, so the proxy sees every read.
 *
 * @example
 * ```ts
 * import { CacheRegion, ProxyBackend, type CachedValue } from 'dogpile-cache';
 * class LoggingProxy extends ProxyBackend {
 *   override set(key: string, value: CachedValue): Promise<void> {
 *     console.log('set', key);
 *     return super.set(key, value);
 *   }
 * }
 * const region = new CacheRegion().configure('dogpile.cache.memory', { wrap: [LoggingProxy] });
 * await region.set('k', 'v'); // logs "set k", then stores through the memory backend
 * ```
 */
export class ProxyBackend extends CacheBackend {
  #proxied: CacheBackend | undefined;

  /** The wrapped backend; throws until {@link wrap} was called. */
  get proxied(): CacheBackend {
    if (this.#proxied === undefined)
      throw new ValidationError('This ProxyBackend wraps no backend yet; call proxy.wrap(backend) or region.wrap(proxy).');
    return this.#proxied;
  }

  /** Wraps `backend` and returns this proxy. */
  wrap(backend: CacheBackend): this {
    if (!(backend instanceof CacheBackend)) {
      throw new ValidationError('ProxyBackend.wrap() takes a CacheBackend (or another ProxyBackend).');
    }
    this.#proxied = backend;
    return this;
  }

  get(key: string): Promise<BackendResult> {
    return this.proxied.get(key);
  }
  getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    return this.proxied.getMulti(keys);
  }
  set(key: string, value: CachedValue): Promise<void> {
    return this.proxied.set(key, value);
  }
  setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    return this.proxied.setMulti(mapping);
  }
  delete(key: string): Promise<void> {
    return this.proxied.delete(key);
  }
  deleteMulti(keys: readonly string[]): Promise<void> {
    return this.proxied.deleteMulti(keys);
  }
  override getMutex(key: string): CacheMutex | null {
    return this.proxied.getMutex(key);
  }
  override close(): Promise<void> {
    return this.proxied.close();
  }
  override getSerialized(key: string): Promise<Buffer | NoValue> {
    return this.proxied.getSerialized(key);
  }
  override getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    return this.proxied.getSerializedMulti(keys);
  }
  override setSerialized(key: string, value: Buffer): Promise<void> {
    return this.proxied.setSerialized(key, value);
  }
  override setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    return this.proxied.setSerializedMulti(mapping);
  }
}

/** Instantiates a proxy class, or checks an instance. */
export function toProxyInstance(proxy: unknown): ProxyBackend {
  if (proxy instanceof ProxyBackend) return proxy;
  if (proxy === ProxyBackend || (typeof proxy === 'function' && proxy.prototype instanceof ProxyBackend))
    return new (proxy as ProxyClass)();
  throw new ValidationError(`${String((proxy as { name?: unknown })?.name ?? proxy)} is not a valid ProxyBackend (class or instance).`);
}
