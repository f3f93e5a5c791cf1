/**
 * Redis backend figures of issue 17, each beside raw ioredis, keyv + @keyv/redis and cache-manager with a
 * Redis store (keyv + @keyv/redis) in the same run:
 * `get` at 64 in flight, `getMulti(100)` against one raw MGET, and `set` with a TTL at 64 in flight
 * against a raw `SET … PX`. The baselines are a raw ioredis client with its defaults, doing the JSON
 * work a user would do for the same value (JSON.stringify / JSON.parse of the payload). Extra raw rows
 * show where the gap comes from: the same raw calls bounded with ioredis's `commandTimeout` (a timer per
 * command, no offline queue: how RedisBackend bounded its calls before its one-timer watchdog, see
 * src/backends/redis/watchdog.ts), and an MGET of dogpile's larger entries.
 *
 * Run: `node --import tsx bench/redis.ts` (REDIS_URL, default redis://127.0.0.1:26379), or `BENCH_PARTS=redis npm run bench`. Asserts correctness, never time.
 */
import { randomUUID } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import { RedisBackend } from '../src/backends/redis/index.js';
import { isNoValue, jsonSerializer, type CachedValue } from '../src/index.js';
import { buildSerialized, makeCachedValue } from '../src/backend.js';
import { check, figureOf, interleaved, isMain, printMachine, printSections, type Figure, type Section } from './lib.js';

const defaultUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:26379';
const prefix = `bench-redis-${randomUUID().slice(0, 8)}:`;
const IN_FLIGHT = 64;
const PER_WORKER = 16; // one batch = 64 workers × 16 awaited calls
const KEY_SPACE = 1000;
const TTL_SECONDS = 300;
const payload = { id: 0, name: 'x'.repeat(60), tags: ['a', 'b'] }; // ~100 bytes of JSON

let raw: Redis;
let rawAuto: Redis;
let rawBounded: Redis;
let backend: RedisBackend;
let backendPlain: RedisBackend;
let keyv: Keyv;
let cache: Cache;

/** 64 concurrent workers, 16 awaited calls each, over `KEY_SPACE` keys. */
const inFlight = (call: (i: number) => Promise<unknown>) => {
  let n = 0;
  return async (): Promise<void> => {
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = 0; i < PER_WORKER; i++) await call(n++ % KEY_SPACE);
      }),
    );
  };
};

async function gets(): Promise<Figure[]> {
  const keys = Array.from({ length: 100 }, (_, i) => `get/${i}`);
  for (const k of keys) {
    await backend.set(prefix + k, makeCachedValue(payload));
    await raw.set(`${prefix}raw/${k}`, JSON.stringify(payload));
    await keyv.set(k, payload);
    await cache.set(`cm/${k}`, payload);
  }
  const key = (i: number): string => keys[i % 100] as string;
  const hit = (value: unknown): void => check(value !== undefined && value !== null, 'get must hit');
  return interleaved([
    {
      name: 'raw ioredis GET',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => hit(JSON.parse((await raw.get(`${prefix}raw/${key(i)}`)) ?? 'null'))),
    },
    {
      name: 'raw ioredis GET (auto-pipelining)',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => hit(JSON.parse((await rawAuto.get(`${prefix}raw/${key(i)}`)) ?? 'null'))),
    },
    {
      name: 'raw ioredis GET, commandTimeout 5 s',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => hit(JSON.parse((await rawBounded.get(`${prefix}raw/${key(i)}`)) ?? 'null'))),
    },
    {
      name: 'RedisBackend.get',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => check(!isNoValue(await backend.get(prefix + key(i))), 'get must hit')),
    },
    {
      name: 'RedisBackend.get, coalesce_writes: false',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => check(!isNoValue(await backendPlain.get(prefix + key(i))), 'get must hit')),
    },
    {
      name: 'RedisBackend.getSerialized (bytes, no decode)',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => check(!isNoValue(await backend.getSerialized(prefix + key(i))), 'get must hit')),
    },
    { name: 'keyv + @keyv/redis get', ops: IN_FLIGHT * PER_WORKER, batch: inFlight(async (i) => hit(await keyv.get(key(i)))) },
    {
      name: 'cache-manager (@keyv/redis) get',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight(async (i) => hit(await cache.get(`cm/${key(i)}`))),
    },
  ]);
}

