/**
 * The circuit breaker of one memcached server, on cockatiel, with the semantics of the etcd3 and
 * Mongo backends' breakers: after {@link BREAKER_THRESHOLD} consecutive failures to reach the server,
 * or one request that got no reply within `socket_timeout`, the circuit opens and the server is
 * skipped (its keys go to the next server on the ring); after the probe interval one probe (a
 * connection attempt) is let through while the server stays skipped, until a probe succeeds.
 *
 * A hung server opens the circuit at once because it has already cost a caller a whole
 * `socket_timeout`; waiting for three would cost three more callers the same, where a refused
 * connection costs a millisecond each.
 *
 * @module
 */
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy, type IBreaker } from 'cockatiel';

/** Consecutive failures that open a server's circuit (the etcd3 and Mongo backends use the same). */
export const BREAKER_THRESHOLD = 3;

/**
 * Longest time an open circuit skips its server before the next probe, milliseconds. oslo's
 * `dead_retry` (300 s by default) skipped a server that had failed once for five minutes, even after
 * it came back; a probe costs no caller anything here (it runs beside the rerouted requests), so the
 * server is tried again after at most this long, or after `dead_retry` when that is shorter.
 */
export const PROBE_INTERVAL_MS = 2000;

/** {@link ConsecutiveBreaker} that also opens at once on a failure `isHang` recognises. */
class HangOrConsecutiveBreaker implements IBreaker {
  readonly #consecutive = new ConsecutiveBreaker(BREAKER_THRESHOLD);
  readonly #lastWasHang: () => boolean;

  constructor(lastWasHang: () => boolean) {
    this.#lastWasHang = lastWasHang;
  }

  get state(): number {
    return this.#consecutive.state;
  }

  set state(value: number) {
    this.#consecutive.state = value;
  }

  success(): void {
    this.#consecutive.success();
  }

  failure(): boolean {
    const tripped = this.#consecutive.failure(); // always counted, so the count sees every failure
    return this.#lastWasHang() || tripped;
  }
}

/** What a server's breaker needs to know about errors. */
export interface ServerBreakerOptions {
  /** Probe interval, milliseconds (see {@link PROBE_INTERVAL_MS}). */
  probeIntervalMs: number;
  /** True for an error that says the server could not be reached or did not answer. */
  isFailure(error: Error): boolean;
  /** True for a failure that was a timeout (a hung server). */
  isHang(error: unknown): boolean;
}

/** One server's breaker: cockatiel's policy plus when it last opened (cockatiel does not expose it). */
export class ServerBreaker {
  readonly policy: CircuitBreakerPolicy;
  readonly probeIntervalMs: number;
  /** When the circuit last opened, epoch milliseconds (0: never). */
  openedAt = 0;

  constructor(options: ServerBreakerOptions) {
    this.probeIntervalMs = options.probeIntervalMs;
    // cockatiel records the failure (lastFailure) right before it asks the breaker whether to open.
    const breaker = new HangOrConsecutiveBreaker(() => {
      const last = this.policy.lastFailure;
      return last !== undefined && 'error' in last && options.isHang(last.error);
    });
    this.policy = circuitBreaker(handleWhen(options.isFailure), { halfOpenAfter: options.probeIntervalMs, breaker });
    this.policy.onBreak(() => {
      this.openedAt = Date.now();
    });
  }

  /** True while the circuit is closed: the server takes requests. */
  get closed(): boolean {
    return this.policy.state === CircuitState.Closed;
  }

  /** True when the circuit is open and the probe interval has passed: the next attempt is a probe. */
  get probeDue(): boolean {
    return this.policy.state === CircuitState.Open && Date.now() - this.openedAt >= this.probeIntervalMs;
  }

  /** When the next probe may run, epoch milliseconds (0 while closed). */
  get nextProbeAt(): number {
    return this.closed ? 0 : this.openedAt + this.probeIntervalMs;
  }

  /** Runs a connection attempt under the breaker (a probe when the circuit is open and due). */
  execute<T>(attempt: () => Promise<T>): Promise<T> {
    return this.policy.execute(attempt);
  }

  /**
   * Counts a failure seen outside {@link execute} (a request that timed out, a connection reset with
   * requests pending): cockatiel learns outcomes only through `execute`, so this runs a call that fails.
   */
  recordFailure(error: Error): void {
    // Only while closed: an open circuit already skips the server, and a due probe must be a real attempt.
    if (this.closed) this.policy.execute(() => Promise.reject(error)).catch(() => {});
  }
}
