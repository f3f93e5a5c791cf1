/**
 * Region events, published on `node:diagnostics_channel` (so APM tools can subscribe without touching
 * application code) and to listeners added with `region.on()`. Nothing is printed, and an event
 * object is built only when someone listens.
 *
 * @module
 */
import type { Channel } from 'node:diagnostics_channel';

/** What each region event carries. `region` is the region's name (or `undefined`). */
export interface RegionEventMap {
  /** A read found a usable value. */
  hit: { region: string | undefined; key: string };
  /** A read found nothing usable (absent, expired, invalidated, unreadable). */
  miss: { region: string | undefined; key: string };
  /** A creator ran (`keys` has one key for `getOrCreate`); `error` is set when it failed. */
  create: { region: string | undefined; keys: readonly string[]; durationMs: number; error?: unknown };
  /** A stale value was served while another caller (or the background runner) regenerates. */
  stale: { region: string | undefined; key: string };
  /** A backend call failed; with `onBackendError: 'miss'` it was then treated as a miss. */
  error: { region: string | undefined; operation: string; error: unknown };
  /** `invalidate()` was called. */
  invalidate: { region: string | undefined; hard: boolean };
}

/** A region event name. */
export type RegionEventName = keyof RegionEventMap;

/** The `node:diagnostics_channel` name of each event: `dogpile-cache:<event>`. */
export const CHANNEL_NAMES: Readonly<{ [E in RegionEventName]: string }> = Object.freeze({
  hit: 'dogpile-cache:hit',
  miss: 'dogpile-cache:miss',
  create: 'dogpile-cache:create',
  stale: 'dogpile-cache:stale',
  error: 'dogpile-cache:error',
  invalidate: 'dogpile-cache:invalidate',
});

type Channels = { [E in RegionEventName]: Channel };
let sharedChannels: Channels | undefined;

/**
 * The channels, made when the first region is built: node:diagnostics_channel then loads with the
 * first region rather than with the root entry point (issue 20.3). A channel is found by its name, so
 * a subscriber that came first still receives every event.
 */
function channelsOnce(): Channels {
  if (sharedChannels !== undefined) return sharedChannels;
  const { channel } = process.getBuiltinModule('node:diagnostics_channel');
  sharedChannels = Object.fromEntries(Object.entries(CHANNEL_NAMES).map(([event, name]) => [event, channel(name)])) as Channels;
  return sharedChannels;
}

type Listener<E extends RegionEventName> = (event: RegionEventMap[E]) => void;

/** Per-region listeners plus the shared channels. */
export class RegionEvents {
  readonly #listeners = new Map<RegionEventName, Set<Listener<never>>>();
  readonly #channels = channelsOnce();

  /** Adds a listener; returns a function that removes it. */
  on<E extends RegionEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<E extends RegionEventName>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** True when publishing `event` reaches anyone (check before building the event object). */
  wanted(event: RegionEventName): boolean {
    return this.#channels[event].hasSubscribers || (this.#listeners.size > 0 && (this.#listeners.get(event)?.size ?? 0) > 0);
  }

  /**
   * Publishes `payload`. A listener that throws cannot break the cache call that emitted it: its
   * error is rethrown on the next tick (an uncaught exception, as `diagnostics_channel` does), never
   * swallowed.
   */
  emit<E extends RegionEventName>(event: E, payload: RegionEventMap[E]): void {
    const channel = this.#channels[event];
    if (channel.hasSubscribers) channel.publish(payload);
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}
