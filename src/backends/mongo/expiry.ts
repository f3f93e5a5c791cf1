/**
 * Expiry: every read checks `doc_date > now` ({@link isLive}), because MongoDB's TTL monitor runs only
 * once a minute; the TTL index and, where the server has none (FerretDB), a periodic sweep only
 * reclaim space.
 *
 * @module
 */
import type { Collection, Document } from 'mongodb';
import { debug } from '../../log.js';

/** `doc_date` of an entry that never expires: the last millisecond of year 9999 (a TTL index never reaches it). */
export const NEVER_EXPIRES = new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999));

/** The expiry instant of an entry written at `nowMs` with a time to live of `ttlMs` (`null`: never). */
export function expiryDate(nowMs: number, ttlMs: number | null): Date {
  return ttlMs === null ? NEVER_EXPIRES : new Date(nowMs + ttlMs);
}

/**
 * True when a stored document has not expired at `nowMs`: its `doc_date` is a Date after now. Checked
 * on the client rather than in the query because a filter on `_id` alone is what every server can
 * answer from the `_id` index (FerretDB 1.x scans the whole collection for any other filter), and
 * because the injected clock decides.
 */
export function isLive(doc: Readonly<Record<string, unknown>>, nowMs: number): boolean {
  const date = doc.doc_date;
  return date instanceof Date && date.getTime() > nowMs;
}

/** What happened to a TTL index request. */
export type TtlIndexOutcome = 'created' | 'unsupported' | 'conflict' | 'failed';

/** A problem worth telling the application about, reported once per backend. */
export interface MongoBackendWarning {
  /**
   * `ttl-index-unsupported`: the server has no TTL indexes (FerretDB), expired entries are removed by
   * the sweep instead. `ttl-index-conflict`: an index on the field exists with other options (oslo
   * created `expireAfterSeconds = mongo_ttl_seconds`, which keeps entries twice as long).
   * `ttl-index-failed`: the index could not be created for another reason (e.g. not authorized).
   * `sweep-failed`: a sweep of expired entries failed (retried at the next interval).
   */
  code: 'ttl-index-unsupported' | 'ttl-index-conflict' | 'ttl-index-failed' | 'sweep-failed';
  /** What happened and what to do, in one sentence. */
  message: string;
  /** The collection concerned (`db.collection`). */
  namespace: string;
  /** The driver error, when there was one. */
  cause?: unknown;
}

const NOT_IMPLEMENTED_CODES = new Set([115 /* CommandNotSupported */, 238 /* NotImplemented */]);
const CONFLICT_CODES = new Set([85 /* IndexOptionsConflict */, 86 /* IndexKeySpecsConflict */]);

/**
 * The index this backend asks for on `field`: `{ [field]: 1 }` with `expireAfterSeconds: 0`, i.e.
 * "delete when `field` is in the past". The name is MongoDB's default (`<field>_1`), so asking again
 * is a no-op.
 */
export function ttlIndexSpec(field: string): { key: Record<string, 1>; options: { name: string; expireAfterSeconds: 0 } } {
  return { key: { [field]: 1 }, options: { name: `${field}_1`, expireAfterSeconds: 0 } };
}

/**
 * Creates the TTL index on `field`. A server answer other than success is returned as an outcome
 * (and reported through `warn`); a network failure is thrown so that the caller retries the setup.
 */
export async function ensureTtlIndex(
  collection: Collection<Document>,
  field: string,
  isUnavailable: (error: unknown) => boolean,
  warn: (warning: MongoBackendWarning) => void,
): Promise<TtlIndexOutcome> {
  const namespace = collection.namespace;
  const spec = ttlIndexSpec(field);
  try {
    await collection.createIndex(spec.key, spec.options);
    return 'created';
  } catch (error) {
    if (isUnavailable(error)) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number' && NOT_IMPLEMENTED_CODES.has(code)) {
      warn({
        code: 'ttl-index-unsupported',
        message: `The server cannot create TTL indexes (FerretDB does not implement them); expired entries in ${namespace} are hidden from reads and deleted by a periodic sweep (argument sweep_interval).`,
        namespace,
        cause: error,
      });
      return 'unsupported';
    }
    if (typeof code === 'number' && CONFLICT_CODES.has(code)) {
      warn({
        code: 'ttl-index-conflict',
        message: `An index on ${namespace}.${field} already exists with other options (oslo created it with expireAfterSeconds = mongo_ttl_seconds, which keeps entries twice as long). Reads stay exact; drop the index ("db.${collection.collectionName}.dropIndex('${field}_1')") to let MongoBackend create { ${field}: 1 } with expireAfterSeconds: 0.`,
        namespace,
        cause: error,
      });
      return 'conflict';
    }
    warn({
      code: 'ttl-index-failed',
      message: `Could not create the TTL index on ${namespace}.${field}; expired entries are hidden from reads and deleted by a periodic sweep instead.`,
      namespace,
      cause: error,
    });
    return 'failed';
  }
}

/** One collection whose expired documents a {@link Sweeper} deletes. */
export interface SweepTarget {
  collection: Collection<Document>;
  /** The expiry-instant field (`doc_date`, `expiresAt`). */
  field: string;
}

/**
 * Deletes expired documents every `intervalMs` with one `deleteMany({ field: { $lte: now } })` per
 * target, for servers without TTL indexes. The timer is unref'd (it never keeps a process alive) and
 * {@link stop} waits for a sweep in progress. A failed sweep is logged and retried at the next tick.
 */
export class Sweeper {
  readonly #targets: readonly SweepTarget[];
  readonly #now: () => number;
  readonly #onError: (error: unknown, target: SweepTarget) => void;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | null = null;

  constructor(
    targets: readonly SweepTarget[],
    intervalMs: number,
    now: () => number,
    onError: (error: unknown, target: SweepTarget) => void,
  ) {
    this.#targets = targets;
    this.#now = now;
    this.#onError = onError;
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** Runs one sweep now (a sweep already running is joined, not repeated). */
  sweep(): Promise<void> {
    this.#running ??= this.#sweepAll().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #sweepAll(): Promise<void> {
    const now = new Date(this.#now());
    for (const target of this.#targets) {
      try {
        const { deletedCount } = await target.collection.deleteMany({ [target.field]: { $lte: now } });
        if (deletedCount > 0) debug('MongoBackend swept %d expired document(s) from %s', deletedCount, target.collection.namespace);
      } catch (error) {
        this.#onError(error, target);
      }
    }
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
