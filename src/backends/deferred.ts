/**
 * A backend whose class comes from an async loader (`registerBackend(name, () => import(...))`):
 * constructed on first use, so `configure()` can stay synchronous.
 *
 * @module
 */
import {
  CacheBackend,
  type BackendArguments,
  type BackendClass,
  type BackendResult,
  type CacheMutex,
  type CachedValue,
  type Mapping,
} from '../api.js';
import { UnsupportedOperationError } from '../errors.js';
import type { NoValue } from '../no-value.js';

/** What the loader knows before loading: whether the backend, with these arguments, declares `clear`. */
export interface DeferredCapabilities {
  /** The loaded backend will declare `clear` (see `CacheBackend.clear`); default false. */
  readonly clears?: boolean;
}

/** Loads the real backend on the first call and forwards every call to it. */
export class DeferredBackend extends CacheBackend {
  readonly #ready: Promise<CacheBackend>;
  #loaded: CacheBackend | undefined;

  constructor(loading: Promise<BackendClass>, args: BackendArguments, capabilities: DeferredCapabilities = {}) {
    super();
    this.#ready = loading.then((Backend) => (this.#loaded = new Backend(args)));
    // A failed load is reported by the first call that awaits it, never as an unhandled rejection.
    this.#ready.catch(() => {});
    // Declared up front (the region checks for it before anything has loaded), forwarded once loaded.
    if (capabilities.clears === true) {
      this.clear = async () => {
        const backend = await this.#ready;
        if (backend.clear === undefined) throw new UnsupportedOperationError(`${backend.constructor.name} declares no clear().`);
        await backend.clear();
      };
    }
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
  // The serialized calls go to the loaded backend too: a store of bytes keeps its own, not the defaults.
  override async getSerialized(key: string): Promise<Buffer | NoValue> {
    return (await this.#ready).getSerialized(key);
  }
  override async getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    return (await this.#ready).getSerializedMulti(keys);
  }
  override async setSerialized(key: string, value: Buffer): Promise<void> {
    return (await this.#ready).setSerialized(key, value);
  }
  override async setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    return (await this.#ready).setSerializedMulti(mapping);
  }
  /**
   * The loaded backend's mutex. Before loading finishes, a mutex that waits for the load and then uses
   * the loaded backend's (or, when that has none, grants at once: the region's in-process lock in front
   * of it already serializes this process), so a cold start never skips a distributed lock.
   */
  override getMutex(key: string): CacheMutex | null {
    if (this.#loaded !== undefined) return this.#loaded.getMutex(key);
    return new MutexAfterLoad(this.#ready, key);
  }
  override async close(): Promise<void> {
    const backend = await this.#ready.catch(() => undefined);
    await backend?.close();
  }
}

/** The mutex of a backend that is still loading: chooses the real one once the load is done. */
class MutexAfterLoad implements CacheMutex {
  readonly #ready: Promise<CacheBackend>;
  readonly #key: string;
  #mutex: Promise<CacheMutex | null> | undefined;

  constructor(ready: Promise<CacheBackend>, key: string) {
    this.#ready = ready;
    this.#key = key;
  }

  #real(): Promise<CacheMutex | null> {
    this.#mutex ??= this.#ready.then((backend) => backend.getMutex(this.#key));
    return this.#mutex;
  }

  async acquire(wait = true, signal?: AbortSignal): Promise<boolean> {
    const mutex = await this.#real();
    return mutex === null ? true : mutex.acquire(wait, signal);
  }

  async release(): Promise<void> {
    const mutex = await this.#real();
    await mutex?.release();
  }

  async locked(): Promise<boolean> {
    const mutex = await this.#real();
    return mutex === null ? false : mutex.locked();
  }
}
