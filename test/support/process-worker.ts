/**
 * A worker process for the cross-process lock tests. It builds a region over the backend named in
 * DOGPILE_WORKER (JSON), says `ready`, waits for `go` on stdin, runs `callers` concurrent
 * getOrCreate on one key with a creator that takes `creatorMs`, and prints one JSON line with how
 * many times its creator ran and which values its callers got.
 */
import { createInterface } from 'node:readline';
import { CacheRegion } from '../../src/index.js';

interface WorkerConfig {
  backend: string;
  args: Record<string, unknown>;
  key: string;
  callers: number;
  creatorMs: number;
  expirationTime: number | null;
  label: string;
}

const config = JSON.parse(process.env.DOGPILE_WORKER ?? '{}') as WorkerConfig;
const region = new CacheRegion().configure(config.backend, { expirationTime: config.expirationTime, arguments: config.args });
let created = 0;
const creator = async (): Promise<string> => {
  created++;
  process.stdout.write(`${JSON.stringify({ creating: true })}\n`);
  await new Promise((resolve) => setTimeout(resolve, config.creatorMs));
  return `${config.label}:${process.pid}`;
};

const lines = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const started = performance.now();
  const values = await Promise.all(Array.from({ length: config.callers }, () => region.getOrCreate(config.key, creator)));
  process.stdout.write(
    `${JSON.stringify({ created, values: [...new Set(values)], ms: performance.now() - started, stats: region.stats() })}\n`,
  );
  break;
}
lines.close();
await region.close();
