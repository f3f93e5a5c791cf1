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

/** One table of a benchmark part: figures measured in the same run, each shown as a ratio to `baseline`. */
export interface Section {
  /** Short file-safe id, used for the chart's file name. */
  id: string;
  title: string;
  figures: Figure[];
  baseline?: string | undefined;
  /** Lower is better (bytes, milliseconds, calls): the ratio column and chart say so. */
  lowerIsBetter?: boolean;
  note?: string | undefined;
}

/** Builds a figure from raw samples (rates, bytes, milliseconds). */
export function figureOf(name: string, samples: number[], unit: string): Figure {
  return { name, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), unit };
}

/** The machine and its load, one line each (printed at the top of every run and written to the report). */
export function machineLines(): string[] {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return [
    `machine: ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`,
    `load average (1/5/15 min) at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
    `date: ${new Date().toISOString()}`,
  ];
}

/** Prints the machine the numbers come from. */
export function printMachine(title: string): void {
  console.log(`# ${title}`);
  console.log(`${machineLines().join('\n')}\n`);
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
export async function measure(
  name: string,
  opsPerBatch: number,
  batch: () => Promise<void>,
  options: { runs?: number; ms?: number; unit?: string } = {},
): Promise<Figure> {
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

/**
 * Runs every variant for ~`ms` per run, `runs` times after a warm-up, interleaving them (A B C, A B C, …)
 * so that a change in the shared machine's load hits them alike.
 */
export interface Variant {
  name: string;
  /** Operations (or keys) one call of `batch` performs. */
  ops: number;
  batch: () => Promise<void>;
  unit?: string;
}

export async function interleaved(variants: Variant[], { runs = 5, ms = 1000 } = {}): Promise<Figure[]> {
  const once = async (v: Variant, budget: number): Promise<number> => {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < budget) {
      await v.batch();
      ops += v.ops;
      elapsed = performance.now() - start;
    }
    return (ops / elapsed) * 1000;
  };
  for (const v of variants) await once(v, ms / 2); // warm-up: JIT, connections, leases
  const rates = variants.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? [...variants.keys()] : [...variants.keys()].reverse();
    for (const i of order) rates[i]?.push(await once(variants[i] as Variant, ms));
  }
  return variants.map((v, i) => figureOf(v.name, rates[i] ?? [], v.unit ?? 'ops/s'));
}

/** Formats a figure's number: rates like `5.21 M`, other units plainly. */
export function formatValue(value: number, unit: string): string {
  if (unit.endsWith('/s')) return formatRate(value);
  if (Number.isInteger(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Formats a rate like `5.21 M`. */
export function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

/** Prints figures as a table, each with its ratio to `baseline` (a figure name in the same table). */
export function printTable(title: string, figures: Figure[], baseline?: string): void {
  console.log(tableText({ id: '', title, figures, baseline }));
}

/** A section as a Markdown table (aligned, so it reads as plain text too), with its title and note. */
export function tableText(section: Section): string {
  const { title, figures, baseline, note } = section;
  const base = figures.find((f) => f.name === baseline);
  const rows = figures.map((f) => [
    f.name,
    `${formatValue(f.median, f.unit)} ${f.unit}`,
    `${formatValue(f.min, f.unit)} – ${formatValue(f.max, f.unit)}`,
    base ? `${base.median === 0 ? '–' : (f.median / base.median).toFixed(2)}×` : '',
  ]);
  const header = ['', 'median', 'min – max', base ? `vs ${base.name}` : ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const out = [`## ${title}`, '', line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ''];
  if (note) out.push(note, '');
  return out.join('\n');
}

/** Prints sections as tables. */
export function printSections(sections: Section[]): void {
  for (const section of sections) console.log(tableText(section));
}

/** True when this module is the script node was started with (a part run on its own). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && new URL(url).pathname.replace(/\.ts$/, '') === process.argv[1].replace(/\.ts$/, '');
}

/** Thrown when a cache returns something it should not. */
export class CorrectnessError extends Error {}

/**
 * Fails the benchmark when a cache returns something it should not: a broken cache must not post a
 * number. Throws (so servers and clients are cleaned up); the runner exits non-zero.
 */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CorrectnessError(`correctness check failed: ${message}`);
}

/**
 * A number from the environment variable `name` (a benchmark's knob), or `fallback` when it is unset or empty.
 * A value that is not a positive number stops the run with a message naming the variable: a mistyped knob
 * gave empty figures before.
 */
export function envNumber(name: string, fallback: number, { integer = false } = {}): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new Error(
      `${name}=${JSON.stringify(text)} is not a positive ${integer ? 'whole number' : 'number'}: set it to one (default ${fallback}) or unset it`,
    );
  return value;
}

/** A comma-separated list of numbers from `name` (see {@link envNumber}), or `fallback`. */
export function envNumbers(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  return text.split(',').map((part, i) => {
    const value = Number(part);
    if (part.trim() === '' || !Number.isInteger(value) || value <= 0)
      throw new Error(
        `${name}=${JSON.stringify(text)}: item ${i + 1} is not a positive whole number: set a list such as ${fallback.join(',')} or unset it`,
      );
    return value;
  });
}
