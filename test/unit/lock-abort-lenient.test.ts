// Under onBackendError 'miss', the region's lenient lock (src/region.ts #lenientMutex) runs the creator
// unlocked when the backend's lock fails. A mutex that rejects when the caller's signal aborts (outside the
// CacheMutex contract, which says it resolves false; the memcached mutex did until this fix) did not fail:
// the caller left. A stub mutex stands in for such a third-party backend (no real server rejects this way now).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheRegion, DictionaryBackend, type CacheMutex } from '../../src/index.js';

/** A Dictionary whose distributed lock is held by someone else, and whose waits reject on abort. */
class HeldLockBackend extends DictionaryBackend {
  override getMutex(): CacheMutex {
    return {
      acquire: (wait = true, signal?: AbortSignal) =>
        new Promise<boolean>((resolve, reject) => {
          if (!wait) return resolve(false);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      release: async () => {},
      locked: async () => true,
    };
  }
}

describe("the lenient lock under onBackendError 'miss'", () => {
  it('a lock wait rejected because the caller aborted is no lock failure: no error event, no unlocked create, no creator run', async () => {
    const region = new CacheRegion({ onBackendError: 'miss' }).configure(new HeldLockBackend(), { expirationTime: 60 });
    const errors: string[] = [];
    region.on('error', (event) => void errors.push(event.operation));
    const controller = new AbortController();
    const reason = new Error('the caller left');
    let ran = false;
    const getting = region.getOrCreate(
      'k',
      () => {
        ran = true;
        return 1;
      },
      { signal: controller.signal },
    );
    await sleep(20);
    controller.abort(reason);
    await assert.rejects(getting, (e: unknown) => e === reason);
    assert.equal(ran, false);
    assert.deepEqual(errors, []);
    assert.equal(region.stats().unlockedCreates, 0);
  });
});
