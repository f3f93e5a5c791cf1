/**
 * Loads a backend's optional driver package on first use, so importing the core (or a backend
 * module) loads no driver, and a missing one is a {@link MissingDependencyError} naming the package.
 *
 * @module
 */
import { MissingDependencyError } from './errors.js';

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
      { cause: missing.length === 1 ? missing[0]?.error : new AggregateError(missing.map((result) => result.error), 'drivers not found') },
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
