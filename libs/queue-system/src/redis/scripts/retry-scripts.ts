import type { JobPriority } from '../../interfaces/job-options.interface.js';
import type { RedisClient } from '../redis-connection.js';
import type { ScriptRunner } from './script-runner.js';

export type DeadLetterTarget = 'failures' | 'system_errors';

/**
 * Calls the transitions of a running job that did not complete: `retry-6.lua`, `defer-6.lua`,
 * `dead-letter-5.lua`, `requeue-4.lua`. Each replies 1, or LEASE_NOT_HELD when the caller's
 * lease token no longer holds.
 */
export class RetryScripts {
  constructor(private readonly runner: ScriptRunner) {}

  async retry(
    client: RedisClient,
    id: string,
    token: string,
    error: string,
    dueAt: number,
    timedOut: boolean,
  ) {
    const k = this.runner.keys;
    return (await this.runner.durable(
      client,
      'retry',
      [k.active, k.delayed, k.metrics, k.wake, k.specs, k.leases],
      [k.base, id, token, error, dueAt, timedOut ? 1 : 0],
      false,
    )) as number;
  }

  /** Defers a job without spending an attempt (the thread pool was full). */
  async defer(client: RedisClient, id: string, token: string, dueAt: number) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'defer',
      [k.active, k.delayed, k.metrics, k.wake, k.specs, k.leases],
      [k.base, id, token, dueAt],
    )) as number;
  }

  async deadLetter(
    client: RedisClient,
    target: DeadLetterTarget,
    id: string,
    token: string,
    error: string,
    now: number,
    timedOut: boolean,
  ) {
    const k = this.runner.keys;
    const failures = target === 'failures';
    return (await this.runner.durable(
      client,
      'dead-letter',
      [k.active, failures ? k.failures : k.systemErrors, k.metrics, k.specs, k.leases],
      [
        k.base,
        id,
        token,
        error,
        now,
        failures ? 'failed' : 'system_error',
        failures ? 'failed' : 'system_errors',
        timedOut ? 1 : 0,
      ],
      false,
    )) as number;
  }

  /** Requeues a job at the front of its ready list, no attempt spent (shutdown). */
  async requeue(
    client: RedisClient,
    id: string,
    token: string,
    priority: JobPriority,
    queueName: string,
  ) {
    const k = this.runner.keys;
    return (await this.runner.run(
      client,
      'requeue',
      [k.active, k.wake, k.specs, k.leases],
      [k.base, id, token, priority, queueName],
    )) as number;
  }
}
