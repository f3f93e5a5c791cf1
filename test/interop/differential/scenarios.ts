/**
 * The differential scenarios: data that both interpreters (interpreter.py for dogpile.cache 1.1.8 /
 * oslo.cache 3.2, interpreter.ts for ours) run step by step, each producing one observation per step.
 *
 * The step language (every step yields one trace entry; a thrown error yields {"error": "<class>"},
 * Python classes mapped to ours, e.g. RegionAlreadyConfigured -> RegionAlreadyConfiguredError):
 * - make_region {key_mangler? ("sha1", "upper", {length_sha1}, or "prefixed": a prefix unique to the run,
 *   the scenario and the side, for a shared server), serializer?: "json", async_runner?: "inline" | "raising"}
 * - configure {backend, expiration_time?, arguments?, replace_existing_backend?, record?, wrap?, cache_dict?}
 *   (arguments.url "$MEMCACHED": the shared memcached servers;
 *   record: wrap the backend in a proxy that logs every backend call; wrap: labelled logging proxies,
 *   the first outermost; cache_dict: pass a dict); wrap {label}: region.wrap() one more
 * - configure_from_config {config, prefix}; coerce {config} -> {name: [type, value]}
 * - info -> {is_configured, expiration_time, backend, mangled}
 * - advance {seconds} (the clock; creators can also advance it), set_var {var, value}
 * - set / get / get_multi / set_multi / delete / delete_multi / invalidate {hard}; get_mutate {key}
 *   (reads a dict value and changes it in place: does the cached value change too?)
 * - get_or_create {key, creator, expiration_time?, should_cache?}, get_or_create_multi {keys, ...}
 *   creator {name, value? (default "<name>#<call number>"; multi: "<name>(<key>)"), raises?,
 *   hold? (real seconds, for concurrency), advance?, probe_locked? (returns "locked"/"unlocked")}
 * - key_is_locked {key}; calls -> {creator: count}; call_args -> {creator: [[args]...]}
 * - backend_log -> the recorded backend calls since the last backend_log; cache_dict_keys
 * - decorate {name, namespace?, expiration_time? (number or {from_var}), should_cache?, multi?: "list" | "asdict", omit?}
 *   then call / fn_get / fn_set / fn_invalidate / fn_refresh / fn_original {fn, args}; key_of {name, namespace?, args}
 * - oslo_configure {cache, groups?, record?} / oslo_ini {text, cache?, groups?}: oslo.config conf +
 *   configure_cache_region on a fresh region; oslo_reconfigure (again, same region);
 *   oslo_option {group, option}; oslo_set {group, option, value};
 *   oslo_memoize {name, group, expiration_group?}; oslo_mangle {key}
 * - concurrent {callers: [get_or_create | get_or_create_multi | get steps, each with delay? (real s)], identity?}
 *   -> {results: sorted observations, distinct_objects?}: only order-independent observations.
 *
 * The Python clock moves one microsecond per read (as a real clock does), ours only when advanced: so
 * no scenario tests an exact expiration boundary (599 and 601 seconds, never 600).
 *
 * `known: n` marks a scenario showing item n of issue 14's list of known differences (being fixed
 * elsewhere: such a scenario fails until the fix lands). `deliberate` names the steps whose results
 * differ on purpose and the row of docs/migrating-from-dogpile.md that says so; the rest of the trace
 * is still compared, and those steps must still differ (or the mark and the row are out of date).
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A key mangler both sides can build. */
export type Mangler = 'sha1' | 'upper' | 'prefixed' | { length_sha1: number };

/** A should_cache_fn both sides can build. */
export type ShouldCache = 'never' | 'always' | { equals: Json } | { not_equals: Json };

/** A creator that records its calls. */
export interface CreatorSpec {
  name: string;
  value?: Json;
  raises?: boolean;
  hold?: number;
  advance?: number;
  probe_locked?: string;
  /** A multi creator returning one value too few. */
  short?: boolean;
}

interface CreateOptions {
  expiration_time?: number | null;
  should_cache?: ShouldCache;
  delay?: number;
}
interface ReadOptions {
  expiration_time?: number | null;
  ignore_expiration?: boolean;
}

/** One step of a scenario. */
export type Step =
  | { op: 'make_region'; key_mangler?: Mangler; serializer?: 'json'; async_runner?: 'inline' | 'raising' }
  | {
      op: 'configure';
      backend: string;
      expiration_time?: number | null;
      arguments?: Record<string, Json>;
      replace_existing_backend?: Json;
      record?: boolean;
      /** Labelled recording proxies, the first outermost. */
      wrap?: string[];
      cache_dict?: boolean;
    }
  | { op: 'configure_from_config'; config: Record<string, Json>; prefix: string }
  | { op: 'coerce'; config: Record<string, Json> }
  | { op: 'info' }
  | { op: 'advance'; seconds: number }
  | { op: 'set_var'; var: string; value: Json }
  | { op: 'set'; key: string; value: Json }
  | ({ op: 'get'; key: string; delay?: number } & ReadOptions)
  | ({ op: 'get_multi'; keys: string[] } & ReadOptions)
  | { op: 'set_multi'; mapping: Record<string, Json> }
  | { op: 'get_mutate'; key: string }
  | { op: 'oslo_reconfigure' }
  | { op: 'delete'; key: string }
  | { op: 'delete_multi'; keys: string[] }
  | ({ op: 'get_or_create'; key: string; creator: CreatorSpec } & CreateOptions)
  | ({ op: 'get_or_create_multi'; keys: string[]; creator: CreatorSpec } & CreateOptions)
  | { op: 'invalidate'; hard?: boolean }
  | { op: 'wrap'; label: string }
  | { op: 'key_is_locked'; key: string }
  | { op: 'calls' }
  | { op: 'call_args' }
  | { op: 'backend_log' }
  | { op: 'cache_dict_keys' }
  | {
      op: 'decorate';
      name: string;
      namespace?: string;
      expiration_time?: number | { from_var: string };
      should_cache?: ShouldCache;
      multi?: 'list' | 'asdict';
      omit?: Json[];
    }
  | { op: 'call' | 'fn_get' | 'fn_invalidate' | 'fn_refresh' | 'fn_original'; fn: string; args: Json[] }
  | { op: 'fn_set'; fn: string; value?: Json; args?: Json[]; mapping?: Record<string, Json> }
  | { op: 'key_of'; name: string; namespace?: string; args: Json[] }
  | { op: 'oslo_configure'; cache?: Record<string, Json>; groups?: Record<string, Record<string, Json>>; record?: boolean }
  | { op: 'oslo_ini'; text: string; cache?: Record<string, Json>; groups?: Record<string, Record<string, Json>>; record?: boolean }
  | { op: 'oslo_option'; group: string; option: string }
  | { op: 'oslo_set'; group: string; option: string; value: Json }
  | { op: 'oslo_memoize'; name: string; group: string; expiration_group?: string }
  | { op: 'oslo_mangle'; key: string }
  | {
      op: 'concurrent';
      callers: (
        | Extract<Step, { op: 'get_or_create' | 'get_or_create_multi' | 'get' }>
        | { op: 'key_is_locked'; key: string; delay?: number }
      )[];
      identity?: boolean;
    };

/** A scenario: a name, its steps, and what it is known to show. */
export interface Scenario {
  name: string;
  steps: Step[];
  /** Issue 14's known difference this scenario shows (1-13). */
  known?: number;
  /** A difference this suite found that issue 14 did not list (reported to the lead; no fix yet). */
  found?: string;
  /** Steps that differ on purpose, and the first cell of their row in docs/migrating-from-dogpile.md. */
  deliberate?: { steps: number[]; row: string };
}

