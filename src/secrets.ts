/**
 * Keeping secrets out of messages. Options that hold credentials (passwords, SASL logins, TLS keys) are
 * never typed as numbers and never quoted; URLs are shown with their userinfo replaced by `***`.
 * Every error, log line and event that names a user-supplied URL or option goes through here.
 *
 * @module
 */

/**
 * True for an option whose value is a credential: a password, a SASL login, a TLS private key or its
 * passphrase, a token. Matched on the snake_case or camelCase name, anywhere in a dotted config name
 * (`cache.arguments.password`, `backend_argument` pairs).
 */
export function isSecretOption(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  const snake = last.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`).toLowerCase();
  return SECRET_NAME.test(snake);
}

const SECRET_NAME = /(^|_)(password|passwd|pass|secret|token|credentials?|sasl_.*|.*_key(file)?|keyfile|passphrase|auth)$/;

// `scheme://user:pass@host`, `scheme://user@host`, and a bare `user:pass@host` seed.
const URL_USERINFO = /(^|[\s,(["'=]|[a-z][a-z0-9+.-]*:\/\/)([^\s,/@"'()[\]]+)@(?=[^\s,@]*)/gi;

/**
 * `text` with the userinfo of every URL or `user:pass@host` seed in it replaced by `***`
 * (`mongodb://app:hunter2@db:27017` → `mongodb://***@db:27017`). Safe on any string; text without
 * userinfo is returned unchanged.
 */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, (_match, before: string) => `${before}***@`);
}

/** A value as it may appear in a message: `"***"` for a secret option, the URL redacted otherwise. */
export function displayValue(name: string, value: unknown): string {
  if (isSecretOption(name)) return '"***"';
  if (typeof value === 'string') return JSON.stringify(redactUrl(value));
  return String(value);
}

/** How a secret option's value is described in an error: its type only (`a number (value hidden)`). */
export function hiddenValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  return `${type} (value hidden)`;
}
