/**
 * `npm run demo`: a cache region on the in-memory Dictionary backend, no server needed. It shows the
 * dogpile lock (1,000 concurrent callers, one creator call), expiry, soft invalidation serving the
 * stale value while one caller regenerates, memoization, and the region's stats.
 */
import { CacheRegion, NO_VALUE, manualClock } from '../src/index.js';

const clock = manualClock(); // the demo moves time by hand instead of sleeping
const region = new CacheRegion({ name: 'demo', clock }).configure('oslo_cache.dict', { expirationTime: '10m' });

let creatorCalls = 0;
async function loadReport(): Promise<string> {
  creatorCalls++;
  await new Promise((resolve) => setTimeout(resolve, 50)); // a slow query
  return `report #${creatorCalls}`;
}

console.log('1. The dogpile lock: 1,000 concurrent getOrCreate calls on a cold key');
const results = await Promise.all(Array.from({ length: 1000 }, () => region.getOrCreate('report', loadReport)));
console.log(`   creator calls: ${creatorCalls}; every caller got "${results[0]}": ${results.every((r) => r === results[0])}`);

console.log('\n2. Expiry: ten minutes later the value is stale');
clock.advance(10 * 60 * 1000 + 1);
console.log(`   region.get("report") -> ${String(await region.get('report'))}`);
console.log(`   getOrCreate regenerates it -> "${await region.getOrCreate('report', loadReport)}"`);

console.log('\n3. Soft invalidation: one caller regenerates, the others get the stale value at once');
clock.advance(1000);
region.invalidate(false);
const regenerating = region.getOrCreate('report', loadReport);
await new Promise((resolve) => setImmediate(resolve));
const concurrent = await Promise.all(Array.from({ length: 5 }, () => region.getOrCreate('report', loadReport)));
console.log(`   while regenerating, 5 other callers got: ${[...new Set(concurrent)].join(', ')}`);
console.log(`   the regenerating caller got: "${await regenerating}"`);

console.log('\n4. Memoization on arguments');
const square = region.cacheOnArguments({ namespace: 'square' })(async (n: number) => {
  creatorCalls++;
  return n * n;
});
console.log(`   square(12) = ${await square(12)}, again = ${await square(12)}; stored under "square|12": ${await region.get('square|12')}`);
await square.invalidate(12);
console.log(`   after square.invalidate(12): ${String(await region.get('square|12'))} (a miss is ${String(NO_VALUE)})`);

console.log('\n5. Values that look falsy are values, never misses');
await region.setMulti({ zero: 0, empty: '', nothing: null });
console.log(`   getMulti -> ${JSON.stringify(await region.getMulti(['zero', 'empty', 'nothing']))}`);

console.log('\n6. Stats');
console.log(`   ${JSON.stringify(region.stats())}`);
await region.close();