async function getMulti(): Promise<Figure[]> {
  const group = (g: number): string[] => Array.from({ length: 100 }, (_, i) => `g${g}/${i}`);
  for (let g = 0; g < 10; g++) {
    await backend.setMulti(Object.fromEntries(group(g).map((k) => [prefix + k, makeCachedValue({ ...payload, id: g })])));
    await raw.mset(Object.fromEntries(group(g).map((k) => [`${prefix}raw/${k}`, JSON.stringify({ ...payload, id: g })])));
    await keyv.setMany(group(g).map((k) => ({ key: k, value: { ...payload, id: g } })));
    await cache.mset(group(g).map((k) => ({ key: `cm/${k}`, value: { ...payload, id: g } })));
  }
  const ours = Array.from({ length: 10 }, (_, g) => group(g).map((k) => prefix + k));
  for (let g = 0; g < 10; g++) {
    const got = await backend.getMulti(ours[g] as string[]);
    check(
      got.every((v) => !isNoValue(v) && (v as CachedValue<typeof payload>).payload.id === g),
      `getMulti group ${g} must hit`,
    );
  }
  const rawKeys = Array.from({ length: 10 }, (_, g) => group(g).map((k) => `${prefix}raw/${k}`));
  let g = 0;
  return interleaved([
    {
      name: 'raw ioredis MGET (100 keys)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const values = await raw.mget(rawKeys[g++ % 10] as string[]);
        for (const v of values) JSON.parse(v ?? 'null'); // decode like a cache would
      },
    },
    {
      name: "raw ioredis MGET (100 keys) of dogpile's entries",
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const values = await raw.mget(ours[g++ % 10] as string[]);
        for (const v of values) JSON.parse(v === null ? 'null' : v.slice(v.indexOf('|') + 1)); // the payload only
      },
    },
    {
      name: 'RedisBackend.getMulti(100)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => void (await backend.getMulti(ours[g++ % 10] as string[])),
    },
    {
      name: 'RedisBackend.getSerializedMulti(100) (bytes, no decode)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => void (await backend.getSerializedMulti(ours[g++ % 10] as string[])),
    },
    {
      name: 'keyv + @keyv/redis getMany(100)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const got = await keyv.getMany(group(g++ % 10));
        check(
          got.every((v) => v !== undefined),
          'keyv getMany must hit',
        );
      },
    },
    {
      name: 'cache-manager (@keyv/redis) mget(100)',
      ops: 100,
      unit: 'keys/s',
      batch: async () => {
        const got = await cache.mget(group(g++ % 10).map((k) => `cm/${k}`));
        check(
          got.every((v) => v !== undefined && v !== null),
          'cache-manager mget must hit',
        );
      },
    },
  ]);
}

async function sets(): Promise<Figure[]> {
  const ttlMs = TTL_SECONDS * 1000;
  const bytes = buildSerialized(makeCachedValue(payload), jsonSerializer);
  const figures = await interleaved([
    {
      name: 'raw ioredis SET PX',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => raw.set(`${prefix}rawset/${i}`, JSON.stringify(payload), 'PX', ttlMs)),
    },
    {
      name: 'raw ioredis SET PX (auto-pipelining)',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => rawAuto.set(`${prefix}rawset/${i}`, JSON.stringify(payload), 'PX', ttlMs)),
    },
    {
      name: 'raw ioredis SET PX, commandTimeout 5 s',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => rawBounded.set(`${prefix}rawset/${i}`, JSON.stringify(payload), 'PX', ttlMs)),
    },
    {
      name: 'RedisBackend.set, redis_expiration_time 300',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => backend.set(`${prefix}set/${i}`, makeCachedValue(payload))),
    },
    {
      name: 'RedisBackend.set, coalesce_writes: false',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => backendPlain.set(`${prefix}set/${i}`, makeCachedValue(payload))),
    },
    {
      name: 'RedisBackend.setSerialized (bytes, no encode)',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => backend.setSerialized(`${prefix}setb/${i}`, bytes)),
    },
    { name: 'keyv + @keyv/redis set (TTL)', ops: IN_FLIGHT * PER_WORKER, batch: inFlight((i) => keyv.set(`kset/${i}`, payload, ttlMs)) },
    {
      name: 'cache-manager (@keyv/redis) set (TTL)',
      ops: IN_FLIGHT * PER_WORKER,
      batch: inFlight((i) => cache.set(`cmset/${i}`, payload, ttlMs)),
    },
  ]);
  const ttl = await raw.ttl(`${prefix}set/1`);
  check(ttl > 0 && ttl <= TTL_SECONDS, `our writes carry the server TTL; got ${ttl}`);
  const sample = await backend.getMulti(Array.from({ length: 100 }, (_, i) => `${prefix}set/${i}`));
  check(
    sample.every((v) => !isNoValue(v)),
    'every benchmarked set must be readable',
  );
  return figures;
}

