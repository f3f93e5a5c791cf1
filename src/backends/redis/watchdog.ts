/**
 * One timer that bounds every command of a Redis backend by `socket_timeout`, instead of ioredis's
 * `commandTimeout` (a `setTimeout` started and cleared per command: 0.3-0.5 µs of CPU per command,
 * 5-9 % of a raw GET's, in bench/redis.ts; the watchdog costs about 0.1 µs).
 *
 * Every command of a connection has the same timeout, so deadlines come in the order the commands are
 * sent: they go in a FIFO queue, and the timer only ever looks at its head. A completed command is
 * marked settled (and dropped from the head at once when it is there, which is nearly always: one
 * server answers in order); the timer rejects the overdue ones and drops the settled ones.
 *
 * The bound: a command that gets no reply fails no earlier than `timeoutMs` after it was sent and no
 * later than `timeoutMs + tickMs` (`tickMs` is a tenth of the timeout, at least {@link MIN_TICK_MS}),
 * plus however long the event loop was busy elsewhere. The tick lets one timer run reject a whole batch
 * of commands sent together, instead of one timer run per command. The timer is unref'd (it never
 * keeps the process alive) and runs only while commands are pending: it is started by the first
 * command, aimed at the head's deadline, and not restarted by a run that finds the queue empty.
 *
 * A blocked event loop: Node runs expired timers before it reads the sockets in each turn of its loop.
 * When the application blocks the loop (a long synchronous task) past a deadline, the reply may already
 * wait unread in the socket when the timer runs; rejecting then would fail a command that was answered.
 * So a timer run later than {@link LATE_MS} after its due time (the loop was busy or the process
 * descheduled: an idle loop waits for I/O, reads each reply as it comes, and runs the timer on time)
 * rejects nothing: it gives the overdue commands a grace of one tick to read their replies. The grace
 * run rejects what is still overdue; if it too runs late (blocked again), it first lets one
 * `setImmediate` pass, which runs after that turn's reads. A command is given one grace at most, so a
 * hung server is failed whatever the loop does: within `timeoutMs + tickMs` of the send with a loop on
 * time (as before), and within a tick (and one loop turn) of the end of a block.
 *
 * A command whose write was coalesced to the end of its tick (connection.ts) leaves the process only
 * then: when the loop was blocked before that, its deadline counts from when it left ({@link leftNow}),
 * so the server always has the whole timeout to answer it. One tick's grace was not enough for that on
 * a loaded machine: the reply to a write that had just left could take longer than the tick.
 *
 * @module
 */

/** The smallest batching window of the timer, ms. */
export const MIN_TICK_MS = 5;

/** How late (ms) a timer run may be and still count as on time; later, the loop was busy (see the module comment). */
export const LATE_MS = 1;

/** The queue's first capacity (a power of two); it doubles when full and never shrinks. */
const FIRST_CAPACITY = 64;

/** A command waiting for its reply or its deadline, whichever comes first. */
interface Pending {
  /** The clock reading (ms) from which the command is overdue (moved later by {@link CommandWatchdog.leftNow}). */
  deadline: number;
  /** The operation named in the timeout error. */
  readonly what: string;
  settled: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const unset = (): void => undefined;
// `new Promise(capture)` hands the promise's resolving functions to `capturing` without a closure per
// command (the executor runs synchronously inside the constructor).
let capturing: Pending | null = null;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  const pending = capturing as Pending;
  pending.resolve = resolve;
  pending.reject = reject;
}

