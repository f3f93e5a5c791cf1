/**
 * Records a region's hit, miss, stale and create events as `"<event> <key or keys>"` lines, so that
 * differential tests can compare two regions' event traces.
 */
import type { CacheRegion } from '../../src/index.js';

/** Appends each hit, miss, stale and create event of `region` to `events`. */
export function recordEvents(region: CacheRegion, events: string[]): void {
  for (const event of ['hit', 'miss', 'stale', 'create'] as const)
    region.on(event, (e) => events.push(`${event} ${'key' in e ? e.key : (e as { keys: readonly string[] }).keys.join(',')}`));
}
