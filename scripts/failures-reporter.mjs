// A Node test reporter that prints nothing while the suites run and, at the end, every failed test with
// its file, its place in the suite tree and its error. scripts/test.mjs adds it after the TAP reporter so
// that a log cut to its last lines (a CI page) still says which test failed and why.
import { inspect } from 'node:util';

/** Each failed test's line, made as the events arrive, printed once the run is over. */
export default async function* failuresReporter(source) {
  const failures = [];
  // The names of the suites each file is in, by depth: files run side by side, so their events interleave.
  const ancestorsByFile = new Map();
  for await (const event of source) {
    if (event.type === 'test:start') {
      const ancestors = ancestorsByFile.get(event.data.file) ?? [];
      ancestors[event.data.nesting] = event.data.name;
      ancestors.length = event.data.nesting + 1;
      ancestorsByFile.set(event.data.file, ancestors);
    } else if (event.type === 'test:fail') {
      const { name, nesting, file, details } = event.data;
      const ancestors = ancestorsByFile.get(file) ?? [];
      const path = [...ancestors.slice(0, nesting), name].join(' > ');
      const error = details?.error;
      // A suite fails when one of its tests does: that failure is already listed under the test.
      if (error?.failureType !== 'subtestsFailed') failures.push({ path, file, message: describe(error) });
    }
  }
  if (failures.length === 0) return;
  yield `\n# ${failures.length} failed:\n`;
  for (const { path, file, message } of failures) {
    yield `# not ok: ${path}\n#   in ${file ?? '(unknown file)'}\n`;
    for (const line of message.split('\n').slice(0, 10)) yield `#   ${line}\n`;
  }
  yield `# ${failures.length} failed (listed above)\n`;
}

/** The error's text, never throwing: the errors of a test file's own process arrive as plain objects. */
function describe(error) {
  if (error === undefined || error === null) return '(no error recorded)';
  const cause = error.cause ?? error;
  let text;
  try {
    text = typeof cause?.stack === 'string' ? cause.stack : inspect(cause, { depth: 4 });
  } catch {
    text = '(an error that cannot be printed)';
  }
  return error.failureType && error.failureType !== 'testCodeFailure' ? `${error.failureType}: ${text}` : text;
}
