/**
 * `memcached://host:port` in the `url` argument (issue 22 item 8): what Node users copy from other
 * clients' docs. oslo's `url` is plain `host:port`, and without this the scheme's colon read as an IPv6
 * address. Entries with the `memcached://` (or `memcache://`) scheme lose it here, before the argument
 * parser sees them; any other scheme is refused with a message that says what is accepted.
 *
 * @module
 */
import type { BackendArguments } from '../../api.js';
import { ValidationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import { describe } from '../../validate.js';

const SCHEME = /^\s*([a-z][a-z0-9+.-]*):\/\//i;

/**
 * `args` with every `url` entry's `memcached://` scheme (and one trailing `/`) removed; `args` itself is never changed.
 * A `url` with a login (`user:pass@host`) is refused first, before any message quotes part of it.
 */
export function withoutUrlSchemes(args: BackendArguments): BackendArguments {
  const url = args.url;
  refuseLogin(url);
  if (typeof url === 'string') {
    const stripped = url.split(',').map(stripScheme).join(',');
    return stripped === url ? args : { ...args, url: stripped };
  }
  if (Array.isArray(url) && url.some((entry) => typeof entry === 'string' && SCHEME.test(entry))) {
    return { ...args, url: url.map((entry: unknown) => (typeof entry === 'string' ? stripScheme(entry) : entry)) };
  }
  return args;
}

function stripScheme(entry: string): string {
  const match = SCHEME.exec(entry);
  if (match === null) return entry;
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'memcached' && scheme !== 'memcache') {
    throw new ValidationError(
      `PooledMemcachedBackend argument url: a server is "host:port" or "memcached://host:port"; the scheme "${scheme}://" is not memcached's; got ${describe(redactUrl(entry.trim()))}.`,
    );
  }
  return entry.slice(match[0].length).trim().replace(/\/$/, '');
}

/**
 * Throws the `ValidationError` for a `url` (a string, or a list of strings and `[server, weight]` pairs)
 * that holds a login, showing only what follows its last `@`. A password pasted raw may hold `/`, `@`,
 * `,` or spaces, which stop `redactUrl`'s pattern (it quoted `"user:pa/ss@host"` whole), and a `,` splits
 * the string into "servers" quoted on their own: so the check runs on the whole value, before any split.
 */
function refuseLogin(url: unknown): void {
  const entries: unknown[] = Array.isArray(url) ? url.map((entry: unknown) => (Array.isArray(entry) ? entry[0] : entry)) : [url];
  for (const entry of entries) {
    if (typeof entry !== 'string' || !entry.includes('@')) continue;
    throw new ValidationError(
      `PooledMemcachedBackend argument url: a server is "host:port", without a login; give SASL credentials as the username and password arguments; got ${describe(`***@${entry.slice(entry.lastIndexOf('@') + 1).trim()}`)}.`,
    );
  }
}
