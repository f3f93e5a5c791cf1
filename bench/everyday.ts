/**
 * Issue 22 item 4: what tags and an entry's own TTL cost on an in-memory hit. Dictionary backend,
 * no serializer, 1,000 keys; get and getOrCreate hits for entries with no tags, one tag, three tags,
 * and an own TTL. Prints the median ns per hit of 7 rounds (2 shared cores: read the ratios, not the
 * absolute figures). Run: `node --import tsx bench/everyday.ts`.
 */
import { CacheRegion, type SetOptions } from '../src/index.js';

const KEYS = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
const ROUNDS = 7;
const PASSES = 200;

async function nsPerHit(options: SetOptions | undefined, op: 'get' | 'getOrCreate'): Promise<number> {
  const region = new CacheRegion().configure('dictionary', { expirationTime: 600 });
  for (const [i, k] of KEYS.entries()) await region.set(k, { id: i }, options);
  const creator = (): never => {
    throw new Error('creator called on a hit workload');
  };
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    for (let p = 0; p < PASSES; p++) {
      if (op === 'get') for (const k of KEYS) await region.get(k);
      else for (const k of KEYS) await region.getOrCreate(k, creator);
    }
    rounds.push(Number(process.hrtime.bigint() - started) / (PASSES * KEYS.length));
  }
  await region.close();
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number;
}

const cases: [string, SetOptions | undefined][] = [
  ['no tags, no own TTL', undefined],
  ['own TTL', { expirationTime: 600 }],
  ['1 tag', { tags: ['user:1'] }],
  ['3 tags', { tags: ['user:1', 'org:2', 'catalog'] }],
];
console.log('| entry | get hit, ns | getOrCreate hit, ns |');
console.log('|---|---|---|');
for (const [name, options] of cases) {
  const get = await nsPerHit(options, 'get');
  const goc = await nsPerHit(options, 'getOrCreate');
  console.log(`| ${name} | ${get.toFixed(0)} | ${goc.toFixed(0)} |`);
}
