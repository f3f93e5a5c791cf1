/**
 * The model-based property tests of test/region/model.test.ts over the remote backends, on the
 * shared real servers (memcached, etcd3, Mongo/FerretDB), with fewer runs: network round trips make
 * each run slower. No server-side TTL: the servers count whole seconds, so the region's expiration
 * on the manual clock drives expiry, as the model expects. One backend per server for all runs;
 * each run gets its own key prefix, so runs never see each other's entries.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CacheRegion, type CacheBackend } from '../../../src/index.js';
import { SEED, commandArbitrary, regionExpiration, runSequence } from '../../support/model-harness.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from '../../support/servers.js';

const REMOTE_RUNS = 20;

function suite(name: string, backend: string, args: () => Record<string, unknown>): void {
  describe(`the region against the model of dogpile rules (${name}, real server)`, () => {
    let base: CacheRegion;
    let shared: CacheBackend;
    before(() => {
      base = new CacheRegion().configure(backend, { arguments: args() });
      shared = base.actualBackend;
    });
    after(async () => {
      await base.close();
    });

    for (const [variant, options] of [
      ['', {}],
      [', background creation runner', { background: true }],
    ] as const) {
      it(`random sequences with concurrent callers${variant} (${REMOTE_RUNS} runs)`, async () => {
        let run = 0;
        const prefix = randomUUID().slice(0, 8);
        await fc.assert(
          fc.asyncProperty(
            regionExpiration,
            fc.array(commandArbitrary({ concurrent: true }), { maxLength: 40 }),
            (expiration, commands) => {
              const keyPrefix = `model-${prefix}-${run++}-`;
              return runSequence(
                (regionOptions, expirationTime) =>
                  new CacheRegion({ ...regionOptions, keyMangler: (key) => keyPrefix + key }).configure(shared, { expirationTime }),
                expiration,
                commands,
                { ...options, close: false },
              );
            },
          ),
          { numRuns: REMOTE_RUNS, seed: SEED, includeErrorInReport: true },
        );
      });
    }
  });
}

// With distributed_lock the region layers the backend's mutex over its own (and re-reads after
// taking it): the same rules must hold.
const locked = { distributed_lock: true, lock_timeout: 10 };
suite('memcached', 'memcached', () => ({ url: memcachedServers() }));
suite('memcached, distributed_lock', 'memcached', () => ({ url: memcachedServers(), ...locked }));
suite('etcd3', 'etcd3', () => ({ endpoints: etcdEndpoints(), namespace: `model-${randomUUID().slice(0, 8)}/` }));
suite('etcd3, distributed_lock', 'etcd3', () => ({
  endpoints: etcdEndpoints(),
  namespace: `model-lock-${randomUUID().slice(0, 8)}/`,
  ...locked,
}));
suite('Mongo', 'mongo', () => ({ db_hosts: mongodbUrl(), db_name: 'dogpile_model', cache_collection: `m${randomUUID().slice(0, 8)}` }));
suite('Mongo, distributed_lock', 'mongo', () => ({
  db_hosts: mongodbUrl(),
  db_name: 'dogpile_model',
  cache_collection: `l${randomUUID().slice(0, 8)}`,
  ...locked,
}));
