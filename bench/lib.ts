/**
 * Shared benchmark helpers: warm-up, several timed runs, median with min–max, a machine header, and
 * plain-text tables. Benchmarks print numbers; they never assert on time (only on correctness).
 */
import os from 'node:os';

/** One measured figure: operations (or keys) per second over several runs. */
export interface Figure {
  name: string;
  median: number;
  min: number;
  max: number;
  unit: string;
}

/** Prints the machine the numbers come from. */
export function printMachine(title: string): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# ${title}`);
  console.log(`machine: ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`);
  console.log(`date: ${new Date().toISOString()}\n`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Runs `batch` (which performs `opsPerBatch` operations) repeatedly for about `ms` per run, `runs`
 * times after a warm-up run, and returns operations per second.
 */
export async function measure(name: string, opsPerBatch: number, batch: () => Promise<void>, options: { runs?: number; ms?: number; unit?: string } = {}): Promise<Figure> {
  const { runs = 5, ms = 400, unit = 'ops/s' } = options;
  const once = async (): Promise<number> => {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ms) {
      await batch();
      ops += opsPerBatch;
      elapsed = performance.now() - start;
    }
    return (ops / elapsed) * 1000;
  };
  await once(); // warm-up: JIT and caches
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) rates.push(await once());
  return { name, median: median(rates), min: Math.min(...rates), max: Math.max(...rates), unit };
}

/** Formats a rate like `5.21 M`. */
export function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

/** Prints figures as a table, each with its ratio to `baseline` (a figure name in the same table). */
export function printTable(title: string, figures: Figure[], baseline?: string): void {
  const base = figures.find((f) => f.name === baseline);
  const rows = figures.map((f) => [
    f.name,
    `${formatRate(f.median)} ${f.unit}`,
    `${formatRate(f.min)} – ${formatRate(f.max)}`,
    base ? `${(f.median / base.median).toFixed(2)}×` : '',
  ]);
  const header = ['', 'median', 'min – max', base ? `vs ${base.name}` : ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(`## ${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('');
}

/** Fails the benchmark (non-zero exit) when a cache returns something it should not: a broken cache must not post a number. */
export function check(condition: boolean, message: string): void {
  if (!condition) {
    console.error(`correctness check failed: ${message}`);
    process.exit(1);
  }
}
