/**
 * The herd (issue 8): 1,000 concurrent get-or-create on a cold key, for each library that has a
 * get-or-create. Counts creator calls (1 is the goal: the rest wait for that one value) and the wall
 * time against the creator's own time. Run: `npm run bench:herd`.
 */
import { check, figureOf, isMain, printMachine, printSections, type Figure, type Section } from './lib.js';
import { contenders } from './peers.js';

const CALLERS = 1000;
const CREATOR_MS = 50;
const RUNS = 5;

export async function runHerd(): Promise<Section[]> {
  const calls: Figure[] = [];
  const wall: Figure[] = [];
  for (const c of await contenders()) {
    const getOrCreate = c.getOrCreate;
    if (!getOrCreate) {
      await c.close?.();
      continue;
    }
    const created: number[] = [];
    const ms: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const key = `herd:${run}:${Math.random()}`;
      let n = 0;
      const value = { id: run, name: 'fresh' };
      const creator = async (): Promise<unknown> => {
        n++;
        await new Promise((resolve) => setTimeout(resolve, CREATOR_MS));
        return value;
      };
      const started = performance.now();
      const got = await Promise.all(Array.from({ length: CALLERS }, () => getOrCreate(key, creator)));
      const elapsed = performance.now() - started;
      check(
        got.every((g) => g !== undefined && g !== null && (g as { id: number }).id === run),
        `${c.name}: every caller of the herd gets the created value`,
      );
      if (run === 0) continue; // warm-up
      created.push(n);
      ms.push(elapsed);
    }
    calls.push(figureOf(c.name, created, 'creator calls'));
    wall.push(figureOf(c.name, ms, 'ms'));
    await c.close?.();
  }
  return [
    {
      id: 'herd-calls',
      title: `Herd: creator calls for ${CALLERS.toLocaleString('en')} concurrent get-or-create on a cold key`,
      figures: calls,
      lowerIsBetter: true,
      note: `Goal: 1 (one creator call, everyone else waits for its value). Median of ${RUNS} runs after a warm-up, fresh key each run.`,
    },
    {
      id: 'herd-wall',
      title: `Herd: wall time for ${CALLERS.toLocaleString('en')} callers, ${CREATOR_MS} ms creator`,
      figures: wall,
      lowerIsBetter: true,
      note: `The creator alone takes ${CREATOR_MS} ms; anything above it is the cost of queueing and waking ${CALLERS.toLocaleString('en')} callers.`,
    },
  ];
}

if (isMain(import.meta.url)) {
  printMachine('dogpile-cache herd benchmark');
  printSections(await runHerd());
}
