// Bundles src/ into dist/esm and dist/cjs with few files per entry point (issue 20.3: each ES module
// a Node process loads costs resolution, a read, a parse and a link; the root used to load 41 of them).
//
// Each source module is placed in exactly one output file, so every class and value (CacheError,
// NO_VALUE, CacheBackend, ...) has one identity across all entry points of a build. Where it goes:
//   - reached (statically) from one entry point only: into that entry point's file;
//   - reached from the Dictionary or Null subpath and another entry: _chunks/base.js (what the
//     in-process backends need: errors, NO_VALUE, the contract, serializers);
//   - else reached from the root and another entry: _chunks/core.js (regions, locks, the registry and
//     the remote backends' argument readers, which configure() runs synchronously);
//   - else (shared by entries other than the root): one chunk per set of entries, e.g. _chunks/redis+tier.js.
// esbuild's own code splitting gives one chunk per set of entries instead, 14 files for the root;
// these rules give 3 (measured in bench/import-cost.ts; docs/api.md, "Import cost").
//
// Each output is one esbuild bundle in which the modules owned by another output are external: an
// import of such a module is redirected to a generated module re-exporting that module's names from the
// owning chunk, so `export *` stays static. The CommonJS build converts each ES file to CommonJS one to
// one, so a chunk import becomes a require() of the same sibling file.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import * as esbuild from 'esbuild';

const TARGET = 'node20';
const BASE_ENTRIES = ['backends/dictionary', 'backends/null'];
const ROOT_ENTRY = 'index';

/** `dist/esm/x/y.js` relative to `from` (an output name like `backends/memcached/index`), as an import specifier. */
function specifier(from, to) {
  const path = relative(dirname(from), to).split(sep).join('/');
  return `${path.startsWith('.') ? path : `./${path}`}.js`;
}

/** The static import graph of src/ and each module's export names, from one throwaway esbuild pass. */
async function analyse(root, entries) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(join(root, 'src'));
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: files,
    outbase: 'src',
    outdir: join(root, 'dist', '.analysis'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: TARGET,
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const exportsOf = new Map();
  for (const output of Object.values(result.metafile.outputs)) if (output.entryPoint) exportsOf.set(output.entryPoint, output.exports);
  const staticImports = new Map(
    Object.entries(result.metafile.inputs).map(([file, input]) => [
      file,
      input.imports.filter((i) => !i.external && i.kind !== 'dynamic-import').map((i) => i.path),
    ]),
  );
  // Which entry points reach each module through static imports (a dynamic import is its own entry).
  const reachedBy = new Map();
  for (const [name, file] of Object.entries(entries)) {
    const stack = [file];
    const seen = new Set();
    while (stack.length > 0) {
      const current = stack.pop();
      if (seen.has(current)) continue;
      seen.add(current);
      if (!reachedBy.has(current)) reachedBy.set(current, new Set());
      reachedBy.get(current).add(name);
      stack.push(...(staticImports.get(current) ?? []));
    }
  }
  return { exportsOf, reachedBy };
}

/** The output (entry name or `_chunks/…`) that owns each module, by the rules in the header. */
function assignOwners(reachedBy) {
  const owner = new Map();
  for (const [file, names] of reachedBy) {
    const set = [...names].sort();
    if (set.length === 1) owner.set(file, set[0]);
    else if (BASE_ENTRIES.some((e) => names.has(e))) owner.set(file, '_chunks/base');
    else if (names.has(ROOT_ENTRY)) owner.set(file, '_chunks/core');
    else owner.set(file, `_chunks/${set.map((n) => n.replace(/\/index$/, '').replace(/.*\//, '')).join('+')}`);
  }
  return owner;
}

/**
 * esbuild plugin for one output: modules it owns are bundled; an import of a module another output owns
 * resolves to a generated module that re-exports that module's names from the owner's file (external).
 */
