/**
 * MongoDB benchmark: MongoBackend beside plain mongodb-driver baselines and keyv + @keyv/mongo, same
 * run, same server.
 *
 *   npm run bench:mongo     (MONGODB_URL, default mongodb://127.0.0.1:27117/)
 *
 * Throughput of getMulti(100) and setMulti(100) in keys/s (median of 5 runs after a warm-up), and the
 * number of commands (round trips) each variant sends per operation, counted with the driver's command
 * monitoring. Never asserts on time; asserts correctness (every key of the hit workload is a hit with
 * the right payload). BENCH_MS=150 for a quick run.
 */
import { randomUUID } from 'node:crypto';
import KeyvMongo from '@keyv/mongo';
import Keyv from 'keyv';
import { Collection, MongoClient, type CommandStartedEvent, type Document } from 'mongodb';
import { MongoBackend } from '../src/backends/mongo/index.js';
import { isNoValue, type CachedValue } from '../src/index.js';
import { makeCachedValue } from '../src/backend.js';
import { check, isMain, measure, printMachine, printSections, type Figure, type Section, envNumber } from './lib.js';

const DEFAULT_URL = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/';
const MS = envNumber('BENCH_MS', 400);
const DB = 'dogpile_cache_bench';
const BATCH = 100;
const BEST = 'driver, one $in / bulk write';
const KEYS = 1000;

const keys = Array.from({ length: KEYS }, (_, i) => `bench-${i}`);
// ~100 bytes of payload, like the other backend benchmarks.
const payloadOf = (i: number): Document => ({ id: i, name: `user-${i}`, roles: ['reader', 'writer'], active: true, score: i / 7 });
const valueFor = (i: number): CachedValue => makeCachedValue(payloadOf(i));
const batches = Array.from({ length: KEYS / BATCH }, (_, b) => keys.slice(b * BATCH, (b + 1) * BATCH));
const indexOf = (key: string): number => Number(key.slice('bench-'.length));

/** A variant under test: one getMulti(100) / setMulti(100) implementation. */
interface Variant {
  name: string;
  /** The client its commands go through (for counting round trips); the raw client when absent. */
  client?: MongoClient;
  get?(key: string): Promise<unknown>;
  set?(key: string): Promise<void>;
  getMulti(batch: readonly string[]): Promise<unknown[]>;
  setMulti(batch: readonly string[]): Promise<void>;
}

/**
 * keyv + @keyv/mongo. Two accommodations for FerretDB 1.24 (our test server), both noted in docs/benchmarks.md:
 * - @keyv/mongo 3.1.0 creates a TTL index when it connects; FerretDB answers NotImplemented and the
 *   store's connection promise never settles. The TTL index alone is skipped (only on FerretDB).
 * - its setMany is one bulkWrite of upserts; FerretDB deadlocks when one command overwrites ~100
 *   existing documents, so setMulti here writes 100 NEW keys each time (fresh names; inserts, not
 *   overwrites: kinder to keyv than the overwrites the other rows do).
 */
async function keyvMongo(
  url: string,
  db: string,
  collection: string,
  ferretdb: boolean,
): Promise<{ variant: Variant; close: () => Promise<void> }> {
  const original = Collection.prototype.createIndex;
  if (ferretdb) {
    Collection.prototype.createIndex = function (this: Collection, spec: never, options?: { expireAfterSeconds?: number }) {
      return options?.expireAfterSeconds !== undefined
        ? Promise.resolve('skipped on FerretDB')
        : (original as (...args: unknown[]) => Promise<string>).call(this, spec, options);
    } as typeof original;
  }
  const store = new KeyvMongo({ url, db, collection, monitorCommands: true } as never);
  let connection: { mongoClient: MongoClient };
  try {
    connection = (await store.connect) as unknown as { mongoClient: MongoClient };
  } finally {
    Collection.prototype.createIndex = original;
  }
  const keyv = new Keyv({ store, namespace: 'bench' });
  const written = new Set<string>();
  let generation = 0;
  return {
    variant: {
      name: 'keyv + @keyv/mongo',
      client: connection.mongoClient,
      get: (key) => keyv.get(key),
      set: (key) => keyv.set(key, payloadOf(indexOf(key))).then(() => undefined),
      getMulti: (batch) => keyv.getMany([...batch]),
      setMulti: async (batch) => {
        const fresh = batch.every((k) => !written.has(k));
        const gen = generation++;
        await keyv.setMany(batch.map((k) => ({ key: fresh ? k : `${k}~${gen}`, value: payloadOf(indexOf(k)) })));
        if (fresh) for (const k of batch) written.add(k);
      },
    },
    close: () => keyv.disconnect(),
  };
}

