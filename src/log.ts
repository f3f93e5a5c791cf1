/**
 * Debug logging: silent unless `NODE_DEBUG=dogpile-cache` is set. The library never writes to the
 * console on its own; events for applications go through `node:diagnostics_channel` (see events.ts).
 *
 * @module
 */
import { debuglog } from 'node:util';

/** Writes a debug line when `NODE_DEBUG` includes `dogpile-cache`. */
export const debug: (message: string, ...args: unknown[]) => void = debuglog('dogpile-cache');
