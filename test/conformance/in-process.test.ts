import { after, before, describe, it } from 'node:test';
import { CacheRegion, DictionaryBackend, MemoryBackend, MemoryPickleBackend, NullBackend } from '../../src/index.js';
import { runBackendConformance, runRegionConformance } from '../../src/testing/index.js';

const runner = { describe, it, before, after };
runBackendConformance('DictionaryBackend', () => new DictionaryBackend(), { mutex: false, bytes: false }, runner);
runBackendConformance(
  'DictionaryBackend with TTL and LRU',
  () => new DictionaryBackend({ expiration_time: 60, max_entries: 1000 }),
  { mutex: false, bytes: false },
  runner,
);
runBackendConformance(
  'MemoryBackend with a cache_dict Map',
  () => new MemoryBackend({ cache_dict: new Map() }),
  { mutex: false, bytes: false },
  runner,
);
runBackendConformance('MemoryPickleBackend', () => new MemoryPickleBackend(), { mutex: false, bytes: false }, runner);
runBackendConformance(
  'NullBackend',
  () => new NullBackend(),
  { mutex: false, nonBlockingMutex: true, storesNothing: true, bytes: false },
  runner,
);
// memory_pickle through a region: payloads kept as v8 bytes in memory, decoded on every read.
runRegionConformance(
  'dogpile.cache.memory_pickle',
  ({ region, expirationTime }) => new CacheRegion(region).configure('dogpile.cache.memory_pickle', { expirationTime }),
  runner,
);