function checkPayloads(batch: readonly string[], got: readonly unknown[], name: string): void {
  check(got.length === batch.length, `${name}: getMulti returned ${got.length} results for ${batch.length} keys`);
  for (let i = 0; i < batch.length; i++) {
    const expected = indexOf(batch[i] as string);
    const payload = got[i] as Document | null | undefined;
    check(
      payload !== null && payload !== undefined && payload.id === expected && payload.name === `user-${expected}`,
      `${name}: wrong or missing value for ${batch[i]}`,
    );
  }
}

/** Commands sent by one call, counted on `client`. */
// Our backend's client comes from the root's mongodb, keyv's from bench/node_modules (the same version,
// pinned in bench/package.json, but two declarations): only the event methods are needed.
async function roundTrips(client: Pick<MongoClient, 'on' | 'off'>, fn: () => Promise<unknown>): Promise<number> {
  const seen: string[] = [];
  const listener = (event: CommandStartedEvent): void => void seen.push(event.commandName);
  client.on('commandStarted', listener);
  await fn();
  client.off('commandStarted', listener);
  return seen.length;
}

export async function runMongo(URL: string = DEFAULT_URL): Promise<Section[]> {
  // Same pool size as MongoBackend's default. More concurrent overwrites would deadlock FerretDB 1.x
  // (see src/backends/mongo/writes.ts).
  const raw = await new MongoClient(URL, {
    monitorCommands: true,
    serverSelectionTimeoutMS: 5000,
    socketTimeoutMS: 30_000,
    maxPoolSize: 10,
  }).connect();
  const build = await raw.db('admin').command({ buildInfo: 1 });
  const ferretdb = typeof build.ferretdbVersion === 'string';
  const server = ferretdb ? `FerretDB ${build.ferretdbVersion} (MongoDB ${build.version} wire)` : `MongoDB ${build.version}`;
  const about = `server: ${server}; ${KEYS} keys, batches of ${BATCH}, ~100-byte payloads; median of 5 runs of ${MS} ms after a warm-up.`;

  const run = randomUUID().slice(0, 8);
  const oursName = `ours_${run}`;
  const rawName = `raw_${run}`;
  const keyvName = `keyv_${run}`;
  const ours = new MongoBackend({ db_hosts: URL, db_name: DB, cache_collection: oursName, client_options: { monitorCommands: true } });
  const coll = raw.db(DB).collection<Document & { _id: string }>(rawName, { ignoreUndefined: true, promoteBuffers: true });
  const docOf = (key: string): Document => ({
    value: payloadOf(indexOf(key)),
    meta: { ct: Date.now() / 1000, v: 2 },
    doc_date: new Date(8.64e15),
  });
  const peer = await keyvMongo(URL, DB, keyvName, ferretdb);

  try {
    const variants: Variant[] = [
      {
        name: 'MongoBackend',
        get: async (key) => {
          const v = await ours.get(key);
          return isNoValue(v) ? undefined : v.payload;
        },
        set: (key) => ours.set(key, valueFor(indexOf(key))),
        getMulti: async (batch) => (await ours.getMulti(batch)).map((v) => (isNoValue(v) ? null : v.payload)),
        setMulti: (batch) => ours.setMulti(new Map(batch.map((k) => [k, valueFor(indexOf(k))]))),
      },
      {
        // The best a plain driver user can do: one $in find; one unordered bulkWrite of upserts, or on
        // FerretDB (whose big updates deadlock) deleteMany + insertMany, as MongoBackend does.
        name: BEST,
        get: async (key) => (await coll.findOne({ _id: key }))?.value,
        set: async (key) => void (await coll.replaceOne({ _id: key }, docOf(key), { upsert: true })),
        getMulti: async (batch) => {
          const docs = await coll.find({ _id: { $in: [...batch] } }, { limit: batch.length, batchSize: batch.length }).toArray();
          const byId = new Map(docs.map((d) => [d._id, d.value]));
          return batch.map((k) => byId.get(k) ?? null);
        },
        setMulti: async (batch) => {
          if (ferretdb) {
            await coll.deleteMany({ _id: { $in: [...batch] } });
            await coll.insertMany(
              batch.map((k) => ({ _id: k, ...docOf(k) })),
              { ordered: false },
            );
            return;
          }
          await coll.bulkWrite(
            batch.map((k) => ({ replaceOne: { filter: { _id: k }, replacement: docOf(k), upsert: true } })),
            { ordered: false },
          );
        },
      },
      {
        name: 'driver loop, one at a time',
        getMulti: async (batch) => {
          const out: unknown[] = [];
          for (const k of batch) out.push((await coll.findOne({ _id: k }))?.value ?? null);
          return out;
        },
        setMulti: async (batch) => {
          for (const k of batch) await coll.replaceOne({ _id: k }, docOf(k), { upsert: true });
        },
      },
      {
        name: 'driver Promise.all of singles',
        getMulti: (batch) => Promise.all(batch.map(async (k) => (await coll.findOne({ _id: k }))?.value ?? null)),
        setMulti: async (batch) => {
          await Promise.all(batch.map((k) => coll.replaceOne({ _id: k }, docOf(k), { upsert: true })));
        },
      },
      peer.variant,
    ];

    const client = await ours.getClient();
    const rows: string[][] = [];
    const gets: Figure[] = [];
    const sets: Figure[] = [];
    const singleGets: Figure[] = [];
    const singleSets: Figure[] = [];
    for (const variant of variants) {
      const countOn = variant.client ?? (variant.name === 'MongoBackend' ? client : raw);
      let b = 0;
      const nextBatch = (): readonly string[] => batches[b++ % batches.length] as string[];
      for (const batch of batches) await variant.setMulti(batch);
      for (const batch of batches) checkPayloads(batch, await variant.getMulti(batch), variant.name);
      const setTrips = await roundTrips(countOn, () => variant.setMulti(batches[0] as string[]));
      const getTrips = await roundTrips(countOn, () => variant.getMulti(batches[0] as string[]));
      rows.push([variant.name, String(getTrips), String(setTrips)]);
      gets.push(
        await measure(
          `${variant.name} getMulti(100)`,
          BATCH,
          async () => {
            const batch = nextBatch();
            checkPayloads(batch, await variant.getMulti(batch), variant.name);
          },
          { ms: MS, unit: 'keys/s' },
        ),
      );
      sets.push(await measure(`${variant.name} setMulti(100)`, BATCH, () => variant.setMulti(nextBatch()), { ms: MS, unit: 'keys/s' }));
      const { get, set } = variant;
      if (get && set) {
        let n = 0;
        singleGets.push(
          await measure(
            `${variant.name === BEST ? 'driver findOne' : `${variant.name} get`}`,
            100,
            async () => {
              for (let i = 0; i < 100; i++) {
                const key = keys[n++ % KEYS] as string;
                check(((await get(key)) as Document | undefined)?.id === indexOf(key), `${variant.name}: get must hit ${key}`);
              }
            },
            { ms: MS },
          ),
        );
        singleSets.push(
          await measure(
            `${variant.name === BEST ? 'driver replaceOne (upsert)' : `${variant.name} set`}`,
            100,
            async () => {
              for (let i = 0; i < 100; i++) await set(keys[n++ % KEYS] as string);
            },
            { ms: MS },
          ),
        );
      }
    }

    const trips = `Commands (round trips) per 100-key operation, counted with the driver's command monitoring — ${rows.map(([name, g, st]) => `${name}: getMulti ${g}, setMulti ${st}`).join('; ')}.`;
    return [
      { id: 'mongo-get', title: 'Mongo get, one key at a time', figures: singleGets, baseline: 'driver findOne', note: about },
      { id: 'mongo-set', title: 'Mongo set, one key at a time (overwrites)', figures: singleSets, baseline: 'driver replaceOne (upsert)' },
      { id: 'mongo-getmulti', title: `Mongo getMulti(${BATCH}), keys/s`, figures: gets, baseline: `${BEST} getMulti(100)`, note: trips },
      {
        id: 'mongo-setmulti',
        title: `Mongo setMulti(${BATCH}), keys/s`,
        figures: sets,
        baseline: `${BEST} setMulti(100)`,
        note: 'keyv + @keyv/mongo writes 100 NEW keys per setMany (inserts): an overwrite of ~100 existing documents in one command deadlocks FerretDB 1.24. The other rows overwrite.',
      },
    ];
  } finally {
    await raw
      .db(DB)
      .collection(oursName)
      .drop()
      .catch(() => undefined);
    await raw
      .db(DB)
      .collection(keyvName)
      .drop()
      .catch(() => undefined);
    await coll.drop().catch(() => undefined);
    await peer.close().catch(() => undefined);
    await ours.close();
    await raw.close();
  }
}

if (isMain(import.meta.url)) {
  printMachine('MongoDB benchmark');
  printSections(await runMongo());
}
