/** What one fetch call asks for: its slots in all, and per queue with its own limit. */
export interface FetchRequest {
  slots: number;
  limits: Map<string, number>;
  /** Jobs running or promised to other calls; none means the call may take a run-alone job. */
  busy: number;
  /** Nothing runs and nothing else is promised: the call may take a run-alone job. */
  alone: boolean;
}

/** Slots per fetch call above which a second call may be in flight. */
const SLOTS_PER_PIPELINED_FETCH = 4;
const MAX_FETCHES_IN_FLIGHT = 2;

/**
 * The slots promised to the fetch calls in flight, in all and per limited queue, so that a
 * slot is never offered to two calls at once. While a call that may bring a run-alone job is
 * in flight, no other call goes beside it.
 */
export class FetchReservations {
  /** Fetch calls in flight. */
  inFlight = 0;
  /** Slots promised to them. */
  reserved = 0;
  aloneInFlight = false;
  /** Calls that may be in flight at once: two at higher concurrency, so Redis serves the next batch meanwhile. */
  maxInFlight = 1;
  /** The slots one call asks for at most: the worker's slots split between those calls. */
  share = 1;
  private readonly reservedFor = new Map<string, number>();

  /** Splits the worker's `slots` between the calls that may be in flight. */
  split(slots: number): void {
    this.maxInFlight = Math.min(
      MAX_FETCHES_IN_FLIGHT,
      Math.max(1, Math.floor(slots / SLOTS_PER_PIPELINED_FETCH)),
    );
    this.share = Math.ceil(slots / this.maxInFlight);
  }

  /** Slots of `queue` promised to calls in flight. */
  heldFor(queue: string): number {
    return this.reservedFor.get(queue) ?? 0;
  }

  reserve({ slots, limits, alone }: FetchRequest): void {
    this.inFlight++;
    this.reserved += slots;
    for (const [queue, free] of limits) this.reservedFor.set(queue, this.heldFor(queue) + free);
    if (alone) this.aloneInFlight = true;
  }

  release({ slots, limits, alone }: FetchRequest): void {
    this.inFlight--;
    this.reserved -= slots;
    for (const [queue, free] of limits) this.reservedFor.set(queue, this.heldFor(queue) - free);
    if (alone) this.aloneInFlight = false;
  }
}
