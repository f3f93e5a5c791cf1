// CommandWatchdog's grace for a blocked event loop (src/backends/redis/watchdog.ts), on mocked timers and a
// clock the test moves (no server): a timer run late (the clock went on while no timer could run) rejects
// nothing and gives the overdue commands one tick to get their replies; the grace run rejects what is still
// overdue, after one setImmediate when it too runs late; no command gets a second grace, so a hung server
// is failed however the loop behaves. A timer on time rejects at once, as before (test/unit/redis-watchdog.test.ts).
// Commands whose coalesced write leaves only when a block ends (leftNow) count their timeout from then.
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

/** Each test of the enclosing describe starts at clock 0 with setTimeout mocked. */
function useMockedTimers(): void {
  beforeEach(() => {
    clock = 0;
    // setImmediate stays real: the deferred expiry of a late grace run is one, queued behind nothing else.
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => {
    mock.timers.reset();
  });
}

describe('CommandWatchdog: a blocked event loop', () => {
  useMockedTimers();

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

describe('CommandWatchdog.leftNow: a coalesced write that leaves only after a block', () => {
  useMockedTimers();

  /** The loop is blocked for `ms`; when it ends, the tick's corked write leaves (nextTick), then the timers run. */
  async function blockThenLeave(w: CommandWatchdog, mark: number, ms: number): Promise<void> {
    clock += ms;
    w.leftNow(mark);
    mock.timers.tick(ms);
    await flush();
  }

  it('the commands watched since the mark get the whole timeout from when they leave; the one before keeps its deadline', async () => {
    const w = watchdog();
    const firstBox = track(w.watch('GET', command().promise)); // written at once, before the mark
    const mark = w.mark();
    const corked = track(w.watch('MGET', command().promise));
    const alsoCorked = track(w.watch('SET', command().promise));
    await blockThenLeave(w, mark, 2 * TIMEOUT);
    await run(TICK);
    assert.match(String(firstBox.outcome?.error), /GET: Command timed out/, 'the first command gets one grace');
    assert.equal(firstBox.outcome?.at, 2 * TIMEOUT + TICK);
    assert.equal(pendingOutcome(corked), null, 'not failed with it');
    await run(TIMEOUT - TICK - 1);
    assert.equal(pendingOutcome(corked), null, 'not before the timeout, counted from when it left');
    assert.equal(pendingOutcome(alsoCorked), null);
    await run(1 + TICK);
    assert.match(String(corked.outcome?.error), /MGET: Command timed out/);
    assert.match(String(alsoCorked.outcome?.error), /SET: Command timed out/);
    assert.ok((corked.outcome?.at ?? 0) >= 3 * TIMEOUT && (corked.outcome?.at ?? 0) <= 3 * TIMEOUT + TICK);
    assert.equal(w.pending, 0);
  });

  it('a reply to a command that left late resolves it', async () => {
    const w = watchdog();
    const mark = w.mark();
    const c = command();
    const box = track(w.watch('GET', c.promise));
    await blockThenLeave(w, mark, 2 * TIMEOUT);
    await run(3 * TICK); // past the one-tick grace the late timer would give
    c.resolve('answered');
    await flush();
    assert.deepEqual(box.outcome, { at: 2 * TIMEOUT + 3 * TICK, value: 'answered' });
  });

  it(`a write that leaves within LATE_MS (${LATE_MS} ms) keeps its deadline; later, the deadline moves`, async () => {
    const w = watchdog();
    let mark = w.mark();
    const onTime = track(w.watch('GET', command().promise));
    clock += LATE_MS;
    w.leftNow(mark);
    mock.timers.tick(LATE_MS);
    await run(TIMEOUT - LATE_MS);
    assert.match(String(onTime.outcome?.error), /timed out/);
    assert.equal(onTime.outcome?.at, TIMEOUT, 'rejected at its own deadline');

    const start = clock;
    mark = w.mark();
    const moved = track(w.watch('GET', command().promise));
    clock += LATE_MS + 1;
    w.leftNow(mark);
    mock.timers.tick(LATE_MS + 1);
    await run(TIMEOUT - LATE_MS - 1);
    assert.equal(pendingOutcome(moved), null, 'its deadline counts from when it left');
    await run(LATE_MS + 1 + TICK);
    assert.match(String(moved.outcome?.error), /timed out/);
    assert.ok((moved.outcome?.at ?? 0) > start + TIMEOUT);
  });

  it('settled commands, a head already dropped and a mark with nothing after it are handled', async () => {
    const w = watchdog();
    w.leftNow(w.mark()); // nothing watched: no-op on an empty queue
    const mark = w.mark();
    const answered = command();
    const answeredBox = track(w.watch('GET', answered.promise));
    const hung = track(w.watch('GET', command().promise));
    answered.resolve('v'); // settled and dropped from the head before the write "leaves"
    await flush();
    assert.equal(w.pending, 1);
    await blockThenLeave(w, mark, 2 * TIMEOUT);
    assert.equal(answeredBox.outcome?.value, 'v');
    await run(TIMEOUT - 1);
    assert.equal(pendingOutcome(hung), null, 'moved although the mark counts a command no longer queued');
    await run(1 + TICK);
    assert.match(String(hung.outcome?.error), /timed out/);
    w.leftNow(mark); // a stale mark after everything settled: no-op
    assert.equal(w.pending, 0);
  });
});

describe('CommandWatchdog: what its mutation run found untested', () => {
  useMockedTimers();

  it('a reply after the deadline is ignored: the then callback never runs for a command that timed out', async () => {
    const w = watchdog();
    const c = command();
    let thenCalls = 0;
    const box = track(
      w.watch('GET', c.promise, (value) => {
        thenCalls++;
        return value;
      }),
    );
    await run(TIMEOUT);
    assert.match(String(box.outcome?.error), /timed out/);
    c.resolve('late');
    await flush();
    assert.equal(thenCalls, 0);
  });

  it('a command gets a grace of its own after an earlier command used one', async () => {
    const w = watchdog();
    const first = track(w.watch('GET', command().promise));
    await block(2 * TIMEOUT);
    await run(TICK);
    assert.match(String(first.outcome?.error), /timed out/, 'the first used its grace (a hung server)');
    const second = command();
    const secondBox = track(w.watch('GET', second.promise));
    await block(2 * TIMEOUT); // blocked again: this late run must give the second its own grace
    // A turn of the real loop passes (a grace run that ran late would expire the command in it).
    await new Promise((resolve) => setImmediate(resolve));
    await run(1);
    second.resolve('answered');
    await flush();
    assert.deepEqual(secondBox.outcome, { at: 4 * TIMEOUT + TICK + 1, value: 'answered' });
  });

  it('a command that fails after it timed out is wrapped once: its late error is ignored', async () => {
    let wraps = 0;
    const w = new CommandWatchdog(
      TIMEOUT,
      (what, error) => {
        wraps++;
        return new Error(`${what}: ${(error as Error).message}`);
      },
      () => clock,
    );
    let fail!: (error: Error) => void;
    const box = track(w.watch('GET', new Promise<string>((_, reject) => (fail = reject))));
    await run(TIMEOUT);
    assert.match(String(box.outcome?.error), /timed out/);
    fail(new Error('connection reset'));
    await flush();
    assert.equal(wraps, 1);
    assert.match(String(box.outcome?.error), /timed out/);
  });

  it('a late run after the head moved on (earlier commands answered) judges the command now at the head', async () => {
    const w = watchdog();
    const answered = [command(), command(), command()];
    for (const c of answered) track(w.watch('GET', c.promise));
    const hung = track(w.watch('GET', command().promise));
    for (const c of answered) c.resolve('v');
    await flush();
    assert.equal(w.pending, 1);
    await block(2 * TIMEOUT);
    assert.equal(pendingOutcome(hung), null, 'a grace');
    await run(TICK);
    assert.match(String(hung.outcome?.error), /timed out/);
    assert.equal(w.pending, 0);
  });
});
