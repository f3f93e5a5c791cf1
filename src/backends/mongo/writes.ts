/**
 * How many commands a multi-operation costs: key lists split only past MongoDB's command size, and
 * the write strategy for `setMulti`.
 *
 * On MongoDB `setMulti` is one unordered `bulkWrite` of `replaceOne` upserts: one `update` command.
 * FerretDB 1.x (checked with 1.24.2, SQLite backend) keeps one pooled SQL connection open for every
 * document an `update` command matches, until the command ends (`defer closer.Close()` inside its
 * per-update loop), and its pool holds 100: an `update` command that overwrites about 100 existing
 * documents — or a few concurrent ones that do together — waits forever and wedges that database
 * until FerretDB restarts. On FerretDB a multi-entry write is therefore `deleteMany` + unordered
 * `insertMany` (two commands, neither of which holds connections); a reader in between sees a miss.
 *
 * @module
 */
import type { BulkWriteOptions, Collection, Db, Document } from 'mongodb';

/** Key bytes per `$in` command: far below MongoDB's 16 MB command limit, so huge key lists are split. */
const MAX_KEY_BYTES_PER_COMMAND = 8 * 1024 * 1024;

/** Splits keys into `$in` lists of bounded size (a single list for any ordinary batch). */
export function keyBatches(keys: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const key of keys) {
    const size = key.length * 3 + 16; // UTF-8 upper bound plus BSON element overhead
    if (bytes + size > MAX_KEY_BYTES_PER_COMMAND && batch.length > 0) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(key);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A cache document: whatever the transform made of it, keyed by `_id`. */
export type KeyedDocument = Document & { _id: string };

/** The server behind a connection, as far as the write strategy cares. */
export type ServerKind = 'mongodb' | 'ferretdb';

/**
 * Asks the server what it is (FerretDB's `buildInfo` carries `ferretdbVersion`). A server that
 * refuses `buildInfo` is taken for MongoDB; a network failure is thrown (the connect is retried).
 */
export async function detectServer(db: Db, isUnavailable: (error: unknown) => boolean): Promise<ServerKind> {
  try {
    const info = await db.command({ buildInfo: 1 });
    return typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb';
  } catch (error) {
    if (isUnavailable(error)) throw error;
    return 'mongodb';
  }
}

function isOnlyDuplicateKeys(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors !== undefined && writeErrors !== null ? [writeErrors] : [];
  return list.length > 0 && list.every((w) => (w as { code?: unknown }).code === 11000);
}

function isDuplicateKey(error: unknown): boolean {
  return (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000) || isOnlyDuplicateKeys(error);
}

/** Attempts of an upsert that lost the insert race to a concurrent upsert of the same `_id`. */
const UPSERT_ATTEMPTS = 3;

/**
 * Runs replace-with-upsert write(s), again when they failed only on duplicate keys. Two concurrent
 * upserts of a new `_id` both find no document and both insert; the loser gets E11000. MongoDB ≥ 4.2
 * retries such an upsert on the server; FerretDB 1.x does not, so a concurrent `set` of one key failed
 * (found by test/reliability). A retry matches the document the winner inserted and replaces it, which
 * is the outcome of the two writes in some order. Upserts are idempotent, so retrying is safe.
 */
export async function retryDuplicateUpsert<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= UPSERT_ATTEMPTS || !isDuplicateKey(error)) throw error;
    }
  }
}

/**
 * Writes `docs` (each with `_id` = its key, in the order of `keys`), replacing existing entries, in
 * one command on MongoDB and two on FerretDB (see the module comment).
 */
export async function replaceMany(
  cache: Collection<KeyedDocument>,
  keys: readonly string[],
  docs: readonly KeyedDocument[],
  options: BulkWriteOptions,
  server: ServerKind,
): Promise<void> {
  if (server === 'mongodb' || docs.length === 1) {
    const operations = docs.map((replacement) => ({ replaceOne: { filter: { _id: replacement._id }, replacement, upsert: true } }));
    await retryDuplicateUpsert(() => cache.bulkWrite(operations, { ...options, ordered: false }));
    return;
  }
  for (const batch of keyBatches(keys)) await cache.deleteMany({ _id: { $in: batch } }, options);
  try {
    await cache.insertMany([...docs], { ...options, ordered: false });
  } catch (error) {
    // A concurrent writer inserted the same key between our delete and insert: its value is as fresh.
    if (!isOnlyDuplicateKeys(error)) throw error;
  }
}
