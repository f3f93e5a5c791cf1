/**
 * `db_hosts` → one MongoDB connection string. oslo (PyMongo) accepted one URI, one `host:port`, or a
 * list of either; the Node.js driver takes exactly one connection string, so a list becomes a seed
 * list `mongodb://h1:p1,h2:p2/`.
 *
 * @module
 */
import { ConfigurationError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import { describe } from '../../validate.js';

const URI_PATTERN = /^(mongodb(?:\+srv)?):\/\/(?:([^@/?]*)@)?([^/?]*)(.*)$/i;
const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `item` as a message may quote it: everything between its scheme and its last `@` (the login) replaced
 * by `***`. redactUrl's pattern stops at a `,`, `@` or `/` a raw password may hold, leaving part of the
 * password, and the scrub that replaces the collected passwords (redact.ts) then no longer finds them whole.
 */
function hideLogin(item: string): string {
  const at = item.lastIndexOf('@');
  if (at < 0) return item;
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/+/i.exec(item)?.[0] ?? '';
  return `${scheme}***${item.slice(at)}`;
}

interface ParsedUri {
  scheme: string;
  userinfo: string;
  hosts: string[];
  /** Path and query, e.g. `/admin?replicaSet=rs0`, or "". */
  tail: string;
}

function parseUri(uri: string): ParsedUri {
  const match = URI_PATTERN.exec(uri);
  if (match === null) {
    throw new ConfigurationError(
      `MongoBackend argument db_hosts: "${hideLogin(uri)}" is not a mongodb:// or mongodb+srv:// connection string.`,
    );
  }
  const hosts = (match[3] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  if (hosts.length === 0) throw new ConfigurationError(`MongoBackend argument db_hosts: "${hideLogin(uri)}" names no host.`);
  if (hosts.some((host) => host.includes('@'))) {
    throw new ConfigurationError(
      'MongoBackend argument db_hosts: the credentials in the connection string hold an unescaped "@"; %-encode the user name and password (encodeURIComponent).',
    );
  }
  const tail = match[4] ?? '';
  return { scheme: (match[1] ?? 'mongodb').toLowerCase(), userinfo: match[2] ?? '', hosts, tail: tail === '/' ? '' : tail };
}

/** One seed: `host`, `host:port`, `[::1]:27017`, or a Unix socket path (`/tmp/mongodb-27017.sock`). */
function parseSeed(seed: string): string {
  if (seed.startsWith('/') && seed.endsWith('.sock')) return encodeURIComponent(seed);
  if (/[\s/@?#,]/.test(seed) || SCHEME_PATTERN.test(seed)) {
    throw new ConfigurationError(
      `MongoBackend argument db_hosts: "${hideLogin(seed)}" is neither "host", "host:port" nor a mongodb:// connection string.`,
    );
  }
  return seed;
}

/** The one value every entry agrees on, or "" when none sets it. */
function agreed(values: readonly string[], what: string): string {
  const set = [...new Set(values.filter((v) => v !== ''))];
  if (set.length > 1) {
    throw new ConfigurationError(
      `MongoBackend argument db_hosts: the connection strings in the list disagree on their ${what}; ` +
        'pass one connection string, or a list of plain "host:port" seeds.',
    );
  }
  return set[0] ?? '';
}

/**
 * Builds the connection string for `db_hosts`: a single `mongodb://` / `mongodb+srv://` string is used
 * as given; a `host:port` (or a comma-separated string of them) or a list of seeds and `mongodb://`
 * strings becomes one seed-list string. Throws a {@link ConfigurationError} for an empty or
 * malformed value.
 */
export function connectionString(dbHosts: unknown): string {
  let items: string[];
  if (typeof dbHosts === 'string') {
    if (SCHEME_PATTERN.test(dbHosts.trim())) items = [dbHosts.trim()];
    else items = dbHosts.split(',');
  } else if (Array.isArray(dbHosts) && dbHosts.every((item) => typeof item === 'string')) {
    items = dbHosts as string[];
  } else {
    throw new ConfigurationError(
      `MongoBackend argument db_hosts must be a connection string, "host:port", or a list of them; got ${redactUrl(describe(dbHosts))}.`,
    );
  }
  items = items.map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) throw new ConfigurationError('MongoBackend argument db_hosts is required and must name at least one host.');

  const parsed = items.map((item) =>
    SCHEME_PATTERN.test(item) ? parseUri(item) : { scheme: 'mongodb', userinfo: '', hosts: [parseSeed(item)], tail: '' },
  );
  // A single connection string (validated by parseUri above) is used verbatim.
  const [first] = items;
  if (items.length === 1 && first !== undefined && SCHEME_PATTERN.test(first)) return first;
  if (parsed.some((p) => p.scheme !== 'mongodb')) {
    throw new ConfigurationError(
      'MongoBackend argument db_hosts: a mongodb+srv:// connection string names its hosts through DNS; pass it alone, not in a list.',
    );
  }
  const hosts = [...new Set(parsed.flatMap((p) => p.hosts))];
  const userinfo = agreed(
    parsed.map((p) => p.userinfo),
    'credentials',
  );
  const tail = agreed(
    parsed.map((p) => p.tail),
    'database and options',
  );
  const path = tail === '' ? '/' : tail.startsWith('?') ? `/${tail}` : tail;
  return `mongodb://${userinfo === '' ? '' : `${userinfo}@`}${hosts.join(',')}${path}`;
}

/** True when the connection string sets `authSource` itself. */
export function hasAuthSource(uri: string): boolean {
  return /[?&]authSource=/i.test(uri);
}
