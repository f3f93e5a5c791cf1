// Issue 21: every public class and function carries a TypeDoc `@example`. The export list comes from
// importing each entry point (what a user can actually reach); the doc comment comes from the
// declaration TypeScript resolves each export to, so a new export without an example fails CI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

// The package entry points, as TypeDoc documents them (typedoc.json's list mirrors package.json's "exports").
const ENTRY_POINTS = (JSON.parse(readFileSync(`${root}typedoc.json`, 'utf8')) as { entryPoints: string[] }).entryPoints;

const program = ts.createProgram(
  ENTRY_POINTS.map((entry) => `${root}${entry}`),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
);
const checker = program.getTypeChecker();

/** The declarations an entry point's export `name` resolves to, following re-exports. */
function declarationsOf(entry: string, name: string): ts.Declaration[] {
  const source = program.getSourceFile(`${root}${entry}`);
  assert.ok(source, `${entry} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol, `${entry} is not a module`);
  let symbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.getName() === name);
  assert.ok(symbol, `${entry} exports ${name} at run time but TypeScript does not see it`);
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  return symbol.declarations ?? [];
}

/** The text of the declaration's `@example` tags (ts.getJSDocTags walks from a variable declaration up to its statement's comment). */
function examplesOf(declaration: ts.Declaration): string[] {
  return ts
    .getJSDocTags(declaration)
    .filter((tag) => tag.tagName.text === 'example')
    .map((tag) => (typeof tag.comment === 'string' ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? '')));
}

// An example is a ```ts block that imports from the entry point a user would use.
const USABLE_EXAMPLE = /```ts\n[\s\S]*from 'dogpile-cache(\/[a-z0-9/]+)?'/;

function hasExample(declaration: ts.Declaration): boolean {
  return examplesOf(declaration).some((text) => USABLE_EXAMPLE.test(text));
}

describe('TypeDoc examples (issue 21)', () => {
  it('tells a documented export from one without an example', () => {
    assert.equal(declarationsOf('src/index.ts', 'ms').some(hasExample), true);
    // Not exported from an entry point, and has a doc comment without an @example.
    const internal = program
      .getSourceFile(`${root}src/duration.ts`)
      ?.statements.find(
        (node): node is ts.FunctionDeclaration => ts.isFunctionDeclaration(node) && node.name?.text === 'warnIfLooksLikeMilliseconds',
      );
    assert.ok(internal);
    assert.equal(hasExample(internal), false);
  });

  for (const entry of ENTRY_POINTS) {
    it(`${entry}: every exported class and function has an @example`, async () => {
      const exports = (await import(`${root}${entry}`)) as Record<string, unknown>;
      const callables = Object.keys(exports).filter((name) => typeof exports[name] === 'function');
      assert.ok(callables.length > 0, `${entry} exports no classes or functions`);
      const missing = callables.filter((name) => !declarationsOf(entry, name).some(hasExample));
      assert.deepEqual(
        missing,
        [],
        `${entry}: add an @example (a \`\`\`ts block importing from 'dogpile-cache' or a subpath) to the doc comment of ${missing.join(', ')}`,
      );
    });
  }
});
