/**
 * The ioredis client of one Redis backend, created on the first call, and the settings that keep
 * every call bounded:
 *
 * - Every command is bounded by `socket_timeout` through one {@link CommandWatchdog} per connection
 *   (watchdog.ts), not by ioredis's `commandTimeout` (a timer started and cleared per command): a
 *   server that takes a command and never answers fails it between `socket_timeout` and
 *   `socket_timeout` plus a tick (a tenth of it, at least 5 ms) after it was sent, with a
 *   `BackendUnavailableError` ("Command timed out"). This bounds a client shared through
 *   `connection_pool` too, whatever its own options. Every command goes through {@link RedisConnection.call}
 *   or {@link RedisConnection.watch}.
 * - `enableOfflineQueue: false`: while the connection is down (a restart, a failover) a command fails
 *   at once instead of waiting in ioredis's unbounded queue. The first connection is awaited (within
 *   `socket_connect_timeout` + `socket_timeout`) so that calls made before it is ready do not fail.
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: a command in flight when the
 *   connection drops fails instead of being resent later; a resent `SET NX` of the lock would find its
 *   own earlier write and wait for itself.
 * - `retryStrategy`: reconnects in the background forever (50 ms growing to 500 ms), so the backend
 *   recovers by itself once the server is back.
 * - Sentinel: `sentinelRetryStrategy` gives up after 3 rounds so a connection attempt with every
 *   sentinel down ends (and the next round starts from the retryStrategy); `sentinelCommandTimeout`
 *   is `socket_timeout`.
 * - Cluster: the same options on every node connection; a node that is down fails its keys' commands
 *   at once, the keys on live nodes keep working. `slotsRefreshTimeout` is `socket_timeout`.
 * - Coalesced writes (`coalesce_writes`, on by default; single server and Sentinel, the backend's own
 *   client): the first command of a tick is written at once, as before, and then corks the socket until
 *   a `process.nextTick`, so the commands sent after it in that tick (the continuations of the replies
 *   of one socket read, typically) leave together in one `writev` instead of one write each. Each command
 *   still goes through ioredis on its own (its own reply, error and offline-queue handling; nothing like
 *   a pipeline that one failure or one slow reply holds up); only the bytes of the second and later
 *   commands of a tick wait for its end. Their bound starts when they are sent, as before. At 64 calls in
 *   flight this about halves the CPU per get or set (one socket write per command was most of it) and
 *   doubles their throughput; a caller alone is written at once and pays one nextTick.
 * - Auto-pipelining is off (ioredis's default; it defers every command to a `setImmediate` and, measured
 *   here, costs more CPU than coalesced writes); `connection_kwargs: { enableAutoPipelining: true }` turns it on.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { loadDriver } from '../../driver.js';
import { MAX_TIMER_SECONDS } from '../../duration.js';
import { BackendUnavailableError, ConfigurationError, DogpileCacheError } from '../../errors.js';
import { redactUrl } from '../../secrets.js';
import { KEEPALIVE_DELAY_MS, type RedisSettings } from './options.js';
import { CommandWatchdog } from './watchdog.js';

/** A single-server or Sentinel client, or a Cluster client. */
export type RedisClient = Redis | Cluster;

interface IoredisModule {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

const NOT_CONNECTED = /Connection is closed|Stream isn't writeable|Cluster isn't ready|None of startup nodes/;
const reconnectDelay = (attempt: number): number => Math.min(50 * attempt, 500);

/** Owns the client of one backend; every command goes through {@link call} or {@link watch}. */
export class RedisConnection {
  readonly #settings: RedisSettings;
  readonly #watchdog: CommandWatchdog;
  #client: RedisClient | null = null;
  #connecting: Promise<RedisClient> | null = null;
  #owned = true;
  #closed = false;
  // ioredis reports why a connection failed only through 'error' events; commands then fail with a
  // generic "Connection is closed", so messages quote this instead.
  #lastError: string | null = null;
  /** The socket corked for this tick, uncorked by the next `process.nextTick` (see {@link ready}). */
  #corked: Writable | null = null;
  readonly #coalesce: boolean;
  /** The watchdog's mark of the first command corked this tick (see {@link CommandWatchdog.leftNow}). */
  #corkMark = 0;
  readonly #uncork = (): void => {
    const stream = this.#corked;
    this.#corked = null;
    stream?.uncork();
    this.#watchdog.leftNow(this.#corkMark);
  };

