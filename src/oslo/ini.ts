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
 * Parses oslo.config INI text. `#`/`;` comment lines, `key = value` or `key: value` (split at the
 * first `=` or `:`), indented continuation lines, and repeated keys are understood as oslo.config's
 * parser reads them: a value in matching quotes loses them (`expiration_time = "120"`); a key given
 * twice keeps its last value, except a MultiStr option (`backend_argument`), where each line adds
 * one; sections whose names differ only in case are one group, merged in file order.
 * The `[cache]` group gets every oslo option with its default; other groups get `caching` (true) and
 * `cache_time` (null) typed, the rest as strings.
 * @throws {ValidationError} naming the line, for a line that is none of these, as oslo.config's
 *   parser rejects it: an indented line that continues nothing (after a header, a blank or a comment
 *   line), a header without its `]` or with an empty name, an empty name, an option before any section.
 * @throws {ConfigurationError} for a value that is not of its option's type.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { loadOsloConfig } from 'dogpile-cache/oslo';
 * const conf = loadOsloConfig(readFileSync('/etc/keystone/keystone.conf', 'utf8'));
 * conf.cache.expiration_time; // 600 unless the file sets it (typed: a number)
 * conf.identity?.cache_time; // e.g. 60, or null when unset
 * ```
 */
export function loadOsloConfig(text: string): OsloConf {
  if (typeof text !== 'string') throw new ValidationError('loadOsloConfig takes the INI text as a string (read the file first).');
  const groups = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  let last: string[] | undefined;
  // The order of the checks is oslo.config's iniparser: an indented line is a continuation before
  // anything else (so an indented "# x" is part of the value), and a blank line ends a value.
  // biome-ignore lint/suspicious/useIterableCallbackReturn: `return fail(…)` only ends the callback (fail throws); a for loop's return would leave loadOsloConfig
  text.split(/\r?\n/).forEach((full, index) => {
    const line = full.trimEnd();
    // Only a header is quoted back: any other line may hold a password ("password hunter2", or a
    // stray continuation), and no message may show one.
    const fail = (problem: string): never => {
      throw new ValidationError(
        `Line ${index + 1} of the oslo config ${problem}${line.startsWith('[') ? `: ${line}` : ' (its text is not shown: it may hold a secret)'}.`,
      );
    };
    if (line === '') {
      last = undefined;
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) fail('is indented but continues no "name = value"; unindent it (oslo.config rejects it too)');
      else last[last.length - 1] += `\n${line.trimStart()}`;
      return;
    }
    last = undefined;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) fail('starts a section but does not end with "]"');
      if (line.length <= 2) fail('has an empty section name');
      const name = normalizeGroupName(line.slice(1, -1));
      section = groups.get(name) ?? new Map();
      groups.set(name, section);
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) return;
    const separator = /[=:]/.exec(line)?.index;
    if (separator === undefined) return fail('is not "[section]" or "name = value"');
    const key = line.slice(0, separator).trim();
    if (key === '') fail('has an empty name');
    if (section === undefined) return fail('comes before any "[section]"');
    const values = section.get(key) ?? [];
    values.push(unquote(line.slice(separator + 1).trim()));
    section.set(key, values);
    last = values;
  });
  const raw = (name: string, specs: Readonly<Record<string, OptionSpec>>): Record<string, unknown> => {
    const multi = new Set(
      Object.entries(specs).flatMap(([option, spec]) => (spec.type === 'multistr' ? [option, spec.deprecatedName ?? option] : [])),
    );
    // oslo.config reads the last value of a key given twice (cfg's `values[-1]`); a MultiStr all of them.
    return Object.fromEntries(
      [...(groups.get(name) ?? new Map<string, string[]>())].map(([key, values]) => [
        key,
        multi.has(key) ? values : values[values.length - 1],
      ]),
    );
  };
  const conf: OsloConf = { cache: typeGroup('cache', raw('cache', OSLO_CACHE_OPTIONS), OSLO_CACHE_OPTIONS) };
  for (const name of groups.keys()) if (name !== 'cache') conf[name] = typeGroup(name, raw(name, OSLO_GROUP_OPTIONS), OSLO_GROUP_OPTIONS);
  return conf;
}