function chunkPlugin(out, owner, exportsOf, exportedAs) {
  return {
    name: 'dogpile-chunks',
    setup(build) {
      build.onResolve({ filter: /^(\.\.?)?\// }, async (args) => {
        if (args.pluginData === 'inner' || args.namespace === 'reexport') return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        const file = relative(build.initialOptions.absWorkingDir, resolved.path).split(sep).join('/');
        const target = owner.get(file) ?? (args.kind === 'dynamic-import' ? undefined : out);
        if (target === undefined) throw new Error(`${file} is imported dynamically but is no entry point`);
        if (target === out) return { path: resolved.path };
        const spec = specifier(out, target);
        if (args.kind === 'dynamic-import') return { path: spec, external: true };
        return { path: file, namespace: 'reexport', pluginData: { spec, file } };
      });
      build.onResolve({ filter: /.*/, namespace: 'reexport' }, (args) => ({ path: args.path, external: true }));
      build.onLoad({ filter: /.*/, namespace: 'reexport' }, (args) => {
        const { spec, file } = args.pluginData;
        const names = (exportsOf.get(file) ?? []).map((name) => `${exportedAs(file, name)} as ${name}`);
        return { contents: `export { ${names.join(', ')} } from ${JSON.stringify(spec)};`, loader: 'js', resolveDir: '/' };
      });
      build.onResolve({ filter: /^dogpile-entry:/ }, (args) => ({ path: args.path.slice('dogpile-entry:'.length), namespace: 'entry' }));
      // An entry point re-exports its module; a chunk re-exports each member's names, renamed where
      // two members export the same name (`export *` would drop such a name as ambiguous).
      build.onLoad({ filter: /.*/, namespace: 'entry' }, (args) => ({
        contents: args.path
          .split(',')
          .map((file) => {
            const from = JSON.stringify(join(build.initialOptions.absWorkingDir, file));
            if (!out.startsWith('_chunks/')) return `export * from ${from};`;
            return `export { ${(exportsOf.get(file) ?? []).map((name) => `${name} as ${exportedAs(file, name)}`).join(', ')} } from ${from};`;
          })
          .join('\n'),
        loader: 'js',
        resolveDir: build.initialOptions.absWorkingDir,
      }));
    },
  };
}

/**
 * Builds dist/esm (ES modules) and dist/cjs (the same files as CommonJS) from src/. `entries` maps an
 * output name (`index`, `backends/memcached/index`, …) to its source file (`src/index.ts`, …).
 * Returns the output files of each build, so the caller can check the package.
 */
export async function bundle(root, entries) {
  const { exportsOf, reachedBy } = await analyse(root, entries);
  const owner = assignOwners(reachedBy);
  const members = new Map();
  for (const [file, out] of owner) if (!Object.hasOwn(entries, out)) members.set(out, [...(members.get(out) ?? []), file]);
  const outputs = [
    ...Object.entries(entries).map(([out, file]) => [out, [file]]),
    ...[...members].map(([out, files]) => [out, files.sort()]),
  ];
  // The name under which a chunk exports a member's export: the name itself, unless another member of
  // the chunk exports the same name (then suffixed with the member's path).
  const exportedAs = (file, name) => {
    const clash = members.get(owner.get(file))?.some((other) => other !== file && exportsOf.get(other)?.includes(name));
    return clash
      ? `${name}$${file
          .replace(/^src\//, '')
          .replace(/\.ts$/, '')
          .replace(/[^A-Za-z0-9]/g, '_')}`
      : name;
  };
  const esmDir = join(root, 'dist', 'esm');
  const results = await Promise.all(
    outputs.map(([out, files]) =>
      esbuild.build({
        absWorkingDir: root,
        entryPoints: { [out]: `dogpile-entry:${files.join(',')}` },
        outdir: esmDir,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: TARGET,
        packages: 'external',
        sourcemap: true,
        sourcesContent: true,
        metafile: true,
        logLevel: 'warning',
        plugins: [chunkPlugin(out, owner, exportsOf, exportedAs)],
      }),
    ),
  );
  // One identity per class: every source module is in exactly one output file.
  const placed = new Map();
  for (const [index, result] of results.entries()) {
    for (const output of Object.values(result.metafile.outputs)) {
      for (const input of Object.keys(output.inputs)) {
        if (!input.startsWith('src/')) continue;
        if (placed.has(input)) throw new Error(`${input} is bundled twice (${placed.get(input)} and ${outputs[index][0]})`);
        placed.set(input, outputs[index][0]);
      }
    }
  }
  writeFileSync(join(esmDir, 'package.json'), '{\n  "type": "module"\n}\n');

  const esmFiles = results.flatMap((result) => Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')));
  const cjsDir = join(root, 'dist', 'cjs');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: esmFiles,
    outbase: 'dist/esm',
    outdir: cjsDir,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: TARGET,
    // import() of a chunk or a driver becomes require(), as tsc's CommonJS output did: the same
    // CommonJS module a user's require() gets, never the ES build.
    supported: { 'dynamic-import': false },
    sourcemap: true,
    sourcesContent: true,
    logLevel: 'warning',
  });
  writeFileSync(join(cjsDir, 'package.json'), '{\n  "type": "commonjs"\n}\n');
  return { esm: esmFiles, owner };
}