  constructor(settings: RedisSettings) {
    this.#settings = settings;
    // Only a socket this backend owns (a shared client's is its owner's), and not a cluster's (its
    // commands go to the node of each key, each node a socket of its own).
    this.#coalesce = settings.coalesceWrites && settings.connectionPool === null && settings.topology !== 'cluster';
    this.#watchdog = new CommandWatchdog(settings.commandTimeoutMs, (what, error) => this.wrap(what, error));
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The client when it is connected and the backend is open, else null (then use {@link call}, which
   * connects or rejects). For hot paths that send a command themselves and pass it to {@link watch}.
   */
  get ready(): RedisClient | null {
    return this.#closed ? null : this.#client;
  }

  /**
   * `command`, sent just now for `what`, bounded by `socket_timeout` (see the module comment): resolves
   * with `then(reply)` (or the reply), rejects with a {@link BackendUnavailableError} naming `what` and
   * the server when the command fails or gets no reply in time. The one place a command's bound starts,
   * and where the socket is corked for the rest of the tick (coalesced writes, see the module comment).
   */
  watch<T, R = T>(what: string, command: Promise<T>, then?: (value: T) => R | PromiseLike<R>): Promise<R> {
    const watched = this.#watchdog.watch(what, command, then);
    if (this.#corked === null && this.#coalesce) this.#cork();
    return watched;
  }

  /**
   * Corks the client's socket until the end of this tick, after the tick's first command (which has
   * left already): the commands sent after it in this tick leave together in one write, and their
   * timeouts count from then (the loop may be blocked before it: see watchdog.ts).
   */
  #cork(): void {
    const stream = (this.#client as Redis | null)?.stream;
    if (stream === undefined || stream === null) return;
    stream.cork();
    this.#corked = stream;
    this.#corkMark = this.#watchdog.mark();
    process.nextTick(this.#uncork);
  }

  /** The client, created (and ioredis imported) on first use and connected once. */
  client(): Promise<RedisClient> {
    if (this.#client !== null) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  /**
   * Runs `fn` on the client (connecting first if needed) and bounds what it returns by
   * `socket_timeout` from when `fn` ran: `fn` sends one command, or one pipeline, or commands in
   * parallel (one per cluster node), never commands one after another (each of those goes through
   * {@link watch}). A driver failure becomes a {@link BackendUnavailableError} naming the operation and
   * the server (never its credentials), with the driver error as `cause`.
   */
  call<T>(what: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new BackendUnavailableError(`${this.#settings.backendName} is closed; ${what} was not sent.`));
    const client = this.#client;
    if (client !== null) return this.watch(what, sent(fn, client));
    // The connect has its own deadline (#connect); the command's starts when it is sent.
    return this.client().then(
      (c) => this.watch(what, sent(fn, c)),
      (error: unknown) => {
        throw this.wrap(what, error);
      },
    );
  }

  /** Our error for a driver failure (ours pass through). */
  wrap(what: string, error: unknown): Error {
    if (error instanceof DogpileCacheError) return error;
    let message = redactUrl(String((error as { message?: unknown })?.message ?? error));
    if (NOT_CONNECTED.test(message))
      message = `not connected${this.#lastError === null ? '' : ` (last connection error: ${redactUrl(this.#lastError)})`}`;
    return new BackendUnavailableError(`Redis ${what} failed on ${this.#settings.target}: ${message}`, { cause: error });
  }

  async #connect(): Promise<RedisClient> {
    const s = this.#settings;
    if (s.connectionPool !== null) {
      this.#owned = false;
      this.#client = s.connectionPool as RedisClient;
      return this.#client;
    }
    const driver = await loadDriver<IoredisModule>('ioredis', s.backendName);
    if (this.#closed) throw new BackendUnavailableError(`${s.backendName} was closed while connecting.`);
    const options = await this.#nodeOptions();
    const client: RedisClient =
      s.topology === 'cluster'
        ? new driver.Cluster(s.startupNodes, {
            redisOptions: options,
            lazyConnect: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: reconnectDelay,
            // Reads and writes go to the masters: a replica may serve an entry that was just replaced.
            scaleReads: 'master',
            slotsRefreshTimeout: s.commandTimeoutMs,
            ...(s.connectionKwargs as Partial<ClusterOptions>),
          })
        : s.url !== null
          ? new driver.Redis(s.url, options)
          : new driver.Redis(options);
    // ioredis emits 'error' for every failed reconnect; without a listener Node would crash the process.
    // The failures reach callers as rejected commands instead.
    client.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    client.on('ready', () => {
      this.#lastError = null;
    });
    // Each is at most MAX_TIMER_SECONDS, their sum may not be: past 2^31-1 ms setTimeout fires after 1 ms.
    const deadline = Math.min(s.connectTimeoutMs + s.commandTimeoutMs, MAX_TIMER_SECONDS * 1000);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not connected within ${deadline} ms`)), deadline);
        }),
      ]);
    } catch (error) {
      // The client keeps reconnecting in the background; later calls fail fast until it is back.
      throw this.wrap('connect', error);
    } finally {
      clearTimeout(timer);
      // Published only now: calls made while the first connection is being set up wait for it (through
      // #connecting) instead of failing on the not-yet-ready client.
      this.#client = client;
    }
    return client;
  }

  async #nodeOptions(): Promise<RedisOptions> {
    const s = this.#settings;
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // No commandTimeout: the watchdog bounds every command with one timer (see the module comment).
      connectTimeout: s.connectTimeoutMs,
      retryStrategy: reconnectDelay,
      keepAlive: s.keepAlive ? KEEPALIVE_DELAY_MS : 0,
      // Auto-pipelining stays off (ioredis's default): coalesced writes (see the module comment) save
      // the same socket writes for less CPU, without deferring the command to a setImmediate.
    };
    if (s.url === null || s.topology !== 'single') {
      if (s.topology === 'single') Object.assign(options, { host: s.host, port: s.port });
      if (s.topology !== 'cluster') options.db = s.db;
    } else if (s.db !== 0) {
      options.db = s.db;
    }
    if (s.username !== null) options.username = s.username;
    if (s.password !== null) options.password = s.password;
    if (s.tls !== null) {
      options.tls = {
        rejectUnauthorized: s.tls.rejectUnauthorized,
        ...(s.tls.ca === undefined ? {} : { ca: await readPem(s, 'ssl_ca_certs', s.tls.ca) }),
        ...(s.tls.cert === undefined ? {} : { cert: await readPem(s, 'ssl_certfile', s.tls.cert) }),
        ...(s.tls.key === undefined ? {} : { key: await readPem(s, 'ssl_keyfile', s.tls.key) }),
      };
    }
    if (s.topology === 'sentinel') {
      const { password, username, ...sentinelOptions } = s.sentinelKwargs;
      Object.assign(options, {
        sentinels: s.sentinels,
        name: s.serviceName,
        // dogpile passes the main password to the sentinels unless sentinel_kwargs has its own.
        ...(password !== undefined ? { sentinelPassword: password } : s.password !== null ? { sentinelPassword: s.password } : {}),
        ...(username !== undefined ? { sentinelUsername: username } : {}),
        sentinelRetryStrategy: (attempt: number) => (attempt > 3 ? null : reconnectDelay(attempt)),
        sentinelCommandTimeout: s.commandTimeoutMs,
        ...sentinelOptions,
      });
    }
    if (s.topology !== 'cluster') Object.assign(options, s.connectionKwargs);
    return options;
  }

  /** Closes the client unless it was shared through `connection_pool`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => null)) ?? this.#client;
    if (client === null || client === undefined || !this.#owned) return;
    // QUIT lets commands in flight finish; when the server is down it would wait, so disconnect instead.
    if (client.status === 'ready') {
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((r) => setTimeout(r, this.#settings.commandTimeoutMs).unref()),
      ]);
    }
    client.disconnect();
  }
}

/** `fn(client)`, with a synchronous throw turned into a rejection. */
function sent<T>(fn: (client: RedisClient) => Promise<T>, client: RedisClient): Promise<T> {
  try {
    return fn(client);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function readPem(s: RedisSettings, name: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ConfigurationError(`${s.backendName} argument ${name}: cannot read ${JSON.stringify(file)} (${(error as Error).message}).`, {
      cause: error,
    });
  }
}
