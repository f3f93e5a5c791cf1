/**
 * Reads backend `arguments`: each option under its dogpile/oslo snake_case name (`pool_maxsize`) or
 * its camelCase name (`poolMaxsize`). A wrong type is a {@link ValidationError} naming the option. An
 * unknown option (a misspelled `distributed_lok`) emits one process warning per backend and name
 * (code {@link UNKNOWN_ARGUMENT_WARNING}, with the close matches), or with `strict_arguments: true` is a
 * ValidationError; the memcache options oslo passes to every backend ({@link OSLO_COMMON_ARGUMENTS})
 * are only logged at debug level when the backend is built from a config dictionary (the oslo path). The caller's object is never modified, and only its own
 * properties are read: a polluted `Object.prototype.url` is not an option. A secret option's value
 * (`isSecretOption`: passwords, SASL logins, TLS keys) never appears in a message, only its type.
 *
 * @module
 */
import { toOptionalSeconds, toSeconds, type ToSecondsOptions } from './duration.js';
import { ValidationError } from './errors.js';
import { debug } from './log.js';
import { hiddenValue, isSecretOption } from './secrets.js';
import { describe, ownProperty } from './validate.js';

/** The `process.emitWarning` code of an unknown backend argument or region option. */
export const UNKNOWN_ARGUMENT_WARNING = 'DOGPILE_CACHE_UNKNOWN_ARGUMENT';

/**
 * Arguments the oslo layer passes to every backend, whatever it is (oslo.cache does the same): a
 * backend that does not use one ignores it without a warning.
 */
export const OSLO_COMMON_ARGUMENTS: ReadonlySet<string> = new Set([
  'url',
  'socket_timeout',
  'username',
  'password',
  'dead_retry',
  'pool_maxsize',
  'pool_unused_timeout',
  'pool_connection_get_timeout',
  'pool_flush_on_reconnect',
  'sasl_enabled',
  'server_choice',
]);

const warned = new Set<string>();

/** >0 while a backend is built from a config dictionary (configureFromConfig: the oslo layer's path). */
let fromConfigDepth = 0;

/**
 * Runs `build` (a synchronous backend construction from a config dictionary) with the oslo common
 * arguments quiet: oslo passes them to every backend, so there they are no user's typo. Passed
 * directly to `configure`, an unused `url` (etcd3 reads `host`/`endpoints`) still warns.
 */
export function withOsloCommonArguments<T>(build: () => T): T {
  fromConfigDepth++;
  try {
    return build();
  } finally {
    fromConfigDepth--;
  }
}

/**
 * A backend class whose construction runs as {@link withOsloCommonArguments} does, when the caller is
 * inside it now: a backend configured from a config dictionary but built later (loaded on first use)
 * stays as quiet about oslo's common arguments as one built at once.
 */
export function keepingOsloScope<C extends abstract new (...args: never[]) => unknown>(load: Promise<C>): Promise<C> {
  if (fromConfigDepth === 0) return load;
  return load.then(
    (Backend) =>
      new Proxy(Backend, {
        construct: (target, args, newTarget) => withOsloCommonArguments(() => Reflect.construct(target, args, newTarget)),
      }),
  );
}

