import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import { CacheRegion, ValidationError } from '../../src/index.js';

// The class is compiled by TypeScript itself with each decorator setting, so the calling convention
// is exactly what `tsc` emits for a NestJS-style project, not our idea of it.
const SOURCE = `
export function makeService(cache: any, cacheMulti: any, calls: string[]) {
  class Service {
    constructor(private readonly prefix: string) {}
    @cache
    async load(id: number) { calls.push('load ' + id); return this.prefix + id; }
    @cacheMulti
    async loadMany(...ids: number[]) { calls.push('loadMany ' + ids.join(',')); return ids.map((id) => this.prefix + id); }
  }
  return Service;
}
`;

const dir = mkdtempSync(join(tmpdir(), 'dogpile-decorators-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type ServiceClass = new (prefix: string) => { load(id: number): Promise<string>; loadMany(...ids: number[]): Promise<string[]> };

async function compile(
  name: string,
  options: ts.CompilerOptions,
): Promise<(cache: unknown, cacheMulti: unknown, calls: string[]) => ServiceClass> {
  const { outputText } = ts.transpileModule(SOURCE, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, ...options },
  });
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, outputText);
  return ((await import(pathToFileURL(file).href)) as { makeService: never }).makeService;
}

for (const [convention, options] of [
  ['legacy (experimentalDecorators)', { experimentalDecorators: true }],
  ['TC39', { experimentalDecorators: false }],
] as const) {
  describe(`cacheOnArguments as a ${convention} method decorator`, () => {
    it('memoizes the method with `this` bound, and its multi form', async () => {
      const makeService = await compile(convention.split(' ')[0] as string, options);
      const region = new CacheRegion().configure('oslo_cache.dict');
      const calls: string[] = [];
      const Service = makeService(region.cacheOnArguments(), region.cacheMultiOnArguments(), calls);
      const service = new Service('user-');
      assert.equal(await service.load(1), 'user-1');
      assert.equal(await service.load(1), 'user-1');
      assert.deepEqual(await service.loadMany(1, 2), ['user-1', 'user-2']);
      assert.deepEqual(await service.loadMany(1, 2), ['user-1', 'user-2']);
      assert.deepEqual(calls, ['load 1', 'loadMany 1,2']);
    });
  });
}

describe('legacy decorator misuse', () => {
  it('on a property without a method is a ValidationError naming the property', () => {
    const region = new CacheRegion().configure('oslo_cache.dict');
    const memoize = region.cacheOnArguments() as unknown as (target: object, key: string, descriptor: PropertyDescriptor) => unknown;
    assert.throws(
      () => memoize({}, 'count', { value: 3, writable: true }),
      (error: unknown) => error instanceof ValidationError && /count is not a method/.test(error.message),
    );
  });
});
