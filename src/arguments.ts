/**
 * Reads backend `arguments`: each option under its dogpile/oslo snake_case name (`pool_maxsize`) or
 * its camelCase name (`poolMaxsize`). A wrong type is a {@link ValidationError} naming the option; an
 * unknown option is ignored with a debug log (`NODE_DEBUG=dogpile-cache`), because oslo passes the
 * memcache options to every backend. The caller's object is never modified, and only its own
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

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

/** Reads typed options from a backend's `arguments` object. Call {@link finish} when done. */
export class ArgumentReader {
  readonly #backend: string;
  readonly #args: Readonly<Record<string, unknown>>;
  readonly #used = new Set<string>();

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

  /** Logs (at debug level) every option that was given but not read. */
  finish(): void {
    const unknown = Object.keys(this.unused());
    if (unknown.length > 0) debug('%s ignores unknown argument(s): %s', this.#backend, unknown.join(', '));
  }
}
