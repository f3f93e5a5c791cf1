/**
 * Loads a backend's optional driver package on first use, so importing the core (or a backend
 * module) loads no driver, and a missing one is a {@link MissingDependencyError} naming the package.
 *
 * @module
 */
import { MissingDependencyError } from './errors.js';

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

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
