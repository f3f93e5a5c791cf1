// StrykerJS settings shared by every module's run. `npm run mutation` (scripts/mutation.mjs) adds,
// per module, the file to mutate, the test files that exercise it and where the report goes; run
// that rather than `npx stryker run`, which would mutate nothing.
//
// Tests run under Node's own test runner through tsx: the TAP runner starts `node --import tsx
// <file>` once per test file and reads the TAP that node:test prints when its output is a pipe.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: [],
    nodeArgs: ['--import', 'tsx'],
    forceBail: true,
  },
  plugins: ['@stryker-mutator/tap-runner'],
  // Coverage is per test file with the TAP runner: a mutant runs only the files that reached it.
  // STRYKER_COVERAGE=off runs every file for every mutant, to confirm survivors (docs/testing.md).
  coverageAnalysis: process.env.STRYKER_COVERAGE ?? 'perTest',
  // The machine that runs this is usually shared: two workers, and generous timeouts so a slow
  // test process is not scored as a mutant caught by a timeout.
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  timeoutMS: 20_000,
  timeoutFactor: 3,
  dryRunTimeoutMinutes: 10,
  // Sandboxes live inside the work tree (deleted after the run): node_modules here is often a
  // symlink, which Stryker does not link into a sandbox, and Node finds it by walking up instead.
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // docs/reference is TypeDoc's generated HTML: copying it slows every sandbox, and Stryker cannot parse it.
  ignorePatterns: ['dist', 'bench', 'examples', '.services', '.bench-tmp', '.node-versions', '.check-docs', 'reports', 'docs/reference', '*.tgz'],
  reporters: ['clear-text', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  logLevel: 'warn',
  thresholds: { high: 90, low: 85 },
};
