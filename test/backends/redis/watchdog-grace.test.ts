// CommandWatchdog's grace for a blocked event loop (src/backends/redis/watchdog.ts), on mocked timers and a
// clock the test moves (no server): a timer run late (the clock went on while no timer could run) rejects
// nothing and gives the overdue commands one tick to get their replies; the grace run rejects what is still
// overdue, after one setImmediate when it too runs late; no command gets a second grace, so a hung server
// is failed however the loop behaves. A timer on time rejects at once, as before (test/unit/redis-watchdog.test.ts).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { CommandWatchdog, LATE_MS } from '../../../src/backends/redis/watchdog.js';

const TIMEOUT = 100;
const TICK = 10;

let clock = 0;
const watchdog = (): CommandWatchdog =>
  new CommandWatchdog(
    TIMEOUT,
    (what, error) => new Error(`${what}: ${(error as Error).message}`),
    () => clock,
  );
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
/** Time passes with the loop free: the clock and the timers move together, 1 ms at a time. */
async function run(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock++;
    mock.timers.tick(1);
    await flush();
  }
}
/** The loop is blocked for `ms`: the clock moves, no timer runs; at the end the due timers run, late. */
async function block(ms: number): Promise<void> {
  clock += ms;
  mock.timers.tick(ms);
  await flush();
}
function command(): { promise: Promise<string>; resolve(value: string): void } {
  let resolve!: (value: string) => void;
  const promise = new Promise<string>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}
/** The outcome so far, read through a call so that a null check does not narrow later reads. */
const pendingOutcome = (box: { outcome: unknown }): unknown => box.outcome;
function track(promise: Promise<unknown>): { outcome: { at: number; value?: unknown; error?: unknown } | null } {
  const box: { outcome: { at: number; value?: unknown; error?: unknown } | null } = { outcome: null };
  promise.then(
    (value) => void (box.outcome = { at: clock, value }),
    (error: unknown) => void (box.outcome = { at: clock, error }),
  );
  return box;
}

describe('CommandWatchdog: a blocked event loop', () => {
  beforeEach(() => {
    clock = 0;
    // setImmediate stays real: the deferred expiry of a late grace run is one, queued behind nothing else.
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => {
    mock.timers.reset();
  });

  it('a timer run late rejects nothing; a reply within the next tick resolves its command', async () => {
    const w = watchdog();
    const c = command();
    const box = track(w.watch('GET', c.promise));
    await block(2 * TIMEOUT); // the deadline passed while blocked
    assert.equal(pendingOutcome(box), null, 'not rejected by the late timer run');
    await run(1);
    c.resolve('answered'); // read in the loop's next turn
    await flush();
    assert.deepEqual(box.outcome, { at: 2 * TIMEOUT + 1, value: 'answered' });
    await run(TICK);
    assert.equal(w.pending, 0);
  });

  it('without a reply, the grace run rejects one tick after the late run (a hung server)', async () => {
    const w = watchdog();
    const box = track(w.watch('GET', command().promise));
    await block(2 * TIMEOUT);
    await run(TICK - 1);
    assert.equal(pendingOutcome(box), null);
    await run(1);
    assert.match(String(box.outcome?.error), /GET: Command timed out/);
    assert.equal(box.outcome?.at, 2 * TIMEOUT + TICK);
  });

  it('a grace run that is late too lets one setImmediate pass (a reply then still wins), then rejects: no second grace', async () => {
    const w = watchdog();
    const answered = command();
    const answeredBox = track(w.watch('GET', answered.promise));
    const hungBox = track(w.watch('GET', command().promise));
    await block(2 * TIMEOUT);
    await block(3 * TICK); // blocked again through the grace
    assert.equal(pendingOutcome(answeredBox), null);
    assert.equal(pendingOutcome(hungBox), null);
    answered.resolve('read before the immediate'); // the reads of that turn come before the immediates
    await flush();
    await new Promise((resolve) => setImmediate(resolve)); // a real immediate, queued after the watchdog's
    await flush();
    assert.deepEqual(answeredBox.outcome, { at: 2 * TIMEOUT + 3 * TICK, value: 'read before the immediate' });
    assert.match(String(hungBox.outcome?.error), /timed out/);
    assert.equal(hungBox.outcome?.at, 2 * TIMEOUT + 3 * TICK, 'no second grace');
    assert.equal(w.pending, 0);
  });

  it(`a timer late by at most LATE_MS (${LATE_MS} ms) counts as on time and rejects at once`, async () => {
    const w = watchdog();
    const box = track(w.watch('GET', command().promise));
    await run(TIMEOUT - 1);
    await block(1 + LATE_MS);
    assert.match(String(box.outcome?.error), /timed out/);
    const late = track(w.watch('GET', command().promise));
    await run(TIMEOUT - 1);
    await block(2 + LATE_MS);
    assert.equal(pendingOutcome(late), null, 'later than LATE_MS: a grace');
    await run(TICK);
    assert.match(String(late.outcome?.error), /timed out/);
  });

  it('commands sent after the block keep their own deadlines; the timer stops once nothing is pending', async () => {
    const w = watchdog();
    const early = track(w.watch('GET', command().promise));
    await block(2 * TIMEOUT);
    const after = command();
    const afterBox = track(w.watch('GET', after.promise)); // sent during the grace
    await run(TICK);
    assert.match(String(early.outcome?.error), /timed out/);
    assert.equal(pendingOutcome(afterBox), null, 'not failed with the overdue one');
    await run(TIMEOUT - 2 * TICK);
    after.resolve('v');
    await flush();
    assert.equal(afterBox.outcome?.value, 'v');
    await run(2 * TIMEOUT);
    assert.equal(w.pending, 0);
    assert.equal(w.timerActive, false);
  });
});
