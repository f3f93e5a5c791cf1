// The in-process lock as the region uses it (src/lock.ts KeyedMutexes under src/region.ts): found while
// killing the mutant that drops KeyedMutexes' "is this still the key's mutex?" guard (issue 23). A
// key's mutex object is dropped once idle; a caller that fetched it earlier and locks it later holds a
// lock nobody else sees, so two creators of one key could run at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheRegion } from '../../src/index.js';

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Yields to the event loop until `done()` holds (at most `limit` turns: a deadlock fails the test instead of hanging it). */
async function until(done: () => boolean, what: string, limit = 10_000): Promise<void> {
  for (let turn = 0; turn < limit; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}

describe("one creator per key at a time, also after a leader's value was refused", () => {
  it("a caller that joined a refused attempt and runs its own creator holds the key's lock: a newcomer waits and reads its value (dogpile)", async () => {
    const region = new CacheRegion().configure('dictionary', { expirationTime: 60 });
    const started: string[] = [];
    const leaderGate = gate();
    const joinerGate = gate();
    const creator = (name: string, wait?: Promise<void>) => async (): Promise<string> => {
      started.push(name);
      await wait;
      return name;
    };
    const leader = region.getOrCreate('k', creator('leader', leaderGate.promise), { shouldCacheFn: () => false });
    await until(() => started.includes('leader'), 'the leader creates');
    const joiner = region.getOrCreate('k', creator('joiner', joinerGate.promise));
    await until(() => region.stats().waiting === 1, 'the joiner waits for the leader');
    leaderGate.open();
    assert.equal(await leader, 'leader');
    // As in dogpile, a value the leader's shouldCacheFn refused is not shared: the joiner creates its own.
    await until(() => started.includes('joiner'), 'the joiner creates');
    const newcomer = region.getOrCreate('k', creator('newcomer'));
    await until(() => started.includes('newcomer') || region.stats().waiting === 1, 'the newcomer creates or waits');
    assert.deepEqual(started, ['leader', 'joiner'], 'the newcomer must wait for the joiner, which holds the lock');
    joinerGate.open();
    assert.equal(await joiner, 'joiner');
    assert.equal(await newcomer, 'joiner', 'the newcomer reads what the joiner stored');
    assert.deepEqual(started, ['leader', 'joiner']);
  });
});
