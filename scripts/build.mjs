// Builds the dual package: dist/esm (ES modules) and dist/cjs (CommonJS), each with its own
// declaration files, so `import` and `require` both get types that match what they load.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
// The package ships dist/ but not src/: source maps carry their sources inline (a stack trace or a
// debugger shows the TypeScript), and declaration maps, which can only point at .ts files, are not made.
const mapFlags = ['--inlineSources', '--declarationMap', 'false'];
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project), ...mapFlags], { stdio: 'inherit', cwd: root });
}
// The root package.json says "type": "module"; this marker makes Node (and TypeScript) read
// dist/cjs/*.js and *.d.ts as CommonJS.
writeFileSync(join(root, 'dist', 'cjs', 'package.json'), '{\n  "type": "commonjs"\n}\n');
writeFileSync(join(root, 'dist', 'esm', 'package.json'), '{\n  "type": "module"\n}\n');
