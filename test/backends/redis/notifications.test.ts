// Redis pub/sub notifications (src/backends/redis/notifications.ts) across a dropped subscriber
// connection. The server is a private process (PrivateRedis): the test kills every pub/sub connection on
// it, which would disturb other suites on a shared server.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { SUBSCRIBER_NAME } from '../../../src/backends/redis/notifications.js';
import { RedisNotifications } from '../../../src/tier/index.js';
import { PrivateRedis, redisCli, waitUntil } from '../../support/redis.js';

const privateRedis = new PrivateRedis();
after(() => privateRedis.dispose());

describe('RedisNotifications after a dropped subscriber connection', () => {
  it('says up() only once the channel is subscribed again: a message published from up() arrives', async () => {
    const server = await privateRedis.server();
    await server.start();
    const url = `redis://127.0.0.1:${server.port}`;
    const backend = new RedisBackend({ url });
    // A raw, already connected client: its PUBLISH is written to the socket inside up() itself.
    const publisher = new Redis(url);
    await publisher.ping();
    const notifications = new RedisNotifications(backend);
    const received: string[] = [];
    let ups = 0;
    // The shared invalidation strategy and the local tier read the backend in up(), to catch what they
    // missed while down; anything written after that read must then reach them as a message. Publishing
    // from up() is the strictest form of that: if up() came before SUBSCRIBE took effect, it is lost.
    const subscription = await notifications.subscribe('channel', {
      message: (text) => received.push(text),
      up: () => {
        ups++;
        void publisher.publish('channel', `after-up-${ups}`);
      },
      down: () => undefined,
    });
    try {
      for (let round = 1; round <= 3; round++) {
        await redisCli(server.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
        await waitUntil(`up() was not called after kill ${round}`, async () => ups >= round, 10_000);
        await waitUntil(
          `the message published from up() #${round} never arrived (got ${JSON.stringify(received)})`,
          async () => received.includes(`after-up-${round}`),
          5_000,
        );
        // The reconnected subscriber still carries its name, so CLIENT LIST can tell it apart.
        const clients = await redisCli(server.port, ['CLIENT', 'LIST', 'TYPE', 'pubsub']);
        assert.match(clients, new RegExp(`name=${SUBSCRIBER_NAME} `), `after reconnect ${round}: ${clients}`);
      }
      // And nothing arrives twice because of the extra SUBSCRIBE.
      await publisher.publish('channel', 'last');
      await waitUntil('the last message never arrived', async () => received.includes('last'), 5_000);
      await sleep(100);
      assert.equal(received.filter((text) => text === 'last').length, 1);
    } finally {
      await subscription.close();
      await backend.close();
      publisher.disconnect();
    }
  });
});
