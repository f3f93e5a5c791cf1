/**
 * Fault handling plugged into the etcd3 client: which errors mean "this endpoint is down", a
 * per-endpoint circuit breaker that skips such endpoints, and a pass-through global policy (our own
 * retry loop in connection.ts keeps every call within its deadline, which the client's built-in
 * three-retry policy does not: it re-arms a default deadline on each retry).
 *
 * The etcd3 client calls only `execute(fn)` on these policies (its `faultHandling` option expects
 * cockatiel policies; cockatiel is the client's dependency, not ours, so we implement that method).
 *
 * @module
 */
import type { IOptions } from 'etcd3';

/** The parts of the etcd3 module this file needs. */
export interface ErrorClassifier {
  isRecoverableError(error: Error): boolean;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

/** Consecutive transport failures that open an endpoint's circuit. */
const BREAKER_THRESHOLD = 3;
/** How long an open circuit skips its endpoint before one trial call is let through, ms. */
const BREAKER_OPEN_MS = 2000;

/**
 * Thrown (instead of calling through) by an open circuit; the client then tries the next endpoint,
 * and when every endpoint is open it rejects with this error.
 */
export class EndpointDownError extends Error {
  override readonly name = 'EndpointDownError';
  constructor(
    readonly endpoint: string,
    options: { cause: unknown },
  ) {
    super(`etcd endpoint ${endpoint} failed ${BREAKER_THRESHOLD} times in a row; skipped for ${BREAKER_OPEN_MS} ms`, options);
  }
}

/**
 * True for an error that says nothing reached a live etcd member: connection refused or reset, no
 * answer before the deadline. An error etcd itself answered (`etcdserver: no leader`, …) is not one:
 * the member is alive, so the breaker must not skip it.
 */
export function isTransportError(error: unknown, classifier: ErrorClassifier): boolean {
  return error instanceof Error && classifier.isRecoverableError(error) && !error.message.includes('etcdserver:');
}

/**
 * A per-endpoint circuit breaker: after {@link BREAKER_THRESHOLD} consecutive transport failures the
 * endpoint is skipped for {@link BREAKER_OPEN_MS}; then one trial call at a time is let through
 * (half-open) until one succeeds. Unlike the client's default breaker, answers from a live member
 * during a leader election do not count as failures. When other endpoints exist, one call that got no
 * answer before its deadline opens the circuit at once: a hung member has already cost a whole
 * attempt, and the others can serve.
 */
export class EndpointBreaker {
  #failures = 0;
  #openUntil = 0;
  #trialInFlight = false;
  #lastError: unknown = undefined;

  constructor(
    readonly endpoint: string,
    private readonly classifier: ErrorClassifier,
    private readonly hasPeers: boolean,
  ) {}

  /** The etcd3 client's entry point (cockatiel's `IPolicy.execute`). */
  async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
    const open = this.#failures >= BREAKER_THRESHOLD;
    if (open && (Date.now() < this.#openUntil || this.#trialInFlight)) {
      throw new EndpointDownError(this.endpoint, { cause: this.#lastError });
    }
    this.#trialInFlight = open;
    try {
      const result = await fn({ signal: NEVER_ABORTED });
      this.#failures = 0;
      return result;
    } catch (error) {
      if (isTransportError(error, this.classifier)) {
        this.#lastError = error;
        const hung = this.hasPeers && (error as Error).message.includes('DEADLINE_EXCEEDED');
        this.#failures = hung ? BREAKER_THRESHOLD : this.#failures + 1;
        if (this.#failures >= BREAKER_THRESHOLD) this.#openUntil = Date.now() + BREAKER_OPEN_MS;
      } else {
        this.#failures = 0;
      }
      throw error;
    } finally {
      if (open) this.#trialInFlight = false;
    }
  }
}

const NEVER_ABORTED = new AbortController().signal;

/** A global policy that calls straight through: retries are connection.ts's job. */
const passThrough = {
  async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
    return fn({ signal: NEVER_ABORTED });
  },
};

/** The `faultHandling` option for an etcd3 client of `endpointCount` endpoints. */
export function faultHandling(classifier: ErrorClassifier, endpointCount: number): FaultHandling {
  return {
    global: passThrough as unknown as Policy,
    host: (endpoint: string) => new EndpointBreaker(endpoint, classifier, endpointCount > 1) as unknown as Policy,
  };
}
