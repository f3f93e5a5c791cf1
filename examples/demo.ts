/**
 * `npm run demo`: the backend API on the in-memory default, no server needed.
 */
import { DictionaryBackend, NO_VALUE, isNoValue, makeCachedValue, manualClock } from '../src/index.js';

const clock = manualClock();
const backend = new DictionaryBackend({ expiration_time: '10m', clock });

await backend.set('greeting', makeCachedValue('hello', clock()));
await backend.setMulti({ zero: makeCachedValue(0, clock()), empty: makeCachedValue('', clock()) });
const [greeting, zero, empty, missing] = await backend.getMulti(['greeting', 'zero', 'empty', 'missing']);
console.log('getMulti:', [greeting, zero, empty, missing].map((v) => (isNoValue(v) ? String(v) : JSON.stringify(v.payload))).join(', '));
console.log('0 and "" are values; a miss is', String(NO_VALUE));

clock.advance(10 * 60 * 1000);
console.log('after 10 minutes, greeting is', String(await backend.get('greeting')));
