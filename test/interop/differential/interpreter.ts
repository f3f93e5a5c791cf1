/**
 * The TypeScript side of the differential suite: runs the steps of a scenario (scenarios.ts) on our
 * region and returns one observation per step, in the same shape interpreter.py returns them for
 * dogpile.cache/oslo.cache. Time is a manual clock starting at the instant the Python side starts at.
 */
import {
  CacheRegion,
  ProxyBackend,
  functionKeyGenerator,
  isNoValue,
  lengthConditionalMangler,
  manualClock,
  sha1MangleKey,
  type AsyncCreationRunner,
  type BackendResult,
  type CacheRegionOptions,
  type CachedValue,
  type ConfigureOptions,
  type GetOrCreateOptions,
  type ManualClock,
  type Mapping,
  type NoValue,
} from '../../../src/index.js';
import { coerceStringConf } from '../../../src/backend.js';
import { configureCacheRegion, getMemoizationDecorator, loadOsloConfig, type OsloConf } from '../../../src/oslo/index.js';
import type { CreatorSpec, Json, Mangler, ShouldCache, Step } from './scenarios.js';

/** The instant both interpreters start at (Python's BASE_TIME): 2026-01-01T00:00:00Z. */
export const BASE_TIME_MS = Date.UTC(2026, 0, 1);

/** A creator's own failure, named as the Python side names it. */
export class CreatorError extends Error {
  override name = 'CreatorError';
}

/** An asyncCreationRunner's own failure. */
export class RunnerError extends Error {
  override name = 'RunnerError';
}

const BACKEND_NAMES: Readonly<Record<string, string>> = {
  MemoryBackend: 'memory',
  MemoryPickleBackend: 'memory_pickle',
  NullBackend: 'null',
  DictionaryBackend: 'dict',
  PooledMemcachedBackend: 'memcached',
  Etcd3Backend: 'etcd3',
  MongoBackend: 'mongo',
  Recorder: 'recorder',
};

type LogEntry = [string, string[]];

/** Records every backend call (serialized variants under their plain names), like the Python Recorder. */
class Recorder extends ProxyBackend {
  readonly log: { push(entry: LogEntry): void };
  /** A labelled recorder logs [label, operation, keys]. */
  constructor(log: LogEntry[], label?: string) {
    super();
    this.log = label === undefined ? log : { push: (entry) => log.push([label, ...entry] as unknown as LogEntry) };
  }
  override get(key: string): Promise<BackendResult> {
    this.log.push(['get', [key]]);
    return super.get(key);
  }
  override getSerialized(key: string): Promise<Buffer | NoValue> {
    this.log.push(['get', [key]]);
    return super.getSerialized(key);
  }
  override getMulti(keys: readonly string[]): Promise<BackendResult[]> {
    this.log.push(['get_multi', [...keys]]);
    return super.getMulti(keys);
  }
  override getSerializedMulti(keys: readonly string[]): Promise<(Buffer | NoValue)[]> {
    this.log.push(['get_multi', [...keys]]);
    return super.getSerializedMulti(keys);
  }
  override set(key: string, value: CachedValue): Promise<void> {
    this.log.push(['set', [key]]);
    return super.set(key, value);
  }
  override setSerialized(key: string, value: Buffer): Promise<void> {
    this.log.push(['set', [key]]);
    return super.setSerialized(key, value);
  }
  override setMulti(mapping: Mapping<CachedValue>): Promise<void> {
    this.log.push(['set_multi', mappingKeys(mapping)]);
    return super.setMulti(mapping);
  }
  override setSerializedMulti(mapping: Mapping<Buffer>): Promise<void> {
    this.log.push(['set_multi', mappingKeys(mapping)]);
    return super.setSerializedMulti(mapping);
  }
  override delete(key: string): Promise<void> {
    this.log.push(['delete', [key]]);
    return super.delete(key);
  }
  override deleteMulti(keys: readonly string[]): Promise<void> {
    this.log.push(['delete_multi', [...keys]]);
    return super.deleteMulti(keys);
  }
}

