/**
 * The `server_choice` names and what the choosers need of the server list, apart from the choosers
 * themselves (server-choice.ts, ring.ts, md5.ts). The registry checks memcached arguments when a region
 * is configured, so the argument reader is part of the root entry point: it needs only this module to
 * refuse a bad `server_choice` at once, and the backend builds the chooser when its own module loads.
 *
 * @module
 */

/** The `server_choice` values. */
export type ServerChoice = 'ketama' | 'python_memcached' | 'pymemcache';

/** Every `server_choice` value, for validation messages. */
export const SERVER_CHOICES: readonly ServerChoice[] = ['ketama', 'python_memcached', 'pymemcache'];

/** Most servers a ketama ring holds: it stores each point's owner in 16 bits. */
export const MAX_RING_NODES = 0xffff;

/** Throws the `RangeError` of a ring over `count` servers, which it cannot hold (none, or over {@link MAX_RING_NODES}). */
export function assertRingNodeCount(count: number): void {
  if (count === 0 || count > MAX_RING_NODES) throw new RangeError(`a ring needs 1 to ${MAX_RING_NODES} nodes; got ${count}`);
}
