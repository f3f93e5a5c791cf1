import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import type { Figure, Section } from '../../bench/lib.js';
import { COLOURS, MAX_LABEL_WIDTH, barChart, classifyRow, layoutLabels, rowKind, textWidth, wrapLabel } from '../../bench/svg.js';

const figure = (name: string, median = 1): Figure => ({ name, median, min: median * 0.9, max: median * 1.1, unit: 'ops/s' });

describe('benchmark charts: who a row is', () => {
  it('colours our locks, tier and backends as ours, and the peers as peers', () => {
    for (const name of [
      'memcached: lock acquire + release',
      'etcd3, 4×50',
      'local tier over redis get (hit)',
      'redis (pub/sub) p99',
      'RedisBackend.getSerializedMulti(100) (bytes, no decode)',
      'PooledMemcachedBackend.get (CachedValue, JSON parse)',
      'region (Dictionary, maxEntries) getOrCreate hit',
      'dogpile-cache/oslo',
    ]) {
      assert.equal(rowKind(name, undefined), 'ours', name);
    }
    for (const name of [
      'memcached (npm client) get',
      'keyv + @keyv/redis get',
      'cache-manager (@keyv/redis) get',
      'lru-cache',
      'bentocache getOrSet',
      'async-cache-dedupe fetch',
    ]) {
      assert.equal(rowKind(name, undefined), 'peer', name);
    }
    for (const name of [
      'raw ioredis GET (auto-pipelining)',
      'driver loop, one at a time getMulti(100)',
      'await Map (floor)',
      'Map<string, CachedValue> (baseline)',
    ]) {
      assert.equal(rowKind(name, undefined), 'reference', name);
    }
    assert.equal(rowKind('raw memjs get', 'raw memjs get'), 'baseline');
  });

  it('classifies every row of the last full run by a rule, not by the fallback', () => {
    const saved = JSON.parse(fs.readFileSync(new URL('../../docs/bench/results.json', import.meta.url), 'utf8')) as { sections: Section[] };
    const unclassified = saved.sections.flatMap((s) =>
      s.figures.filter((f) => !classifyRow(f.name, s.baseline).explicit).map((f) => `${s.id}: ${f.name}`),
    );
    assert.deepEqual(unclassified, []);
  });

  it('draws each bar in its kind’s colour', () => {
    const svg = barChart({
      id: 't',
      title: 'T',
      baseline: 'raw memjs get',
      figures: [figure('raw memjs get'), figure('memcached, 4×50'), figure('keyv + @keyv/memcache get')],
    });
    const fills = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="14" fill="(#[0-9a-f]+)"/g)].map((m) => m[1]);
    assert.deepEqual(fills, [COLOURS.baseline, COLOURS.ours, COLOURS.peer]);
  });
});

describe('benchmark charts: labels are never clipped', () => {
  it('estimates wider text as wider, and errs wide for unknown glyphs', () => {
    assert.ok(textWidth('mmmm', 12) > textWidth('iiii', 12));
    assert.ok(textWidth('×', 12) >= 12 * 0.6);
    assert.equal(textWidth('', 12), 0);
  });

  it('widens the label column to the widest label', () => {
    const long = 'RedisBackend.getSerializedMulti(100) (bytes, no decode)';
    const { labelWidth, lines } = layoutLabels([figure('short'), figure(long)]);
    assert.ok(labelWidth >= textWidth(long, 12), `${labelWidth} < ${textWidth(long, 12)}`);
    assert.deepEqual(lines[1], [long]);
  });

  it('wraps a label wider than the cap onto lines that each fit, losing no character', () => {
    const long =
      'a label far longer than any column should ever be allowed to grow, with a verylongunbreakablewordthatmustbecutsomewhere inside it';
    const { labelWidth, lines } = layoutLabels([figure(long)]);
    assert.ok(labelWidth <= MAX_LABEL_WIDTH);
    const wrapped = lines[0] as string[];
    assert.ok(wrapped.length > 1);
    for (const line of wrapped) assert.ok(textWidth(line, 12) <= labelWidth, line);
    assert.equal(wrapped.join(' ').replace(/ /g, ''), long.replace(/ /g, ''));
    assert.deepEqual(wrapLabel('fits', 100, 12), ['fits']);
  });

  it('puts every label in the SVG whole, and sizes the chart to the title', () => {
    const title = 'A title long enough that the fixed-width chart of old would have cut it somewhere around the middle of the line';
    const names = ['dogpile-cache/backends/dictionary', 'x'.repeat(120)];
    const svg = barChart({ id: 't', title, figures: names.map((n) => figure(n)) });
    const text = [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]).join('');
    for (const name of names) assert.ok(text.includes(name.slice(0, 20)) && text.replace(/\s/g, '').includes(name), name);
    const width = Number(/width="(\d+)"/.exec(svg)?.[1]);
    assert.ok(width >= textWidth(title, 14, true), `${width}`);
    assert.ok(!svg.includes('…'), 'no label is truncated with an ellipsis');
  });
});
