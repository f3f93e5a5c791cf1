/**
 * A small reference model of dogpile.cache's region rules, for the model-based property tests
 * (model.test.ts, and test/interop/differential/model-remote.test.ts over the remote backends).
 *
 * The model keeps what the region should hold (value, creation instant, and the order of writes
 * against invalidations) and, for each operation, lists the outcomes dogpile's rules allow. Usually
 * there is one; there are more where the rules allow more:
 * - at the exact expiration instant (age == expiration time, to the millisecond), dogpile's answer
 *   depends on how far its clock moved between two reads; both "fresh" and "expired" are accepted;
 * - get_or_create_multi, where each key at that instant may or may not be created.
 * The test harness runs the operation on the real region, finds the outcome that matches what it saw
 * (result, creator calls) and commits that outcome's state change.
 *
 * Rules (dogpile.cache 1.1.8's region.py and lock.py, with this library's documented deliberate
 * differences, docs/migrating-from-dogpile.md):
 * - expiration `null` never expires; `-1` never expires in get-or-create, and (deliberate) in get too;
 *   a per-call expiration replaces the region's for that call only.
 * - invalidate(hard) marks every value written before the call: hard ones are misses everywhere;
 *   soft ones are misses for get and stale for get-or-create (which then needs an expiration time,
 *   else ConfigurationError; a value created while soft-invalidated with no expiration time is also
 *   refused with ConfigurationError, after the creator ran). The last invalidate() sets the mode.
 * - get-or-create: a fresh value is returned without calling the creator; otherwise the creator runs
 *   once, its value is returned, and stored unless should_cache_fn refuses it.
 * - the lock, for concurrent callers of one key: one creator; with no value every caller gets its
 *   value (or, deliberately, its error: one shared attempt); with a stale value the others get the
 *   stale value at once; with an async creation runner, so does the caller that takes the lock
 *   (the first request for an absent or hard-invalidated key still blocks and creates).
 */

/** A cached value (JSON-safe, so it survives every backend's serializer). */
export type Value = string;

/** What one operation returned: a value, a list of values, NO_VALUE, or an error class name. */
export type Result = { value: Value | Value[] | 'NO_VALUE' | (Value | 'NO_VALUE')[] } | { error: string };

/** One outcome the rules allow: the observable part, and the state change to make if it is the one seen. */
export interface Outcome {
  result: Result | Result[];
  /** The creator calls: for get_or_create_multi each call's keys, otherwise a count. */
  calls: number | string[][];
  commit(): void;
}

interface Entry {
  value: Value;
  /** Creation instant, epoch milliseconds (the region's clock). */
  ct: number;
  /** Order of the write among writes and invalidations (a real clock always moves between two calls). */
  seq: number;
}

type Status = 'missing' | 'fresh' | 'stale' | 'boundary' | 'soft-without-expiration';

const NO_VALUE = 'NO_VALUE' as const;
const SOFT_ERROR: Result = { error: 'ConfigurationError' };

/** The model of one region: its expiration time, its entries, its invalidation and its clock. */
export class RegionModel {
  readonly entries = new Map<string, Entry>();
  #seq = 0;
  #invalidation: { seq: number; hard: boolean } | null = null;

  /**
   * @param expiration the region's expiration time in seconds (null: never; -1: never).
   * @param background the region has an async creation runner: a stale value is returned at once,
   *   to every caller, while the creator runs in the background (dogpile's `async_creation_runner`).
   */
  constructor(
    readonly expiration: number | null,
    public now: number,
    readonly background = false,
  ) {}

  advance(ms: number): void {
    this.now += ms;
  }

  set(key: string, value: Value): void {
    this.entries.set(key, { value, ct: this.now, seq: ++this.#seq });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  invalidate(hard: boolean): void {
    this.#invalidation = { seq: ++this.#seq, hard };
  }

  #invalidated(entry: Entry, hard: boolean): boolean {
    const inv = this.#invalidation;
    return inv !== null && inv.hard === hard && entry.seq < inv.seq;
  }

  #wasSoftInvalidated(): boolean {
    return this.#invalidation?.hard === false;
  }

