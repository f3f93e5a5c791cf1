/**
 * Fault handling plugged into the etcd3 client, built on cockatiel (the client's own policy library):
 * which errors mean "this endpoint is down", a circuit breaker per endpoint that skips such endpoints,
 * and no global retry policy (our own retry loop in connection.ts keeps every call within its
 * deadline, which the client's built-in three-retry policy does not: it re-arms a default deadline on
 * each retry).
 *
 * @module
 */
import { circuitBreaker, ConsecutiveBreaker, handleWhen, isBrokenCircuitError, noop, type CircuitState, type IBreaker } from 'cockatiel';
import type { IOptions } from 'etcd3';

/** The parts of the etcd3 module this file needs (its error classes). */
export interface ErrorClassifier {
  isRecoverableError(error: Error): boolean;
  GRPCDeadlineExceededError: abstract new (...args: never[]) => Error;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;

/** Consecutive transport failures that open an endpoint's circuit. */
export const BREAKER_THRESHOLD = 3;
/** How long an open circuit skips its endpoint before one probe call is let through, ms. */
export const BREAKER_OPEN_MS = 2000;

/**
 * The prefix of every error etcd itself sends (`etcdserver: no leader`, `etcdserver: request timed
 * out`…). The etcd3 client maps a gRPC status to a class by its code only, and "no leader" arrives as
 * UNAVAILABLE, the same code as a refused connection; the text is what tells them apart. etcd's own Go
 * client does the same (`rpctypes.ErrorDesc`): these strings are part of etcd's API.
 */
const ETCD_SERVER_ERROR = 'etcdserver:';

/**
 * True for an error that says nothing reached a live etcd member: connection refused or reset, no
 * answer before the deadline. An error etcd itself answered (`etcdserver: no leader`, …) is not one:
 * the member is alive, so the breaker must not skip it.
 */
export function isTransportError(error: unknown, classifier: ErrorClassifier): boolean {
  return error instanceof Error && classifier.isRecoverableError(error) && !error.message.includes(ETCD_SERVER_ERROR);
}

/** True when every endpoint's circuit is open: etcd is known to be down, so a call fails at once. */
export function isEndpointDown(error: unknown): boolean {
  return isBrokenCircuitError(error);
}

/**
 * cockatiel's {@link ConsecutiveBreaker} with one addition: a call that got no answer before its
 * deadline opens the circuit at once. Such an endpoint (a hung process, a black-holed network) has
 * already cost a caller a whole deadline; waiting for three of them would cost three more callers
 * the same, where a refused connection costs a few milliseconds each.
 */
class HangOrConsecutiveBreaker implements IBreaker {
  readonly #consecutive = new ConsecutiveBreaker(BREAKER_THRESHOLD);

  /** @param lastWasHang true when the failure being reported was a deadline (read when it is reported) */
  constructor(private readonly lastWasHang: () => boolean) {}

  get state(): number {
    return this.#consecutive.state;
  }

  set state(value: number) {
    this.#consecutive.state = value;
  }

  success(_state: CircuitState): void {
    this.#consecutive.success();
  }

  failure(_state: CircuitState): boolean {
    // Both run: the consecutive count must see every failure.
    const tripped = this.#consecutive.failure();
    return this.lastWasHang() || tripped;
  }
}

/**
 * The circuit breaker of one endpoint: after `BREAKER_THRESHOLD` consecutive transport failures,
 * or one call that hit its deadline, the endpoint is skipped for {@link BREAKER_OPEN_MS}; then one
 * probe call is let through (half-open) while the others fail at once, until a probe succeeds.
 * Answers from a live member during a leader election do not count as failures.
 */
export function endpointBreaker(classifier: ErrorClassifier): ReturnType<typeof circuitBreaker> {
  // cockatiel records the failure (lastFailure) right before it asks the breaker whether to open.
  const breaker = new HangOrConsecutiveBreaker(() => {
    const last = policy.lastFailure;
    return last !== undefined && 'error' in last && last.error instanceof classifier.GRPCDeadlineExceededError;
  });
  const policy = circuitBreaker(
    handleWhen((error) => isTransportError(error, classifier)),
    { halfOpenAfter: BREAKER_OPEN_MS, breaker },
  );
  return policy;
}

/** The `faultHandling` option for an etcd3 client: a breaker per endpoint, no global retry. */
export function faultHandling(classifier: ErrorClassifier): FaultHandling {
  return { global: noop, host: () => endpointBreaker(classifier) };
}
