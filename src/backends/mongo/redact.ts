/**
 * Keeps MongoDB credentials out of every error the backend throws. `db_hosts` may carry a password
 * (`mongodb://app:hunter2@db/`, or a bare `app:hunter2@db` seed), and so may the `password` argument.
 * Our own messages quote `db_hosts` only through {@link redactUrl}; driver errors we pass on (as they
 * are or as a `cause`) are not ours to word, and Node's URL parser keeps the whole input in an
 * `input` property, so {@link scrubError} rewrites every string property along the cause chain.
 *
 * A URL-shaped redaction alone is not enough: a password with an unescaped `@` or `/` defeats any
 * pattern. So the passwords themselves are collected from the raw arguments and replaced wherever
 * they appear.
 *
 * @module
 */
import { redactUrl } from '../../secrets.js';

const MASK = '***';

/** The password of one `scheme://user:pass@host/...` or `user:pass@host` item (raw and %-decoded). */
function passwordsOf(item: string): string[] {
  // `scheme:/` or `scheme://` (a typo keeps its slash); `user:pass@host` has no slash after the colon.
  const afterScheme = item.replace(/^\s*[a-z][a-z0-9+.-]*:\/+/i, '');
  const at = afterScheme.lastIndexOf('@');
  if (at < 0) return [];
  const userinfo = afterScheme.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return [];
  const raw = userinfo.slice(colon + 1);
  const found = [raw];
  try {
    found.push(decodeURIComponent(raw));
  } catch {
    // not %-encoded: the raw form is the one to hide
  }
  return found;
}

/**
 * The secrets to hide for these raw arguments: passwords inside `db_hosts` (a string or a list, each
 * possibly a comma-separated seed list) and the `password` argument.
 */
export function collectSecrets(dbHosts: unknown, password: unknown): string[] {
  const items: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value !== 'string') return;
    items.push(value, ...value.split(','));
  };
  if (Array.isArray(dbHosts)) dbHosts.forEach(add);
  else add(dbHosts);
  const secrets = new Set(items.flatMap(passwordsOf));
  if (typeof password === 'string') secrets.add(password);
  secrets.delete('');
  // Longest first, so that a secret containing another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every secret replaced by `***` and URL userinfo redacted. The secrets first: redacting
 * first cuts a password holding a `,` (`u:pa,ss@h` becomes `u:pa,***@h`), which is then not found whole.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return redactUrl(out);
}

/**
 * Rewrites, in place, every string property (message, stack, `input`, …) of `error` and of the errors
 * it holds (`cause`, the driver's `errorResponse`, nested errors), so that none of them shows a
 * secret. Returns `error`. Non-objects are returned unchanged; cycles are followed once.
 */
export function scrubError<T>(error: T, secrets: readonly string[], seen = new Set<object>()): T {
  if (typeof error !== 'object' || error === null || seen.has(error)) return error;
  seen.add(error);
  for (const name of Object.getOwnPropertyNames(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, name);
    if (descriptor === undefined || !('value' in descriptor)) continue;
    const value: unknown = descriptor.value;
    if (typeof value === 'string') {
      const clean = scrubText(value, secrets);
      if (clean !== value && (descriptor.writable === true || descriptor.configurable === true)) {
        Object.defineProperty(error, name, { ...descriptor, value: clean });
      }
    } else if (value instanceof Error || (name === 'cause' && typeof value === 'object')) {
      scrubError(value, secrets, seen);
    }
  }
  return error;
}
