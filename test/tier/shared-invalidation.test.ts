// SharedInvalidationStrategy's catch-up after its notification subscription comes back, without a
// server: the transport is an in-process channel (the interface is ours; no server behaviour is faked),
// and the backend's failing read is a proxy, because a real server cannot be made to fail exactly the
// one read that follows a reconnect.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DictionaryBackend } from '../../src/backends/dictionary.js';
import { CacheRegion } from '../../src/index.js';
import { ProxyBackend } from '../../src/proxy.js';
import {
  SHARED_INVALIDATION_PREFIX,
  SharedInvalidationStrategy,
  type NotificationListener,
  type NotificationSubscription,
  type NotificationTransport,
} from '../../src/tier/index.js';

/** An in-process channel whose subscribers can be dropped and brought back. */
class LocalChannel implements NotificationTransport {
  readonly listeners = new Set<NotificationListener>();
  up = true;
  async publish(_channel: string, text: string): Promise<void> {
    if (this.up) for (const listener of this.listeners) listener.message(text);
  }
  async subscribe(_channel: string, listener: NotificationListener): Promise<NotificationSubscription> {
    this.listeners.add(listener);
    return { close: async () => void this.listeners.delete(listener) };
  }
  drop(): void {
    this.up = false;
    for (const listener of this.listeners) listener.down();
  }
  restore(): void {
    this.up = true;
    for (const listener of this.listeners) listener.up();
  }
}

/** Fails reads of the strategy's internal key while `failures` is above 0 (counting down). */
class FailingInternalReads extends ProxyBackend {
  failures = 0;
  override async get(key: string) {
    if (key.startsWith(SHARED_INVALIDATION_PREFIX) && this.failures > 0) {
      this.failures--;
      throw new Error('read failed (injected)');
    }
    return super.get(key);
  }
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(what);
    await sleep(5);
  }
}

describe('SharedInvalidationStrategy after its subscription comes back', () => {
  it('keeps polling until a read after up() succeeds, so an invalidation sent while it was down is not missed', async () => {
    const storage = new DictionaryBackend();
    const channel = new LocalChannel();
    const failing = new FailingInternalReads();
    const reader = new SharedInvalidationStrategy({ name: 'r', interval: 0.02, transport: channel, onError: () => undefined });
    const writer = new SharedInvalidationStrategy({ name: 'r', interval: 60, onError: () => undefined });
    const readerRegion = new CacheRegion().configure(storage, {
      expirationTime: 600,
      wrap: [reader, failing],
      regionInvalidator: reader,
      replaceExistingBackend: true,
    });
    const writerRegion = new CacheRegion().configure(storage, {
      expirationTime: 600,
      wrap: [writer],
      regionInvalidator: writer,
      replaceExistingBackend: true,
    });
    try {
      await Promise.all([reader.ready(), writer.ready()]);
      assert.equal(reader.notified, true);
      // Every read of the internal key fails from here until the subscription is back.
      failing.failures = Number.POSITIVE_INFINITY;
      channel.drop();
      assert.equal(reader.notified, false);
      // Written (and published, to nobody) while the reader's subscription is down.
      writerRegion.invalidate(false);
      await writer.flush();
      channel.restore();
      // up()'s catch-up read failed: the reader must not trust the subscription yet.
      await sleep(60);
      assert.equal(reader.wasSoftInvalidated(), false);
      assert.equal(reader.notified, false, 'notified after a failed catch-up read: polling stopped with the invalidation unseen');
      failing.failures = 0;
      await until('the reader never saw the invalidation made while it was down', () => reader.wasSoftInvalidated());
      await until('the reader never went back to notifications', () => reader.notified);
    } finally {
      await Promise.all([readerRegion.close(), writerRegion.close()]);
    }
  });

  it('pauses polling once notified: no read of the internal key while the subscription is up', async () => {
    const channel = new LocalChannel();
    const strategy = new SharedInvalidationStrategy({ name: 'p', interval: 0.02, transport: channel });
    const region = new CacheRegion().configure(new DictionaryBackend(), {
      expirationTime: 600,
      wrap: [strategy],
      regionInvalidator: strategy,
    });
    try {
      await strategy.ready();
      const polls = strategy.polls;
      await sleep(150);
      assert.equal(strategy.polls, polls);
    } finally {
      await region.close();
    }
  });
});