/** Bounds commands by one shared timeout; see the module comment. */
export class CommandWatchdog {
  /** Every command's timeout, ms (`socket_timeout`). */
  readonly timeoutMs: number;
  /** The batching window: a command fails at most this long after its deadline (event loop delays aside). */
  readonly tickMs: number;
  readonly #wrap: (what: string, error: unknown) => Error;
  readonly #now: () => number;
  // A ring buffer: #size slots from #head (modulo the capacity, a power of two); dropped slots are
  // nulled. A ring, not push/shift on an array: the queue empties between most bursts of replies, and
  // an array emptied and refilled reallocates its storage.
  #queue: (Pending | null)[] = new Array<Pending | null>(FIRST_CAPACITY).fill(null);
  #head = 0;
  #size = 0;
  /** Commands watched so far: the marks of {@link mark} and {@link leftNow}. */
  #watched = 0;
  #timer: NodeJS.Timeout | null = null;
  /** When the timer is due (clock ms): a run later than {@link LATE_MS} after it finds the loop was busy. */
  #due = 0;
  /** True while the timer is a grace run (see the module comment): it rejects what is overdue, with no second grace. */
  #grace = false;
  /** The deferred expiry of a grace run that ran late; the timer is not scheduled meanwhile. */
  #deferred: NodeJS.Immediate | null = null;
  readonly #onTimer = (): void => this.#onTime();
  readonly #onDeferred = (): void => {
    this.#deferred = null;
    this.#expire(this.#now());
  };

  /**
   * @param timeoutMs every command's timeout, ms.
   * @param wrap the error a command rejects with, given the driver's error, or for an overdue command
   *   `new Error('Command timed out (no reply within socket_timeout, … ms)')`.
   * @param now the clock, ms (monotonic; tests pass their own).
   */
  constructor(timeoutMs: number, wrap: (what: string, error: unknown) => Error, now: () => number = () => performance.now()) {
    this.timeoutMs = timeoutMs;
    this.tickMs = Math.max(MIN_TICK_MS, Math.ceil(timeoutMs / 10));
    this.#wrap = wrap;
    this.#now = now;
  }

  /** Commands in the queue: not settled, or settled behind one that is not (for tests and diagnostics). */
  get pending(): number {
    return this.#size;
  }

  /** True while the timer is scheduled: while commands are pending, and until its next run after the last one settled. */
  get timerActive(): boolean {
    return this.#timer !== null || this.#deferred !== null;
  }

  /** A mark of the commands watched from now on, for {@link leftNow}. */
  mark(): number {
    return this.#watched;
  }

  /**
   * The commands watched since `mark` leave the process only now (a coalesced write, flushed at the end
   * of a tick): their deadlines count from now when that is later than from their {@link watch}. Costs
   * one clock reading; a deadline moves only when the tick took more than {@link LATE_MS} (the event
   * loop was blocked before the write left, see the module comment).
   */
  leftNow(mark: number): void {
    const count = Math.min(this.#watched - mark, this.#size);
    if (count <= 0) return;
    const queue = this.#queue;
    const mask = queue.length - 1;
    const first = this.#head + this.#size - count;
    const deadline = this.#now() + this.timeoutMs;
    if ((queue[first & mask] as Pending).deadline >= deadline - LATE_MS) return;
    for (let i = first; i < this.#head + this.#size; i++) {
      const pending = queue[i & mask] as Pending;
      if (pending.deadline < deadline) pending.deadline = deadline;
    }
  }

  /**
   * `command` (sent just now, by `what`) bounded by the timeout: resolves with `then(reply)` (or the
   * reply), rejects with `wrap(what, error)` when the command fails, or with `timedOut(what, …)` when
   * no reply came in time. A reply after the deadline is ignored. `then` may throw or return a promise.
   */
  watch<T, R = T>(what: string, command: Promise<T>, then?: (value: T) => R | PromiseLike<R>): Promise<R> {
    const pending: Pending = { deadline: this.#now() + this.timeoutMs, what, settled: false, resolve: unset, reject: unset };
    capturing = pending;
    const result = new Promise<R>(capture as (resolve: (value: R) => void, reject: (error: unknown) => void) => void);
    capturing = null;
    this.#push(pending);
    this.#watched++;
    if (this.#timer === null && this.#deferred === null) this.#schedule(this.timeoutMs, pending.deadline - this.timeoutMs);
    command.then(
      (value) => {
        if (pending.settled) return;
        this.#settle(pending);
        if (then === undefined) pending.resolve(value);
        else {
          try {
            pending.resolve(then(value));
          } catch (error) {
            pending.reject(error);
          }
        }
      },
      (error: unknown) => {
        if (pending.settled) return;
        this.#settle(pending);
        pending.reject(this.#wrap(what, error));
      },
    );
    return result;
  }

  #push(pending: Pending): void {
    let queue = this.#queue;
    if (this.#size === queue.length) {
      // Full: copy the slots in order into a ring twice the size.
      const grown = new Array<Pending | null>(queue.length * 2).fill(null);
      for (let i = 0; i < this.#size; i++) grown[i] = queue[(this.#head + i) & (queue.length - 1)] ?? null;
      this.#queue = queue = grown;
      this.#head = 0;
    }
    queue[(this.#head + this.#size) & (queue.length - 1)] = pending;
    this.#size++;
  }

  #settle(pending: Pending): void {
    pending.settled = true;
    if (this.#queue[this.#head] === pending) this.#dropSettled();
  }

  /**
   * Drops settled commands from the head. An empty queue leaves the timer as it is: it stops at its
   * next run (within `timeoutMs`), so one command at a time does not start and clear a timer each.
   */
  #dropSettled(): void {
    const queue = this.#queue;
    const mask = queue.length - 1;
    let head = this.#head;
    let size = this.#size;
    while (size > 0 && (queue[head] as Pending).settled) {
      queue[head] = null;
      head = (head + 1) & mask;
      size--;
    }
    this.#head = head;
    this.#size = size;
  }

  /**
   * The timer. On time, it expires the overdue commands at once. Late (the loop was blocked), with an
   * overdue command at the head, it gives them a grace of one tick; the grace run then expires them, or,
   * itself late, lets one `setImmediate` pass first (Node reads sockets after the timers and before the
   * immediates). See the module comment.
   */
  #onTime(): void {
    this.#timer = null;
    const now = this.#now();
    const late = now - this.#due > LATE_MS;
    if (this.#grace) {
      this.#grace = false;
      if (late) {
        // Not unref'd: an unref'd immediate lets the loop's poll phase wait for I/O that may never come
        // (a hung server), for as long as no other timer is due. It keeps the process for one turn only.
        this.#deferred = setImmediate(this.#onDeferred);
        return;
      }
    } else if (late && this.#overdue(now)) {
      this.#grace = true;
      this.#schedule(this.tickMs, now);
      return;
    }
    this.#expire(now);
  }

  /** True when an unsettled command at the head of the queue is past its deadline at `now`. */
  #overdue(now: number): boolean {
    const queue = this.#queue;
    const mask = queue.length - 1;
    for (let i = 0; i < this.#size; i++) {
      const pending = queue[(this.#head + i) & mask] as Pending;
      if (!pending.settled) return pending.deadline <= now;
    }
    return false;
  }

  /** Rejects the commands overdue at `now` at the head, then waits for the next head's deadline (at least a tick). */
  #expire(now: number): void {
    const queue = this.#queue;
    const mask = queue.length - 1;
    for (let i = 0; i < this.#size; i++) {
      const pending = queue[(this.#head + i) & mask] as Pending;
      if (pending.settled) continue;
      if (pending.deadline > now) break;
      pending.settled = true;
      pending.reject(this.#wrap(pending.what, new Error(`Command timed out (no reply within socket_timeout, ${this.timeoutMs} ms)`)));
    }
    this.#dropSettled();
    const next = this.#size > 0 ? (queue[this.#head] as Pending) : null;
    if (next !== null) this.#schedule(Math.max(next.deadline - now, this.tickMs), now);
  }

  /** Starts the timer `ms` from `now` (the clock's reading just taken). */
  #schedule(ms: number, now: number): void {
    const delay = Math.ceil(ms);
    this.#due = now + delay;
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#timer.unref();
  }
}
