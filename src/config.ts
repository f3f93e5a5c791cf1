/**
 * String configuration helpers shared by `configureFromConfig` and the oslo layer.
 *
 * @module
 */

const INTEGER = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Types string values as dogpile's `coerce_string_conf` does (after trimming): integers and floats
 * become numbers, `"true"`/`"false"` (any case) booleans, exactly `"None"` null; other values are
 * kept. Returns a new object; `config` is not modified.
 */
export function coerceStringConf(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) result[name] = typeof value === 'string' ? coerceString(value) : value;
  return result;
}

/** Types one string value as {@link coerceStringConf} does. */
export function coerceString(value: string): unknown {
  const text = value.trim();
  if (INTEGER.test(text) || FLOAT.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (text === 'None') return null;
  return value;
}
