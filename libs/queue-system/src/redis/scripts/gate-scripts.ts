import type { RedisClient } from '../redis-connection.js';
import type { ScriptRunner } from './script-runner.js';

/** A queue's rate limit: `max` jobs every `duration` ms, up to `burst` at once. */
export interface RateLimit {
  max: number;
  duration: number;
  /** The bucket's size: how many jobs may start at once after a quiet spell (default `max`). */
  burst?: number;
}

/** What a breaker needs to record an outcome: a threshold of failures, a rate, or both. */
export interface BreakerPolicy {
  /** Consecutive failures that open it. */
  failures?: number;
  /** The share of failures (0 to 1) among the jobs ended in `window` ms that opens it. */
  failureRate?: number;
  window?: number;
  /** The fewest jobs ended in the window the rate counts on (default 10). */
  minJobs?: number;
  coolDown: number;
}

type BreakerState = 'closed' | 'open';

/**
 * Calls the scripts of the queue gates: `pause-queue-2.lua`, `set-rate-limit-2.lua`,
 * `declare-rate-limit-2.lua`, `record-breaker-3.lua`, and the read `running-in-queue-2.lua`
 * that drain waits on.
 */
export class GateScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** True when the queue's state changed (it was not already paused, or resumed). */
  async pause(client: RedisClient, queue: string, paused: boolean): Promise<boolean> {
    const k = this.runner.keys;
    const reply = await this.runner.run(
      client,
      'pause-queue',
      [k.gates, k.wake],
      [k.base, queue, paused ? 1 : 0],
    );
    return reply === 1;
  }

  /** Sets the queue's limit, or removes it when `limit` is undefined. */
  async setRateLimit(client: RedisClient, queue: string, limit?: RateLimit): Promise<void> {
    const k = this.runner.keys;
    const spec = limit ? rateSpec(limit) : '';
    await this.runner.run(client, 'set-rate-limit', [k.gates, k.wake], [k.base, queue, spec]);
  }

  /** Applies a limit declared in code; false when that declaration was applied already. */
  async declareRateLimit(client: RedisClient, queue: string, limit: RateLimit): Promise<boolean> {
    const k = this.runner.keys;
    const args = [k.base, queue, rateSpec(limit)];
    return (await this.runner.run(client, 'declare-rate-limit', [k.gates, k.wake], args)) === 1;
  }

  /** Feeds the queue's breaker with one outcome; returns its state after it. */
  async recordBreaker(
    client: RedisClient,
    queue: string,
    succeeded: boolean,
    now: number,
    policy: BreakerPolicy,
  ): Promise<BreakerState> {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'record-breaker',
      [k.gates, k.breakers, k.wake],
      [
        k.base,
        queue,
        succeeded ? 1 : 0,
        now,
        policy.failures ?? '',
        policy.coolDown,
        policy.failureRate ?? '',
        policy.window ?? 0,
        policy.minJobs ?? 0,
      ],
    )) as BreakerState;
  }

  /** Jobs of `queue` running now in any process. */
  async runningInQueue(client: RedisClient, queue: string): Promise<number> {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'running-in-queue',
      [k.active, k.specs],
      [k.base, queue],
    )) as number;
  }

  /** The `gates` hash as stored. */
  read(client: RedisClient): Promise<Record<string, string>> {
    return client.hgetall(this.runner.keys.gates);
  }
}

/** A limit as the `gates` hash stores it: `<max>:<duration>:<burst>`. */
function rateSpec(limit: RateLimit): string {
  return `${limit.max}:${limit.duration}:${limit.burst ?? limit.max}`;
}
