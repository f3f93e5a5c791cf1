// DefaultInvalidationStrategy on its own (src/invalidation.ts), with a manual clock: written to kill the
// mutants the region suites left alive (the default mode, the "created before" boundary, and hard
// vs soft being told apart when a value predates the invalidation and when it does not).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/clock.js';
import { DefaultInvalidationStrategy } from '../../src/invalidation.js';

describe('DefaultInvalidationStrategy', () => {
  it('before any invalidation nothing is invalidated and neither mode is reported', () => {
    const strategy = new DefaultInvalidationStrategy(manualClock(5_000));
    assert.equal(strategy.isInvalidated(0), false);
    assert.equal(strategy.isHardInvalidated(0), false);
    assert.equal(strategy.isSoftInvalidated(0), false);
    assert.equal(strategy.wasHardInvalidated(), false);
    assert.equal(strategy.wasSoftInvalidated(), false);
    // A comparison with "no invalidation yet" must not happen at all: `-1 < null` is true in JavaScript.
    assert.equal(strategy.isInvalidated(-1), false, 'a creation time before the epoch is not invalidated either');
  });

  it('invalidate() with no argument is hard', () => {
    const strategy = new DefaultInvalidationStrategy(manualClock(5_000));
    strategy.invalidate();
    assert.equal(strategy.wasHardInvalidated(), true);
    assert.equal(strategy.wasSoftInvalidated(), false);
    assert.equal(strategy.isHardInvalidated(4), true);
    assert.equal(strategy.isSoftInvalidated(4), false);
  });

  it('a value created before the invalidation is invalidated; one created at or after it is not', () => {
    const clock = manualClock(10_000); // epoch ms; values carry creation times in epoch seconds
    const strategy = new DefaultInvalidationStrategy(clock);
    strategy.invalidate(true);
    assert.equal(strategy.isInvalidated(9.999), true);
    assert.equal(strategy.isInvalidated(10), false, 'created in the same instant: kept, as dogpile (ct < invalidated)');
    assert.equal(strategy.isInvalidated(10.001), false);
    clock.advance(5_000);
    assert.equal(strategy.isInvalidated(10.001), false, 'the invalidation time is fixed when invalidate() is called');
  });

  it('hard: isHardInvalidated only for values created before; isSoftInvalidated never', () => {
    const strategy = new DefaultInvalidationStrategy(manualClock(10_000));
    strategy.invalidate(true);
    assert.equal(strategy.isHardInvalidated(9), true);
    assert.equal(strategy.isHardInvalidated(11), false);
    assert.equal(strategy.isSoftInvalidated(9), false);
    assert.equal(strategy.isSoftInvalidated(11), false);
  });

  it('soft: isSoftInvalidated only for values created before; isHardInvalidated never', () => {
    const strategy = new DefaultInvalidationStrategy(manualClock(10_000));
    strategy.invalidate(false);
    assert.equal(strategy.wasSoftInvalidated(), true);
    assert.equal(strategy.wasHardInvalidated(), false);
    assert.equal(strategy.isSoftInvalidated(9), true);
    assert.equal(strategy.isSoftInvalidated(11), false);
    assert.equal(strategy.isHardInvalidated(9), false);
    assert.equal(strategy.isHardInvalidated(11), false);
  });

  it('the last invalidation decides the mode, and moves the time forward', () => {
    const clock = manualClock(10_000);
    const strategy = new DefaultInvalidationStrategy(clock);
    strategy.invalidate(false);
    clock.advance(10_000);
    strategy.invalidate(true);
    assert.equal(strategy.wasHardInvalidated(), true);
    assert.equal(strategy.wasSoftInvalidated(), false);
    assert.equal(strategy.isHardInvalidated(15), true, 'created between the two: the later, hard one applies');
    assert.equal(strategy.isSoftInvalidated(15), false);
  });

  it('uses the system clock by default', () => {
    const strategy = new DefaultInvalidationStrategy();
    const before = Date.now() / 1000;
    strategy.invalidate();
    assert.equal(strategy.isInvalidated(before - 1), true);
    // Generous margin: only "not in the past" matters, and a busy machine may take a while between lines.
    assert.equal(strategy.isInvalidated(Date.now() / 1000 + 60), false);
  });
});
