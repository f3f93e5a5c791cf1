/**
 * The in-process peers, each behind one small interface so every workload runs the same loop over
 * them. Peers are devDependencies of the benchmark only. Values: ours store a CachedValue (payload +
 * creation time), the peers the payload itself (they add their own wrapper, if any).
 */
import { Policy, Client } from '@hapi/catbox';
import { Engine as CatboxMemory } from '@hapi/catbox-memory';
import { createCache as createDedupe } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import { CacheRegion, DictionaryBackend } from '../src/index.js';
import { makeCachedValue } from '../src/backend.js';

/** One in-process cache as the benchmark drives it; any method may be absent (the workload skips it). */
export interface Contender {
  name: string;
  get?: (key: string) => Promise<unknown>;
  set?: (key: string, value: unknown) => Promise<unknown>;
  getOrCreate?: (key: string, creator: () => Promise<unknown>) => Promise<unknown>;
  close?: () => Promise<void>;
}

const HOUR_MS = 3_600_000;
/** Capacity of the bounded peers (lru-cache preallocates for it): just above the biggest workload. */
const MAX = 1_100_000;

/** Every contender, fresh (empty). `names` picks some by name. */
export async function contenders(names?: readonly string[]): Promise<Contender[]> {
  const all: (() => Promise<Contender>)[] = [
    async () => {
      const map = new Map<string, unknown>();
      return {
        name: 'await Map (floor)',
        get: async (k) => map.get(k),
        set: async (k, v) => {
          map.delete(k);
          map.set(k, v);
        },
      };
    },
    async () => {
      const backend = new DictionaryBackend({ expiration_time: 3600 });
      return { name: 'DictionaryBackend (TTL 1 h)', get: (k) => backend.get(k), set: (k, v) => backend.set(k, makeCachedValue(v)) };
    },
    async () => {
      const backend = new DictionaryBackend();
      return { name: 'DictionaryBackend (no TTL)', get: (k) => backend.get(k), set: (k, v) => backend.set(k, makeCachedValue(v)) };
    },
    async () => {
      const region = new CacheRegion().configure('oslo_cache.dict', { expirationTime: 3600 });
      return {
        name: 'region (Dictionary)',
        get: (k) => region.get(k),
        set: (k, v) => region.set(k, v),
        getOrCreate: (k, creator) => region.getOrCreate(k, creator),
        close: () => region.close(),
      };
    },
    async () => {
      // fetch needs a fetchMethod; the creator is passed through fetch's context.
      const lru = new LRUCache<string, object, () => Promise<unknown>>({
        max: MAX,
        ttl: HOUR_MS,
        fetchMethod: async (_k, _stale, { context }) => (await context()) as object,
      });
      return {
        name: 'lru-cache',
        get: async (k) => lru.get(k),
        set: async (k, v) => lru.set(k, v as object),
        getOrCreate: (k, creator) => lru.fetch(k, { context: creator }),
      };
    },
    async () => {
      const cm = createCache({ ttl: HOUR_MS });
      return {
        name: 'cache-manager',
        get: (k) => cm.get(k),
        set: (k, v) => cm.set(k, v),
        getOrCreate: (k, creator) => cm.wrap(k, creator),
        close: async () => void (await cm.disconnect()),
      };
    },
    async () => {
      const keyv = new Keyv({ ttl: HOUR_MS });
      return { name: 'keyv (default)', get: (k) => keyv.get(k), set: (k, v) => keyv.set(k, v) };
    },
    async () => {
      const keyv = new Keyv({ ttl: HOUR_MS });
      keyv.serialize = undefined;
      keyv.deserialize = undefined;
      return { name: 'keyv (serialization off)', get: (k) => keyv.get(k), set: (k, v) => keyv.set(k, v) };
    },
    async () => {
      let creators = new Map<string, () => Promise<unknown>>();
      const dedupe = createDedupe({ ttl: 3600, storage: { type: 'memory', options: { size: MAX } } });
      dedupe.define('fetch', async (k: string) => {
        const creator = creators.get(k);
        return creator ? creator() : undefined;
      });
      const fetch = (dedupe as unknown as { fetch: (k: string) => Promise<unknown> }).fetch;
      return {
        name: 'async-cache-dedupe',
        getOrCreate: (k, creator) => {
          creators.set(k, creator);
          return fetch(k);
        },
        close: async () => void (creators = new Map()),
      };
    },
    async () => {
      const client = new Client(CatboxMemory, { maxByteSize: 2 ** 40 } as never);
      await client.start();
      let creators = new Map<string, () => Promise<unknown>>();
      const policy = new Policy(
        {
          expiresIn: HOUR_MS,
          generateTimeout: 60_000,
          generateFunc: async (id) => {
            const creator = creators.get(String(id));
            return creator ? creator() : null;
          },
        },
        client,
        'bench',
      );
      return {
        name: 'catbox Policy',
        get: (k) => policy.get(k),
        set: (k, v) => policy.set(k, v),
        getOrCreate: (k, creator) => {
          creators.set(k, creator);
          return policy.get(k);
        },
        close: async () => {
          creators = new Map();
          await client.stop();
        },
      };
    },
    async () => {
      const bento = new BentoCache({
        default: 'memory',
        stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX, serialize: false })) },
      });
      return {
        name: 'bentocache',
        get: (k) => bento.get({ key: k }),
        set: (k, v) => bento.set({ key: k, value: v, ttl: HOUR_MS }),
        getOrCreate: (k, creator) => bento.getOrSet({ key: k, factory: creator, ttl: HOUR_MS }),
        close: () => bento.disconnectAll(),
      };
    },
  ];
  const made: Contender[] = [];
  for (const make of all) {
    const c = await make();
    if (names === undefined || names.includes(c.name)) made.push(c);
    else await c.close?.();
  }
  return made;
}
