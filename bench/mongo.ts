/**
 * MongoDB benchmark: MongoBackend beside plain mongodb-driver baselines, same run, same server.
 *
 *   MONGODB_URL=mongodb://127.0.0.1:27117/ npx tsx bench/mongo.ts
 *
 * Throughput of getMulti(100) and setMulti(100) in keys/s (median of 5 runs after a warm-up), and the
 * number of commands (round trips) each variant sends per operation, counted with the driver's command
 * monitoring. Never asserts on time; asserts correctness (every key of the hit workload is a hit with
 * the right payload). BENCH_MS=150 for a quick run.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type CommandStartedEvent, type Document } from 'mongodb';
import { MongoBackend } from '../src/backends/mongo/index.js';
import { decodeEntry, encodeEntry } from '../src/backends/mongo/transform.js';
import { isNoValue, makeCachedValue, type CachedValue } from '../src/index.js';
import { check, measure, printMachine, printTable, type Figure } from './lib.js';

const URL = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/';
const MS = Number(process.env.BENCH_MS ?? 400);
const DB = 'dogpile_cache_bench';
const BATCH = 100;
const BEST = 'driver, one $in / bulk write';
const KEYS = 1000;

const keys = Array.from({ length: KEYS }, (_, i) => `bench-${i}`);
// ~100 bytes of payload, like the other backend benchmarks.
const payloadOf = (i: number): Document => ({ id: i, name: `user-${i}`, roles: ['reader', 'writer'], active: true, score: i / 7 });
const valueOf = (i: number): CachedValue => makeCachedValue(payloadOf(i));
const batches = Array.from({ length: KEYS / BATCH }, (_, b) => keys.slice(b * BATCH, (b + 1) * BATCH));
const indexOf = (key: string): number => Number(key.slice('bench-'.length));

/** A variant under test: one getMulti(100) / setMulti(100) implementation. */
interface Variant {
  name: string;
  getMulti(batch: readonly string[]): Promise<unknown[]>;
  setMulti(batch: readonly string[]): Promise<void>;
}

/**
 * Other libraries to compare (the lead adds @keyv/mongo here in the benchmark issue): each returns a
 * Variant over the same server and collection name prefix, or nothing when the package is absent.
 */
const PEERS: ((url: string, db: string) => Promise<Variant | null>)[] = [];

function checkPayloads(batch: readonly string[], got: readonly unknown[], name: string): void {
  check(got.length === batch.length, `${name}: getMulti returned ${got.length} results for ${batch.length} keys`);
  for (let i = 0; i < batch.length; i++) {
    const expected = indexOf(batch[i] as string);
    const payload = got[i] as Document | null | undefined;
    check(payload !== null && payload !== undefined && payload.id === expected && payload.name === `user-${expected}`, `${name}: wrong or missing value for ${batch[i]}`);
  }
}

/** Commands sent by one call, counted on `client`. */
async function roundTrips(client: MongoClient, fn: () => Promise<unknown>): Promise<number> {
  const seen: string[] = [];
  const listener = (event: CommandStartedEvent): void => void seen.push(event.commandName);
  client.on('commandStarted', listener);
  await fn();
  client.off('commandStarted', listener);
  return seen.length;
}

