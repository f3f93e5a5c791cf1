/**
 * A tiny horizontal bar chart in SVG, no dependency: one bar per figure (the median), a thin line for
 * min–max, the baseline's bar in grey and ours in blue. Written by bench/run.ts into docs/bench/.
 */
import { formatValue, type Section } from './lib.js';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Names that are ours (drawn in blue). */
const OURS = /Dictionary|region|MongoBackend|Etcd3Backend|PooledMemcached|dogpile-cache|^ours/i;

export function barChart(section: Section): string {
  const { figures, baseline, lowerIsBetter } = section;
  const rowH = 22;
  const labelW = 330;
  const barW = 360;
  const valueW = 170;
  const top = 34;
  const width = labelW + barW + valueW + 20;
  const height = top + figures.length * rowH + 24;
  const max = Math.max(...figures.map((f) => f.max), 1e-9);
  const scale = (v: number): number => (v / max) * barW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(section.title)}</text>`,
  ];
  figures.forEach((f, i) => {
    const y = top + i * rowH;
    const colour = f.name === baseline ? '#9e9e9e' : OURS.test(f.name) ? '#1f77b4' : '#ff9f40';
    const w = Math.max(1, scale(f.median));
    out.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${escapeXml(f.name.length > 52 ? `${f.name.slice(0, 50)}…` : f.name)}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colour}"/>`);
    if (f.max > f.min) {
      const x1 = labelW + scale(f.min);
      const x2 = labelW + scale(f.max);
      const ym = y + rowH / 2 - 1;
      out.push(`<line x1="${x1.toFixed(1)}" y1="${ym}" x2="${x2.toFixed(1)}" y2="${ym}" stroke="#222" stroke-width="1.2"/>`);
      out.push(`<line x1="${x1.toFixed(1)}" y1="${ym - 4}" x2="${x1.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
      out.push(`<line x1="${x2.toFixed(1)}" y1="${ym - 4}" x2="${x2.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
    }
    out.push(`<text x="${labelW + barW + 8}" y="${y + 14}">${escapeXml(`${formatValue(f.median, f.unit)} ${f.unit}`)}</text>`);
  });
  const legend = `grey: baseline · blue: dogpile-cache · orange: peers · whiskers: min–max${lowerIsBetter ? ' · lower is better' : ' · higher is better'}`;
  out.push(`<text x="10" y="${height - 8}" font-size="10" fill="#555">${escapeXml(legend)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
