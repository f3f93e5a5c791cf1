/**
 * One connected `MongoClient` per distinct connection (same connection string and client options),
 * shared by every backend that uses it and reference-counted: the last release closes it. oslo kept
 * a class-level `_DB` dict for the same purpose but never closed anything.
 *
 * A failed connect rejects every caller waiting on it and removes the client, so the next caller
 * starts a fresh one (retry on next use). The failed client is closed as soon as its last waiter
 * has let go, so its monitors never keep the process alive.
 *
 * @module
 */
import type { MongoClient } from 'mongodb';

/** A hold on a shared, connected client. */
export interface ClientLease {
  readonly client: MongoClient;
  /** Gives the hold back; the last one closes the client. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  readonly key: string | null;
  refs: number;
  /** The client, once created (creating may read TLS files, so it is asynchronous). */
  readonly created: Promise<MongoClient>;
  /** Resolves when connected; rejects when creating or connecting failed. */
  readonly connected: Promise<MongoClient>;
}

const entries = new Map<string, Entry>();

function forget(entry: Entry): void {
  if (entry.key !== null && entries.get(entry.key) === entry) entries.delete(entry.key);
}

async function unref(entry: Entry): Promise<void> {
  entry.refs -= 1;
  if (entry.refs > 0) return;
  forget(entry);
  const client = await entry.created.catch(() => null);
  await client?.close().catch(() => undefined);
}

/**
 * Leases the client for `key`, creating it with `create` and connecting it when no live one exists.
 * `key` `null` means "never share". Rejects with whatever creating or connecting threw (the caller
 * maps driver errors); the next call then tries again with a new client.
 */
export async function leaseClient(key: string | null, create: () => Promise<MongoClient>): Promise<ClientLease> {
  let entry = key === null ? undefined : entries.get(key);
  if (entry === undefined) {
    const created = create();
    const fresh: Entry = { key, refs: 0, created, connected: created.then((client) => client.connect()) };
    fresh.connected.catch(() => forget(fresh));
    if (key !== null) entries.set(key, fresh);
    entry = fresh;
  }
  entry.refs += 1;
  let client: MongoClient;
  try {
    client = await entry.connected;
  } catch (error) {
    await unref(entry);
    throw error;
  }
  let released = false;
  const held = entry;
  return {
    client,
    release: async () => {
      if (released) return;
      released = true;
      await unref(held);
    },
  };
}

/** Number of live shared clients (for tests and diagnostics). */
export function sharedClientCount(): number {
  return entries.size;
}