// ---------------------------------------------------------------------------- helpers

const memory = (expiration_time?: number | null, extra: Partial<Extract<Step, { op: 'configure' }>> = {}): Step =>
  expiration_time === undefined
    ? { op: 'configure', backend: 'dogpile.cache.memory', ...extra }
    : { op: 'configure', backend: 'dogpile.cache.memory', expiration_time, ...extra };
const c = (name: string, extra: Omit<CreatorSpec, 'name'> = {}): CreatorSpec => ({ name, ...extra });
const goc = (key: string, creator: CreatorSpec, extra: CreateOptions = {}): Extract<Step, { op: 'get_or_create' }> => ({
  op: 'get_or_create',
  key,
  creator,
  ...extra,
});
const gocm = (keys: string[], creator: CreatorSpec, extra: CreateOptions = {}): Extract<Step, { op: 'get_or_create_multi' }> => ({
  op: 'get_or_create_multi',
  keys,
  creator,
  ...extra,
});
const set = (key: string, value: Json): Step => ({ op: 'set', key, value });
const get = (key: string, extra: ReadOptions = {}): Step => ({ op: 'get', key, ...extra });
const getMulti = (keys: string[], extra: ReadOptions = {}): Step => ({ op: 'get_multi', keys, ...extra });
const advance = (seconds: number): Step => ({ op: 'advance', seconds });
const invalidate = (hard = true): Step => ({ op: 'invalidate', hard });
const calls: Step = { op: 'calls' };
const callArgs: Step = { op: 'call_args' };
const log: Step = { op: 'backend_log' };
const info: Step = { op: 'info' };
const call = (fn: string, ...args: Json[]): Step => ({ op: 'call', fn, args });
const locked = (key: string): Step => ({ op: 'key_is_locked', key });
const concurrent = (callers: Extract<Step, { op: 'concurrent' }>['callers'], identity = false): Step => ({
  op: 'concurrent',
  callers,
  ...(identity ? { identity } : {}),
});
const oslo = (cache: Record<string, Json>, groups?: Record<string, Record<string, Json>>): Step => ({
  op: 'oslo_configure',
  cache,
  ...(groups === undefined ? {} : { groups }),
});
const osloDict = { enabled: true, backend: 'oslo_cache.dict' };

/** Real seconds a creator holds the lock in concurrency scenarios: long beside thread/Promise start-up on a loaded 2-core machine. */
const HOLD = 0.4;
/** Real seconds a later caller waits so that an earlier one surely holds the lock (well under HOLD). */
const LATER = 0.1;

/** Found by this suite (fixed): our clock read the same millisecond twice, so a value read in the millisecond it was made was fresh even with expiration 0 (dogpile's time.time() has always moved on: always stale). systemClock now never reads the same instant twice. */
const ZERO_IS_FRESH = 'expiration 0 was fresh within one millisecond (fixed)';

// ---------------------------------------------------------------------------- the scenarios

