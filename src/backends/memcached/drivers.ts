/**
 * The two optional drivers (memjs, generic-pool), loaded on first use through `loadDriver`, and
 * the narrow part of each that this backend relies on. Typed here rather than through
 * `@types/memjs` so that the published declarations need no driver typings.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { loadDrivers } from '../../driver.js';
import { ConfigurationError } from '../../errors.js';

const BACKEND = 'PooledMemcachedBackend';

/** A reply as memjs parses it: views into the received bytes. */
export interface MemjsResponse {
  header: { opcode: number; status: number; totalBodyLength: number; opaque: number; cas: Buffer };
  key: Buffer;
  extras: Buffer;
  val: Buffer;
}

/** A reply callback; `quiet` keeps it registered until a reply with an empty body (see memjs `respond`). */
export type MemjsResponseCallback = ((response: MemjsResponse) => void) & { quiet?: boolean };

/**
 * memjs's `Server`: one socket to one memcached, with connect timeout, SASL PLAIN, reply parsing and
 * routing of replies to callbacks by `opaque`. These members are typed in `@types/memjs` too.
 */
export interface MemjsServer {
  username: string | undefined;
  password: string | undefined;
  /** Received bytes not yet parsed. */
  responseBuffer: Buffer;
  /** Deadlines (memjs `Utils.timestamp()` milliseconds) of the requests written and not yet answered, oldest first. */
  readonly requestTimeouts: readonly number[];
  /** The socket, while one is open. */
  readonly _socket?: Socket;
  onResponse(opaque: number, callback: MemjsResponseCallback): void;
  onError(opaque: number, callback: (error: unknown) => void): void;
  /** Destroys the socket and calls every registered error callback with `error`. */
  error(error: unknown): void;
  /** Writes a request, connecting (and authenticating) first when needed. */
  write(frame: Buffer): void;
  /** Appends received bytes to `responseBuffer` and returns it. */
  appendToBuffer(chunk: Buffer): Buffer;
}

/** Options of memjs's `Server` (seconds). */
export interface MemjsServerOptions {
  timeout: number;
  conntimeout: number;
  keepAlive: boolean;
  keepAliveDelay: number;
}

/** What this backend uses of the memjs package. */
export interface MemjsModule {
  Server: new (host: string, port: number, username?: string, password?: string, options?: MemjsServerOptions) => MemjsServer;
  Utils: { timestamp(): number };
}

/** A generic-pool pool (the members this backend uses). */
export interface GenericPool<T> {
  readonly size: number;
  readonly available: number;
  readonly borrowed: number;
  readonly pending: number;
  acquire(): Promise<T>;
  release(resource: T): Promise<void>;
  destroy(resource: T): Promise<void>;
  drain(): Promise<void>;
  clear(): Promise<void>;
}

/** A generic-pool factory. */
export interface GenericPoolFactory<T> {
  create(): Promise<T>;
  destroy(resource: T): Promise<void>;
  validate(resource: T): Promise<boolean>;
}

/** generic-pool options (the ones this backend sets). */
export interface GenericPoolOptions {
  max: number;
  min: number;
  acquireTimeoutMillis: number;
  idleTimeoutMillis: number;
  evictionRunIntervalMillis: number;
  numTestsPerEvictionRun: number;
  testOnBorrow: boolean;
  fifo: boolean;
  autostart: boolean;
}

/** What this backend uses of the generic-pool package. */
export interface GenericPoolModule {
  createPool<T>(factory: GenericPoolFactory<T>, options: GenericPoolOptions): GenericPool<T>;
}

/** Both drivers. */
export interface MemcachedDrivers {
  memjs: MemjsModule;
  genericPool: GenericPoolModule;
}

/**
 * Imports memjs and generic-pool. Rejects with one `MissingDependencyError` naming every missing
 * package (`npm install memjs generic-pool` when both are).
 */
export async function loadMemcachedDrivers(): Promise<MemcachedDrivers> {
  const [memjs, genericPool] = await loadDrivers<[MemjsModule, GenericPoolModule]>(['memjs', 'generic-pool'], BACKEND);
  checkMemjsShape(memjs);
  return { memjs, genericPool };
}

/** The memjs releases this backend is tested with (its internals are not a public API). */
export const MEMJS_TESTED_RANGE = '>=1.3.0 <1.4.0';

const SERVER_METHODS = ['onResponse', 'onError', 'error', 'write', 'appendToBuffer', 'respond', 'responseHandler'] as const;

/**
 * Checks that `memjs` has the internals connection.ts drives (memjs's `Server`: its callbacks by
 * opaque, `responseBuffer`, `appendToBuffer`, `requestTimeouts`, quiet callbacks), so that another
 * memjs release fails at load with a message rather than with wrong replies later. Throws
 * `ConfigurationError` naming what is missing and the tested memjs range.
 */
export function checkMemjsShape(memjs: unknown): asserts memjs is MemjsModule {
  const missing: string[] = [];
  const mod = memjs as Partial<MemjsModule> | undefined;
  const Server = mod?.Server as unknown;
  if (typeof Server !== 'function') missing.push('Server');
  if (typeof mod?.Utils?.timestamp !== 'function') missing.push('Utils.timestamp');
  if (typeof Server === 'function') {
    const proto = (Server as { prototype?: Record<string, unknown> }).prototype ?? {};
    for (const method of SERVER_METHODS) if (typeof proto[method] !== 'function') missing.push(`Server.prototype.${method}`);
    // memjs 1.3 keeps a quiet callback registered until a reply with an empty body; #batch relies on it.
    if (typeof proto.respond === 'function' && !String(proto.respond).includes('quiet')) missing.push('quiet response callbacks');
    if (missing.length === 0) {
      // The constructor connects nothing: the socket is opened by the first write.
      const probe = new (Server as MemjsModule['Server'])('127.0.0.1', 1, undefined, undefined, {
        timeout: 1,
        conntimeout: 1,
        keepAlive: false,
        keepAliveDelay: 30,
      });
      if (!Buffer.isBuffer(probe.responseBuffer)) missing.push('Server#responseBuffer');
      if (!Array.isArray(probe.requestTimeouts)) missing.push('Server#requestTimeouts');
    }
  }
  if (missing.length > 0) {
    throw new ConfigurationError(
      `${BACKEND} drives internals of memjs's Server that the installed memjs lacks (${missing.join(', ')}). ` +
        `It is tested with memjs ${MEMJS_TESTED_RANGE}: install that range, e.g. npm install memjs@~1.3.2.`,
    );
  }
}
