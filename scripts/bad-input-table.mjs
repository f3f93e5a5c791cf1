// Writes the bad-input table into docs/errors.md, between the bad-input-table markers (appended the first
// time; nothing else in the file is touched). The cases, and the error each must raise, live in
// test/reliability/bad-input-cases.ts; test/reliability/bad-input.test.ts asserts them and fails when the
// section is out of date.
//
//   node scripts/bad-input-table.mjs           rewrite the section
//   node scripts/bad-input-table.mjs --check   exit 1 if the section is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cases = await tsImport(pathToFileURL(join(root, 'test/reliability/bad-input-cases.ts')).href, import.meta.url);
const file = join(root, 'docs/errors.md');
const doc = readFileSync(file, 'utf8');
const updated = cases.spliceSection(doc, await cases.renderTable());
if (process.argv.includes('--check')) {
  if (updated !== doc) {
    console.error('docs/errors.md is out of date: run node scripts/bad-input-table.mjs');
    process.exit(1);
  }
} else if (updated !== doc) {
  writeFileSync(file, updated);
  console.log('docs/errors.md: bad-input table updated');
} else {
  console.log('docs/errors.md: bad-input table already up to date');
}
process.exit(0);