function mappingKeys(mapping: Mapping<unknown>): string[] {
  return (mapping instanceof Map ? [...mapping.keys()] : Object.keys(mapping)).sort();
}

/** Python's encoding of a result: NO_VALUE becomes {"$no_value": true}, everything else JSON. */
export function encode(value: unknown): Json {
  if (isNoValue(value)) return { $no_value: true };
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value as Json;
}

function errorOf(error: unknown): Json {
  return { error: error instanceof Error ? error.name : typeof error };
}

function typeTag(value: unknown): string {
  if (value === null) return 'none';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'str';
  return typeof value;
}

function shouldCacheFn(spec: ShouldCache | undefined): ((value: unknown) => boolean) | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'never') return () => false;
  if (spec === 'always') return () => true;
  if ('equals' in spec) return (value) => JSON.stringify(value) === JSON.stringify(spec.equals);
  return (value) => JSON.stringify(value) !== JSON.stringify(spec.not_equals);
}

function mangler(spec: Mangler, keyPrefix: string): (key: string) => string {
  if (spec === 'sha1') return sha1MangleKey;
  if (spec === 'upper') return (key) => key.toUpperCase();
  if (spec === 'prefixed') return (key) => keyPrefix + key;
  return lengthConditionalMangler(spec.length_sha1, sha1MangleKey);
}

const sleep = (seconds: number): Promise<void> => new Promise((done) => setTimeout(done, seconds * 1000));

type Fn = ((...args: unknown[]) => Promise<unknown>) & {
  get(...args: unknown[]): Promise<unknown>;
  set(...args: unknown[]): Promise<void>;
  invalidate(...args: unknown[]): Promise<void>;
  refresh(...args: unknown[]): Promise<unknown>;
  original(...args: unknown[]): unknown;
};

/** One scenario's state: the region, the manual clock, creator calls, the backend log. */
export class ScenarioRun {
  /**
   * @param keyPrefix the "prefixed" key mangler's prefix: unique per run, scenario and side, so scenarios
   *   on a shared server never meet each other's keys.
   * @param memcached the servers an argument `url: "$MEMCACHED"` stands for.
   */
  constructor(
    readonly keyPrefix = 'ts-',
    readonly memcached: readonly string[] = [],
  ) {}

  // Moves 1 µs per reading, as the Python side's patched time.time (TICK) and our systemClock do.
  readonly clock: ManualClock = manualClock(BASE_TIME_MS, { tickMs: 0.001 });
  region: CacheRegion | undefined;
  readonly log: LogEntry[] = [];
  readonly calls = new Map<string, unknown[][]>();
  readonly functions = new Map<string, Fn>();
  readonly vars = new Map<string, Json>();
  /** Background regenerations started by the test's asyncCreationRunner, awaited after each step. */
  readonly pending: Promise<unknown>[] = [];
  conf: OsloConf | undefined;
  cacheDict: Map<string, unknown> | undefined;

  async run(steps: readonly Step[]): Promise<Json[]> {
    const trace: Json[] = [];
    try {
      for (const step of steps) {
        try {
          trace.push(await this.step(step));
        } catch (error) {
          trace.push(errorOf(error));
        }
        await this.settle();
      }
    } finally {
      await this.region?.close().catch(() => {});
    }
    return trace;
  }

  /** Lets background work started by the step finish (Python's runner is synchronous). */
  async settle(): Promise<void> {
    while (this.pending.length > 0) await Promise.allSettled(this.pending.splice(0));
    for (let i = 0; i < 5; i++) await new Promise((done) => setImmediate(done));
  }

  get r(): CacheRegion {
    if (this.region === undefined) {
      // Named as Python names reading an attribute of its None region (e.g. after a failed oslo_ini).
      const error = new Error('the scenario has no region yet');
      error.name = 'AttributeError';
      throw error;
    }
    return this.region;
  }

  record(name: string, args: unknown[]): number {
    const list = this.calls.get(name) ?? [];
    list.push(args);
    this.calls.set(name, list);
    return list.length;
  }