/** Edit distance, for "did you mean" suggestions (names are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The known names within edit distance 2 (or a third of the name) of `name`, closest first. */
export function closeMatches(name: string, known: Iterable<string>): string[] {
  const normalized = snakeCase(name).toLowerCase();
  const limit = Math.max(2, Math.floor(normalized.length / 3));
  return [...new Set(known)]
    .map((candidate) => ({ candidate, d: distance(normalized, snakeCase(candidate).toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.candidate.localeCompare(y.candidate))
    .map(({ candidate }) => candidate);
}

/**
 * Reports names in `given` that are not in `known`: a {@link ValidationError} when `strict`, else one
 * `process.emitWarning` per `what` and name (code {@link UNKNOWN_ARGUMENT_WARNING}). Each message
 * lists the close matches. Names in `quiet` are only logged at debug level.
 */
export function reportUnknownNames(
  what: string,
  given: readonly string[],
  known: Iterable<string>,
  options: { strict: boolean; quiet?: ReadonlySet<string>; strictHint: string; silent?: boolean },
): void {
  const knownList = [...known];
  const knownSet = new Set(knownList);
  for (const name of given) {
    if (knownSet.has(name)) continue;
    if (options.quiet?.has(snakeCase(name)) === true || options.silent === true) {
      debug('%s ignores argument %s (passed to every backend by the oslo layer)', what, name);
      continue;
    }
    const matches = closeMatches(name, knownList);
    const hint = matches.length > 0 ? ` Did you mean ${matches.map((m) => `"${m}"`).join(' or ')}?` : '';
    const message = `${what} has no option "${name}"; it is ignored.${hint}`;
    if (options.strict) throw new ValidationError(`${message.replace('; it is ignored.', '.')} Known: ${knownList.join(', ')}.`);
    const once = `${what}\0${name}`;
    if (warned.has(once)) continue;
    warned.add(once);
    process.emitWarning(`${message} (${options.strictHint} makes this an error.)`, { code: UNKNOWN_ARGUMENT_WARNING });
  }
}

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

/**
 * Reads typed options from a backend's `arguments` object (for third-party backends too). Call
 * {@link finish} when done, so unknown names are reported.
 *
 * @example
 * ```ts
 * import { ArgumentReader } from 'dogpile-cache';
 * const reader = new ArgumentReader('MyBackend', { pool_size: '4', timeout: '500ms' });
 * const poolSize = reader.number('poolSize', 10, { min: 1, integer: true }); // 4 (INI strings accepted)
 * const timeout = reader.seconds('timeout', 5);                              // 0.5
 * reader.finish(); // warns once about any name not read above
 * ```
 */
export class ArgumentReader {
  readonly #backend: string;
  readonly #args: Readonly<Record<string, unknown>>;
  readonly #used = new Set<string>();
  /** Names the backend accepts and ignores on purpose (arguments of a Python client it stands in for). */
  readonly #ignored = new Set<string>();
  readonly #fromConfig = fromConfigDepth > 0;

  constructor(backend: string, args: unknown) {
    if (args !== undefined && args !== null && (typeof args !== 'object' || Array.isArray(args))) {
      throw new ValidationError(`${backend} arguments must be a plain object of option -> value; got ${describe(args)}.`);
    }
    this.#backend = backend;
    this.#args = (args ?? {}) as Readonly<Record<string, unknown>>;
  }

  /** True when the option was given under either name. */
  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** The option's value as given (`undefined` when absent); throws when both spellings disagree. */
  raw(name: string): unknown {
    const snake = snakeCase(name);
    this.#used.add(name).add(snake);
    const camelValue = ownProperty(this.#args, name);
    const snakeValue = ownProperty(this.#args, snake);
    if (camelValue !== undefined && snakeValue !== undefined && camelValue !== snakeValue && snake !== name) {
      throw new ValidationError(
        `${this.#backend} argument ${snake} was given twice, as "${snake}" and "${name}", with different values; pass one.`,
      );
    }
    return camelValue !== undefined ? camelValue : snakeValue;
  }

  #fail(name: string, expected: string, value: unknown): never {
    const snake = snakeCase(name);
    const got = isSecretOption(snake) ? hiddenValue(value) : describe(value);
    throw new ValidationError(`${this.#backend} argument ${snake} must be ${expected}; got ${got}.`);
  }

  /** A string option. */
  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string') this.#fail(name, 'a string', value);
    return value;
  }

  /** A number option; numeric strings (from INI files) are accepted. */
  number(name: string, fallback: number, limits?: { min?: number; integer?: boolean }): number;
  number(name: string, fallback?: number, limits?: { min?: number; integer?: boolean }): number | undefined;
  number(name: string, fallback?: number, limits: { min?: number; integer?: boolean } = {}): number | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    const what = `${limits.integer === true ? 'an integer' : 'a number'}${limits.min !== undefined ? ` >= ${limits.min}` : ''}`;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.#fail(name, what, value);
    if (limits.integer === true && !Number.isInteger(n)) this.#fail(name, what, value);
    if (limits.min !== undefined && n < limits.min) this.#fail(name, what, value);
    return n;
  }

  /** A duration option in seconds (number or `"10s"`-style string). */
  seconds(name: string, fallback: number, options?: ToSecondsOptions): number;
  seconds(name: string, fallback?: number | null, options?: ToSecondsOptions): number | null;
  seconds(name: string, fallback: number | null = null, options: ToSecondsOptions = {}): number | null {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    return toOptionalSeconds(value, `${this.#backend} argument ${snakeCase(name)}`, options) ?? fallback;
  }

  /** A required duration option in seconds. */
  requiredSeconds(name: string): number {
    return toSeconds(this.raw(name), `${this.#backend} argument ${snakeCase(name)}`);
  }

  /** A boolean option; `"true"`/`"false"` strings are accepted. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
    return this.#fail(name, 'true or false', value);
  }

  /** A list of strings; a single string is split on commas (oslo's `url` handling). */
  stringList(name: string, fallback: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined || value === null) return [...fallback];
    const list = typeof value === 'string' ? value.split(',') : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
      this.#fail(name, 'a string or a list of strings', value);
    }
    const items = (list as string[]).map((item) => item.trim()).filter((item) => item.length > 0);
    if (items.length === 0) this.#fail(name, 'a non-empty string or list of strings', value);
    return items;
  }

  /** A function option. */
  func<F extends (...args: never[]) => unknown>(name: string): F | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'function') this.#fail(name, 'a function', value);
    return value as F;
  }

  /** The options that no reader call asked for, as given. */
  unused(): Record<string, unknown> {
    const rest: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(this.#args)) if (!this.#used.has(name)) rest[name] = value;
    return rest;
  }

  /** Marks arguments as known but without effect (e.g. a Python client's tuning): no warning for them. */
  ignore(...names: string[]): void {
    for (const name of names) {
      this.raw(name);
      this.#ignored.add(snakeCase(name));
    }
  }

  /**
   * Reports every option that was given but not read: one process warning per backend and name
   * (the oslo layer's common arguments, or everything under an explicit `strict_arguments: false`,
   * only at debug level), or, with `strict_arguments: true`, a
   * {@link ValidationError} listing the close matches.
   * @throws {ValidationError} for an unknown option under `strict_arguments`.
   */
  finish(): void {
    const explicit = this.has('strictArguments');
    const strict = this.boolean('strictArguments', false);
    const unknown = Object.keys(this.unused());
    if (unknown.length === 0) return;
    // An explicit `strict_arguments: false` says "I pass extra names on purpose": a debug log only.
    if (explicit && !strict) {
      debug('%s ignores unknown argument(s): %s', this.#backend, unknown.join(', '));
      return;
    }
    const known = [...this.#used].filter((name) => name === snakeCase(name));
    reportUnknownNames(`${this.#backend} arguments`, unknown, known, {
      strict,
      ...(this.#fromConfig ? { quiet: OSLO_COMMON_ARGUMENTS } : {}),
      strictHint: 'strict_arguments: true',
    });
  }
}
