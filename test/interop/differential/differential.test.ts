/**
 * The differential suite (issue 14): every scenario of scenarios.ts runs on the Python reference
 * (Debian's dogpile.cache 1.1.8 and oslo.cache 3.2, through interpreter.py, all scenarios in one
 * process) and on ours (interpreter.ts), and the two traces must be equal, step by step. Steps a
 * scenario marks as deliberate must differ, and their row must be in docs/migrating-from-dogpile.md.
 * See docs/differential.md.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { memcachedServers } from '../../support/servers.js';
import { ScenarioRun } from './interpreter.js';
import { SCENARIOS, type Json, type Scenario } from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.DOGPILE_REFERENCE_PYTHON ?? '/usr/bin/python3';
const MIGRATING = join(here, '..', '..', '..', 'docs', 'migrating-from-dogpile.md');
/** Prefix of this run's keys on the shared memcached (scenarios with the "prefixed" key mangler). */
const RUN = `differential-${randomUUID().slice(0, 8)}`;

/** Runs every scenario on the Python reference in one process; returns the traces by scenario name. */
async function runPython(scenarios: readonly Scenario[]): Promise<Record<string, Json[]>> {
  const child = spawn(PYTHON, [join(here, 'interpreter.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify({ scenarios, run: RUN, memcached: memcachedServers() }));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  if (code !== 0) throw new Error(`The Python reference failed (exit ${code}): ${stderr}`);
  return JSON.parse(stdout) as Record<string, Json[]>;
}

/** Sorts the order-independent parts (a concurrent step's results) so both sides read the same. */
function canonical(entry: Json): Json {
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry) && Array.isArray(entry.results)) {
    return { ...entry, results: [...entry.results].sort((a, b) => (stable(a) < stable(b) ? -1 : stable(a) > stable(b) ? 1 : 0)) };
  }
  return entry;
}

function stable(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Compares two traces; returns one line per differing step. */
function differences(scenario: Scenario, python: readonly Json[], ours: readonly Json[]): string[] {
  const lines: string[] = [];
  const deliberate = new Set(scenario.deliberate?.steps ?? []);
  scenario.steps.forEach((step, i) => {
    const p = stable(canonical(python[i] ?? null));
    const o = stable(canonical(ours[i] ?? null));
    if (deliberate.has(i)) {
      if (p === o) lines.push(`step ${i} (${step.op}) is marked deliberate but no longer differs (${o}): remove the mark and the doc row`);
    } else if (p !== o) {
      lines.push(`step ${i} (${step.op}): python ${p}\n${' '.repeat(String(i).length + 8 + step.op.length)}ours   ${o}`);
    }
  });
  return lines;
}

function title(scenario: Scenario): string {
  if (scenario.known !== undefined) return `${scenario.name} [issue 14 known item ${scenario.known}]`;
  if (scenario.found !== undefined) return `${scenario.name} [found by this suite: ${scenario.found}]`;
  return scenario.name;
}

describe('differential: dogpile.cache 1.1.8 / oslo.cache 3.2 and ours, scenario by scenario', () => {
  let python: Record<string, Json[]> = {};
  before(async () => {
    python = await runPython(SCENARIOS);
  });

  it('has at least 60 scenarios with unique names, and every deliberate row is documented', () => {
    assert.ok(SCENARIOS.length >= 60, `only ${SCENARIOS.length} scenarios`);
    assert.equal(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length, 'scenario names must be unique');
    const doc = readFileSync(MIGRATING, 'utf8');
    for (const scenario of SCENARIOS) {
      if (scenario.deliberate === undefined) continue;
      assert.ok(
        doc.includes(`| ${scenario.deliberate.row} |`),
        `docs/migrating-from-dogpile.md has no row "${scenario.deliberate.row}" (scenario "${scenario.name}")`,
      );
      for (const step of scenario.deliberate.steps)
        assert.ok(step >= 0 && step < scenario.steps.length, `${scenario.name}: no step ${step}`);
    }
  });

  for (const scenario of SCENARIOS) {
    it(title(scenario), async () => {
      const reference = python[scenario.name];
      assert.ok(reference !== undefined, 'the Python reference returned no trace for this scenario');
      const ours = await new ScenarioRun(`${RUN}-${SCENARIOS.indexOf(scenario)}-ts-`, memcachedServers()).run(scenario.steps);
      assert.equal(ours.length, scenario.steps.length);
      const diff = differences(scenario, reference, ours);
      assert.deepEqual(diff, [], `traces differ:\n${diff.join('\n')}`);
    });
  }
});