  creator(spec: CreatorSpec): () => Promise<unknown> {
    return async () => {
      const n = this.record(spec.name, []);
      if (spec.hold !== undefined) await sleep(spec.hold);
      if (spec.raises === true) throw new CreatorError(spec.name);
      if (spec.advance !== undefined) this.clock.advance(spec.advance * 1000);
      if (spec.probe_locked !== undefined) return (await this.r.keyIsLocked(spec.probe_locked)) ? 'locked' : 'unlocked';
      if (spec.value !== undefined) return structuredClone(spec.value);
      return `${spec.name}#${n}`;
    };
  }

  multiCreator(spec: CreatorSpec): (...keys: string[]) => Promise<unknown[]> {
    return async (...keys) => {
      this.record(spec.name, keys);
      if (spec.hold !== undefined) await sleep(spec.hold);
      if (spec.raises === true) throw new CreatorError(spec.name);
      const values = keys.map((key) => `${spec.name}(${key})`);
      return spec.short === true ? values.slice(0, -1) : values;
    };
  }

  createOptions(s: { expiration_time?: number | null; should_cache?: ShouldCache }): GetOrCreateOptions<unknown> {
    const options: GetOrCreateOptions<unknown> = {};
    if (s.expiration_time !== undefined) options.expirationTime = s.expiration_time;
    const fn = shouldCacheFn(s.should_cache);
    if (fn !== undefined) options.shouldCacheFn = fn;
    return options;
  }

  readOptions(s: { expiration_time?: number | null; ignore_expiration?: boolean }): {
    expirationTime?: number | null;
    ignoreExpiration?: boolean;
  } {
    return {
      ...(s.expiration_time === undefined ? {} : { expirationTime: s.expiration_time }),
      ...(s.ignore_expiration === true ? { ignoreExpiration: true } : {}),
    };
  }

  functionBody(name: string, multi: 'list' | 'asdict' | undefined, omit: readonly Json[]): (...args: unknown[]) => unknown {
    const body = (...args: unknown[]): unknown => {
      const n = this.record(name, args);
      if (multi === undefined) return `${name}(${args.map(String).join(',')})#${n}`;
      if (multi === 'list') return args.map((a) => `${name}(${String(a)})#${n}`);
      return Object.fromEntries(args.filter((a) => !omit.includes(a as Json)).map((a) => [String(a), `${name}(${String(a)})#${n}`]));
    };
    Object.defineProperty(body, 'name', { value: name });
    return body;
  }

