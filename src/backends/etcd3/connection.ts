/**
 * The etcd3 client, created on first use, and the one way every request goes through it: with an
 * absolute deadline, retried on another endpoint while the deadline allows, and with driver errors
 * turned into our errors where we add meaning (unavailable, too large).
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, IOptions } from 'etcd3';
import { loadDriver } from '../../driver.js';
import { BackendUnavailableError, ConfigurationError, ValueTooLargeError } from '../../errors.js';
import { isSecretOption } from '../../secrets.js';
import { BREAKER_OPEN_MS, faultHandling, isEndpointDown } from './faults.js';
import type { Etcd3Settings, PemSource, TlsSources } from './options.js';
import { skipServernameForIpEndpoints } from './tls-servername.js';

type Etcd3Module = typeof import('etcd3');

/** Per-call gRPC options: an absolute deadline in epoch milliseconds. */
export interface CallOptions {
  deadline: number;
}

/** First and largest pause between retries, ms. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 250;

/**
 * Owns the etcd3 client of one backend. Requests go through {@link call}; streams (watches, lease
 * keepalives) use {@link client} directly.
 */
export class Etcd3Connection {
  readonly #settings: Etcd3Settings;
  #created: Promise<{ client: Etcd3; driver: Etcd3Module }> | null = null;
  readonly #closing = new AbortController();

  constructor(settings: Etcd3Settings) {
    this.#settings = settings;
    // Every request backing off listens to this signal; under load (64 concurrent requests while etcd
    // is down) that is more than Node's default of 10 listeners, which printed a
    // MaxListenersExceededWarning. The listeners are removed when each backoff ends: not a leak.
    setMaxListeners(0, this.#closing.signal);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Aborted by {@link close}: long waits (lock waits, backoff sleeps) listen to it. */
  get closeSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** The etcd3 client, created (and the driver imported) on first use. */
  async client(): Promise<Etcd3> {
    return (await this.#connect()).client;
  }

  /** The etcd3 module (for its error classes). */
  async driver(): Promise<Etcd3Module> {
    return (await this.#connect()).driver;
  }

  #connect(): Promise<{ client: Etcd3; driver: Etcd3Module }> {
    if (this.closed) return Promise.reject(this.#closedError());
    this.#created ??= createClient(this.#settings);
    return this.#created;
  }

  /**
   * Runs one request. `fn` gets the client and the call options to pass to the etcd3 call; it may
   * run more than once (on another endpoint) while the deadline (`timeout`) allows, so it must be
   * idempotent. Rejects with {@link BackendUnavailableError} when etcd did not answer in time or
   * every endpoint is down, with {@link ValueTooLargeError} for a request etcd refuses as too large,
   * and with the driver's error otherwise (a lost lease, a permission error).
   */
  async call<T>(what: string, fn: (client: Etcd3, options: CallOptions) => Promise<T>): Promise<T> {
    const { client, driver } = await this.#connect();
    const { timeoutMs, endpoints } = this.#settings;
    const deadline = Date.now() + timeoutMs;
    // With several endpoints, one that hangs must leave time to try another.
    const attemptMs = endpoints.length > 1 ? timeoutMs / Math.min(endpoints.length, 3) : timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(client, { deadline: Math.min(deadline, Date.now() + attemptMs) });
      } catch (error) {
        if (this.closed) throw this.#closedError(error);
        if (tooLarge(error)) {
          throw new ValueTooLargeError(`etcd refused ${what}: the request is larger than its --max-request-bytes (1.5 MiB by default).`, {
            cause: error,
          });
        }
        const recoverable = error instanceof Error && driver.isRecoverableError(error);
        const down = isEndpointDown(error);
        if (!recoverable && !down) throw error;
        const pause = Math.min(FIRST_BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS);
        // Every endpoint's circuit is open: etcd is known to be down, so fail now instead of spinning.
        if (down || this.closed || Date.now() + pause >= deadline) {
          throw this.#unavailable(what, error);
        }
        try {
          await sleep(pause, undefined, { signal: this.#closing.signal });
        } catch {
          throw this.#closedError();
        }
      }
    }
  }

  #unavailable(what: string, cause: unknown): BackendUnavailableError {
    if (this.closed) return this.#closedError();
    const { timeoutMs, endpoints } = this.#settings;
    const reason = isEndpointDown(cause)
      ? `every endpoint is down (circuit open after failures; probed again every ${BREAKER_OPEN_MS / 1000} s)`
      : `no answer within ${timeoutMs / 1000} s`;
    return new BackendUnavailableError(`etcd ${what} failed: ${reason} (endpoints ${endpoints.join(', ')}).`, { cause });
  }

  #closedError(cause?: unknown): BackendUnavailableError {
    return new BackendUnavailableError('The Etcd3Backend is closed.', cause === undefined ? undefined : { cause });
  }

  /** True when `error` is etcd's "requested lease not found" (the lease expired or was revoked). */
  async isLeaseNotFound(error: unknown): Promise<boolean> {
    const { driver } = await this.#connect();
    return error instanceof driver.EtcdLeaseInvalidError;
  }

  /** Closes the client (and its channels). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#closing.abort();
    const created = this.#created;
    if (created === null) return;
    try {
      (await created).client.close();
    } catch {
      // The client was never created (missing driver, bad TLS file): nothing to close.
    }
  }
}

function tooLarge(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return message.includes('etcdserver: request is too large') || message.includes('received message larger than max');
}

async function createClient(settings: Etcd3Settings): Promise<{ client: Etcd3; driver: Etcd3Module }> {
  const driver = await loadDriver<Etcd3Module>('etcd3', 'Etcd3Backend');
  const { timeoutMs } = settings;
  const options: IOptions = {
    hosts: settings.endpoints,
    // Our calls pass their own deadline; this one covers the client's internal calls (auth token).
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: faultHandling(driver),
    // A getMulti of 128 large values can exceed gRPC's default 4 MiB receive limit.
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
  };
  if (settings.tls !== null) options.credentials = await readCredentials(settings.tls);
  if (settings.auth !== null) options.auth = { ...settings.auth };
  const client = new driver.Etcd3(options);
  // TLS to https://<ip>:<port> would print Node's DEP0123 (an IP as SNI); see tls-servername.ts.
  skipServernameForIpEndpoints(client);
  return { driver, client };
}

async function readCredentials(tls: TlsSources): Promise<NonNullable<IOptions['credentials']>> {
  const credentials: NonNullable<IOptions['credentials']> = { rootCertificate: await readPem(tls.caCert, 'ca_cert') };
  if (tls.certKey !== undefined) credentials.privateKey = await readPem(tls.certKey, 'cert_key');
  if (tls.certCert !== undefined) credentials.certChain = await readPem(tls.certCert, 'cert_cert');
  return credentials;
}

async function readPem(source: PemSource, name: string): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  if (source.includes('-----BEGIN')) return Buffer.from(source, 'utf8');
  try {
    return await readFile(source);
  } catch (error) {
    // A cert_key given as bad PEM (no BEGIN line) lands here as a "path": never quote a secret option.
    const shown = isSecretOption(name) ? 'its file' : `"${source}"`;
    throw new ConfigurationError(
      `Etcd3Backend argument ${name}: cannot read ${shown} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
      {
        cause: isSecretOption(name) ? undefined : error,
      },
    );
  }
}
