/**
 * A tiny horizontal bar chart in SVG, no dependency: one bar per figure (the median), a thin line for
 * min–max, coloured by who the row measures (see {@link rowKind}). Written by bench/report.ts into
 * docs/bench/. Labels are never clipped: the label column is as wide as the widest label (estimated
 * from Helvetica's glyph widths), and a label wider than the column's cap wraps onto more lines.
 */
import { formatValue, type Figure, type Section } from './lib.js';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Who a row measures: the section's `baseline`; `reference`, a raw driver or a plain Map (what any
 * cache costs at least); `ours`, anything dogpile-cache (a region, a backend, our locks, the local
 * tier); `peer`, another cache library.
 */
export type RowKind = 'baseline' | 'reference' | 'ours' | 'peer';

/** Raw drivers and plain-Map floors: not a cache library, ours or theirs. */
const REFERENCE = /^(raw |driver[ ,]|await Map|Map<|lease grant \+ put)/;
/** The peer libraries (checked before OURS: "memcached (npm client)" is a peer, "memcached, 4×50" is our lock). */
const PEER = /^(lru-cache|cache-manager|keyv|catbox|bentocache|async-cache-dedupe|memcached \(npm client\))/;
/**
 * Ours: the entry points, the region, every backend class, and the rows the lock, tier and
 * staleness benchmarks name after our backends ("memcached: lock acquire + release",
 * "etcd3 (watch) p50", "redis with local tier", "local tier over mongo get").
 */
