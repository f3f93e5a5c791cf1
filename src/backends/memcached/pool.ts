/**
 * The connections to one memcached server, and whether that server is currently dead.
 *
 * generic-pool owns the connections' lifecycle: it creates them (connect, authenticate, NOOP),
 * validates them when they are borrowed, caps their number at `pool_maxsize`, and closes those left
 * unused for `pool_unused_timeout`. It does not hand a connection to one operation at a time:
 * memjs pipelines many requests over one socket (154 k gets/s at 64 in flight on the test machine),
 * while an exclusive checkout per operation caps the requests in flight at the pool size (55 k/s).
 * So a borrowed connection joins an *active* set that every operation shares, each request going to
 * the active connection with the fewest replies pending. A further connection is borrowed only when
 * every active one has `growAtPending` requests in flight, and a connection that has been idle for
 * about a second is given back to generic-pool, whose idle eviction then closes it after
 * `pool_unused_timeout` unless traffic borrows it again first.
 *
 * Each server has a circuit breaker (breaker.ts, on cockatiel). Connection attempts run under it,
 * and a request that times out or a connection that breaks with requests pending counts as a failure.
 * While the circuit is open the backend's router skips the server (its keys go to the next server on
 * the ring); when a probe is due, the router starts one (a connection attempt) in the background and
 * still reroutes the request (or fails it at once when every server is skipped): no caller waits on a
 * probe.
 *
 * @module
 */
import { BrokenCircuitError } from 'cockatiel';
import { BackendUnavailableError, QueueEmptyError } from '../../errors.js';
import { debug } from '../../log.js';
import { BREAKER_THRESHOLD, PROBE_INTERVAL_MS, ServerBreaker } from './breaker.js';
import { Connection, isNoAnswer } from './connection.js';
import type { GenericPool, MemjsModule, GenericPoolModule } from './drivers.js';
import type { MemcachedTls, ServerAddress } from './options.js';

/** How long a shared connection may sit idle before it goes back to generic-pool, milliseconds. */
const LINGER_MS = 1000;

const NEVER_SENT = new WeakSet<object>();

/**
 * True for an error raised before a request was written (no connection could be opened): the
 * operation can safely go to another server, even a non-idempotent one such as `add`.
 */
export function isNeverSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && NEVER_SENT.has(error);
}

function neverSent<E extends object>(error: E): E {
  NEVER_SENT.add(error);
  return error;
}

/** Settings of one server's pool. */
export interface ServerPoolOptions {
  address: ServerAddress;
  /** `pool_maxsize`: most connections. */
  maxSize: number;
  /** `pool_unused_timeout`, milliseconds. */
  unusedTimeoutMs: number;
  /** `pool_connection_get_timeout`, milliseconds. */
  getTimeoutMs: number;
  /** `dead_retry`, milliseconds: the probe interval when under {@link PROBE_INTERVAL_MS}; 0 = no breaker. */
  deadRetryMs: number;
  /** `socket_timeout`, milliseconds. */
  socketTimeoutMs: number;
  username: string | undefined;
  password: string | undefined;
  /** TLS for every connection (`tls_enabled` and the `tls_*` files), or undefined for plain TCP. */
  tls?: MemcachedTls | undefined;
  /** Requests in flight on every active connection before another one is borrowed. */
  growAtPending: number;
}

/** A snapshot of one server's pool, for monitoring and tests. */
export interface ServerPoolStats {
  /** `"host:port"`. */
  server: string;
  /** False while the server's circuit is open (it is skipped). */
  alive: boolean;
  /** When a skipped server may be probed next, epoch milliseconds (0 when alive). */
  deadUntil: number;
  /** Connections open or being opened. */
  connections: number;
  /** Connections shared by operations right now. */
  active: number;
  /** Connections idle in the pool. */
  idle: number;
  /** Requests written and not yet answered, over all active connections. */
  inFlight: number;
}

