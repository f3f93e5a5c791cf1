/**
 * One connection to one memcached server: a memjs `Server` (socket, connect timeout, SASL PLAIN,
 * reply parsing, replies routed to callbacks by `opaque`) that this class drives with its own
 * binary-protocol frames, so that any number of requests share the socket, pipelined.
 *
 * What this class adds to memjs, and why:
 * - Request deadlines that hold under load. memjs notices a stuck reply with the socket's
 *   *inactivity* timer, which every new write re-arms: a hung server that keeps receiving requests
 *   is never detected and every request waits forever. Here one timer per connection fires at the
 *   oldest unanswered request's deadline (memjs's own FIFO of deadlines) and, once it has passed,
 *   fails the connection.
 * - Failing a connection fails every request pending on it (memjs's `Server.error()`). That is right
 *   for memcached: it answers a connection's requests in order, so everything queued behind a stuck
 *   reply is stuck too. Those requests fail with `BackendUnavailableError` after at most
 *   `socket_timeout`; the server's circuit breaker opens, so later requests go elsewhere at once.
 * - A connection the server closes (restart, idle timeout, a proxy hanging up) fails its pending
 *   requests, or its opening, at once; memjs would leave them waiting for the timeout and silently
 *   reconnect on the next write.
 * - Requests written in the same tick leave in one system call: the socket is corked at the first
 *   write and uncorked on `process.nextTick`. With many requests in flight, replies arrive in
 *   bunches and the callers' next requests follow in the same tick; one write each made the
 *   `write` system call most of the client's CPU time (72 % of a profile at 64 in flight).
 * - Linear receive buffering: memjs copies everything buffered so far on every received chunk
 *   (quadratic for large replies); here a chunk holding whole replies is parsed in place and a reply
 *   split across chunks is joined at most twice.
 * - A connection that failed is never reused (memjs keeps half-parsed bytes across reconnects).
 *
 * @module
 */
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { BackendUnavailableError, ValidationError, ValueTooLargeError, type DogpileCacheError } from '../../errors.js';
import type { MemjsModule, MemjsResponse, MemjsResponseCallback, MemjsServer } from './drivers.js';
import type { MemcachedTls } from './options.js';
import {
  HEADER_BYTES,
  Opcode,
  Status,
  encodeKeyBatch,
  encodeKeyRequest,
  encodeNoop,
  encodeIncrement,
  encodeStore,
  encodeStoreBatch,
  statusName,
} from './protocol.js';

/**
 * `opening`: connecting and checking the server answers; `ready`: in use; `failed`: could not be
 * opened (see {@link Connection.failure}); `broken`: failed after it was ready; `closed`: closed by us.
 */
export type ConnectionState = 'opening' | 'ready' | 'failed' | 'broken' | 'closed';

/** Where and how to connect. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** `"host:port"`, for messages. */
  name: string;
  /** Bound on connecting and on every request's reply, milliseconds (`socket_timeout`). */
  timeoutMs: number;
  /** SASL PLAIN credentials; both or neither. */
  username?: string | undefined;
  password?: string | undefined;
  /** TLS (oslo's `tls_enabled` and `tls_*` files): the socket is a `tls.connect` one; undefined for TCP. */
  tls?: MemcachedTls | undefined;
}

/**
 * Told once when a ready connection fails. `requestsFailed` is true when requests were pending (a
 * timeout, a reset): the server is then presumed dead; a server closing an idle connection is not.
 */
export type BrokenListener = (connection: Connection, error: BackendUnavailableError, requestsFailed: boolean) => void;

/** A value read with its CAS token (for compare-and-delete). */
export interface CasValue {
  value: Buffer;
  cas: Buffer;
}

/** The error for a reply status that is neither success nor an expected miss. */
export function statusError(status: number, what: string, label: string): DogpileCacheError {
  const message = `memcached ${label} answered ${statusName(status)} to ${what}`;
  switch (status) {
    case Status.VALUE_TOO_LARGE:
      return new ValueTooLargeError(
        `${message}: the item exceeds the server's item size limit (memcached -I); raise it, or store smaller values.`,
      );
    case Status.INVALID_ARGUMENTS:
      return new ValidationError(`${message}.`);
    default:
      return new BackendUnavailableError(`${message}.`);
  }
}

/**
 * `bytes` copied into memory of their own. memjs hands out views into the received socket chunk,
 * which also holds other keys' replies; a caller that keeps the value (or a v8-deserialized typed
 * array over it, whose `.buffer` is the whole backing store) must see only its own bytes. Not
 * `Buffer.from`: a small copy would land in Node's shared allocation pool, another shared buffer.
 */
