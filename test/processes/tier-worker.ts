/**
 * A worker process for the many-processes tests of issue 18 (test/processes/tier-processes.test.ts).
 * It builds a region from DOGPILE_TIER_WORKER (a TierSetup as JSON), says `ready`, then answers
 * one JSON command per stdin line with one JSON line carrying the same `id`:
 * `{ op: 'get' | 'set' | 'delete' | 'invalidate' | 'stats' | 'waitFor' | 'getOrCreate', ... }`.
 * `waitFor` reads a key every few milliseconds until it holds `value` (or is a miss, for `null`)
 * and answers with how long that took: the staleness seen by this process.
 */
import { createInterface } from 'node:readline';
import { isNoValue } from '../../src/index.js';
import { buildRegion, type TierSetup } from '../support/tier.js';

interface Command {
  id: number;
  op: string;
  key?: string;
  value?: string | null;
  hard?: boolean;
  timeoutMs?: number;
  creatorMs?: number;
  callers?: number;
  label?: string;
}

const setup = JSON.parse(process.env.DOGPILE_TIER_WORKER ?? '{}') as TierSetup;
// Background failures (a publish, a poll) are kept and returned with every answer: a test that sees
// a value staying stale can then tell a lost message from a bug.
const errors: string[] = [];
const { region, shared, tier, counter } = buildRegion(setup, undefined, (error, during) =>
  errors.push(`${during}: ${(error as Error)?.message ?? String(error)}`),
);
await shared.ready();
await tier?.ready();
const reply = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

const read = async (key: string): Promise<string | null> => {
  const value = await region.get<string>(key);
  return isNoValue(value) ? null : value;
};

let created = 0;
async function run(command: Command): Promise<Record<string, unknown>> {
  const key = command.key ?? '';
  switch (command.op) {
    case 'get':
      return { value: await read(key) };
    case 'set':
      await region.set(key, command.value);
      return {};
    case 'delete':
      await region.delete(key);
      return {};
    case 'invalidate':
      region.invalidate(command.hard ?? true);
      await shared.flush();
      return {};
    case 'stats':
      return { tier: tier?.stats() ?? null, remoteCalls: counter.calls, polls: shared.polls, notified: shared.notified };
    case 'waitFor': {
      const started = performance.now();
      const deadline = started + (command.timeoutMs ?? 10_000);
      let seen = await read(key);
      while (seen !== command.value && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen = await read(key);
      }
      return { ok: seen === command.value, ms: performance.now() - started, seen, errors };
    }
    case 'getOrCreate': {
      const values = await Promise.all(
        Array.from({ length: command.callers ?? 1 }, () =>
          region.getOrCreate(key, async () => {
            created++;
            await new Promise((resolve) => setTimeout(resolve, command.creatorMs ?? 0));
            return `${command.label ?? 'w'}:${process.pid}`;
          }),
        ),
      );
      return { created, values: [...new Set(values)] };
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
reply({ ready: true });
for await (const line of lines) {
  if (line.trim() === '') continue;
  const command = JSON.parse(line) as Command;
  if (command.op === 'exit') break;
  // Commands run concurrently: a test can start a waitFor and then write from the same process.
  void run(command).then(
    (result) => reply({ id: command.id, ...result }),
    (error: unknown) => reply({ id: command.id, error: String((error as Error)?.stack ?? error) }),
  );
}
lines.close();
await region.close();