  async step(s: Step): Promise<Json> {
    switch (s.op) {
      case 'make_region': {
        const options: CacheRegionOptions = { clock: this.clock };
        if (s.key_mangler !== undefined) options.keyMangler = mangler(s.key_mangler, this.keyPrefix);
        if (s.serializer === 'json') options.serializer = 'json';
        if (s.async_runner === 'inline') {
          const runner: AsyncCreationRunner = (region, key, creator, mutex) => {
            const work = (async () => {
              try {
                await region.set(key, await creator());
              } finally {
                await mutex.release();
              }
            })();
            this.pending.push(work);
            return work;
          };
          options.asyncCreationRunner = runner;
        } else if (s.async_runner === 'raising') {
          options.asyncCreationRunner = () => {
            throw new RunnerError('runner');
          };
        }
        this.region = new CacheRegion(options);
        return 'ok';
      }
      case 'configure': {
        if (this.region === undefined) await this.step({ op: 'make_region' });
        const args: Record<string, unknown> = { ...(s.arguments ?? {}) };
        if (args.url === '$MEMCACHED') args.url = [...this.memcached];
        if (s.cache_dict === true) {
          // dogpile's cache_dict is a dict; ours is the JavaScript counterpart, a Map (docs/migrating-from-dogpile.md).
          this.cacheDict = new Map();
          args.cache_dict = this.cacheDict;
        }
        // The dict backend keeps its own expiry: it reads the scenario's clock too (its `clock` argument).
        if (s.backend === 'oslo_cache.dict') args.clock = this.clock;
        const options: ConfigureOptions = { arguments: args };
        if ('expiration_time' in s) options.expirationTime = s.expiration_time ?? null;
        if (s.replace_existing_backend !== undefined) options.replaceExistingBackend = s.replace_existing_backend as boolean;
        if (s.record === true) options.wrap = [new Recorder(this.log)];
        if (s.wrap !== undefined) options.wrap = s.wrap.map((label) => new Recorder(this.log, label));
        this.r.configure(s.backend, options);
        return 'ok';
      }
      case 'configure_from_config':
        if (this.region === undefined) await this.step({ op: 'make_region' });
        this.r.configureFromConfig(s.config, s.prefix);
        return 'ok';
      case 'info': {
        const r = this.r;
        if (!r.isConfigured) return { is_configured: false };
        const name = r.actualBackend.constructor.name;
        return {
          is_configured: true,
          expiration_time: r.expirationTime,
          backend: BACKEND_NAMES[name.replace(/\(.*\)$/, '')] ?? name,
          mangled: r.keyMangler !== null,
        };
      }
      case 'coerce': {
        const coerced = coerceStringConf(s.config);
        return Object.fromEntries(
          Object.keys(coerced)
            .sort()
            .map((k) => [k, [typeTag(coerced[k]), coerced[k] as Json]]),
        );
      }
      case 'advance':
        this.clock.advance(s.seconds * 1000);
        return null;
      case 'set':
        await this.r.set(s.key, s.value);
        return null;
      case 'get':
        return encode(await this.r.get(s.key, this.readOptions(s)));
      case 'get_mutate': {
        const value = (await this.r.get(s.key)) as Record<string, unknown>;
        value.mutated = true;
        return null;
      }
      case 'get_multi':
        return encode(await this.r.getMulti(s.keys, this.readOptions(s)));
      case 'set_multi':
        await this.r.setMulti(s.mapping);
        return null;
      case 'delete':
        await this.r.delete(s.key);
        return null;
      case 'delete_multi':
        await this.r.deleteMulti(s.keys);
        return null;
      case 'get_or_create':
        return encode(await this.r.getOrCreate(s.key, this.creator(s.creator), this.createOptions(s)));
      case 'get_or_create_multi':
        return encode(await this.r.getOrCreateMulti(s.keys, this.multiCreator(s.creator), this.createOptions(s)));
      case 'wrap':
        this.r.wrap(new Recorder(this.log, s.label));
        return null;
      case 'invalidate':
        this.r.invalidate(s.hard ?? true);
        return null;
      case 'key_is_locked':
        return await this.r.keyIsLocked(s.key);
      case 'calls':
        return Object.fromEntries([...this.calls.keys()].sort().map((name) => [name, (this.calls.get(name) as unknown[]).length]));
      case 'call_args':
        return Object.fromEntries([...this.calls.keys()].sort().map((name) => [name, encode(this.calls.get(name))]));
      case 'backend_log':
        return this.log.splice(0) as unknown as Json;
      case 'cache_dict_keys':
        return [...(this.cacheDict?.keys() ?? [])].sort();
      case 'set_var':
        this.vars.set(s.var, s.value);
        return null;
      case 'decorate': {
        const multi = s.multi === undefined ? undefined : s.multi;
        const body = this.functionBody(s.name, multi, s.omit ?? []);
        const exp = s.expiration_time;
        const expirationTime =
          typeof exp === 'object' && exp !== null ? () => (this.vars.get(exp.from_var) as number | null | undefined) ?? null : exp;
        const options = {
          ...(s.namespace === undefined ? {} : { namespace: s.namespace }),
          ...(expirationTime === undefined ? {} : { expirationTime }),
          ...(s.should_cache === undefined ? {} : { shouldCacheFn: shouldCacheFn(s.should_cache) as (v: unknown) => boolean }),
        };
        const fn =
          multi === undefined
            ? this.r.cacheOnArguments(options)(body)
            : this.r.cacheMultiOnArguments({ ...options, asDict: multi === 'asdict' })(body);
        this.functions.set(s.name, fn as unknown as Fn);
        return 'ok';
      }
      case 'call':
        return encode(await this.fn(s.fn)(...s.args));
      case 'fn_get':
        return encode(await this.fn(s.fn).get(...s.args));
      case 'fn_set':
        if (s.mapping !== undefined) await this.fn(s.fn).set(s.mapping);
        else await this.fn(s.fn).set(s.value, ...(s.args ?? []));
        return null;
      case 'fn_invalidate':
        await this.fn(s.fn).invalidate(...s.args);
        return null;
      case 'fn_refresh':
        return encode(await this.fn(s.fn).refresh(...s.args));
      case 'fn_original':
        return encode(await this.fn(s.fn).original(...s.args));
      case 'key_of':
        return functionKeyGenerator(s.namespace, { name: s.name })(...s.args);
      case 'oslo_configure':
        this.conf = { cache: { ...(s.cache ?? {}) } };
        for (const [group, options] of Object.entries(s.groups ?? {})) this.conf[group] = { ...options };
        return this.osloRegion(s.record === true);
      case 'oslo_ini': {
        this.conf = loadOsloConfig(s.text);
        Object.assign(this.conf.cache, s.cache ?? {});
        for (const [group, options] of Object.entries(s.groups ?? {})) this.conf[group] = { ...(this.conf[group] ?? {}), ...options };
        return this.osloRegion(s.record === true);
      }
      case 'oslo_reconfigure':
        configureCacheRegion(this.conf as OsloConf, this.r);
        return 'ok';
      case 'oslo_option': {
        const value = this.conf?.[s.group]?.[s.option];
        return (value === undefined ? null : value) as Json;
      }
      case 'oslo_set': {
        const conf = this.conf as OsloConf;
        conf[s.group] = { ...(conf[s.group] ?? {}), [s.option]: s.value };
        return null;
      }
      case 'oslo_memoize': {
        const body = this.functionBody(s.name, undefined, []);
        const memoize = getMemoizationDecorator(this.conf as OsloConf, this.r, s.group, s.expiration_group);
        this.functions.set(s.name, memoize(body) as unknown as Fn);
        return 'ok';
      }
      case 'oslo_mangle':
        return (this.r.keyMangler as (key: string) => string)(s.key);
      case 'concurrent':
        return this.concurrent(s.callers, s.identity === true);
    }
  }

