/**
 * Loads a backend's optional driver package on first use, so importing the core (or a backend
 * module) loads no driver, and a missing one is a {@link MissingDependencyError} naming the package.
 * {@link assertDriversInstalled} finds a missing one earlier, when the backend is configured, by
 * resolving the package's path without loading it (issue 22 item 8).
 *
 * @module
 */
import { MissingDependencyError } from './errors.js';

/**
 * The driver packages each built-in remote backend needs, in the order its install command names
 * them. The backends load exactly these (memcached/drivers.ts, mongo, etcd3 and redis connections).
 */
export const DRIVER_PACKAGES = Object.freeze({
  memcached: Object.freeze(['memjs', 'generic-pool']),
  mongo: Object.freeze(['mongodb']),
  etcd3: Object.freeze(['etcd3']),
  redis: Object.freeze(['ioredis']),
} as const);

/** Says whether a package can be found from this package's location (true), or is not installed (false). */
export type PackageResolver = (packageName: string) => boolean;

let resolver: PackageResolver | undefined;
let testResolver: PackageResolver | undefined;

/**
 * This file's location in either build: CommonJS has `__filename`; the ES build cannot write
 * `import.meta` (the same source compiles to CommonJS, where it is a syntax error), so it reads the
 * location of its own frame from V8's structured stack instead. Falls back to the working directory.
 */
function ownLocation(): string {
  if (typeof __filename === 'string') return __filename;
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.stackTraceLimit = 1;
    const frames = new Error().stack as unknown as NodeJS.CallSite[] | undefined;
    const file = Array.isArray(frames) ? frames[0]?.getFileName() : undefined;
    if (typeof file === 'string' && (file.startsWith('file:') || file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file))) return file;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  return `${process.cwd()}/`;
}

/**
 * Resolves as `import()` would from here (node_modules upward from this package), without loading:
 * `require.resolve` reads package.json files and stats paths, and runs none of the driver's code.
 */
function defaultResolver(): PackageResolver {
  const { createRequire } = process.getBuiltinModule('node:module');
  const require = createRequire(ownLocation());
  return (packageName) => {
    try {
      require.resolve(packageName);
      return true;
    } catch (error) {
      // Only "not found" means not installed; anything else (an ES-only package's exports map, say)
      // is left to the load, which reports it as it is.
      return (error as { code?: unknown }).code !== 'MODULE_NOT_FOUND';
    }
  };
}

/**
 * Replaces how packages are found, for tests only: a test cannot uninstall a package from the shared
 * node_modules, so it hides one this way. `undefined` restores the real resolution.
 * @internal
 */
export function setPackageResolverForTests(replacement: PackageResolver | undefined): void {
  testResolver = replacement;
}

/**
 * Throws one {@link MissingDependencyError} naming every package of `packageNames` that is not
 * installed (so its install command installs them all); loads none of them. Called when a backend is
 * configured, so a missing driver is reported by `configure()` rather than by the first request.
 */
export function assertDriversInstalled(packageNames: readonly string[], backendName: string): void {
  const isInstalled = testResolver ?? (resolver ??= defaultResolver());
  const missing = packageNames.filter((name) => !isInstalled(name));
  if (missing.length > 0) throw new MissingDependencyError(missing, backendName);
}

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/** What loading one package gave: its exports, or the package's name when it is not installed. */
type Loaded<T> = { ok: true; value: T } | { ok: false; missing: string; error: unknown };

async function tryLoad<T>(packageName: string): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await loadDriver<T>(packageName, '') };
  } catch (error) {
    if (error instanceof MissingDependencyError) return { ok: false, missing: packageName, error: error.cause };
    throw error;
  }
}

/**
 * Imports several driver packages a backend needs together (memcached: memjs and generic-pool).
 * Rejects with one {@link MissingDependencyError} naming every missing package, so the install
 * command it prints installs them all.
 */
export async function loadDrivers<T extends unknown[]>(packageNames: { [K in keyof T]: string }, backendName: string): Promise<T> {
  const loaded = await Promise.all((packageNames as readonly string[]).map((name) => tryLoad<unknown>(name)));
  const missing = loaded.flatMap((result) => (result.ok ? [] : [result]));
  if (missing.length > 0) {
    throw new MissingDependencyError(
      missing.map((result) => result.missing),
      backendName,
      {
        cause:
          missing.length === 1
            ? missing[0]?.error
            : new AggregateError(
                missing.map((result) => result.error),
                'drivers not found',
              ),
      },
    );
  }
  return loaded.map((result) => (result.ok ? result.value : undefined)) as T;
}

/**
 * Imports `packageName` and returns its CommonJS `module.exports` (or the ES module namespace).
 * Rejects with {@link MissingDependencyError} when the package is not installed.
 */
export async function loadDriver<T>(packageName: string, backendName: string): Promise<T> {
  let mod: unknown;
  try {
    mod = await import(packageName);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = String((error as { message?: unknown }).message ?? '');
    if (typeof code === 'string' && NOT_FOUND.has(code) && message.includes(packageName)) {
      throw new MissingDependencyError(packageName, backendName, { cause: error });
    }
    throw error;
  }
  const withDefault = mod as { default?: unknown };
  return (withDefault.default ?? mod) as T;
}