async function main(): Promise<void> {
  printMachine('MongoDB benchmark');
  // Same pool size as MongoBackend's default. More concurrent overwrites would deadlock FerretDB 1.x
  // (see src/backends/mongo/writes.ts).
  const raw = await new MongoClient(URL, { monitorCommands: true, serverSelectionTimeoutMS: 5000, socketTimeoutMS: 30_000, maxPoolSize: 10 }).connect();
  const build = await raw.db('admin').command({ buildInfo: 1 });
  const ferretdb = typeof build.ferretdbVersion === 'string';
  const server = ferretdb ? `FerretDB ${build.ferretdbVersion} (MongoDB ${build.version} wire)` : `MongoDB ${build.version}`;
  console.log(`server: ${server} at ${URL}; ${KEYS} keys, batches of ${BATCH}, ~100-byte payloads; median of 5 runs of ${MS} ms after a warm-up\n`);

  const run = randomUUID().slice(0, 8);
  const oursName = `ours_${run}`;
  const rawName = `raw_${run}`;
  const ours = new MongoBackend({ db_hosts: URL, db_name: DB, cache_collection: oursName, client_options: { monitorCommands: true } });
  const coll = raw.db(DB).collection<Document & { _id: string }>(rawName, { ignoreUndefined: true, promoteBuffers: true });
  const docOf = (key: string): Document => ({ value: payloadOf(indexOf(key)), meta: { ct: Date.now() / 1000, v: 2 }, doc_date: new Date(8.64e15) });

  const variants: Variant[] = [
    {
      name: 'MongoBackend',
      getMulti: async (batch) => (await ours.getMulti(batch)).map((v) => (isNoValue(v) ? null : v.payload)),
      setMulti: (batch) => ours.setMulti(new Map(batch.map((k) => [k, valueOf(indexOf(k))]))),
    },
    {
      // The best a plain driver user can do: one $in find; one unordered bulkWrite of upserts, or on
      // FerretDB (whose big updates deadlock) deleteMany + insertMany, as MongoBackend does.
      name: BEST,
      getMulti: async (batch) => {
        const docs = await coll.find({ _id: { $in: [...batch] } }, { limit: batch.length, batchSize: batch.length }).toArray();
        const byId = new Map(docs.map((d) => [d._id, d.value]));
        return batch.map((k) => byId.get(k) ?? null);
      },
      setMulti: async (batch) => {
        if (ferretdb) {
          await coll.deleteMany({ _id: { $in: [...batch] } });
          await coll.insertMany(batch.map((k) => ({ _id: k, ...docOf(k) })), { ordered: false });
          return;
        }
        await coll.bulkWrite(batch.map((k) => ({ replaceOne: { filter: { _id: k }, replacement: docOf(k), upsert: true } })), { ordered: false });
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
  ];
  for (const peer of PEERS) {
    const variant = await peer(URL, DB);
    if (variant !== null) variants.push(variant);
  }

  const client = await ours.getClient();
  const rows: string[][] = [];
  const gets: Figure[] = [];
  const sets: Figure[] = [];
  for (const variant of variants) {
    const countOn = variant.name === 'MongoBackend' ? client : raw;
    let b = 0;
    const nextBatch = (): readonly string[] => batches[b++ % batches.length] as string[];
    for (const batch of batches) await variant.setMulti(batch);
    for (const batch of batches) checkPayloads(batch, await variant.getMulti(batch), variant.name);
    const setTrips = await roundTrips(countOn, () => variant.setMulti(batches[0] as string[]));
    const getTrips = await roundTrips(countOn, () => variant.getMulti(batches[0] as string[]));
    rows.push([variant.name, String(getTrips), String(setTrips)]);
    gets.push(
      await measure(variant.name, BATCH, async () => {
        const batch = nextBatch();
        checkPayloads(batch, await variant.getMulti(batch), variant.name);
      }, { ms: MS, unit: 'keys/s' }),
    );
    sets.push(await measure(variant.name, BATCH, () => variant.setMulti(nextBatch()), { ms: MS, unit: 'keys/s' }));
  }

  printTable(`getMulti(${BATCH}), keys/s`, gets, BEST);
  printTable(`setMulti(${BATCH}), keys/s`, sets, BEST);
  console.log(`## Commands (round trips) per ${BATCH}-key operation\n`);
  console.log('| variant | getMulti | setMulti |');
  console.log('|---|---:|---:|');
  for (const [name, get, set] of rows) console.log(`| ${name} | ${get} | ${set} |`);
  console.log('');

  // What MongoBackend adds on the client, without I/O: building each document and checking that BSON
  // stores it faithfully (setMulti), and turning documents back into CachedValues (getMulti).
  const docDate = new Date(8.64e15);
  const values = keys.slice(0, BATCH).map((k) => valueOf(indexOf(k)));
  const encoded = values.map((v, i) => encodeEntry(keys[i] as string, v, docDate, null));
  const cpu = [
    await measure('encode + BSON check, 100 entries', BATCH, async () => {
      for (let i = 0; i < BATCH; i++) encodeEntry(keys[i] as string, values[i] as CachedValue, docDate, null);
    }, { ms: MS, unit: 'keys/s' }),
    await measure('decode, 100 documents', BATCH, async () => {
      for (const doc of encoded) check(!isNoValue(decodeEntry(doc, null)), 'decode lost a value');
    }, { ms: MS, unit: 'keys/s' }),
  ];
  printTable('MongoBackend client-side work per key, no I/O', cpu);

  await raw.db(DB).collection(oursName).drop().catch(() => undefined);
  await coll.drop().catch(() => undefined);
  await ours.close();
  await raw.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