export function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** The error memjs is failed with when the server did not answer in time (connecting or replying). */
class NoAnswerError extends Error {}

/** True for a connection failure caused by the server not answering within `socket_timeout` (a hung server). */
export function isNoAnswer(error: unknown): boolean {
  if (!(error instanceof BackendUnavailableError)) return false;
  const cause = error.cause;
  // memjs's own connect and inactivity timers (same length as ours) may fire first.
  return cause instanceof NoAnswerError || (cause instanceof Error && /^socket timed out/.test(cause.message));
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Lets memjs parse replies straight from the received chunk when no partial reply is pending, and
 * joins a split reply only once it is complete (memjs's own `appendToBuffer` copies all buffered bytes
 * on every chunk). Same contract as memjs's: returns the buffer to parse and keeps `responseBuffer` in step.
 */
function installLinearBuffering(server: MemjsServer): void {
  const parked: Buffer[] = [];
  let parkedBytes = 0;
  server.appendToBuffer = (chunk: Buffer): Buffer => {
    const head = server.responseBuffer;
    if (head.length === 0) return (server.responseBuffer = chunk);
    parked.push(chunk);
    parkedBytes += chunk.length;
    const have = head.length + parkedBytes;
    const need = head.length >= HEADER_BYTES ? HEADER_BYTES + head.readUInt32BE(8) : HEADER_BYTES;
    if (have < need) return head; // still incomplete: memjs finds no whole reply in `head`
    const joined = Buffer.concat([head, ...parked], have);
    parked.length = 0;
    parkedBytes = 0;
    return (server.responseBuffer = joined);
  };
}

/** The parts of memjs's Server (1.3.x, pinned) that open its socket: see memjs/lib/memjs/server.js `sock`. */
interface MemjsSocketInternals {
  _socket: Socket | undefined;
  connected: boolean;
  timeoutSet: boolean;
  connectCallbacks: ((socket: Socket) => void)[];
  username: string | undefined;
  password: string | undefined;
  sock(sasl: boolean, go: (socket: Socket) => void): void;
  responseHandler(chunk: Buffer): void;
  listSasl(): void;
  error(error: Error): void;
  once(event: 'authenticated', listener: () => void): void;
  emit(event: 'authenticated'): boolean;
}

/**
 * Makes memjs open a TLS socket: memjs has no TLS, and its `sock` calls `net.connect` itself. This is
 * memjs's "completely new socket" case with `tls.connect` in place of `net.connect` (and the connect
 * callback on the TLS handshake); an open or opening socket is left to memjs as before.
 */
function installTlsSocket(server: MemjsServer, options: ConnectionOptions, timeoutSeconds: number): void {
  const internals = server as unknown as MemjsSocketInternals;
  const plain = internals.sock.bind(server);
  const tls = options.tls as MemcachedTls;
  internals.sock = (sasl, go) => {
    if (internals._socket !== undefined) {
      plain(sasl, go);
      return;
    }
    internals.connected = false;
    const socket = tlsConnect(
      {
        host: options.host,
        port: options.port,
        // SNI takes host names only; an IP address is checked against the certificate's IP SANs.
        ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
        secureContext: tls.secureContext,
      },
      () => {
        internals.once('authenticated', () => {
          if (internals._socket === undefined) return;
          internals.connected = true;
          socket.setTimeout(0);
          internals.timeoutSet = false;
          go(socket);
          for (const callback of internals.connectCallbacks) callback(socket);
          internals.connectCallbacks = [];
        });
        socket.on('data', (chunk: Buffer) => internals.responseHandler(chunk));
        if (internals.username && internals.password) internals.listSasl();
        else internals.emit('authenticated');
      },
    );
    internals._socket = socket;
    // A failed handshake (untrusted certificate, wrong name, no shared cipher) arrives here and fails
    // the connection with the TLS error as its cause.
    socket.on('error', (error) => internals.error(error));
    socket.on('close', () => {
      internals.connected = false;
      if (internals.timeoutSet) {
        socket.setTimeout(0);
        internals.timeoutSet = false;
      }
      internals._socket = undefined;
    });
    internals.timeoutSet = true;
    socket.setTimeout(timeoutSeconds * 1000, () => {
      internals.timeoutSet = false;
      if (!internals.connected) {
        socket.end();
        internals._socket = undefined;
        internals.error(new Error('socket timed out connecting to server.'));
      }
    });
    socket.setKeepAlive(true, 30_000);
  };
}

/** One pipelined connection; see the module comment. Created by the pool, used by many requests at once. */
export class Connection {
  /** `"host:port"`, for messages. */
  readonly label: string;
  /** Why the connection failed (state `failed` or `broken`), as the error its requests received. */
  failure: BackendUnavailableError | undefined;
  /** When it failed, epoch milliseconds. */
  failedAt = 0;

  readonly #server: MemjsServer;
  readonly #timestamp: () => number;
  readonly #timeoutMs: number;
  readonly #onBroken: BrokenListener;
  #state: ConnectionState = 'opening';
  #pending = 0;
  #sent = 0;
  #opaque = 0;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  #socket: Socket | undefined;
  #corked = false;

  /**
   * Prepares a connection (nothing is sent until {@link open}). `onBroken` is called once if a ready
   * connection fails (error, timeout, closed by the server).
   */
  constructor(memjs: MemjsModule, options: ConnectionOptions, onBroken: BrokenListener) {
    this.label = options.name;
    this.#timeoutMs = options.timeoutMs;
    this.#timestamp = memjs.Utils.timestamp;
    this.#onBroken = onBroken;
    const seconds = options.timeoutMs / 1000;
    this.#server = new memjs.Server(options.host, options.port, options.username, options.password, {
      timeout: seconds,
      conntimeout: seconds,
      keepAlive: true,
      keepAliveDelay: 30,
    });
    // memjs falls back to MEMCACHIER_USERNAME / MEMCACHE_USERNAME (and passwords) from the
    // environment; credentials come only from the backend's arguments here.
    this.#server.username = options.username;
    this.#server.password = options.password;
    installLinearBuffering(this.#server);
    if (options.tls !== undefined) installTlsSocket(this.#server, options, seconds);
  }

  /** See {@link ConnectionState}. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Requests written and not yet answered. */
  get pending(): number {
    return this.#pending;
  }

  /** Requests written since the connection opened (the pool compares it between sweeps to find idle connections). */
  get sent(): number {
    return this.#sent;
  }

  /**
   * Connects (and authenticates) and waits for the server to answer a NOOP, within the timeout.
   * Rejects with `BackendUnavailableError` (state `failed`) when it cannot.
   */
  open(): Promise<void> {
    const opaque = this.#nextOpaque();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#server.error(new NoAnswerError(`no answer within ${this.#timeoutMs} ms while connecting (socket_timeout)`));
      }, this.#timeoutMs);
      this.#server.onResponse(opaque, (response) => {
        clearTimeout(timer);
        if (this.#state !== 'opening') return;
        if (response.header.status !== Status.OK) {
          this.#server.error(new Error(`the server answered the connection check with ${statusName(response.header.status)}`));
          return;
        }
        this.#state = 'ready';
        // An idle connection must not keep the process alive (a script that forgets close() exits);
        // the socket is ref'd again while a request is pending.
        this.#socket?.unref();
        resolve();
      });
      this.#server.onError(opaque, (error) => {
        clearTimeout(timer);
        if (this.#state === 'opening') {
          this.#state = 'failed';
          this.failedAt = Date.now();
          this.failure = this.#unavailable(error, 'connecting');
        }
        reject(this.failure ?? this.#unavailable(error, 'connecting'));
      });
      this.#server.write(encodeNoop(opaque));
      // memjs opened the socket in write(). It fails nothing when the server hangs up: watch for that
      // here, both while opening and once ready. 'end' (the server's FIN) comes before 'close'.
      const socket = this.#server._socket;
      this.#socket = socket;
      socket?.once('end', this.#closedByPeer);
      socket?.once('close', this.#closedByPeer);
    });
  }

  /** Reads one value: the stored bytes, or `null` when the key is absent. */
  get(key: string): Promise<Buffer | null> {
    return this.#read(key, (response) => ownCopy(response.val));
  }

  /** Reads one value with its CAS token, or `null` when the key is absent. */
  getWithCas(key: string): Promise<CasValue | null> {
    return this.#read(key, (response) => ({ value: response.val, cas: Buffer.from(response.header.cas) }));
  }

  #read<T>(key: string, pick: (response: MemjsResponse) => T): Promise<T | null> {
    const opaque = this.#nextOpaque();
    return new Promise((resolve, reject) => {
      this.#send(
        encodeKeyRequest(Opcode.GET, key, opaque),
        opaque,
        (response) => {
          this.#settled();
          const status = response.header.status;
          if (status === Status.OK) resolve(pick(response));
          else if (status === Status.KEY_NOT_FOUND) resolve(null);
          else reject(statusError(status, 'a get', this.label));
        },
        reject,
      );
    });
  }

  /**
   * Stores with SET or ADD (flags 0); with `cas`, a SET only if the item still has that CAS token.
   * Resolves true when stored, false when an ADD found the key present or the CAS no longer matched;
   * other statuses reject (`ValueTooLargeError` for an item over the server's limit).
   */
  store(opcode: typeof Opcode.SET | typeof Opcode.ADD, key: string, value: Uint8Array, exptime: number, cas?: Buffer): Promise<boolean> {
    const opaque = this.#nextOpaque();
    // An ADD that finds the key, or a SET with a CAS that no longer matches (or a vanished key), stores nothing.
    const conditional = opcode === Opcode.ADD || cas !== undefined;
    return new Promise((resolve, reject) => {
      this.#send(
        encodeStore(opcode, key, value, exptime, opaque, cas),
        opaque,
        (response) => {
          this.#settled();
          const status = response.header.status;
          if (status === Status.OK) resolve(true);
          else if (conditional && (status === Status.KEY_EXISTS || status === Status.NOT_STORED || status === Status.KEY_NOT_FOUND))
            resolve(false);
          else reject(statusError(status, opcode === Opcode.ADD ? 'an add' : 'a set', this.label));
        },
        reject,
      );
    });
  }

  /**
   * Atomically adds `delta` to the number held by `key` and resolves with the result; an absent key is
   * created holding `initial` (and resolves with it). Rejects when the item does not hold a number.
   */
  increment(key: string, delta: bigint, initial: bigint): Promise<bigint> {
    const opaque = this.#nextOpaque();
    return new Promise((resolve, reject) => {
      this.#send(
        encodeIncrement(key, delta, initial, 0, opaque),
        opaque,
        (response) => {
          this.#settled();
          const status = response.header.status;
          if (status === Status.OK && response.val.length === 8) resolve(response.val.readBigUInt64BE(0));
          else reject(statusError(status, 'an increment', this.label));
        },
        reject,
      );
    });
  }

  /**
   * Deletes a key; with `cas`, only if the item still has that CAS token. Resolves true when deleted,
   * false when absent or changed since `cas` was read.
   */
  delete(key: string, cas?: Buffer): Promise<boolean> {
    const opaque = this.#nextOpaque();
    return new Promise((resolve, reject) => {
      this.#send(
        encodeKeyRequest(Opcode.DELETE, key, opaque, cas),
        opaque,
        (response) => {
          this.#settled();
          const status = response.header.status;
          if (status === Status.OK) resolve(true);
          else if (status === Status.KEY_NOT_FOUND || status === Status.KEY_EXISTS) resolve(false);
          else reject(statusError(status, 'a delete', this.label));
        },
        reject,
      );
    });
  }

  /**
   * Reads many keys in one write (GETKQ per key, then NOOP) and puts each hit into `into`, keyed by
   * the key the server echoes. Misses produce no reply and so no entry.
   */
  getBatch(keys: readonly string[], into: Map<string, Buffer>): Promise<void> {
    return this.#batch(encodeKeyBatch(Opcode.GETKQ, keys, this.#nextOpaque()), (response) => {
      if (response.header.status !== Status.OK) return statusError(response.header.status, 'a multi-get', this.label);
      into.set(response.key.toString('utf8'), ownCopy(response.val));
      return undefined;
    });
  }

  /** Stores many entries in one write (SETQ per entry, then NOOP); rejects after the batch if any failed. */
  storeBatch(entries: readonly (readonly [string, Uint8Array])[], exptime: number): Promise<void> {
    return this.#batch(encodeStoreBatch(entries, exptime, this.#nextOpaque()), (response) =>
      statusError(response.header.status, 'a multi-set', this.label),
    );
  }

  /** Deletes many keys in one write (DELETEQ per key, then NOOP); absent keys are not an error. */
  deleteBatch(keys: readonly string[]): Promise<void> {
    return this.#batch(encodeKeyBatch(Opcode.DELETEQ, keys, this.#nextOpaque()), (response) =>
      response.header.status === Status.KEY_NOT_FOUND ? undefined : statusError(response.header.status, 'a multi-delete', this.label),
    );
  }

  /**
   * Sends a batch of quiet requests closed by a NOOP, all under one opaque. `onReply` sees every reply
   * before the NOOP's and returns an error to report (the first one wins) or undefined.
   */
  #batch(frame: Buffer, onReply: (response: MemjsResponse) => DogpileCacheError | undefined): Promise<void> {
    const opaque = frame.readUInt32BE(12);
    return new Promise((resolve, reject) => {
      let failure: DogpileCacheError | undefined;
      const callback: MemjsResponseCallback = (response) => {
        if (response.header.opcode === Opcode.NOOP) {
          this.#settled();
          if (failure === undefined) resolve();
          else reject(failure);
          return;
        }
        // memjs drops a quiet callback on the first reply with an empty body; the quiet opcodes
        // always carry a body (the key, or an error text), and only the NOOP's reply is empty.
        failure ??= onReply(response);
      };
      callback.quiet = true;
      this.#send(frame, opaque, callback, reject);
    });
  }

  /** Registers the reply and error callbacks for `opaque`, writes `frame`, and arms the deadline timer. */
  #send(frame: Buffer, opaque: number, onResponse: MemjsResponseCallback, reject: (error: BackendUnavailableError) => void): void {
    if (this.#state !== 'ready') {
      reject(this.failure ?? new BackendUnavailableError(`memcached ${this.label}: the connection is ${this.#state}`));
      return;
    }
    const server = this.#server;
    server.onResponse(opaque, onResponse);
    server.onError(opaque, (error) => {
      this.#settled();
      reject(this.#fail(error, true));
    });
    if (this.#pending++ === 0) this.#socket?.ref();
    this.#sent++;
    if (!this.#corked && this.#socket !== undefined) {
      this.#socket.cork();
      this.#corked = true;
      process.nextTick(this.#uncork);
    }
    server.write(frame);
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
  }

  /** Sends every request written since the socket was corked in one system call (see {@link #send}). */
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket?.uncork();
  };

  #settled(): void {
    if (--this.#pending !== 0) return;
    this.#socket?.unref();
    this.#drained?.();
  }

  #nextOpaque(): number {
    this.#opaque = (this.#opaque + 1) >>> 0;
    return this.#opaque;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#checkDeadline, ms);
    this.#timer.unref();
  }

  /** Fails the connection once its oldest unanswered request is past its deadline; otherwise re-arms for that deadline. */
  readonly #checkDeadline = (): void => {
    this.#timer = undefined;
    if (this.#pending === 0 || this.#state !== 'ready') return;
    const oldest = this.#server.requestTimeouts[0];
    const now = this.#timestamp();
    if (oldest !== undefined && oldest <= now) {
      this.#server.error(new NoAnswerError(`no reply within ${this.#timeoutMs} ms (socket_timeout)`));
    } else {
      this.#arm(oldest === undefined ? this.#timeoutMs : oldest - now + 1);
    }
  };

  readonly #closedByPeer = (): void => {
    const error = new Error('the server closed the connection');
    if (this.#state === 'opening') {
      this.#server.error(error); // fails the open
    } else if (this.#state === 'ready') {
      this.#fail(error, this.#pending > 0);
      this.#server.error(error); // fails the requests still pending; memjs would leave them waiting
    }
  };

  /** Marks a ready connection broken (once) and tells the pool; returns the error its requests get. */
  #fail(error: unknown, requestsFailed: boolean): BackendUnavailableError {
    if (this.#state === 'ready') {
      this.#state = 'broken';
      this.failedAt = Date.now();
      this.failure = this.#unavailable(error, 'waiting for a reply');
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#onBroken(this, this.failure, requestsFailed);
    }
    return this.failure ?? this.#unavailable(error, 'waiting for a reply');
  }

  #unavailable(error: unknown, during: string): BackendUnavailableError {
    const message = describeError(error);
    // memjs reports any reply with status 0x20, including a SASL server's answer to a client without a login.
    const hint = /authentication/i.test(message) ? ' (SASL: check the username and password arguments)' : '';
    return new BackendUnavailableError(`memcached ${this.label} failed while ${during}: ${message}${hint}`, { cause: error });
  }

  /** Resolves when no request is pending (immediately if none is). */
  drained(): Promise<void> {
    if (this.#pending === 0 || this.#state !== 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /**
   * Closes the socket at once. Requests still pending (and an open in progress) fail with
   * `BackendUnavailableError`. Idempotent.
   */
  close(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'ready') {
      this.failure = new BackendUnavailableError(`memcached ${this.label}: the backend was closed`);
      this.#state = 'closed';
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Fails the requests still pending (with `failure`) and an open in progress (state `failed`).
    this.#server.error(new Error('the backend was closed'));
    this.#state = 'closed';
    this.#drained?.();
  }
}
