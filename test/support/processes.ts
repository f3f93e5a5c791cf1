/**
 * Spawns worker processes (test/support/process-worker.ts) and talks to them over stdin/stdout, for the
 * cross-process dogpile tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface WorkerResult {
  created: number;
  values: string[];
  ms: number;
}

export interface Worker {
  child: ChildProcess;
  /** Resolves when the worker printed a line matching `test`. */
  waitFor(test: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  go(): void;
  result(timeoutMs?: number): Promise<WorkerResult>;
  kill(): void;
}

const WORKER = join(import.meta.dirname, 'process-worker.ts');

/** Starts a worker with `config` and resolves once it is ready. */
export async function startWorker(config: Record<string, unknown>): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, DOGPILE_WORKER: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: { test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    messages.push(message);
    for (const waiter of waiters.splice(0)) waiter.test(message) ? waiter.resolve(message) : waiters.push(waiter);
  });
  const waitFor = (test: (m: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const seen = messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${child.pid} did not answer in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)),
        timeoutMs,
      );
      waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      child.once('exit', (code) => {
        if (!messages.some(test)) {
          clearTimeout(timer);
          reject(new Error(`worker ${child.pid} exited (${code}) early; stderr: ${stderr.slice(-2000)}`));
        }
      });
    });
  };
  await waitFor((m) => m.ready === true);
  return {
    child,
    waitFor,
    go: () => child.stdin?.write('go\n'),
    result: async (timeoutMs = 30_000) => (await waitFor((m) => 'created' in m, timeoutMs)) as unknown as WorkerResult,
    kill: () => child.kill('SIGKILL'),
  };
}

/** Ends every worker still running. */
export function killAll(workers: Worker[]): void {
  for (const worker of workers) if (worker.child.exitCode === null) worker.kill();
}