export const SCENARIOS: Scenario[] = [
  // ------------------------------------------------------------ expiration
  { name: 'expiration none: values never expire', steps: [memory(), set('a', 1), advance(1e7), get('a'), goc('a', c('c')), calls] },
  {
    name: 'expiration seconds: get before and after',
    steps: [memory(600), set('a', 'v'), advance(599), get('a'), advance(2), get('a'), get('a', { ignore_expiration: true })],
  },
  {
    name: 'expiration seconds: get_or_create regenerates once expired',
    steps: [memory(600), goc('a', c('c')), advance(300), goc('a', c('c')), advance(301), goc('a', c('c')), goc('a', c('c')), calls],
  },
  {
    name: 'expiration -1: get_or_create never regenerates',
    steps: [memory(-1), goc('a', c('c')), advance(1e7), goc('a', c('c')), calls, info],
  },
  {
    name: 'expiration -1: get() (deliberate)',
    steps: [memory(-1), set('a', 1), get('a'), getMulti(['a']), get('a', { ignore_expiration: true })],
    deliberate: { steps: [2, 3], row: 'region `expiration_time = -1` and `get()`' },
  },
  {
    name: 'expiration -1 per get() call (deliberate)',
    steps: [memory(), set('a', 1), get('a', { expiration_time: -1 }), get('a')],
    deliberate: { steps: [2], row: 'region `expiration_time = -1` and `get()`' },
  },
  {
    name: 'expiration 0: get() is always a miss',
    found: ZERO_IS_FRESH,
    steps: [memory(0), set('a', 1), get('a'), get('a', { ignore_expiration: true })],
  },
  {
    name: 'expiration 0: get_or_create creates on every call',
    found: ZERO_IS_FRESH,
    steps: [memory(0), goc('a', c('c')), goc('a', c('c')), goc('a', c('c')), calls],
  },
  {
    name: 'expiration per get() call overrides the region',
    steps: [
      memory(),
      set('a', 1),
      advance(100),
      get('a', { expiration_time: 50 }),
      get('a', { expiration_time: 200 }),
      get('a'),
      getMulti(['a', 'b'], { expiration_time: 50 }),
    ],
  },
  {
    name: 'expiration per get_or_create call is not stored with the value',
    steps: [
      memory(600),
      goc('a', c('c'), { expiration_time: 10 }),
      advance(20),
      goc('a', c('c')),
      goc('a', c('c'), { expiration_time: 10 }),
      advance(5),
      goc('a', c('c'), { expiration_time: 10 }),
      calls,
    ],
  },
  {
    name: 'expiration -1 per get_or_create call overrides the region',
    steps: [
      memory(10),
      goc('a', c('c'), { expiration_time: -1 }),
      advance(100),
      goc('a', c('c'), { expiration_time: -1 }),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'expiration: get_multi ages each key',
    steps: [memory(10), set('a', 1), advance(5), set('b', 2), advance(6), getMulti(['a', 'b', 'c']), getMulti([])],
  },
  {
    name: 'expiration: ignore_expiration returns stale and invalidated values',
    steps: [
      memory(10),
      set('a', 1),
      advance(100),
      get('a'),
      get('a', { ignore_expiration: true }),
      invalidate(),
      advance(1),
      get('a', { ignore_expiration: true }),
      getMulti(['a'], { ignore_expiration: true }),
    ],
  },
  {
    name: 'expiration: a creator that takes longer than the expiration time',
    steps: [memory(10), goc('a', c('c', { advance: 30 })), goc('a', c('c')), calls],
  },

  // ------------------------------------------------------------ invalidation
  {
    name: 'hard invalidation: get misses, later values are kept',
    steps: [memory(), set('a', 1), advance(1), invalidate(), advance(1), get('a'), set('b', 2), advance(1), getMulti(['a', 'b'])],
  },
  { name: 'hard invalidation in the same instant as set: get misses', known: 1, steps: [memory(), set('a', 1), invalidate(), get('a')] },
  {
    name: 'soft invalidation in the same instant as set: get misses',
    known: 1,
    steps: [memory(600), set('a', 1), invalidate(false), get('a')],
  },
  {
    name: 'hard invalidation in the same instant as get_or_create: regenerates',
    known: 1,
    steps: [memory(), goc('a', c('c')), invalidate(), goc('a', c('c')), calls],
  },
  {
    name: 'hard invalidation: get_or_create regenerates once',
    steps: [memory(), goc('a', c('c')), advance(1), invalidate(), advance(1), goc('a', c('c')), goc('a', c('c')), get('a'), calls],
  },
  {
    name: 'soft invalidation: get misses, get_or_create regenerates',
    steps: [
      memory(600),
      goc('a', c('c')),
      advance(1),
      invalidate(false),
      advance(1),
      get('a'),
      goc('a', c('c')),
      goc('a', c('c')),
      get('a'),
      calls,
    ],
  },
  {
    name: 'soft invalidation without an expiration time (deliberate error class)',
    steps: [memory(), goc('a', c('c')), advance(1), invalidate(false), advance(1), get('a'), goc('a', c('c')), calls],
    deliberate: { steps: [6], row: 'soft invalidation without expiration' },
  },
  {
    name: 'soft invalidation with a per-call expiration time',
    steps: [memory(), goc('a', c('c')), advance(1), invalidate(false), advance(1), goc('a', c('c'), { expiration_time: 100 }), calls],
  },
  {
    name: 'invalidation: the last call sets the mode (hard then soft)',
    steps: [
      memory(600),
      set('a', 1),
      advance(1),
      invalidate(),
      advance(1),
      invalidate(false),
      advance(1),
      get('a'),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'invalidation: soft then hard regenerates',
    steps: [memory(600), set('a', 1), advance(1), invalidate(false), advance(1), invalidate(true), advance(1), goc('a', c('c')), calls],
  },
  {
    name: 'soft invalidation with an async runner serves the old value while regenerating',
    steps: [
      { op: 'make_region', async_runner: 'inline' },
      memory(600),
      goc('a', c('c')),
      advance(1),
      invalidate(false),
      advance(1),
      goc('a', c('c')),
      get('a'),
      calls,
    ],
  },
  {
    name: 'hard invalidation with an async runner blocks and regenerates',
    steps: [
      { op: 'make_region', async_runner: 'inline' },
      memory(600),
      goc('a', c('c')),
      advance(1),
      invalidate(),
      advance(1),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'invalidation: get_or_create_multi regenerates hard-invalidated keys',
    steps: [
      memory(),
      gocm(['a', 'b'], c('m')),
      advance(1),
      invalidate(),
      advance(1),
      set('b', 'fresh'),
      advance(1),
      gocm(['a', 'b'], c('m')),
      callArgs,
    ],
  },

  // ------------------------------------------------------------ should_cache_fn
  {
    name: 'should_cache_fn refusing: the value is returned, not stored',
    steps: [
      memory(),
      goc('a', c('c'), { should_cache: 'never' }),
      get('a'),
      goc('a', c('c'), { should_cache: 'never' }),
      goc('a', c('c')),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'should_cache_fn on the value',
    steps: [
      memory(),
      goc('a', c('x', { value: 'x' }), { should_cache: { equals: 'y' } }),
      get('a'),
      goc('a', c('y', { value: 'y' }), { should_cache: { equals: 'y' } }),
      get('a'),
      calls,
    ],
  },
  {
    name: 'should_cache_fn in get_or_create_multi filters per value',
    steps: [
      memory(),
      gocm(['a', 'b'], c('m'), { should_cache: { equals: 'm(a)' } }),
      getMulti(['a', 'b']),
      gocm(['a', 'b'], c('m')),
      callArgs,
    ],
  },
  {
    name: 'should_cache_fn refusing a regenerated value keeps the old one',
    steps: [
      memory(10),
      goc('a', c('c')),
      advance(20),
      goc('a', c('d'), { should_cache: 'never' }),
      get('a', { ignore_expiration: true }),
      calls,
    ],
  },
  {
    name: 'should_cache_fn of a decorated function',
    steps: [
      memory(),
      { op: 'decorate', name: 'f', should_cache: { not_equals: 'f(1)#1' } },
      call('f', 1),
      call('f', 1),
      call('f', 1),
      calls,
    ],
  },

  // ------------------------------------------------------------ creator errors
  {
    name: 'creator error: propagated, nothing cached, lock released',
    steps: [memory(), goc('a', c('bad', { raises: true })), get('a'), locked('a'), goc('a', c('good')), calls],
  },
  {
    name: 'creator error on a stale value keeps the old value',
    steps: [
      memory(10),
      goc('a', c('c')),
      advance(20),
      goc('a', c('bad', { raises: true })),
      get('a', { ignore_expiration: true }),
      locked('a'),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'creator error in get_or_create_multi: nothing cached, locks released',
    steps: [
      memory(),
      gocm(['a', 'b'], c('bad', { raises: true })),
      getMulti(['a', 'b']),
      locked('a'),
      locked('b'),
      gocm(['a', 'b'], c('m')),
      callArgs,
    ],
  },

  // ------------------------------------------------------------ get_or_create_multi
  {
    name: 'get_or_create_multi: one creator call with sorted unique keys, caller order kept',
    steps: [memory(), gocm(['b', 'a', 'b', 'c'], c('m')), gocm(['c', 'a'], c('m')), callArgs],
  },
  {
    name: 'get_or_create_multi: only missing keys are created',
    steps: [memory(), set('a', 'A'), gocm(['a', 'b'], c('m')), getMulti(['a', 'b']), callArgs],
  },
  {
    name: 'get_or_create_multi: expired keys are regenerated',
    steps: [memory(10), gocm(['a', 'b'], c('m')), advance(6), set('b', 'B'), advance(6), gocm(['a', 'b'], c('m')), callArgs],
  },
  { name: 'get_or_create_multi: empty keys', steps: [memory(), gocm([], c('m')), calls] },
  {
    name: 'get_or_create_multi: per-call expiration -1',
    steps: [memory(10), gocm(['a'], c('m'), { expiration_time: -1 }), advance(100), gocm(['a'], c('m'), { expiration_time: -1 }), callArgs],
  },
  {
    name: 'get_or_create_multi: backend calls',
    known: 6,
    steps: [memory(undefined, { record: true }), gocm(['a', 'b'], c('m')), log, gocm(['a', 'b', 'c'], c('m')), log],
  },
  {
    name: 'get_or_create_multi: soft-invalidated keys are regenerated',
    steps: [memory(600), gocm(['a', 'b'], c('m')), advance(1), invalidate(false), advance(1), gocm(['a', 'b'], c('m')), callArgs],
  },

  // ------------------------------------------------------------ memoization
  {
    name: 'cache_on_arguments: memoizes on the arguments',
    steps: [memory(), { op: 'decorate', name: 'f' }, call('f', 1, 2), call('f', 1, 2), call('f', 2), call('f', 'x'), callArgs],
  },
  {
    name: 'cache_on_arguments: .set, .get and .invalidate',
    steps: [
      memory(),
      { op: 'decorate', name: 'f' },
      { op: 'fn_get', fn: 'f', args: [1] },
      { op: 'fn_set', fn: 'f', value: 'v', args: [1] },
      call('f', 1),
      { op: 'fn_get', fn: 'f', args: [1] },
      { op: 'fn_invalidate', fn: 'f', args: [1] },
      { op: 'fn_get', fn: 'f', args: [1] },
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'cache_on_arguments: .refresh and .original',
    steps: [
      memory(),
      { op: 'decorate', name: 'f' },
      call('f', 1),
      { op: 'fn_refresh', fn: 'f', args: [1] },
      call('f', 1),
      { op: 'fn_original', fn: 'f', args: [1] },
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'cache_on_arguments: expiration time',
    steps: [
      memory(),
      { op: 'decorate', name: 'f', expiration_time: 10 },
      call('f', 1),
      advance(9),
      call('f', 1),
      advance(2),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'cache_on_arguments: expiration callable evaluated on every call',
    steps: [
      memory(600),
      { op: 'set_var', var: 'e', value: 10 },
      { op: 'decorate', name: 'f', expiration_time: { from_var: 'e' } },
      call('f', 1),
      advance(5),
      call('f', 1),
      { op: 'set_var', var: 'e', value: 1 },
      call('f', 1),
      { op: 'set_var', var: 'e', value: null },
      advance(100),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'cache_on_arguments: expiration callable returning 0 regenerates every call',
    found: ZERO_IS_FRESH,
    steps: [
      memory(),
      { op: 'set_var', var: 'e', value: 0 },
      { op: 'decorate', name: 'f', expiration_time: { from_var: 'e' } },
      call('f', 1),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'cache_on_arguments: the default key (deliberate)',
    steps: [
      { op: 'key_of', name: 'f', args: [1, 2] },
      { op: 'key_of', name: 'f', namespace: 'ns', args: ['a'] },
    ],
    deliberate: { steps: [0, 1], row: 'default function key' },
  },
  {
    name: 'cache_on_arguments: a namespace keeps same-named functions apart',
    steps: [memory(), { op: 'decorate', name: 'f', namespace: 'one' }, call('f', 1), call('f', 1), calls],
  },
  {
    name: 'cache_multi_on_arguments: creates only the missing arguments',
    steps: [memory(), { op: 'decorate', name: 'g', multi: 'list' }, call('g', 1, 2), call('g', 2, 3), call('g', 3, 1), callArgs],
  },
  {
    name: 'cache_multi_on_arguments: asdict, omitted keys are not cached',
    steps: [memory(), { op: 'decorate', name: 'h', multi: 'asdict', omit: [2] }, call('h', 1, 2), call('h', 1, 2), callArgs],
  },
  {
    name: 'cache_multi_on_arguments: .set, .get, .invalidate, .refresh',
    steps: [
      memory(),
      { op: 'decorate', name: 'g', multi: 'list' },
      { op: 'fn_set', fn: 'g', mapping: { 1: 'one' } },
      call('g', 1, 2),
      { op: 'fn_get', fn: 'g', args: [1, 2, 3] },
      { op: 'fn_invalidate', fn: 'g', args: [1] },
      { op: 'fn_get', fn: 'g', args: [1, 2] },
      { op: 'fn_refresh', fn: 'g', args: [1, 2] },
      call('g', 1, 2),
      callArgs,
    ],
  },
  {
    name: 'cache_multi_on_arguments: expiration time',
    steps: [
      memory(),
      { op: 'decorate', name: 'g', multi: 'list', expiration_time: 10 },
      call('g', 1, 2),
      advance(11),
      call('g', 2),
      callArgs,
    ],
  },

  // ------------------------------------------------------------ key manglers
  {
    name: 'key mangler sha1: backend keys',
    steps: [
      { op: 'make_region', key_mangler: 'sha1' },
      memory(undefined, { record: true }),
      set('some_key', 1),
      get('some_key'),
      log,
      info,
    ],
  },
  {
    name: 'key mangler: every operation mangles',
    steps: [
      { op: 'make_region', key_mangler: 'upper' },
      memory(undefined, { record: true }),
      { op: 'set_multi', mapping: { a: 1, b: 2 } },
      getMulti(['a', 'b']),
      { op: 'delete_multi', keys: ['a'] },
      { op: 'delete', key: 'b' },
      goc('c', c('c')),
      log,
      calls,
    ],
  },
  {
    name: 'length_conditional_mangler: only long keys are mangled',
    steps: [
      { op: 'make_region', key_mangler: { length_sha1: 10 } },
      memory(undefined, { record: true }),
      set('short', 1),
      set('a much longer key', 2),
      log,
    ],
  },
  {
    name: 'length_conditional_mangler counts code points',
    known: 12,
    steps: [{ op: 'make_region', key_mangler: { length_sha1: 3 } }, memory(undefined, { record: true }), set('😀😀', 1), set('é€', 2), log],
  },
  {
    name: 'key_is_locked while creating, no mangler',
    steps: [memory(), goc('a', c('c', { probe_locked: 'a' })), locked('a')],
  },
  {
    name: 'key_is_locked with a key mangler (deliberate)',
    steps: [{ op: 'make_region', key_mangler: 'sha1' }, memory(), goc('a', c('c', { probe_locked: 'a' })), locked('a')],
    deliberate: { steps: [2], row: '`key_is_locked(key)` with a key mangler' },
  },

  // ------------------------------------------------------------ configure, configure_from_config, registry
  {
    name: 'configure_from_config: backend, expiration, arguments',
    steps: [
      {
        op: 'configure_from_config',
        config: { 'cache.backend': 'dogpile.cache.memory', 'cache.expiration_time': '600' },
        prefix: 'cache.',
      },
      info,
      set('a', 1),
      get('a'),
    ],
  },
  {
    name: 'configure_from_config: "None" expiration',
    steps: [
      { op: 'configure_from_config', config: { 'x.backend': 'dogpile.cache.memory', 'x.expiration_time': 'None' }, prefix: 'x.' },
      info,
    ],
  },
  {
    name: 'coerce_string_conf: numbers, booleans, None, strings',
    steps: [
      {
        op: 'coerce',
        config: {
          i: '600',
          n: '-5',
          p: '+7',
          f: '1.5',
          e: '1e3',
          d: '.5',
          t: 'true',
          F: 'FALSE',
          none: 'None',
          lower: 'none',
          s: 'abc',
          num: 3,
          b: true,
          nul: null,
          mixed: '1.2.3',
        },
      },
    ],
  },
  {
    name: 'coerce_string_conf: surrounding whitespace',
    known: 9,
    steps: [{ op: 'coerce', config: { i: ' 600 ', t: ' true ', s: ' abc ', none: ' None' } }],
  },
  {
    name: 'configure_from_config: replace_existing_backend "true"',
    steps: [
      memory(),
      { op: 'configure_from_config', config: { 'c.backend': 'dogpile.cache.null', 'c.replace_existing_backend': 'true' }, prefix: 'c.' },
      info,
      { op: 'configure_from_config', config: { 'c.backend': 'dogpile.cache.memory', 'c.replace_existing_backend': 'false' }, prefix: 'c.' },
      info,
    ],
  },
  {
    name: 'configure_from_config: replace_existing_backend truthy values',
    known: 11,
    steps: [
      memory(),
      { op: 'configure_from_config', config: { 'c.backend': 'dogpile.cache.null', 'c.replace_existing_backend': '1' }, prefix: 'c.' },
      info,
      { op: 'configure_from_config', config: { 'c.backend': 'dogpile.cache.memory', 'c.replace_existing_backend': 'yes' }, prefix: 'c.' },
      info,
    ],
    deliberate: { steps: [4], row: '`actual_backend` after `replace_existing_backend=True`' },
  },
  {
    name: 'configure_from_config: no backend key (deliberate error class)',
    steps: [{ op: 'configure_from_config', config: { 'c.expiration_time': '5' }, prefix: 'c.' }, info],
    deliberate: { steps: [0], row: '`configure_from_config` without `<prefix>backend`' },
  },
  {
    name: 'configure twice, replace_existing_backend',
    steps: [
      memory(),
      { op: 'configure', backend: 'dogpile.cache.null' },
      info,
      { op: 'configure', backend: 'dogpile.cache.null', replace_existing_backend: true },
      info,
    ],
    deliberate: { steps: [4], row: '`actual_backend` after `replace_existing_backend=True`' },
  },
  { name: 'configure an unknown backend', steps: [{ op: 'configure', backend: 'no.such.backend' }, info] },
  {
    name: 'an unconfigured region (deliberate error class in get_or_create)',
    steps: [{ op: 'make_region' }, info, get('a'), set('a', 1), goc('a', c('c')), calls],
    deliberate: { steps: [4], row: '`get_or_create` on a region not configured yet' },
  },
  {
    name: 'registry: dogpile memcached backend names',
    known: 7,
    steps: ['dogpile.cache.memcached', 'dogpile.cache.pylibmc', 'dogpile.cache.bmemcached', 'dogpile.cache.pymemcache'].flatMap(
      (backend): Step[] => [{ op: 'make_region' }, { op: 'configure', backend, arguments: { url: ['127.0.0.1:1'] } }, info],
    ),
    deliberate: { steps: [2, 5, 8, 11], row: 'memcached backend configured without a key mangler' },
  },
  {
    name: 'registry: dogpile.cache.memory_pickle',
    known: 7,
    steps: [
      { op: 'configure', backend: 'dogpile.cache.memory_pickle' },
      set('a', { x: [1, 2] }),
      get('a'),
      goc('b', c('c', { value: { y: 1 } })),
      get('b'),
    ],
  },
  {
    name: 'memory backend: a cache_dict argument is the store',
    known: 13,
    steps: [memory(undefined, { cache_dict: true }), set('a', 1), set('b', 2), { op: 'cache_dict_keys' }],
  },
  {
    name: 'registry: oslo backends configured directly (no server contacted)',
    steps: [
      { op: 'configure', backend: 'oslo_cache.memcache_pool', arguments: { url: ['127.0.0.1:1'] } },
      info,
      { op: 'make_region' },
      { op: 'configure', backend: 'oslo_cache.etcd3gw', arguments: { host: '127.0.0.1', port: 1 } },
      info,
      { op: 'make_region' },
      { op: 'configure', backend: 'oslo_cache.mongo', arguments: { db_hosts: ['127.0.0.1:1'], db_name: 'd', cache_collection: 'c' } },
      info,
    ],
    deliberate: { steps: [1], row: 'memcached backend configured without a key mangler' },
  },
  {
    name: 'oslo: memcache_pool region keys',
    steps: [
      oslo({ enabled: true, backend: 'oslo_cache.memcache_pool', memcache_servers: ['127.0.0.1:1'] }),
      info,
      { op: 'oslo_mangle', key: 'hello' },
      { op: 'oslo_mangle', key: 'a key with spaces' },
    ],
  },
  {
    name: 'null backend: nothing is stored',
    steps: [
      { op: 'configure', backend: 'dogpile.cache.null', expiration_time: 60 },
      set('a', 1),
      get('a'),
      goc('a', c('c')),
      goc('a', c('c')),
      gocm(['a', 'b'], c('m')),
      calls,
      info,
    ],
  },
  {
    name: 'oslo dict backend with the region API',
    steps: [
      { op: 'configure', backend: 'oslo_cache.dict', expiration_time: 60, arguments: { expiration_time: 5 } },
      set('a', 1),
      advance(4),
      get('a'),
      advance(2),
      get('a'),
      get('a', { ignore_expiration: true }),
    ],
  },

  // ------------------------------------------------------------ proxies
  {
    name: 'proxy: sees every backend call',
    steps: [
      memory(undefined, { record: true }),
      set('a', 1),
      get('a'),
      getMulti(['a', 'b']),
      { op: 'set_multi', mapping: { b: 2, c: 3 } },
      { op: 'delete', key: 'a' },
      { op: 'delete_multi', keys: ['b', 'c'] },
      log,
    ],
  },
  {
    name: 'proxy: get_or_create backend calls (miss, fresh, stale)',
    steps: [memory(10, { record: true }), goc('a', c('c')), log, goc('a', c('c')), log, advance(20), goc('a', c('c')), log],
  },
  {
    name: 'proxy with a serializer: values round-trip through the serialized calls',
    steps: [
      { op: 'make_region', serializer: 'json' },
      memory(undefined, { record: true }),
      set('a', { n: [1, 2.5, 'x'], o: { k: null } }),
      get('a'),
      log,
      goc('b', c('c')),
      get('b'),
    ],
  },

  {
    name: 'proxy: wrap order, the first is outermost; region.wrap adds the new outermost',
    steps: [memory(undefined, { wrap: ['outer', 'inner'] }), set('a', 1), get('a'), log, { op: 'wrap', label: 'late' }, get('a'), log],
  },

  // ------------------------------------------------------------ values and edge cases
  {
    name: 'None/null is a value, cached like any other',
    steps: [
      memory(),
      goc('a', c('c', { value: null })),
      get('a'),
      goc('a', c('c', { value: null })),
      set('b', null),
      getMulti(['a', 'b', 'x']),
      calls,
    ],
  },
  {
    name: 'falsy values are values',
    steps: [memory(), set('z', 0), set('e', ''), set('f', false), set('l', []), getMulti(['z', 'e', 'f', 'l']), goc('z', c('c')), calls],
  },
  {
    name: 'fractional expiration times',
    steps: [
      memory(1.5),
      set('a', 1),
      advance(1.4),
      get('a'),
      advance(0.2),
      get('a'),
      goc('b', c('c')),
      advance(1.4),
      goc('b', c('c')),
      advance(0.2),
      goc('b', c('c')),
      calls,
    ],
  },
  {
    name: 'configure_from_config: a fractional expiration string',
    steps: [
      { op: 'configure_from_config', config: { 'c.backend': 'dogpile.cache.memory', 'c.expiration_time': '2.5' }, prefix: 'c.' },
      info,
      set('a', 1),
      advance(2.4),
      get('a'),
      advance(0.2),
      get('a'),
    ],
  },
  {
    name: 'expiration given as a duration string (deliberate)',
    steps: [{ op: 'configure', backend: 'dogpile.cache.memory', expiration_time: '10m' as unknown as number }, info],
    deliberate: { steps: [0, 1], row: '`expiration_time` given as a string such as `"10m"`' },
  },
  {
    name: 'get_multi and set_multi edge cases: duplicates, empty',
    steps: [
      memory(undefined, { record: true }),
      { op: 'set_multi', mapping: {} },
      set('a', 1),
      getMulti(['a', 'a', 'b']),
      { op: 'delete_multi', keys: [] },
      getMulti(['a']),
      log,
    ],
    deliberate: { steps: [6], row: '`delete_multi([])`' },
  },
  {
    name: 'set_multi gives every value one creation time',
    steps: [
      memory(10),
      set('a', 'old'),
      advance(5),
      { op: 'set_multi', mapping: { a: 1, b: 2 } },
      advance(9),
      getMulti(['a', 'b']),
      advance(2),
      getMulti(['a', 'b']),
    ],
  },
  {
    name: 'delete then get_or_create creates again',
    steps: [memory(), goc('a', c('c')), { op: 'delete', key: 'a' }, get('a'), goc('a', c('c')), { op: 'delete', key: 'never-set' }, calls],
  },
  {
    name: 'get_or_create_multi: a creator returning too few values (deliberate error class)',
    steps: [
      memory(),
      gocm(['a', 'b'], c('m', { short: true })),
      getMulti(['a', 'b']),
      locked('a'),
      locked('b'),
      gocm(['a', 'b'], c('m')),
      callArgs,
    ],
    // Python caches the values it got before failing (so a is cached and not created again); we cache nothing.
    deliberate: { steps: [1, 2, 6], row: '`get_or_create_multi` creator returning fewer values than keys' },
  },
  {
    name: 'get_or_create_multi with a serializer',
    steps: [
      { op: 'make_region', serializer: 'json' },
      memory(undefined, { record: true }),
      set('a', { x: 1 }),
      gocm(['a', 'b'], c('m')),
      getMulti(['a', 'b']),
      log,
    ],
    known: 6,
  },
  {
    name: 'cache_on_arguments: a raising function caches nothing',
    steps: [
      memory(),
      { op: 'decorate', name: 'f' },
      { op: 'fn_set', fn: 'f', value: 'kept', args: [2] },
      call('f', 2),
      { op: 'fn_get', fn: 'f', args: [1] },
      calls,
    ],
  },
  {
    name: 'cache_multi_on_arguments: duplicate arguments',
    steps: [memory(), { op: 'decorate', name: 'g', multi: 'list' }, call('g', 1, 1, 2), call('g', 2, 2), callArgs],
  },

  // ------------------------------------------------------------ the async runner
  {
    name: 'async runner: a stale value is served while regenerating',
    steps: [
      { op: 'make_region', async_runner: 'inline' },
      memory(10),
      goc('a', c('c')),
      advance(20),
      goc('a', c('c')),
      get('a'),
      locked('a'),
      calls,
    ],
  },
  {
    name: 'async runner: the first request blocks and creates',
    steps: [{ op: 'make_region', async_runner: 'inline' }, memory(10), goc('a', c('c')), get('a'), calls],
  },
  {
    name: 'async runner that raises: the error propagates and the lock is released',
    known: 2,
    steps: [
      { op: 'make_region', async_runner: 'raising' },
      memory(10),
      goc('a', c('c')),
      advance(20),
      goc('a', c('c')),
      locked('a'),
      goc('a', c('c')),
      calls,
    ],
  },

  // ------------------------------------------------------------ oslo.cache
  {
    name: 'oslo: configure_cache_region with the dict backend',
    steps: [
      oslo({ ...osloDict, expiration_time: 300 }),
      info,
      { op: 'oslo_mangle', key: 'hello' },
      set('a', 1),
      advance(299),
      get('a'),
      advance(2),
      get('a'),
    ],
  },
  {
    name: 'oslo: enabled = false configures the null backend',
    steps: [
      oslo({ enabled: false, backend: 'oslo_cache.dict' }, { identity: { caching: true } }),
      info,
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: memoization decorator with [group] cache_time',
    steps: [
      oslo(osloDict, { identity: { caching: true, cache_time: 30 } }),
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      advance(29),
      call('f', 1),
      advance(2),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: memoization decorator with caching = false',
    steps: [
      oslo(osloDict, { identity: { caching: false } }),
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: memoization decorator without cache_time uses [cache] expiration_time',
    steps: [
      oslo({ ...osloDict, expiration_time: 100 }, { identity: {} }),
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      advance(99),
      call('f', 1),
      advance(2),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: caching toggled at run time',
    steps: [
      oslo(osloDict, { identity: { caching: true } }),
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      { op: 'oslo_set', group: 'identity', option: 'caching', value: false },
      call('f', 1),
      call('f', 2),
      call('f', 2),
      calls,
    ],
  },
  {
    name: 'oslo: memoization with an expiration group',
    steps: [
      oslo(osloDict, { identity: { caching: true }, token: { cache_time: 5 } }),
      { op: 'oslo_memoize', name: 'f', group: 'identity', expiration_group: 'token' },
      call('f', 1),
      advance(6),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: backend_argument parsing',
    steps: [
      // The backend's own expiry (expiration_time:5) is compared in "oslo dict backend with the region API":
      // configure_cache_region has no way to hand our dict backend the scenario's clock.
      oslo({ ...osloDict, expiration_time: 600, backend_argument: ['expiration_time:5', 'bad', 'x:a:b'] }),
      info,
      set('a', 1),
      get('a'),
    ],
  },
  { name: 'oslo: a custom config_prefix', steps: [oslo({ ...osloDict, config_prefix: 'cache.custom', expiration_time: 42 }), info] },
  {
    name: 'oslo: memcache_pool url split on commas',
    steps: [oslo({ enabled: true, backend: 'oslo_cache.memcache_pool', backend_argument: ['url:127.0.0.1:1,127.0.0.1:2'] }), info],
  },
  {
    name: 'oslo: INI file',
    steps: [
      {
        op: 'oslo_ini',
        text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = 120\nbackend_argument = expiration_time:50\n\n[identity]\ncaching = false\n',
        groups: { identity: {} },
      },
      info,
      { op: 'oslo_option', group: 'cache', option: 'expiration_time' },
      { op: 'oslo_option', group: 'cache', option: 'backend_argument' },
      { op: 'oslo_option', group: 'identity', option: 'caching' },
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      call('f', 1),
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'oslo: INI values in quotes',
    known: 10,
    steps: [
      { op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = "oslo_cache.dict"\nconfig_prefix = \'cache.q\'\n' },
      info,
      { op: 'oslo_option', group: 'cache', option: 'backend' },
      { op: 'oslo_option', group: 'cache', option: 'config_prefix' },
    ],
  },
  {
    name: 'oslo: enabled = false with a memcache backend and backend_expiration_time',
    known: 4,
    steps: [
      oslo({ enabled: false, backend: 'oslo_cache.memcache_pool', expiration_time: 600, backend_expiration_time: 900 }),
      info,
      goc('a', c('c')),
      goc('a', c('c')),
      calls,
    ],
  },

  {
    name: 'oslo: backend calls carry sha1-mangled keys',
    steps: [{ op: 'oslo_configure', cache: osloDict, record: true }, set('a', 1), get('a'), goc('b', c('c')), getMulti(['a', 'b']), log],
  },
  {
    name: 'oslo: configure_cache_region twice is a no-op',
    steps: [
      oslo({ ...osloDict, expiration_time: 50 }),
      { op: 'oslo_set', group: 'cache', option: 'expiration_time', value: 70 },
      { op: 'oslo_reconfigure' },
      info,
    ],
  },
  {
    name: 'oslo: debug_cache_backend and the sha1 mangler on non-ASCII keys',
    steps: [
      oslo({ ...osloDict, debug_cache_backend: true }),
      info,
      { op: 'oslo_mangle', key: 'é😀 key' },
      set('é😀 key', 1),
      get('é😀 key'),
    ],
  },
  {
    name: 'oslo: dogpile.cache.memory with CacheIsolatingProxy copies values',
    steps: [
      oslo({ enabled: true, backend: 'dogpile.cache.memory', proxies: ['oslo_cache.testing.CacheIsolatingProxy'] }),
      info,
      set('a', { n: 1 }),
      { op: 'get_mutate', key: 'a' },
      get('a'),
    ],
  },
  {
    name: 'memory backend without a proxy: a read value is the cached object',
    steps: [memory(), set('a', { n: 1 }), { op: 'get_mutate', key: 'a' }, get('a')],
  },
  {
    name: 'memory backend with a serializer: a read value is a copy',
    steps: [{ op: 'make_region', serializer: 'json' }, memory(), set('a', { n: 1 }), { op: 'get_mutate', key: 'a' }, get('a')],
  },
  {
    name: 'oslo: INI booleans, lists, repeated and continued options',
    steps: [
      {
        op: 'oslo_ini',
        text: [
          '[DEFAULT]',
          'debug = true',
          '',
          '[cache]',
          '# a comment',
          'enabled = True',
          'backend = oslo_cache.dict',
          'expiration_time = 20',
          'memcache_servers = a:1, b:2 ,c:3',
          'backend_argument = expiration_time:5',
          'backend_argument = unknown:x',
          'proxies =',
          '',
          '[identity]',
          'caching = off',
          '[token]',
          'caching = YES',
          'cache_time = 7',
          '',
        ].join('\n'),
        groups: { identity: {}, token: {} },
      },
      info,
      { op: 'oslo_option', group: 'cache', option: 'expiration_time' },
      { op: 'oslo_option', group: 'cache', option: 'memcache_servers' },
      { op: 'oslo_option', group: 'cache', option: 'backend_argument' },
      { op: 'oslo_option', group: 'cache', option: 'proxies' },
      { op: 'oslo_option', group: 'identity', option: 'caching' },
      { op: 'oslo_option', group: 'token', option: 'caching' },
      { op: 'oslo_option', group: 'token', option: 'cache_time' },
    ],
  },
  {
    name: 'oslo: INI option given twice in a section, the last wins',
    steps: [
      { op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = 10\nexpiration_time = 20\n' },
      info,
      { op: 'oslo_option', group: 'cache', option: 'expiration_time' },
    ],
  },
  {
    name: 'oslo: INI syntax accepted by both (colon separator, ; comments, CRLF)',
    steps: [
      {
        op: 'oslo_ini',
        text: '[cache]\r\n; note\r\nenabled: true\r\nbackend: oslo_cache.dict\r\nexpiration_time: 31\r\nnot_an_option = 1\r\n',
      },
      info,
      { op: 'oslo_option', group: 'cache', option: 'expiration_time' },
    ],
  },
  { name: 'oslo: INI, an indented first line is a parse error', steps: [{ op: 'oslo_ini', text: '[cache]\n  enabled = true\n' }] },
  { name: 'oslo: INI, an option before any section is a parse error', steps: [{ op: 'oslo_ini', text: 'enabled = true\n[cache]\n' }] },
  {
    name: 'oslo: INI, an inline comment makes an int invalid',
    steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = 30 # seconds\n' }],
  },
  {
    name: 'oslo: INI, a bad int',
    steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = abc\n' }],
  },
  { name: 'oslo: INI, a bad bool', steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = maybe\nbackend = oslo_cache.dict\n' }] },
  {
    name: 'oslo: INI, an empty int value is None',
    steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time =\n' }, info],
  },
  {
    name: 'oslo: INI section names: case-insensitive, spaces kept',
    steps: [
      { op: 'oslo_ini', text: '[CACHE]\nenabled = true\nbackend = oslo_cache.dict\n' },
      info,
      { op: 'oslo_ini', text: '[ cache ]\nenabled = true\nbackend = oslo_cache.dict\n' },
      info,
    ],
  },
  {
    name: 'oslo: INI list with empty items',
    steps: [
      { op: 'oslo_ini', text: '[cache]\nmemcache_servers = a:1,,b:2,\n' },
      { op: 'oslo_option', group: 'cache', option: 'memcache_servers' },
    ],
  },
  {
    name: 'oslo: INI list in quotes',
    known: 10,
    steps: [
      { op: 'oslo_ini', text: '[cache]\nmemcache_servers = "a:1,b:2"\n' },
      { op: 'oslo_option', group: 'cache', option: 'memcache_servers' },
    ],
  },
  {
    name: 'oslo: INI, a negative expiration_time (deliberate)',
    steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = oslo_cache.dict\nexpiration_time = -5\n' }, info],
    deliberate: { steps: [0, 1], row: 'a negative `expiration_time` other than -1' },
  },
  {
    name: "oslo: INI, a backend outside oslo's choices (deliberate)",
    steps: [{ op: 'oslo_ini', text: '[cache]\nenabled = true\nbackend = my.backend\n' }],
    deliberate: { steps: [0], row: "`[cache] backend` not among oslo's choices" },
  },
  {
    name: 'oslo: INI boolean spellings for enabled',
    steps: ['1', 'on', 'yes', 'TRUE', '0', 'off', 'no'].flatMap((word): Step[] => [
      { op: 'oslo_ini', text: `[cache]\nenabled = ${word}\nbackend = oslo_cache.dict\n` },
      info,
    ]),
  },
  {
    name: 'oslo: memoization decorator .set, .get, .invalidate, .refresh',
    steps: [
      oslo(osloDict, { identity: { caching: true } }),
      { op: 'oslo_memoize', name: 'f', group: 'identity' },
      { op: 'fn_set', fn: 'f', value: 'v', args: [1] },
      call('f', 1),
      { op: 'fn_get', fn: 'f', args: [1] },
      { op: 'fn_invalidate', fn: 'f', args: [1] },
      call('f', 1),
      { op: 'fn_refresh', fn: 'f', args: [1] },
      call('f', 1),
      calls,
    ],
  },
  {
    name: 'coerce_string_conf: Unicode digits',
    steps: [{ op: 'coerce', config: { fullwidth: '１２', arabic: '١٢٣', mixed: '1٢' } }],
  },
  {
    name: 'coerce_string_conf: more number shapes',
    steps: [
      {
        op: 'coerce',
        config: {
          dot: '1.',
          lead: '007',
          neg0: '-0',
          exp: '+.5e-3',
          hex: '0x10',
          under: '1_000',
          inf: 'inf',
          nan: 'nan',
          space: '1 2',
          dots: '.',
        },
      },
    ],
  },
  {
    name: 'an empty key (deliberate)',
    steps: [memory(), set('', 1), get(''), goc('', c('c')), calls],
    deliberate: { steps: [1, 2, 3], row: 'an empty string as a key' },
  },
  {
    name: 'a negative expiration time other than -1 (deliberate)',
    steps: [{ op: 'configure', backend: 'dogpile.cache.memory', expiration_time: -5 }, info],
    deliberate: { steps: [0, 1], row: 'a negative `expiration_time` other than -1' },
  },
  {
    name: 'cache_multi_on_arguments: should_cache_fn per value',
    steps: [
      memory(),
      { op: 'decorate', name: 'g', multi: 'list', should_cache: { not_equals: 'g(2)#1' } },
      call('g', 1, 2),
      call('g', 1, 2),
      callArgs,
    ],
  },
  {
    name: 'cache_multi_on_arguments: asdict .refresh and .get',
    steps: [
      memory(),
      { op: 'decorate', name: 'h', multi: 'asdict', omit: [3] },
      { op: 'fn_refresh', fn: 'h', args: [1, 2] },
      { op: 'fn_get', fn: 'h', args: [1, 2, 3] },
      call('h', 1, 2),
      callArgs,
    ],
  },
  {
    name: 'cache_multi_on_arguments: asdict .refresh when the function leaves a key out (deliberate)',
    steps: [
      memory(),
      { op: 'decorate', name: 'h', multi: 'asdict', omit: [3] },
      { op: 'fn_refresh', fn: 'h', args: [1, 3] },
      { op: 'fn_get', fn: 'h', args: [1, 3] },
      call('h', 1, 3),
      callArgs,
    ],
    // Python raises before storing anything, so its later steps differ too.
    deliberate: { steps: [2, 3, 4, 5], row: '`cache_multi_on_arguments(asdict=True)`: `.refresh()` when the function leaves a key out' },
  },
  {
    name: 'cache_on_arguments: expiration callable returning -1 never expires',
    steps: [
      memory(5),
      { op: 'set_var', var: 'e', value: -1 },
      { op: 'decorate', name: 'f', expiration_time: { from_var: 'e' } },
      call('f', 1),
      advance(1e6),
      call('f', 1),
      calls,
    ],
  },

  // ------------------------------------------------------------ a real memcached (oslo_cache.memcache_pool on both sides)
  {
    name: 'memcached: expiration and invalidation on a real server',
    steps: [
      { op: 'make_region', key_mangler: 'prefixed' },
      { op: 'configure', backend: 'oslo_cache.memcache_pool', expiration_time: 10, arguments: { url: '$MEMCACHED' } },
      goc('a', c('c')),
      set('b', { n: [1, 'x'] }),
      advance(9),
      getMulti(['a', 'b', 'z']),
      advance(2),
      get('a'),
      goc('a', c('c')),
      advance(1),
      invalidate(),
      advance(1),
      get('a'),
      get('b', { ignore_expiration: true }),
      goc('a', c('c')),
      calls,
    ],
  },
  {
    name: 'memcached: get_or_create_multi, delete and delete_multi on a real server',
    steps: [
      { op: 'make_region', key_mangler: 'prefixed' },
      { op: 'configure', backend: 'oslo_cache.memcache_pool', expiration_time: 60, arguments: { url: '$MEMCACHED' } },
      gocm(['b', 'a', 'b'], c('m')),
      { op: 'delete', key: 'a' },
      gocm(['a', 'b', 'c'], c('m')),
      { op: 'delete_multi', keys: ['a', 'b'] },
      getMulti(['a', 'b', 'c']),
      callArgs,
    ],
  },
  {
    name: 'memcached: concurrent callers on a real server',
    steps: [
      { op: 'make_region', key_mangler: 'prefixed' },
      { op: 'configure', backend: 'oslo_cache.memcache_pool', expiration_time: 10, arguments: { url: '$MEMCACHED' } },
      concurrent([0, 1, 2].map(() => goc('a', c('c', { hold: HOLD })))),
      advance(20),
      concurrent([goc('a', c('c', { hold: HOLD })), goc('a', c('c'), { delay: LATER })]),
      calls,
      get('a'),
    ],
  },

  // ------------------------------------------------------------ concurrent callers
  {
    name: 'concurrent: callers of an absent key wait for one creator',
    steps: [memory(), concurrent([0, 1, 2, 3].map(() => goc('a', c('c', { hold: HOLD })))), calls, get('a')],
  },
  {
    name: 'concurrent: a stale value is served while one caller regenerates',
    steps: [
      memory(10),
      goc('a', c('c')),
      advance(20),
      concurrent([goc('a', c('c', { hold: HOLD })), goc('a', c('c'), { delay: LATER }), goc('a', c('c'), { delay: LATER })]),
      calls,
      get('a'),
    ],
  },
  {
    name: 'concurrent: a get while the creator runs misses',
    steps: [memory(), concurrent([goc('a', c('c', { hold: HOLD })), { op: 'get', key: 'a', delay: LATER }]), calls],
  },
  {
    name: 'concurrent: different keys do not wait for each other',
    steps: [
      memory(),
      concurrent([goc('a', c('a', { hold: HOLD })), goc('b', c('b', { hold: HOLD })), goc('a', c('a', { hold: HOLD }))]),
      calls,
    ],
  },
  {
    name: 'concurrent: soft invalidation serves the old value to the others while one regenerates',
    steps: [
      memory(600),
      goc('a', c('c')),
      advance(1),
      invalidate(false),
      advance(1),
      concurrent([goc('a', c('c', { hold: HOLD })), goc('a', c('c'), { delay: LATER }), goc('a', c('c'), { delay: LATER })]),
      calls,
      get('a'),
    ],
  },
  {
    name: 'concurrent: key_is_locked while another caller creates',
    steps: [
      memory(),
      concurrent([
        goc('a', c('c', { hold: HOLD })),
        { op: 'key_is_locked', key: 'a', delay: LATER },
        { op: 'key_is_locked', key: 'b', delay: LATER },
      ]),
      locked('a'),
    ],
  },
  {
    name: 'concurrent: get_or_create_multi serves stale values whose lock is held',
    steps: [
      memory(10),
      gocm(['a', 'b'], c('m')),
      advance(20),
      concurrent([gocm(['a', 'b'], c('n', { hold: HOLD })), gocm(['a'], c('o'), { delay: LATER })]),
      callArgs,
      getMulti(['a', 'b']),
    ],
  },
  {
    name: 'concurrent: with an async runner every caller gets the stale value',
    steps: [
      { op: 'make_region', async_runner: 'inline' },
      memory(10),
      goc('a', c('c')),
      advance(20),
      concurrent([goc('a', c('c', { hold: HOLD })), goc('a', c('c'), { delay: LATER })]),
      calls,
      get('a'),
    ],
  },
  {
    name: 'concurrent: a creator failing on a stale value, the others get the stale value',
    steps: [
      memory(10),
      goc('a', c('c')),
      advance(20),
      concurrent([goc('a', c('bad', { hold: HOLD, raises: true })), goc('a', c('bad', { raises: true }), { delay: LATER })]),
      calls,
      get('a', { ignore_expiration: true }),
    ],
  },
  {
    name: 'concurrent: with a serializer, each caller gets its own copy',
    known: 3,
    steps: [
      { op: 'make_region', serializer: 'json' },
      memory(),
      concurrent(
        [0, 1, 2].map(() => goc('a', c('c', { hold: HOLD, value: { n: 1 } }))),
        true,
      ),
      calls,
    ],
  },
  {
    name: 'concurrent: a caller joining an attempt whose value was not cached runs its own creator',
    known: 5,
    steps: [
      memory(),
      concurrent([goc('a', c('first', { hold: HOLD }), { should_cache: 'never' }), goc('a', c('second'), { delay: LATER })]),
      calls,
      get('a'),
    ],
  },
  {
    name: "concurrent: the null backend runs every caller's creator",
    known: 8,
    steps: [
      { op: 'configure', backend: 'dogpile.cache.null' },
      concurrent([0, 1, 2].map((i) => goc('a', c('c', { hold: HOLD }), { delay: i * LATER }))),
      calls,
    ],
  },
  {
    name: 'concurrent: a failing creator (deliberate: one shared attempt)',
    steps: [
      memory(),
      concurrent([
        goc('a', c('bad', { hold: HOLD, raises: true })),
        goc('a', c('bad', { raises: true }), { delay: LATER }),
        goc('a', c('bad', { raises: true }), { delay: LATER }),
      ]),
      calls,
      locked('a'),
    ],
    deliberate: { steps: [2], row: 'concurrent callers of one process on an absent key' },
  },
  {
    name: 'concurrent: get_or_create_multi, a key created while waiting (deliberate)',
    steps: [memory(), concurrent([gocm(['a', 'b'], c('m', { hold: HOLD })), gocm(['b', 'c'], c('m'), { delay: LATER })]), callArgs],
    deliberate: { steps: [2], row: '`get_or_create_multi`, a key another caller created while we waited' },
  },
];
