// Bad input: every case of test/reliability/bad-input-cases.ts raises the error class it documents
// (never a hang, never a miss, never a BackendUnavailableError from reaching the network), and the
// generated table in docs/errors.md matches what the cases produce now.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDogpileCacheError } from '../../src/index.js';
import { BEGIN_MARKER, CASES, END_MARKER, PLANTED_SECRETS, renderTable, runCase } from './bad-input-cases.js';
import { guardProcess, withDeadline } from '../support/reliability.js';

guardProcess();

const ERRORS_MD = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

describe('bad input', () => {
  for (const c of CASES) {
    const title = `${c.group}: ${c.input} — ${c.call} → ${c.expect}`;
    it(title, c.knownIssue ? { todo: c.knownIssue } : {}, async () => {
      const result = await withDeadline(runCase(c), 5000, c.call);
      assert.equal(result.outcome, c.expect, `${c.call}: ${result.outcome} ${result.message}`);
      if (c.expect !== 'accepted') {
        assert.ok(isDogpileCacheError(result.error), 'a DogpileCacheError (with a stable code)');
        assert.ok(result.message.length > 20, 'a message that says what is wrong');
      }
    });
  }

  it('docs/errors.md holds the generated table, up to date (regenerate: node scripts/bad-input-table.mjs)', async () => {
    const doc = readFileSync(ERRORS_MD, 'utf8');
    const begin = doc.indexOf(BEGIN_MARKER);
    const end = doc.indexOf(END_MARKER);
    assert.ok(begin !== -1 && end > begin, 'docs/errors.md has the bad-input-table markers');
    const current = doc.slice(begin, end + END_MARKER.length);
    assert.equal(
      current,
      await withDeadline(renderTable(), 30_000, 'renderTable'),
      'docs/errors.md is out of date: run node scripts/bad-input-table.mjs',
    );
  });
});

/** Every string an error carries: message, stack, own properties, its cause chain and aggregated errors. */
function errorText(value: unknown, seen = new Set<unknown>()): string[] {
  if (value === null || value === undefined || seen.has(value)) return [];
  if (typeof value !== 'object') return [String(value)];
  seen.add(value);
  const texts: string[] = [];
  if (value instanceof Error) texts.push(value.message, value.stack ?? '');
  for (const name of Object.getOwnPropertyNames(value)) texts.push(...errorText((value as Record<string, unknown>)[name], seen));
  for (const nested of [(value as { cause?: unknown }).cause, ...((value as { errors?: unknown[] }).errors ?? [])])
    texts.push(...errorText(nested, seen));
  return texts;
}

describe('no secret in any error', () => {
  it('no case of the bad-input table shows a planted credential in its error, stack or cause chain', async () => {
    let withSecrets = 0;
    for (const c of CASES) {
      const result = await withDeadline(runCase(c), 5000, c.call);
      const text = errorText(result.error).join('\n');
      for (const secret of PLANTED_SECRETS) assert.ok(!text.includes(secret), `${c.call} shows a planted secret: ${text.slice(0, 300)}`);
      if (c.call.includes('password') || c.call.includes('<secret>') || c.call.startsWith('loadOsloConfig')) withSecrets++;
    }
    assert.ok(withSecrets >= 3, 'the table has cases that carry a planted secret');
  });
});
