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
    await cache.bulkWrite(operations, { ...options, ordered: false });
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
