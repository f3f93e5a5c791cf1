/**
 * Builds a region over a real backend with the issue-18 pieces (shared invalidation, local tier,
 * notifications), the same way in the single-process tests and in the worker processes.
 */
import { type CacheBackend, CacheRegion, ProxyBackend, type BackendResult, type CachedValue, type NoValue } from '../../src/index.js';
import {
  LocalTier,
  SharedInvalidationStrategy,
  RedisNotifications,
  Etcd3Notifications,
  type NotificationTransport,
} from '../../src/tier/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { Etcd3Backend } from '../../src/backends/etcd3/index.js';
import { PooledMemcachedBackend } from '../../src/backends/memcached/index.js';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { etcdEndpoints, memcachedServers, mongodbUrl } from './servers.js';
import { redisUrl } from './redis.js';

export type BackendKind = 'memcached' | 'etcd3' | 'mongo' | 'redis';
export const BACKEND_KINDS: readonly BackendKind[] = ['memcached', 'etcd3', 'mongo', 'redis'];

/** The backends that carry notifications; the others poll / rely on the local TTL. */
export const NOTIFYING: ReadonlySet<BackendKind> = new Set(['etcd3', 'redis']);

export interface TierSetup {
  kind: BackendKind;
  /** Shared name of the region (invalidation key and channel). */
  name: string;
  /** Poll interval of the shared invalidation, seconds. */
  interval: number;
  /** Local tier TTL in seconds, or null for no local tier. */
  tierTtl: number | null;
  /** Use the backend's notifications (Redis pub/sub, etcd watch) when it has them. */
  notify: boolean;
  /** The backend's distributed lock. */
  distributedLock?: boolean;
}

/** Counts every call that reaches the backend (the network). */
export class CountingProxy extends ProxyBackend {
  calls = 0;
  override get(key: string): Promise<BackendResult> {
    this.calls++;
    return super.get(key);
  }
  override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    this.calls++;
    return super.getMulti(keys);
  }
  override getSerialized(key: string): Promise<Buffer | NoValue> {
    this.calls++;
    return super.getSerialized(key);
  }
  override getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    this.calls++;
    return super.getSerializedMulti(keys);
  }
  override set(key: string, value: CachedValue): Promise<void> {
    this.calls++;
    return super.set(key, value);
  }
  override setSerialized(key: string, value: Buffer): Promise<void> {
    this.calls++;
    return super.setSerialized(key, value);
  }
  override delete(key: string): Promise<void> {
    this.calls++;
    return super.delete(key);
  }
}

export function makeBackend(kind: BackendKind, distributedLock = false): CacheBackend {
  switch (kind) {
    case 'memcached':
      return new PooledMemcachedBackend({ url: memcachedServers(), distributed_lock: distributedLock, lock_timeout: 10 });
    case 'etcd3':
      return new Etcd3Backend({ endpoints: etcdEndpoints(), distributed_lock: distributedLock, lock_timeout: 10 });
    case 'mongo':
      return new MongoBackend({
        db_hosts: mongodbUrl(),
        db_name: 'dogpile_tier_tests',
        cache_collection: 'cache',
        distributed_lock: distributedLock,
        lock_timeout: 10,
      });
    case 'redis':
      return new RedisBackend({ url: redisUrl(), distributed_lock: distributedLock, lock_timeout: 10, lock_sleep: '20ms' });
  }
}

export function transportFor(kind: BackendKind, backend: CacheBackend): NotificationTransport | undefined {
  if (kind === 'redis') return new RedisNotifications(backend as RedisBackend);
  if (kind === 'etcd3') return new Etcd3Notifications(backend as Etcd3Backend);
  return undefined;
}

export interface BuiltRegion {
  region: CacheRegion;
  shared: SharedInvalidationStrategy;
  tier: LocalTier | null;
  /** Calls that reached the backend (reads and writes of the region, the shared strategy's polls excluded). */
  counter: CountingProxy;
}

export function buildRegion(
  setup: TierSetup,
  transport?: NotificationTransport,
  onError?: (error: unknown, during: string) => void,
): BuiltRegion {
  const backend = makeBackend(setup.kind, setup.distributedLock ?? false);
  const notify = setup.notify ? (transport ?? transportFor(setup.kind, backend)) : undefined;
  const errors = onError ? { onError } : {};
  const shared = new SharedInvalidationStrategy({
    name: setup.name,
    interval: setup.interval,
    ...errors,
    ...(notify ? { transport: notify } : {}),
  });
  const tier =
    setup.tierTtl === null
      ? null
      : new LocalTier({ maxEntries: 10_000, ttl: setup.tierTtl, ...errors, ...(notify ? { transport: notify, channel: setup.name } : {}) });
  const counter = new CountingProxy();
  const region = new CacheRegion({ name: setup.name }).configure(backend, {
    expirationTime: 600,
    // Outermost first: the tier answers hits; the counter sees what goes past it; the shared
    // strategy reads its key beside the counter, directly on the backend.
    wrap: tier === null ? [counter, shared] : [tier, counter, shared],
    regionInvalidator: shared,
  });
  return { region, shared, tier, counter };
}
