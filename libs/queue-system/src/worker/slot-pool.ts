import { ConcurrencyGate } from './concurrency-gate.js';
import type { FetchReservations } from './fetch-reservations.js';

/** What the pool reads of each fetch loop that shares it, and how it wakes one. */
export interface PoolMember {
  readonly running: { readonly size: number };
  /** Its last fetch got fewer jobs than it asked for. */
  readonly drained: boolean;
  readonly reservations: FetchReservations;
  wake(): void;
}

/**
 * The slots of one process shared by the fetch loops of a sharded namespace's shards (see
 * `docs/sharding.md`): one `ConcurrencyGate` (worker slots and each processor's own), the
 * slots every loop promised to its calls in flight, and the run-alone rule over all of them.
 * Each loop keeps its own calls in flight, so a busy shard never holds back another's fetch.
 */
export class SlotPool {
  readonly gate: ConcurrencyGate;
  /** Run-alone jobs running now in any loop: while one does, no loop fetches. */
  runAlone = 0;
  private readonly members: PoolMember[] = [];
  /** The one loop, while only one uses the pool: the plain path reads it directly. */
  private single?: PoolMember;
  /** The loop woken first next time: each in turn, so no shard is always served first. */
  private first = 0;

  constructor(capacity: number) {
    this.gate = new ConcurrencyGate(capacity);
  }

  join(member: PoolMember): void {
    this.members.push(member);
    this.single = this.members.length === 1 ? member : undefined;
  }

  /** More than one loop shares the slots. */
  get shared(): boolean {
    return this.single === undefined;
  }

  /** Slots promised to the calls in flight of every loop. */
  reserved(): number {
    if (this.single) return this.single.reservations.reserved;
    let reserved = 0;
    for (const member of this.members) reserved += member.reservations.reserved;
    return reserved;
  }

  /** Fetch calls in flight in every loop. */
  inFlight(): number {
    if (this.single) return this.single.reservations.inFlight;
    let inFlight = 0;
    for (const member of this.members) inFlight += member.reservations.inFlight;
    return inFlight;
  }

  /** Jobs running (not yet settled) in every loop. */
  runningCount(): number {
    if (this.single) return this.single.running.size;
    let running = 0;
    for (const member of this.members) running += member.running.size;
    return running;
  }

  /** A call that may bring a run-alone job is in flight in some loop. */
  aloneInFlight(): boolean {
    for (const member of this.members) if (member.reservations.aloneInFlight) return true;
    return false;
  }

  /** Sets the worker slots, splits them anew between each loop's calls in flight, wakes them. */
  resize(slots: number): void {
    this.gate.capacity = slots;
    for (const member of this.members) member.reservations.split(slots);
    this.wakeAll();
  }

  /**
   * What autoscaling reads of all the loops (`ScalingTarget`): the jobs running in every
   * loop, and drained only when every loop's last fetch was.
   */
  get running(): { readonly size: number } {
    return { size: this.runningCount() };
  }

  get drained(): boolean {
    return this.members.every((member) => member.drained);
  }

  /**
   * Whether a freed slot may let another loop fetch: not while a call is in flight and less
   * than a call's `share` is free, since no loop asks for less then; that call's reply wakes
   * every loop.
   */
  worthWakingAll(share: number): boolean {
    if (this.single) return true;
    return this.inFlight() === 0 || this.gate.free - this.reserved() >= share;
  }

  /** A slot or a promise came back: every loop may fetch now, a different one first each time. */
  wakeAll(): void {
    if (this.single) return this.single.wake();
    const { members } = this;
    const first = this.first;
    this.first = (first + 1) % members.length;
    for (let i = 0; i < members.length; i++) members[(first + i) % members.length]!.wake();
  }
}
