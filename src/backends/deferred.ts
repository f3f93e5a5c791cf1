/**
 * A backend whose class comes from an async loader (`registerBackend(name, () => import(...))`):
 * constructed on first use, so `configure()` can stay synchronous.
 *
 * @module
 */
import { CacheBackend, type BackendArguments, type BackendClass, type BackendResult, type CacheMutex, type CachedValue, type Mapping } from '../api.js';

/** Loads the real backend on the first call and forwards every call to it. */
export class DeferredBackend extends CacheBackend {
  readonly #ready: Promise<CacheBackend>;
  #loaded: CacheBackend | undefined;

  constructor(loading: Promise<BackendClass>, args: BackendArguments) {
    super();
    this.#ready = loading.then((Backend) => (this.#loaded = new Backend(args)));
    // A failed load is reported by the first call that awaits it, never as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Resolves with the real backend once loaded (rejects when loading or constructing failed). */
  ready(): Promise<CacheBackend> {
    return this.#ready;
  }

  async get(key: string): Promise<BackendResult> {
    return (await this.#ready).get(key);
  }
  async getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    return (await this.#ready).getMulti(keys);
  }
  async set(key: string, value: CachedValue): Promise<void> {
    return (await this.#ready).set(key, value);
  }
  async setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    return (await this.#ready).setMulti(mapping);
  }
  async delete(key: string): Promise<void> {
    return (await this.#ready).delete(key);
  }
  async deleteMulti(keys: readonly string[]): Promise<void> {
    return (await this.#ready).deleteMulti(keys);
  }
  /** The loaded backend's mutex; before loading finishes, `null` (the region's in-process lock). */
  override getMutex(key: string): CacheMutex | null {
    return this.#loaded?.getMutex(key) ?? null;
  }
  override async close(): Promise<void> {
    const backend = await this.#ready.catch(() => undefined);
    await backend?.close();
  }
}
