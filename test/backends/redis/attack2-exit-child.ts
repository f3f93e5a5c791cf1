// Child process of attack2-watchdog.test.ts: one command with socket_timeout 60 s, then close(). The
// watchdog's timer is still scheduled (it stops at its next run); unref'd, it must not keep us alive.
import { RedisBackend } from '../../../src/backends/redis/index.js';

const backend = new RedisBackend({ host: '127.0.0.1', port: Number(process.env.A2_PORT), socket_timeout: 60 });
await backend.get('a2-exit');
await backend.close();
