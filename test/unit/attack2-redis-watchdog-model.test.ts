// Adversarial model test of CommandWatchdog (src/backends/redis/watchdog.ts) on mocked timers and a clock the
// test moves: random interleavings of commands sent in bursts (the ring grows with its head anywhere),
// replies and failures in any order (out of order as from a cluster's nodes), and time passing. Each command
// must settle exactly once: with its reply or failure when that came before its deadline, else with the
// timeout, which is never before `timeout` nor after `timeout + tick` from when it was sent; `then` runs at
// most once and never for a late reply; when nothing is pending the queue empties and the timer stops.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import fc from 'fast-check';
import { CommandWatchdog } from '../../src/backends/redis/watchdog.js';
import { SEED } from '../support/model-harness.js';

const TIMEOUT = 50;
const TICK = 5;

type Step = { op: 'send'; n: number } | { op: 'reply'; pick: number; fail: boolean } | { op: 'advance'; ms: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('send' as const), n: fc.integer({ min: 1, max: 90 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('reply' as const), pick: fc.nat(), fail: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 70 }) }), weight: 2 },
);

interface Tracked {
  sentAt: number;
  repliedAt: number | null;
  resolve: (v: number) => void;
  reject: (e: unknown) => void;
  outcomes: { at: number; kind: 'value' | 'failed' | 'timeout' }[];
  thenCalls: number;
}

let clock = 0;
const flush = async (): Promise<void> => {
  for (let i = 0; i < 6; i++) await Promise.resolve();
};

describe('attack2: CommandWatchdog under random interleavings', () => {
  beforeEach(() => {
    clock = 0;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => {
    mock.timers.reset();
  });

  it('every command settles once, within its window, with its own reply when that came in time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        mock.timers.reset();
        mock.timers.enable({ apis: ['setTimeout'] });
        clock = 0;
        const w = new CommandWatchdog(
          TIMEOUT,
          (what, error) =>
            Object.assign(new Error(`${what}: ${String((error as Error).message)}`), {
              timeout: /timed out/.test(String((error as Error).message)),
            }),
          () => clock,
        );
        const all: Tracked[] = [];
        const advance = async (ms: number): Promise<void> => {
          for (let i = 0; i < ms; i++) {
            clock++;
            mock.timers.tick(1);
            await flush();
          }
        };
        for (const s of steps) {
          if (s.op === 'send') {
            for (let i = 0; i < s.n; i++) {
              let resolve!: (v: number) => void;
              let reject!: (e: unknown) => void;
              const command = new Promise<number>((res, rej) => {
                resolve = res;
                reject = rej;
              });
              const t: Tracked = { sentAt: clock, repliedAt: null, resolve, reject, outcomes: [], thenCalls: 0 };
              all.push(t);
              w.watch('GET', command, (v) => {
                t.thenCalls++;
                return v * 2;
              }).then(
                () => void t.outcomes.push({ at: clock, kind: 'value' }),
                (e: unknown) => void t.outcomes.push({ at: clock, kind: (e as { timeout?: boolean }).timeout ? 'timeout' : 'failed' }),
              );
            }
          } else if (s.op === 'reply') {
            const open = all.filter((t) => t.repliedAt === null);
            const t = open[s.pick % Math.max(open.length, 1)];
            if (t === undefined) continue;
            t.repliedAt = clock;
            if (s.fail) t.reject(new Error('driver failed'));
            else t.resolve(1);
            await flush();
          } else await advance(s.ms);
        }
        // Every command still unanswered times out; replies after that are ignored.
        await advance(TIMEOUT + TICK + 1);
        for (const t of all) {
          if (t.repliedAt === null) {
            t.repliedAt = clock;
            t.resolve(1);
          }
        }
        await flush();
        await advance(TIMEOUT + TICK + 1);
        for (const [i, t] of all.entries()) {
          assert.equal(t.outcomes.length, 1, `command ${i} settled ${t.outcomes.length} times`);
          const [o] = t.outcomes as [Tracked['outcomes'][number]];
          assert.ok(t.thenCalls <= 1, `then ran ${t.thenCalls} times`);
          if (o.kind === 'timeout') {
            assert.ok(
              o.at >= t.sentAt + TIMEOUT && o.at <= t.sentAt + TIMEOUT + TICK,
              `command ${i} sent at ${t.sentAt} timed out at ${o.at}`,
            );
            assert.ok((t.repliedAt as number) >= t.sentAt + TIMEOUT, `command ${i} replied at ${t.repliedAt} but timed out`);
            assert.equal(t.thenCalls, 0, 'then ran for a late reply');
          } else {
            assert.equal(o.at, t.repliedAt, `command ${i} settled at ${o.at}, replied at ${t.repliedAt}`);
            assert.ok(o.at <= t.sentAt + TIMEOUT + TICK);
            assert.equal(t.thenCalls, o.kind === 'value' ? 1 : 0);
          }
        }
        assert.equal(w.pending, 0);
        assert.equal(w.timerActive, false);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