  fn(name: string): Fn {
    const fn = this.functions.get(name);
    if (fn === undefined) throw new Error(`no function ${name}`);
    return fn;
  }

  osloRegion(record: boolean): Json {
    // oslo's create_region() takes no clock; a region of our own with the manual clock stands in for it.
    this.region = new CacheRegion({ clock: this.clock });
    configureCacheRegion(this.conf as OsloConf, this.region);
    if (record) this.region.wrap(new Recorder(this.log));
    return 'ok';
  }

  /** Callers started together (each after its own real-time delay); order-independent observations only. */
  async concurrent(callers: readonly Extract<Step, { op: 'concurrent' }>['callers'][number][], identity: boolean): Promise<Json> {
    const settled = await Promise.allSettled(
      callers.map(async (step) => {
        if (step.delay !== undefined) await sleep(step.delay);
        if (step.op === 'get_or_create') return this.r.getOrCreate(step.key, this.creator(step.creator), this.createOptions(step));
        if (step.op === 'get_or_create_multi')
          return this.r.getOrCreateMulti(step.keys, this.multiCreator(step.creator), this.createOptions(step));
        if (step.op === 'key_is_locked') return this.r.keyIsLocked(step.key);
        return this.r.get(step.key);
      }),
    );
    const results = settled.map((outcome) => (outcome.status === 'rejected' ? errorOf(outcome.reason) : { value: encode(outcome.value) }));
    const out: Record<string, Json> = { results };
    if (identity) out.distinct_objects = new Set(settled.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))).size;
    return out;
  }
}
