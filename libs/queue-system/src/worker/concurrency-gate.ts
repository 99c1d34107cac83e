import type { JobAttempt } from './job-attempt.js';

/**
 * Counts the slots of one worker: `capacity` jobs at once in all, and at most its own
 * `concurrency` per processor, whatever queue a job came from. A fetched job takes a worker
 * slot at once; it enters its processor's slots when one is free, and waits here in fetch
 * order until then. Slots are given back as soon as a processor ends, before the ack reaches
 * Redis, so that the next fetch overlaps with the acks of the previous jobs.
 */
export class ConcurrencyGate {
  private busy = 0;
  private readonly busyPerProcessor = new Map<string, number>();
  private readonly waiting = new Map<string, JobAttempt[]>();

  constructor(public capacity: number) {}

  /** Worker slots free; below zero after the capacity shrank under the jobs running. */
  get free(): number {
    return this.capacity - this.busy;
  }

  /** Free slots of a processor with its own `concurrency`, net of the jobs waiting for one. */
  freeFor(processor: string, concurrency: number): number {
    const taken = (this.busyPerProcessor.get(processor) ?? 0) + this.waitingFor(processor);
    return Math.max(concurrency - taken, 0);
  }

  /** Takes a worker slot for the attempt and, when `concurrency` allows, a processor slot. */
  admit(attempt: JobAttempt, concurrency: number | undefined): boolean {
    this.busy++;
    const name = attempt.job.processor;
    if (concurrency !== undefined && (this.busyPerProcessor.get(name) ?? 0) >= concurrency) {
      const line = this.waiting.get(name);
      if (line) line.push(attempt);
      else this.waiting.set(name, [attempt]);
      return false;
    }
    this.enter(attempt);
    return true;
  }

  /** Gives back the attempt's slots; returns the next attempt now admitted to its processor. */
  release(attempt: JobAttempt): JobAttempt | undefined {
    this.busy--;
    if (!attempt.entered) return undefined;
    attempt.entered = false;
    const name = attempt.job.processor;
    this.busyPerProcessor.set(name, (this.busyPerProcessor.get(name) ?? 1) - 1);
    const next = this.waiting.get(name)?.shift();
    if (next) this.enter(next);
    return next;
  }

  /** Every attempt still waiting for its processor, admitted now (at shutdown, to be requeued). */
  admitAllWaiting(): JobAttempt[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    for (const attempt of all) this.enter(attempt);
    return all;
  }

  private waitingFor(processor: string): number {
    return this.waiting.get(processor)?.length ?? 0;
  }

  private enter(attempt: JobAttempt): void {
    attempt.entered = true;
    const name = attempt.job.processor;
    this.busyPerProcessor.set(name, (this.busyPerProcessor.get(name) ?? 0) + 1);
  }
}