/**
 * CPU time per call (user + system, this process), 64 in flight: unlike throughput it hardly moves when
 * other processes load the machine, so it shows what the backend itself adds to a raw ioredis call.
 */
async function cpuPerCall(): Promise<Figure[]> {
  const rawKey = `${prefix}cpu/raw`;
  const ourKey = `${prefix}cpu/ours`;
  await raw.set(rawKey, JSON.stringify(payload));
  await backend.set(ourKey, makeCachedValue(payload));
  const bytes = buildSerialized(makeCachedValue(payload), jsonSerializer);
  const rawKeys = Array.from({ length: 100 }, (_, i) => `${prefix}cpu/raw/${i}`);
  const ourKeys = Array.from({ length: 100 }, (_, i) => `${prefix}cpu/ours/${i}`);
  await raw.mset(Object.fromEntries(rawKeys.map((k) => [k, JSON.stringify(payload)])));
  await backend.setMulti(Object.fromEntries(ourKeys.map((k) => [k, makeCachedValue(payload)])));
  const calls = IN_FLIGHT * PER_WORKER * 10;
  // [name, call, keys per call]: a multi-key call's CPU time is shown per key.
  const variants: [string, () => Promise<unknown>, number?][] = [
    ['raw ioredis GET + JSON.parse', async () => JSON.parse((await raw.get(rawKey)) ?? 'null')],
    ['raw ioredis GET + JSON.parse, commandTimeout 5 s', async () => JSON.parse((await rawBounded.get(rawKey)) ?? 'null')],
    ['raw ioredis GET + JSON.parse (auto-pipelining)', async () => JSON.parse((await rawAuto.get(rawKey)) ?? 'null')],
    ['RedisBackend.get', () => backend.get(ourKey)],
    ['RedisBackend.get, coalesce_writes: false', () => backendPlain.get(ourKey)],
    ['raw ioredis GET (bytes)', () => raw.getBuffer(rawKey)],
    ['RedisBackend.getSerialized (bytes)', () => backend.getSerialized(ourKey)],
    ['raw ioredis SET PX', () => raw.set(rawKey, JSON.stringify(payload), 'PX', TTL_SECONDS * 1000)],
    ['raw ioredis SET PX, commandTimeout 5 s', () => rawBounded.set(rawKey, JSON.stringify(payload), 'PX', TTL_SECONDS * 1000)],
    ['raw ioredis SET PX (auto-pipelining)', () => rawAuto.set(rawKey, JSON.stringify(payload), 'PX', TTL_SECONDS * 1000)],
    ['RedisBackend.set, redis_expiration_time 300', () => backend.set(ourKey, makeCachedValue(payload))],
    ['RedisBackend.set, coalesce_writes: false', () => backendPlain.set(ourKey, makeCachedValue(payload))],
    ['RedisBackend.setSerialized (bytes)', () => backend.setSerialized(ourKey, bytes)],
    ['raw ioredis MGET (100 keys) + JSON.parse, per key', async () => (await raw.mget(rawKeys)).map((v) => JSON.parse(v ?? 'null')), 100],
    // The same entries RedisBackend reads (dogpile's metadata, "|", the payload), parsing the payload only:
    // the least a client reading dogpile's format does, so what getMulti adds is the difference.
    [
      "raw ioredis MGET (100 keys) of dogpile's entries + JSON.parse of the payload, per key",
      async () => (await raw.mget(ourKeys)).map((v) => JSON.parse(v === null ? 'null' : v.slice(v.indexOf('|') + 1))),
      100,
    ],
    ['RedisBackend.getMulti(100), per key', () => backend.getMulti(ourKeys), 100],
  ];
  const samples = variants.map(() => [] as number[]);
  for (let run = 0; run < 6; run++) {
    for (const [i, [, call, keys = 1]] of variants.entries()) {
      const perWorker = Math.max(1, Math.round(calls / keys / IN_FLIGHT)); // about as many keys for every row
      const before = process.cpuUsage();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let n = 0; n < perWorker; n++) await call();
        }),
      );
      const used = process.cpuUsage(before);
      if (run > 0) samples[i]?.push((used.user + used.system) / (perWorker * IN_FLIGHT * keys)); // run 0 warms up
    }
  }
  return variants.map(([name], i) => figureOf(name, samples[i] ?? [], 'µs/call'));
}

