// CommandWatchdog (src/backends/redis/watchdog.ts) on mocked timers and a clock the test moves: the
// exact window in which a command without a reply fails ([sent + timeout, sent + timeout + tick]),
// replies that win or lose the race, the queue's order when replies come out of order, the ring
// growing, and the timer stopping when nothing is pending. The real-server side (SIGSTOP) is in
// test/backends/redis/watchdog.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CommandWatchdog, MIN_TICK_MS } from '../../src/backends/redis/watchdog.js';

const TIMEOUT = 100;
const TICK = 10;

class Wrapped extends Error {
  constructor(
    readonly what: string,
    readonly original: unknown,
  ) {
    super(`${what}: ${(original as Error).message}`);
  }
}

/** A command the test settles by hand. */
function command<T = string>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Where a watched promise ended, and at which clock time. */
type Outcome = { at: number; value?: unknown; error?: unknown } | null;

let clock = 0;
const watchdog = (): CommandWatchdog =>
  new CommandWatchdog(
    TIMEOUT,
    (what, error) => new Wrapped(what, error),
    () => clock,
  );
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
/** Moves the clock and the mocked timers forward 1 ms at a time, so a timer runs at its exact time. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock++;
    mock.timers.tick(1);
    await flush();
  }
}
function track(promise: Promise<unknown>): { readonly outcome: Outcome } {
  const box: { outcome: Outcome } = { outcome: null };
  promise.then(
    (value) => void (box.outcome = { at: clock, value }),
    (error: unknown) => void (box.outcome = { at: clock, error }),
  );
  return box;
}

describe('CommandWatchdog', () => {
  beforeEach(() => {
    clock = 0;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => {
    mock.timers.reset();
  });

  it('the tick is a tenth of the timeout, at least MIN_TICK_MS', () => {
    assert.equal(watchdog().tickMs, TICK);
    assert.equal(new CommandWatchdog(20, (_, e) => e as Error).tickMs, MIN_TICK_MS);
    assert.equal(new CommandWatchdog(5001, (_, e) => e as Error).tickMs, 501);
  });

  it('a command without a reply fails no earlier than the timeout and no later than timeout + tick after it was sent', async () => {
    const w = watchdog();
    // Sent at every ms over two ticks' worth of time, plus stragglers: each lands somewhere else in a batch.
    const sentAt = [0, 1, 2, 5, 9, 10, 11, 19, 20, 37, 95, 99, 100, 101, 150, 209, 210];
    const tracked: { sent: number; box: { readonly outcome: Outcome } }[] = [];
    let next = 0;
    for (let t = 0; t <= 400; t++) {
      while (next < sentAt.length && sentAt[next] === t) {
        tracked.push({ sent: t, box: track(w.watch(`op${next}`, command().promise)) });
        next++;
      }
      await advance(1);
    }
    for (const [i, { sent, box }] of tracked.entries()) {
      const outcome = box.outcome;
      assert.ok(outcome !== null && outcome.error instanceof Wrapped, `command sent at ${sent} did not fail`);
      assert.equal((outcome.error as Wrapped).what, `op${i}`);
      assert.match((outcome.error as Wrapped).message, /Command timed out \(no reply within socket_timeout, 100 ms\)/);
      assert.ok(outcome.at >= sent + TIMEOUT, `sent at ${sent}, failed at ${outcome.at}: before its deadline`);
      assert.ok(outcome.at <= sent + TIMEOUT + TICK, `sent at ${sent}, failed at ${outcome.at}: later than timeout + tick`);
    }
    // The batching: the timer is aimed at the head (sent at 0, failed at 100), and its next run, a tick
    // later, fails every command overdue by then, not one run per command.
    assert.equal(tracked[0]?.box.outcome?.at, TIMEOUT);
    assert.deepEqual(
      new Set(tracked.slice(1, 6).map((t) => t.box.outcome?.at)),
      new Set([TIMEOUT + TICK]),
      'commands sent at 1..10 fail together',
    );
  });

  it('the first command of an idle watchdog fails exactly at its deadline (the timer is aimed at the head)', async () => {
    const w = watchdog();
    await advance(7);
    const box = track(w.watch('GET', command().promise));
    await advance(TIMEOUT - 1);
    assert.equal(box.outcome, null, 'not before the deadline');
    await advance(1);
    assert.equal((box.outcome as Outcome)?.at, 7 + TIMEOUT, 'at the deadline');
  });

  it('a reply before the deadline resolves (through then) and is never rejected later; a reply after it is ignored', async () => {
    const w = watchdog();
    let mapped = 0;
    const early = command();
    const late = command();
    const earlyBox = track(
      w.watch('GET', early.promise, (v) => {
        mapped++;
        return `parsed ${v}`;
      }),
    );
    const lateBox = track(
      w.watch('GET', late.promise, (v) => {
        mapped++;
        return v;
      }),
    );
    await advance(TIMEOUT - 1);
    early.resolve('a');
    await flush();
    assert.deepEqual(earlyBox.outcome, { at: TIMEOUT - 1, value: 'parsed a' });
    await advance(1);
    assert.ok(lateBox.outcome?.error instanceof Wrapped);
    late.resolve('b');
    late.reject(new Error('too late'));
    await advance(3 * TIMEOUT);
    assert.equal(mapped, 1, 'then runs for the reply in time only');
    assert.deepEqual(earlyBox.outcome, { at: TIMEOUT - 1, value: 'parsed a' });
  });

  it('out-of-order replies: each command keeps its own deadline; the head is dropped only once settled', async () => {
    const w = watchdog();
    const a = command();
    const b = command();
    const c = command();
    const aBox = track(w.watch('A', a.promise));
    await advance(1);
    const bBox = track(w.watch('B', b.promise));
    await advance(49);
    const cBox = track(w.watch('C', c.promise)); // sent at 50
    b.resolve('b'); // settled behind an unsettled head
    await flush();
    assert.equal(w.pending, 3, 'B waits behind A');
    await advance(TIMEOUT - 50); // clock 100: A is overdue
    assert.ok(aBox.outcome?.error instanceof Wrapped);
    assert.equal(aBox.outcome.at, TIMEOUT);
    assert.deepEqual(bBox.outcome, { at: 50, value: 'b' });
    assert.equal(cBox.outcome, null, 'C (deadline 150) is not failed with A');
    assert.equal(w.pending, 1, 'A and the settled B are dropped, C is the head');
    await advance(20);
    c.resolve('c');
    await flush();
    assert.deepEqual(cBox.outcome, { at: 120, value: 'c' });
    assert.equal(w.pending, 0);
  });

  it('a failed command rejects with wrap(what, error); a then that throws rejects with its error', async () => {
    const w = watchdog();
    const failing = command();
    const failed = w.watch('MGET', failing.promise);
    const cause = new Error('ECONNRESET');
    failing.reject(cause);
    await assert.rejects(failed, (e: unknown) => e instanceof Wrapped && e.what === 'MGET' && e.original === cause);
    const corrupt = new Error('corrupt entry');
    const parsed = command();
    const result = w.watch('GET', parsed.promise, () => {
      throw corrupt;
    });
    parsed.resolve('x');
    await assert.rejects(result, (e: unknown) => e === corrupt);
    assert.equal(w.pending, 0);
  });

  it('the ring grows past its first capacity with a head that moved, keeping every command in order', async () => {
    const w = watchdog();
    const first = Array.from({ length: 40 }, () => command());
    const stragglers = first.map((c) => track(w.watch('warm', c.promise)));
    for (const c of first.slice(0, 30)) c.resolve('x'); // the head moves to slot 30
    await flush();
    await advance(1);
    const more = Array.from({ length: 300 }, (_, i) => ({ i, c: command() }));
    const boxes = more.map(({ c }) => track(w.watch('GET', c.promise)));
    assert.equal(w.pending, 310);
    // Replies for the even ones; the odd ones and the 10 first stragglers fail at their deadline.
    for (const { i, c } of more) if (i % 2 === 0) c.resolve(`v${i}`);
    await flush();
    await advance(TIMEOUT + TICK);
    // The 10 unanswered warm-up commands (sent at 0) fail at 100; the odd ones (sent at 1) at the next run.
    for (const box of stragglers.slice(30)) assert.ok(box.outcome?.error instanceof Wrapped && box.outcome.at === TIMEOUT);
    boxes.forEach((box, i) => {
      if (i % 2 === 0) assert.deepEqual(box.outcome, { at: 1, value: `v${i}` }, `command ${i}`);
      else
        assert.ok(
          box.outcome?.error instanceof Wrapped && box.outcome.at === TIMEOUT + TICK,
          `command ${i}: ${JSON.stringify(box.outcome)}`,
        );
    });
    assert.equal(w.pending, 0);
  });

  it('the timer runs only while commands are pending, and stops at its next run after the last one settled', async () => {
    const w = watchdog();
    assert.equal(w.timerActive, false, 'no timer before the first command');
    const c = command();
    const result = w.watch('GET', c.promise);
    assert.equal(w.timerActive, true);
    c.resolve('v');
    await result;
    assert.equal(w.pending, 0);
    await advance(TIMEOUT);
    assert.equal(w.timerActive, false, 'stopped: nothing pending');
    await advance(10 * TIMEOUT);
    assert.equal(w.timerActive, false, 'and not restarted by itself');
    // A new command after the stop is bounded again.
    const box = track(w.watch('GET', command().promise));
    assert.equal(w.timerActive, true);
    await advance(TIMEOUT);
    assert.ok(box.outcome?.error instanceof Wrapped);
  });
});

describe('CommandWatchdog timer (real timers)', () => {
  it("is unref'd: a pending command with a long timeout does not keep the process alive", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const module = path.join(here, '../../src/backends/redis/watchdog.ts');
    const code =
      `import { CommandWatchdog } from ${JSON.stringify(module)};` +
      'const w = new CommandWatchdog(60_000, (_, e) => e);' +
      'w.watch("GET", new Promise(() => {})).catch(() => {});' +
      'if (!w.timerActive) throw new Error("no timer");';
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.ok(Date.now() - started < 20_000, 'the process exited without waiting for the 60 s timer');
  });
});