const OURS =
  /^(dogpile-cache|region\b|(Dictionary|Memory|Null|PooledMemcached|Mongo|Etcd3|Redis|RedisSentinel|RedisCluster)Backend\b|local tier\b|(memcached|mongo|etcd3|redis)\b[,:( ]|ours\b)/;

/** The colour of each kind of row (grey baseline, light grey references, blue ours, orange peers). */
export const COLOURS: Readonly<Record<RowKind, string>> = Object.freeze({
  baseline: '#9e9e9e',
  reference: '#c7c7c7',
  ours: '#1f77b4',
  peer: '#ff9f40',
});

/**
 * Classifies a row by its name. `explicit` is false when no rule matched and the row fell back to
 * `peer`: the unit test runs every name of the last run through this and fails on a fallback, so a
 * new row is classified on purpose rather than by accident.
 */
export function classifyRow(name: string, baseline: string | undefined): { kind: RowKind; explicit: boolean } {
  if (name === baseline) return { kind: 'baseline', explicit: true };
  if (REFERENCE.test(name)) return { kind: 'reference', explicit: true };
  if (PEER.test(name)) return { kind: 'peer', explicit: true };
  if (OURS.test(name)) return { kind: 'ours', explicit: true };
  return { kind: 'peer', explicit: false };
}

/** The kind of a row (see {@link classifyRow}). */
export function rowKind(name: string, baseline: string | undefined): RowKind {
  return classifyRow(name, baseline).kind;
}

// Helvetica/Arial advance widths in 1/1000 em (the AFM metrics), for the characters our labels use;
// anything else counts as a wide glyph, so an estimate errs on the wide side.
const NARROW = new Set([..." .,:;!|il'"]);
const SEMI = new Set([...'()[]{}-/frtIjJ*']);
const WIDE = new Set([...'mwMW@%']);
const CAPS = /[A-Z]/;

/** Width of `text` in pixels at `fontSize` in Helvetica/Arial, estimated on the wide side (so nothing is clipped). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) units += 278;
    else if (SEMI.has(ch)) units += 333;
    else if (WIDE.has(ch)) units += 889;
    else if (CAPS.test(ch)) units += 722;
    else if (ch.charCodeAt(0) < 128) units += 556;
    else units += 1000; // ×, –, →, … and other non-ASCII: at most an em
  }
  return ((units * (bold ? 1.08 : 1)) / 1000) * fontSize;
}

/**
 * Breaks `text` into lines no wider than `maxWidth` pixels, at spaces (a single word wider than that
 * gets a line of its own and is cut at characters, never dropped).
 */
export function wrapLabel(text: string, maxWidth: number, fontSize: number): string[] {
  if (textWidth(text, fontSize) <= maxWidth) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (textWidth(candidate, fontSize) <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line !== '') lines.push(line);
    line = '';
    let rest = word;
    while (textWidth(rest, fontSize) > maxWidth) {
      let cut = rest.length - 1;
      while (cut > 1 && textWidth(rest.slice(0, cut), fontSize) > maxWidth) cut--;
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    line = rest;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const FONT = 12;
const LINE_H = 15;
/** The label column grows to fit the widest label up to this; longer labels wrap. */
export const MAX_LABEL_WIDTH = 420;
const MIN_LABEL_WIDTH = 160;
const LABEL_PAD = 16;

/** The label column's width and each figure's label lines, so that no label is clipped. */
export function layoutLabels(figures: readonly Figure[]): { labelWidth: number; lines: string[][] } {
  const widest = Math.max(0, ...figures.map((f) => textWidth(f.name, FONT)));
  const labelWidth = Math.ceil(Math.min(MAX_LABEL_WIDTH, Math.max(MIN_LABEL_WIDTH, widest + LABEL_PAD)));
  return { labelWidth, lines: figures.map((f) => wrapLabel(f.name, labelWidth - LABEL_PAD, FONT)) };
}

export function barChart(section: Section): string {
  const { figures, baseline, lowerIsBetter } = section;
  const { labelWidth: labelW, lines } = layoutLabels(figures);
  const barW = 360;
  const valueTexts = figures.map((f) => `${formatValue(f.median, f.unit)} ${f.unit}`);
  const valueW = Math.ceil(Math.max(120, ...valueTexts.map((t) => textWidth(t, FONT) + 16)));
  const rowHeights = lines.map((l) => Math.max(22, l.length * LINE_H + 7));
  const top = 34;
  const legend = `grey: baseline · light grey: raw driver or plain Map · blue: dogpile-cache · orange: peer libraries · whiskers: min–max${lowerIsBetter ? ' · lower is better' : ' · higher is better'}`;
  const width = Math.ceil(Math.max(labelW + barW + valueW + 20, textWidth(section.title, 14, true) + 20, textWidth(legend, 10) + 20));
  const height = top + rowHeights.reduce((a, b) => a + b, 0) + 24;
  const max = Math.max(...figures.map((f) => f.max), 1e-9);
  const scale = (v: number): number => (v / max) * barW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(section.title)}</text>`,
  ];
  let y = top;
  figures.forEach((f, i) => {
    const rowH = rowHeights[i] as number;
    const labelLines = lines[i] as string[];
    const colour = COLOURS[rowKind(f.name, baseline)];
    const w = Math.max(1, scale(f.median));
    const mid = y + rowH / 2;
    // Lines centred on the bar: the first baseline sits half the block's height above the middle.
    const firstLine = mid - ((labelLines.length - 1) * LINE_H) / 2 + 4;
    const tspans = labelLines
      .map((line, n) => `<tspan x="${labelW - 8}" y="${(firstLine + n * LINE_H).toFixed(1)}">${escapeXml(line)}</tspan>`)
      .join('');
    out.push(`<text text-anchor="end">${tspans}</text>`);
    out.push(`<rect x="${labelW}" y="${(mid - 7).toFixed(1)}" width="${w.toFixed(1)}" height="14" fill="${colour}"/>`);
    if (f.max > f.min) {
      const x1 = labelW + scale(f.min);
      const x2 = labelW + scale(f.max);
      const ym = mid - 1;
      out.push(`<line x1="${x1.toFixed(1)}" y1="${ym}" x2="${x2.toFixed(1)}" y2="${ym}" stroke="#222" stroke-width="1.2"/>`);
      out.push(`<line x1="${x1.toFixed(1)}" y1="${ym - 4}" x2="${x1.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
      out.push(`<line x1="${x2.toFixed(1)}" y1="${ym - 4}" x2="${x2.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
    }
    out.push(`<text x="${labelW + barW + 8}" y="${(mid + 4).toFixed(1)}">${escapeXml(valueTexts[i] as string)}</text>`);
    y += rowH;
  });
  out.push(`<text x="10" y="${height - 8}" font-size="10" fill="#555">${escapeXml(legend)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