  /** fresh, expired, or exactly at the boundary (either is right). */
  #age(entry: Entry, expiration: number | null): 'fresh' | 'expired' | 'boundary' {
    if (expiration === null || expiration === -1) return 'fresh';
    const age = this.now - entry.ct;
    const limit = expiration * 1000;
    return age < limit ? 'fresh' : age === limit ? 'boundary' : 'expired';
  }

  /** get(key): value or NO_VALUE (several outcomes only at the exact expiration instant). */
  get(key: string, options: { expiration?: number | undefined; ignore?: boolean | undefined } = {}): Outcome[] {
    return this.#readOutcomes([key], options, false);
  }

  /** get_multi(keys): one result list; every combination of boundary keys is allowed. */
  getMulti(keys: string[], options: { expiration?: number | undefined; ignore?: boolean | undefined } = {}): Outcome[] {
    return this.#readOutcomes(keys, options, true);
  }

  #readOutcomes(keys: string[], options: { expiration?: number | undefined; ignore?: boolean | undefined }, multi: boolean): Outcome[] {
    const expiration = options.expiration ?? this.expiration;
    let lists: (Value | typeof NO_VALUE)[][] = [[]];
    for (const key of keys) {
      const entry = this.entries.get(key);
      let choices: (Value | typeof NO_VALUE)[];
      if (entry === undefined) choices = [NO_VALUE];
      else if (options.ignore === true) choices = [entry.value];
      else if (this.#invalidated(entry, true) || this.#invalidated(entry, false)) choices = [NO_VALUE];
      else {
        const age = this.#age(entry, expiration);
        choices = age === 'fresh' ? [entry.value] : age === 'expired' ? [NO_VALUE] : [entry.value, NO_VALUE];
      }
      lists = lists.flatMap((list) => choices.map((choice) => [...list, choice]));
    }
    return lists.map((list) => ({ result: { value: multi ? list : (list[0] as Value) }, calls: 0, commit: () => {} }));
  }

  #status(key: string, expiration: number | null): Status {
    const entry = this.entries.get(key);
    if (entry === undefined || this.#invalidated(entry, true)) return 'missing';
    if (this.#invalidated(entry, false)) return expiration === null ? 'soft-without-expiration' : 'stale';
    const age = this.#age(entry, expiration);
    return age === 'fresh' ? 'fresh' : age === 'expired' ? 'stale' : 'boundary';
  }

  #createExpiration(override: number | undefined): number | null {
    const expiration = override ?? this.expiration;
    return expiration === -1 ? null : expiration;
  }

  /**
   * get_or_create(key) by `callers` concurrent callers (1: a plain call), whose creator returns
   * `created`; `shouldCache` false refuses every created value.
   */
  getOrCreate(
    key: string,
    created: Value,
    options: { expiration?: number | undefined; shouldCache: boolean; callers?: number | undefined },
  ): Outcome[] {
    const callers = options.callers ?? 1;
    const expiration = this.#createExpiration(options.expiration);
    const status = this.#status(key, expiration);
    const all = (result: Result): Result | Result[] => (callers === 1 ? result : Array.from({ length: callers }, () => result));
    const entry = this.entries.get(key);
    const fresh = (): Outcome => ({ result: all({ value: (entry as Entry).value }), calls: 0, commit: () => {} });
    const create = (stale: boolean): Outcome => {
      if (expiration === null && this.#wasSoftInvalidated()) return { result: all(SOFT_ERROR), calls: 1, commit: () => {} };
      // With a runner, every caller gets the stale value; the creator runs once, in the background.
      if (stale && this.background) {
        return {
          result: all({ value: (entry as Entry).value }),
          calls: 1,
          commit: () => (options.shouldCache ? this.set(key, created) : undefined),
        };
      }
      // With no value and a refused value, each waiting caller then finds nothing and runs its own
      // creator in turn (dogpile's lock: every caller re-reads after taking the lock).
      if (!stale && !options.shouldCache) return { result: all({ value: created }), calls: callers, commit: () => {} };
      // With a stale value, the other callers do not wait: they get the stale value (dogpile's lock).
      const others: Result[] = stale
        ? Array.from({ length: callers - 1 }, () => ({ value: (entry as Entry).value }))
        : Array.from({ length: callers - 1 }, () => ({ value: created }));
      return {
        result: callers === 1 ? { value: created } : [{ value: created }, ...others],
        calls: 1,
        commit: () => {
          if (options.shouldCache) this.set(key, created);
        },
      };
    };
    switch (status) {
      case 'fresh':
        return [fresh()];
      case 'soft-without-expiration':
        return [{ result: all(SOFT_ERROR), calls: 0, commit: () => {} }];
      case 'missing':
        return [create(false)];
      case 'stale':
        return [create(true)];
      case 'boundary':
        return [fresh(), create(true)];
    }
  }

  /**
   * get_or_create_multi(keys): one creator call with the keys to create (unique, sorted), returning
   * `<key>@<tag>` for each; results in the caller's order, duplicates kept.
   */
  getOrCreateMulti(keys: string[], tag: string, options: { expiration?: number | undefined; shouldCache: boolean }): Outcome[] {
    const expiration = this.#createExpiration(options.expiration);
    const unique = [...new Set(keys)].sort();
    const status = new Map(unique.map((key) => [key, this.#status(key, expiration)]));
    if ([...status.values()].includes('soft-without-expiration')) return [{ result: SOFT_ERROR, calls: [], commit: () => {} }];
    const definite = unique.filter((key) => status.get(key) === 'missing' || status.get(key) === 'stale');
    const boundary = unique.filter((key) => status.get(key) === 'boundary');
    const outcomes: Outcome[] = [];
    for (let mask = 0; mask < 1 << boundary.length; mask++) {
      const toCreate = new Set([...definite, ...boundary.filter((_, i) => (mask & (1 << i)) !== 0)]);
      const createdOf = (key: string): Value => `${key}@${tag}`;
      if (toCreate.size > 0 && expiration === null && this.#wasSoftInvalidated()) {
        outcomes.push({ result: SOFT_ERROR, calls: [[...toCreate].sort()], commit: () => {} });
        continue;
      }
      outcomes.push({
        result: { value: keys.map((key) => (toCreate.has(key) ? createdOf(key) : (this.entries.get(key) as Entry).value)) },
        calls: toCreate.size === 0 ? [] : [[...toCreate].sort()],
        commit: () => {
          if (!options.shouldCache) return;
          // dogpile stores every created value with one shared creation time.
          for (const key of [...toCreate].sort()) this.set(key, createdOf(key));
        },
      });
    }
    return outcomes;
  }
}
