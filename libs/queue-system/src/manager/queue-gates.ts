import { checkNumber } from '../config/validate.js';
import { QueueConfigError, QueueWaitTimeoutError } from '../errors.js';
import type { QueueGateState } from '../interfaces/queue-status.interface.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { BreakerPolicy, RateLimit } from '../redis/scripts/gate-scripts.js';

export type { BreakerPolicy, RateLimit } from '../redis/scripts/gate-scripts.js';

/** Checks a rate limit: `max` and `duration` positive integers, `burst` at least 1. */
export function checkRateLimit(field: string, limit: unknown): RateLimit {
  if (typeof limit !== 'object' || limit === null) {
    throw new QueueConfigError(field, limit, 'must be an object { max, duration, burst? }');
  }
  const { max, duration, burst } = limit as Partial<RateLimit>;
  const positive = { min: 1, integer: true };
  return {
    max: checkNumber(`${field}.max`, max, positive),
    duration: checkNumber(`${field}.duration`, duration, positive),
    burst: burst === undefined ? undefined : checkNumber(`${field}.burst`, burst, positive),
  };
}

/**
 * Checks a breaker: a positive integer `failures`, or a `failureRate` in (0, 1] with its
 * `window` (ms) and `minJobs` (default 10), or both; `coolDown` a positive number of ms.
 */
export function checkBreaker(field: string, breaker: unknown): BreakerPolicy {
  if (typeof breaker !== 'object' || breaker === null) {
    throw new QueueConfigError(field, breaker, 'must be an object { failures, coolDown }');
  }
  const { failures, coolDown, failureRate, window, minJobs } = breaker as Partial<BreakerPolicy>;
  if (failures === undefined && failureRate === undefined) {
    throw new QueueConfigError(`${field}.failures`, failures, 'must be set, or failureRate');
  }
  const positive = { min: 1, integer: true };
  const checked: BreakerPolicy = {
    failures:
      failures === undefined ? undefined : checkNumber(`${field}.failures`, failures, positive),
    coolDown: checkNumber(`${field}.coolDown`, coolDown, positive),
  };
  if (failureRate === undefined) return checked;
  return {
    ...checked,
    failureRate: checkNumber(`${field}.failureRate`, failureRate, {
      min: 0,
      minExclusive: true,
      max: 1,
    }),
    window: checkNumber(`${field}.window`, window, positive),
    minJobs: minJobs === undefined ? 10 : checkNumber(`${field}.minJobs`, minJobs, positive),
  };
}

/** The `gates` hash as queue -> gate state; a bucket shows its tokens refilled to `now`. */
function parseGates(fields: Record<string, string>, now: number) {
  const gates: Record<string, QueueGateState> = {};
  const of = (queue: string) => (gates[queue] ??= { paused: false });
  for (const [field, value] of Object.entries(fields)) {
    const at = field.indexOf(':');
    const kind = field.slice(0, at);
    const queue = field.slice(at + 1);
    if (kind === 'paused') of(queue).paused = true;
    if (kind === 'breaker') {
      const [state, until] = value.split(':');
      const open = state === 'open' && Number(until) > now;
      of(queue).breaker = { state: open ? 'open' : 'half-open', until: Number(until) };
    }
    if (kind === 'rate') {
      const [max, duration, burst] = value.split(':').map(Number) as [number, number, number];
      const [tokens, refilledAt] = (fields[`tokens:${queue}`] ?? `${burst}:${now}`)
        .split(':')
        .map(Number) as [number, number];
      const refilled = tokens + (Math.max(0, now - refilledAt) * max) / duration;
      of(queue).rateLimit = { max, duration, burst, tokens: Math.min(burst, refilled) };
    }
  }
  return gates;
}

/**
 * The queue gates' side of `QueueManager`: pause, resume, drain, rate limits, and the gates'
 * state. Each change is one script, seen by every process at its next fetch.
 */
export abstract class QueueGateAdmin {
  protected abstract readonly connection: RedisConnection;
  protected abstract readonly scripts: QueueScripts;

  /**
   * Stops every process from starting jobs of `queue`: jobs still enqueue and wait, running
   * ones end. Persisted in Redis until `resumeQueue`. True when it was not paused.
   */
  pauseQueue(queue: string): Promise<boolean> {
    return this.gateCall('pauseQueue', (client, gates) => gates.pause(client, queue, true));
  }

  /** Lets every process start jobs of `queue` again; true when it was paused. */
  resumeQueue(queue: string): Promise<boolean> {
    return this.gateCall('resumeQueue', (client, gates) => gates.pause(client, queue, false));
  }

  async isPaused(queue: string): Promise<boolean> {
    return (await this.getQueueGates())[queue]?.paused ?? false;
  }

  /**
   * Pauses `queue`, then resolves once none of its jobs runs in any process; rejects with
   * `QueueWaitTimeoutError` after `timeout` ms. The queue stays paused (`resumeQueue` ends
   * it) and its waiting jobs stay: unlike BullMQ's `Queue.drain()`, nothing is deleted
   * (`purgeQueue` does that).
   */
  async drainQueue(queue: string, timeout = 30_000, pollInterval = 50): Promise<void> {
    await this.pauseQueue(queue);
    const deadline = Date.now() + timeout;
    for (;;) {
      const running = await this.gateCall('drainQueue', (client, gates) =>
        gates.runningInQueue(client, queue),
      );
      if (running === 0) return;
      if (Date.now() >= deadline) throw new QueueWaitTimeoutError(timeout, running);
      await new Promise((resolve) => setTimeout(resolve, pollInterval));
    }
  }

  /**
   * Limits `queue` to `max` job starts every `duration` ms across all processes (a token
   * bucket of `burst` tokens, default `max`). Replaces the limit it had; seen at once.
   */
  async setRateLimit(queue: string, limit: RateLimit): Promise<void> {
    const checked = checkRateLimit('rateLimit', limit);
    await this.gateCall('setRateLimit', (client, gates) =>
      gates.setRateLimit(client, queue, checked),
    );
  }

  async removeRateLimit(queue: string): Promise<void> {
    await this.gateCall('removeRateLimit', (client, gates) => gates.setRateLimit(client, queue));
  }

  /**
   * Applies a limit declared with `@Processor(name, { rateLimit })`; the orchestrator calls it
   * at boot. Writes nothing when the same declaration was applied before, so a run-time
   * `setRateLimit` or `removeRateLimit` holds until the declaration changes. True if written.
   * @internal
   */
  declareRateLimit(queue: string, limit: RateLimit): Promise<boolean> {
    return this.gateCall('declareRateLimit', (client, gates) =>
      gates.declareRateLimit(client, queue, limit),
    );
  }

  /** Each queue that has a gate: paused, its breaker, its rate limit and tokens left. */
  async getQueueGates(): Promise<Record<string, QueueGateState>> {
    const fields = await this.gateCall('getQueueGates', (client, gates) => gates.read(client));
    return parseGates(fields, Date.now());
  }

  private gateCall<T>(
    operation: string,
    call: (client: RedisConnection['client'], gates: QueueScripts['gates']) => Promise<T>,
  ): Promise<T> {
    return this.connection.run(operation, () => call(this.connection.client, this.scripts.gates));
  }
}