/** One server's connections and health; see the module comment. */
export class ServerPool {
  /** The server's `"host:port"`. */
  readonly name: string;
  readonly #options: ServerPoolOptions;
  readonly #pool: GenericPool<Connection>;
  readonly #active: Connection[] = [];
  readonly #creating = new Set<Connection>();
  readonly #lastSent = new Map<Connection, number>();
  readonly #breaker: ServerBreaker | undefined;
  #opening: Promise<Connection> | undefined;
  #growing = false;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(memjs: MemjsModule, genericPool: GenericPoolModule, options: ServerPoolOptions) {
    this.name = options.address.name;
    this.#options = options;
    this.#breaker =
      options.deadRetryMs > 0
        ? new ServerBreaker({
            probeIntervalMs: Math.min(options.deadRetryMs, PROBE_INTERVAL_MS),
            // A closed backend's own rejections say nothing about the server.
            isFailure: (error) => !this.#closed && (error instanceof BackendUnavailableError || error instanceof QueueEmptyError),
            isHang: (error) => isNoAnswer(error) || error instanceof QueueEmptyError,
          })
        : undefined;
    const { host, port, name } = options.address;
    this.#pool = genericPool.createPool<Connection>(
      {
        create: async () => {
          const connection = new Connection(
            memjs,
            {
              host,
              port,
              name,
              timeoutMs: options.socketTimeoutMs,
              username: options.username,
              password: options.password,
              tls: options.tls,
            },
            (broken, error, requestsFailed) => this.#broken(broken, error, requestsFailed),
          );
          this.#creating.add(connection);
          try {
            await connection.open();
          } catch (error) {
            // generic-pool answers a rejected create by creating again at once for as long as anyone
            // waits: a busy connect loop against a down server. So while someone waits, resolve with
            // the failed connection; the waiter destroys it and reports the failure.
            if (this.#pool.pending === 0) throw error;
          } finally {
            this.#creating.delete(connection);
          }
          return connection;
        },
        destroy: async (connection) => connection.close(),
        // A failed connection passes, on purpose: it must reach its waiter (see create).
        validate: async (connection) => connection.state === 'ready' || connection.state === 'failed',
      },
      {
        max: options.maxSize,
        min: 0,
        acquireTimeoutMillis: options.getTimeoutMs,
        idleTimeoutMillis: options.unusedTimeoutMs,
        evictionRunIntervalMillis: Math.min(Math.max(Math.round(options.unusedTimeoutMs / 4), 10), 10_000),
        numTestsPerEvictionRun: options.maxSize,
        testOnBorrow: true,
        fifo: false, // reuse the most recently used connection; let the others age out
        autostart: true,
      },
    );
  }

  /**
   * True while the server takes requests (its circuit is closed, or it has no breaker because
   * `dead_retry` is 0). When the circuit is open and a probe is due, starts one in the background:
   * the caller still goes elsewhere, and the server is back once the probe has connected.
   */
  isAlive(): boolean {
    const breaker = this.#breaker;
    if (breaker === undefined || breaker.closed) return true;
    if (breaker.probeDue && this.#opening === undefined && !this.#closed) this.#startProbe(breaker);
    return false;
  }

  /**
   * Opens a new connection as the probe. Not through {@link connection}: a connection still active
   * from before the circuit opened would be handed back, and the breaker would never see a probe.
   */
  #startProbe(breaker: ServerBreaker): void {
    debug('memcached %s: probing it (its circuit has been open %d ms)', this.name, Date.now() - breaker.openedAt);
    const opening = this.#open();
    this.#opening = opening;
    const clear = (): void => {
      if (this.#opening === opening) this.#opening = undefined;
    };
    opening.then(clear, clear);
  }

  /** Counts a failure seen by a request (a timeout; a reset with requests pending) against the server. */
  #recordFailure(error: BackendUnavailableError): void {
    if (this.#closed) return;
    this.#breaker?.recordFailure(error);
    debug('memcached %s: request failed: %s', this.name, error.message);
  }

  /**
   * A ready connection without waiting (the active one with the fewest replies pending), or
   * undefined when there is none yet.
   */
  ready(): Connection | undefined {
    const active = this.#active;
    let best = active[0];
    if (best === undefined) return undefined;
    for (let i = 1; i < active.length; i++) {
      const connection = active[i] as Connection;
      if (connection.pending < best.pending) best = connection;
    }
    if (best.pending >= this.#options.growAtPending) this.#grow();
    return best;
  }

  /**
   * A ready connection, opening one when none is active. Rejects with `QueueEmptyError` when none
   * could be had within `pool_connection_get_timeout`, and with a `BackendUnavailableError` (for
   * which {@link isNeverSent} is true) when connecting failed or the circuit is open.
   */
  connection(): Connection | Promise<Connection> {
    const ready = this.ready();
    if (ready !== undefined) return ready;
    if (this.#opening !== undefined) return this.#opening;
    const opening = this.#open();
    this.#opening = opening;
    const clear = (): void => {
      if (this.#opening === opening) this.#opening = undefined;
    };
    opening.then(clear, clear);
    return opening;
  }

  /** Opens a connection under the server's breaker; an open circuit fails at once (never sent: the caller reroutes). */
  async #open(): Promise<Connection> {
    const breaker = this.#breaker;
    if (breaker === undefined) return this.#openOnce();
    try {
      return await breaker.execute(() => this.#openOnce());
    } catch (error) {
      if (!(error instanceof BrokenCircuitError)) throw error;
      const last = breaker.policy.lastFailure;
      throw neverSent(
        new BackendUnavailableError(
          `memcached ${this.name} is skipped: it failed ${BREAKER_THRESHOLD} times in a row or did not answer within socket_timeout; ` +
            `it is probed every ${breaker.probeIntervalMs / 1000} s until a connection succeeds.`,
          { cause: last !== undefined && 'error' in last ? last.error : error },
        ),
      );
    }
  }

  async #openOnce(): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      const started = Date.now();
      const connection = await this.#borrow();
      if (connection.state === 'ready') {
        this.#activate(connection);
        return connection;
      }
      this.#destroy(connection);
      // A failure older than this request was left in the pool for a caller that had given up
      // (QueueEmptyError); it says nothing about now, so borrow once more.
      if (connection.failedAt < started && attempt === 0) continue;
      throw neverSent(connection.failure ?? new BackendUnavailableError(`memcached ${this.name}: could not connect`));
    }
  }

  async #borrow(): Promise<Connection> {
    if (this.#closed) throw this.#closedError();
    let connection: Connection;
    try {
      connection = await this.#pool.acquire();
    } catch (error) {
      if (this.#closed) throw this.#closedError();
      if ((error as { name?: unknown }).name === 'TimeoutError') {
        throw new QueueEmptyError(
          `No usable connection to memcached ${this.name} within ${this.#options.getTimeoutMs / 1000} s ` +
            '(pool_connection_get_timeout): opening one took longer. Check that the server answers, or raise the timeout.',
          { cause: error },
        );
      }
      throw new BackendUnavailableError(`memcached ${this.name}: ${(error as Error).message}`, { cause: error });
    }
    if (this.#closed) {
      this.#destroy(connection);
      throw this.#closedError();
    }
    return connection;
  }

  /** Borrows one more connection in the background, when the active ones are busy and the pool has room. */
  #grow(): void {
    if (this.#growing || this.#closed || this.#active.length >= this.#options.maxSize) return;
    this.#growing = true;
    this.#borrow().then(
      (connection) => {
        this.#growing = false;
        if (connection.state === 'ready') this.#activate(connection);
        else this.#destroy(connection);
      },
      (error: unknown) => {
        this.#growing = false;
        debug('memcached %s: could not open another connection: %s', this.name, (error as Error).message);
      },
    );
  }

  #activate(connection: Connection): void {
    this.#active.push(connection);
    this.#lastSent.set(connection, connection.sent);
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.min(LINGER_MS, this.#options.unusedTimeoutMs));
      this.#sweeper.unref();
    }
  }

  /** Gives connections that sent nothing since the last sweep back to generic-pool. */
  #sweep(): void {
    for (const connection of [...this.#active]) {
      if (connection.pending === 0 && this.#lastSent.get(connection) === connection.sent) {
        this.#deactivate(connection);
        this.#pool.release(connection).catch(() => {});
      } else {
        this.#lastSent.set(connection, connection.sent);
      }
    }
  }

  #deactivate(connection: Connection): boolean {
    const index = this.#active.indexOf(connection);
    if (index < 0) return false;
    this.#active.splice(index, 1);
    this.#lastSent.delete(connection);
    if (this.#active.length === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
    return true;
  }

  #broken(connection: Connection, error: BackendUnavailableError, requestsFailed: boolean): void {
    if (requestsFailed) this.#recordFailure(error);
    // An idle connection in generic-pool that breaks stays there until validation or eviction drops it.
    if (this.#deactivate(connection)) this.#destroy(connection);
  }

  #destroy(connection: Connection): void {
    connection.close();
    this.#pool.destroy(connection).catch(() => {});
  }

  #closedError(): BackendUnavailableError {
    return new BackendUnavailableError(`memcached ${this.name}: the backend was closed`);
  }

  /** See {@link ServerPoolStats}. */
  stats(): ServerPoolStats {
    const alive = this.#breaker === undefined || this.#breaker.closed;
    return {
      server: this.name,
      alive,
      deadUntil: alive ? 0 : (this.#breaker?.nextProbeAt ?? 0),
      connections: this.#pool.size,
      active: this.#active.length,
      idle: this.#pool.available,
      inFlight: this.#active.reduce((sum, connection) => sum + connection.pending, 0),
    };
  }

  /**
   * Lets pending requests finish (each within `socket_timeout`), then closes every connection and
   * stops generic-pool's timers. Connections being opened are abandoned. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of this.#creating) connection.close();
    const active = this.#active.splice(0);
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await Promise.all(active.map((connection) => connection.drained()));
    for (const connection of active) this.#destroy(connection);
    await this.#pool.drain();
    await this.#pool.clear();
  }
}
