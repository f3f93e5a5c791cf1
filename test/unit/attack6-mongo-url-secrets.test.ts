// A Mongo `db_hosts` whose password holds a character URL patterns stop at ("@", "," unescaped) must not
// show that password in an error, from the constructor or from configure() by name. src/backends/mongo/
// redact.ts collects the passwords and replaces them, but the db_hosts messages were built through
// redactUrl first, which had already cut the password ("mongodb://u:s3cr,***@"), so the whole password
// was no longer there to replace and its first part stayed; the same held for driver errors (scrubText
// redacted URLs before it replaced the passwords).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoBackend } from '../../src/backends/mongo/index.js';
import { collectSecrets, scrubText } from '../../src/backends/mongo/redact.js';
import { CacheRegion, ConfigurationError } from '../../src/index.js';

/** configure() by a name only known at run time (no typed arguments). */
const configure = (name: string, args: Record<string, unknown>): CacheRegion => new CacheRegion().configure(name, { arguments: args });

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  assert.fail('did not throw');
}

const PARTS = ['s3cr', 'tpw'];

/** Every string an error shows: message, stack, own properties, causes. */
function shown(error: Error): string {
  return `${error.message} ${error.stack} ${JSON.stringify(Object.entries(error))} ${String((error.cause as Error | undefined)?.message)}`;
}

describe('attack-6: Mongo db_hosts with a password holding "@" or "," never shows it', () => {
  const bad: unknown[] = [
    // An unescaped "@" in the password of a bare seed.
    'u:s3cr@tpw@h',
    // A "," in the password: a list item that is no seed, a URL of another scheme, a URL with no host.
    ['h1:27017', 'u:s3cr,tpw@h:x'],
    'http://u:s3cr,tpw@h',
    'mongodb://u:s3cr,tpw@',
  ];
  for (const dbHosts of bad) {
    it(JSON.stringify(dbHosts).replaceAll('s3cr', '<pw>'), () => {
      const args = { db_hosts: dbHosts, db_name: 'cache', cache_collection: 'entries' };
      for (const error of [caught(() => new MongoBackend(args)), caught(() => configure('oslo_cache.mongo', args))]) {
        assert.ok(error instanceof ConfigurationError, String(error));
        for (const part of PARTS) assert.ok(!shown(error).includes(part), `shows "${part}": ${error.message}`);
      }
    });
  }

  it('a driver message quoting the connection string is scrubbed whole (the passwords first, then URL patterns)', () => {
    const secrets = collectSecrets('mongodb://u:s3cr,tpw@h:27017', undefined);
    const text = scrubText('connect ECONNREFUSED for mongodb://u:s3cr,tpw@h:27017/', secrets);
    for (const part of PARTS) assert.ok(!text.includes(part), text);
  });
});
