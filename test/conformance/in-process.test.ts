import { after, before, describe, it } from 'node:test';
import { DictionaryBackend, NullBackend } from '../../src/index.js';
import { runBackendConformance } from '../../src/testing/index.js';

const runner = { describe, it, before, after };
runBackendConformance('DictionaryBackend', () => new DictionaryBackend(), { mutex: false, bytes: false }, runner);
runBackendConformance('DictionaryBackend with TTL and LRU', () => new DictionaryBackend({ expiration_time: 60, max_entries: 1000 }), { mutex: false, bytes: false }, runner);
runBackendConformance('NullBackend', () => new NullBackend(), { mutex: false, nonBlockingMutex: true, storesNothing: true, bytes: false }, runner);