export async function runRedis(url: string = defaultUrl): Promise<Section[]> {
  raw = new Redis(url);
  rawAuto = new Redis(url, { enableAutoPipelining: true });
  // ioredis's own bound per command (a timer each), with RedisBackend's other client options; RedisBackend
  // bounds its calls with one watchdog timer instead (src/backends/redis/watchdog.ts).
  rawBounded = new Redis(url, {
    lazyConnect: true,
    commandTimeout: 5000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  await rawBounded.connect();
  backend = new RedisBackend({ url, redis_expiration_time: TTL_SECONDS });
  // Each command written at once, one socket write each: the backend before coalesced writes.
  backendPlain = new RedisBackend({ url, redis_expiration_time: TTL_SECONDS, coalesce_writes: false });
  keyv = new Keyv({ store: new KeyvRedis(url), namespace: `${prefix}keyv` });
  cache = createCache({ stores: [new Keyv({ store: new KeyvRedis(url), namespace: `${prefix}cm` })] });
  try {
    const info = await raw.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const about = `Redis ${version} at ${url.replace(/\/\/[^@]*@/, '//***@')}; values ~100 B of JSON (ours: dogpile's meta|payload bytes; keyv and cache-manager: their JSON envelope).`;
    const sections: Section[] = [];
    sections.push({
      id: 'redis-get',
      title: `Redis get, ${IN_FLIGHT} in flight`,
      figures: await gets(),
      baseline: 'raw ioredis GET',
      note:
        `${about} The raw rows GET a string and JSON.parse it; "commandTimeout 5 s" is the same with ioredis's bound per command (a timer ` +
        "each) and RedisBackend's other client options (no offline queue; no retries). RedisBackend bounds every call by socket_timeout (5 s) " +
        'with one watchdog timer per connection instead. RedisBackend.get GETs the entry as a string and parses ' +
        "dogpile's metadata and the payload; the (bytes) row GETs a Buffer and parses nothing. RedisBackend leaves ioredis auto-pipelining off (its default) and coalesces its writes instead: the commands sent in one tick " +
        'after its first leave in one socket write (coalesce_writes, on by default; the "coalesce_writes: false" row writes each command at once).',
    });
    sections.push({
      id: 'redis-getmulti',
      title: 'Redis getMulti: 100 keys per call, one call at a time',
      figures: await getMulti(),
      baseline: 'raw ioredis MGET (100 keys)',
      note:
        'Each row JSON.parses every payload except the (bytes) row, which parses nothing. The first raw row reads its own JSON (~80 B per value); ' +
        '"of dogpile\'s entries" MGETs the same entries as RedisBackend (~120 B: metadata, "|", Python-spaced JSON) and parses the payload after "|"; ' +
        "RedisBackend.getMulti also parses dogpile's metadata.",
    });
    sections.push({
      id: 'redis-set-ttl',
      title: `Redis set with a TTL, ${IN_FLIGHT} in flight`,
      figures: await sets(),
      baseline: 'raw ioredis SET PX',
      note:
        'The raw rows write JSON.stringify(payload) with a PX TTL ("commandTimeout 5 s" and "auto-pipelining": as in the get table); ' +
        "RedisBackend.set builds dogpile's entry (a creation time, metadata, the payload as Python's json.dumps writes it, checked to read back the same) " +
        'and writes it with EX; the (bytes) row writes prebuilt bytes; "coalesce_writes: false" writes each command at once (one socket write each).',
    });
    sections.push({
      id: 'redis-cpu',
      title: `Redis: CPU time per call in this process, ${IN_FLIGHT} in flight`,
      figures: await cpuPerCall(),
      baseline: 'raw ioredis GET + JSON.parse',
      lowerIsBetter: true,
      note:
        'process.cpuUsage() (user + system) over 10,240 calls (the MGET rows: 12,800 keys, 100 per call, shown per key), median of 5 runs: ' +
        'barely affected by other load on the machine, unlike the rates above.',
    });
    return sections;
  } finally {
    await backend.close();
    await backendPlain.close();
    await keyv.disconnect().catch(() => undefined);
    await cache.disconnect().catch(() => undefined);
    const keys = await raw.keys(`*${prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await raw.del(...keys.slice(i, i + 500));
    await Promise.all([raw.quit(), rawAuto.quit(), rawBounded.quit()]);
  }
}

if (isMain(import.meta.url)) {
  printMachine('RedisBackend vs raw ioredis, keyv + @keyv/redis and cache-manager');
  printSections(await runRedis());
}
