/**
 * Reads an oslo.config INI file (such as a keystone.conf) into the plain object the oslo layer
 * takes: `{ cache: {...}, [group]: {...} }`, typed with oslo's option types and defaults.
 *
 * @module
 */
import { ValidationError } from '../errors.js';
import { OSLO_CACHE_OPTIONS, OSLO_GROUP_OPTIONS, type OptionSpec, typeGroup } from './options.js';

/** oslo.config's iniparser: a value that starts and ends with the same quote loses both (`"120"` → `120`). */
function unquote(value: string): string {
  return value.length > 0 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0] ? value.slice(1, -1) : value;
}

/** An oslo configuration: the `[cache]` group plus any caching groups (`[identity]`, …). */
export interface OsloConf {
  cache: Record<string, unknown>;
  [group: string]: Record<string, unknown>;
}

/**
 * oslo.config's `_normalize_group_name`: group names match case-insensitively (`[CACHE]` is
 * `[cache]`), except `DEFAULT`, which keeps its case. Names are not trimmed: `[ cache ]` is a group
 * of its own, as in oslo.config.
 */
function normalizeGroupName(name: string): string {
  return name === 'DEFAULT' ? name : name.toLowerCase();
}

/**
 * Parses oslo.config INI text. `#`/`;` comment lines, `key = value` or `key: value`, indented
 * continuation lines, and repeated keys are understood as oslo.config's parser reads them: a value
 * in matching quotes loses them (`expiration_time = "120"`); a key given twice keeps its last value,
 * except a MultiStr option (`backend_argument`), where each line adds one; sections whose names
 * differ only in case are one group, merged in file order.
 * The `[cache]` group gets every oslo option with its default; other groups get `caching` (true) and
 * `cache_time` (null) typed, the rest as strings.
 * @throws {ValidationError} for a line that is none of these (a continuation line after a blank or
 *   comment line included: oslo.config's "Unexpected continuation line").
 * @throws {ConfigurationError} for a value that is not of its option's type.
 */
export function loadOsloConfig(text: string): OsloConf {
  if (typeof text !== 'string') throw new ValidationError('loadOsloConfig takes the INI text as a string (read the file first).');
  const groups = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  let last: string[] | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^\s*([#;].*)?$/.test(line)) {
      // oslo.config's parser ends a multi-line value at a blank or comment line.
      last = undefined;
      return;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      const name = normalizeGroupName(header[1] as string);
      section = groups.get(name) ?? new Map();
      groups.set(name, section);
      last = undefined;
      return;
    }
    if (/^\s/.test(line) && last !== undefined) {
      last[last.length - 1] += `\n${line.trim()}`;
      return;
    }
    const pair = /^([^=:\s]+)\s*[=:]\s?(.*)$/.exec(line);
    if (!pair || section === undefined) throw new ValidationError(`Line ${index + 1} of the oslo config is not "[section]" or "name = value": ${line.trim()}`);
    const values = section.get(pair[1] as string) ?? [];
    values.push(unquote((pair[2] as string).trim()));
    section.set(pair[1] as string, values);
    last = values;
  });
  const raw = (name: string, specs: Readonly<Record<string, OptionSpec>>): Record<string, unknown> => {
    const multi = new Set(Object.entries(specs).flatMap(([option, spec]) => (spec.type === 'multistr' ? [option, spec.deprecatedName ?? option] : [])));
    // oslo.config reads the last value of a key given twice (cfg's `values[-1]`); a MultiStr all of them.
    return Object.fromEntries([...(groups.get(name) ?? new Map<string, string[]>())].map(([key, values]) => [key, multi.has(key) ? values : values[values.length - 1]]));
  };
  const conf: OsloConf = { cache: typeGroup('cache', raw('cache', OSLO_CACHE_OPTIONS), OSLO_CACHE_OPTIONS) };
  for (const name of groups.keys()) if (name !== 'cache') conf[name] = typeGroup(name, raw(name, OSLO_GROUP_OPTIONS), OSLO_GROUP_OPTIONS);
  return conf;
}
