import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { QueueConfig } from '../config/index.js';
import { QueueManager } from '../manager/queue-manager.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { errorMessage } from '../utils/queue-logger.js';
import { QueueWorker } from '../worker/queue-worker.js';

export interface QueueHealthOptions {
  /** Longest the whole check may take, ms (default: `redis.connectionTimeout`). */
  timeout?: number;
}

/**
 * Health of the default queue namespace for `@nestjs/terminus`: Redis answers a PING on the
 * command connection, the worker consumes (when `worker.autoStart` says it should), and the
 * backlog counts. It never throws: every problem is a `down` with a `message`.
 *
 * Usage: import `TerminusModule` and list `QueueHealthIndicator` in the providers of the
 * module that declares the health controller (`QueueModule.forRoot` exports the queue, the
 * worker and the config globally), then
 * `health.check([() => queueHealth.isHealthy('queue')])`.
 */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly queue: QueueManager,
    private readonly worker: QueueWorker,
    @Inject(QUEUE_CONFIG) private readonly config: QueueConfig,
  ) {}

  async isHealthy<const Key extends string = 'queue'>(
    key: Key = 'queue' as Key,
    options: QueueHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.healthIndicatorService.check(key);
    const timeout = options.timeout ?? this.config.redis.connectionTimeout;
    // One budget for the whole check, so a health endpoint answers within `timeout` at worst.
    const deadline = Date.now() + timeout;
    const workerRunning = this.worker.isRunning();
    const activeJobs = this.worker.activeCount;
    const circuit = this.queue.circuitState;

    let redisLatencyMs: number;
    try {
      redisLatencyMs = await withDeadline(this.queue.ping(), deadline, 'Redis PING', timeout);
    } catch (error) {
      return indicator.down({ message: errorMessage(error), workerRunning, activeJobs, circuit });
    }
    redisLatencyMs = Math.round(redisLatencyMs * 100) / 100;

    if (!workerRunning && this.config.worker.autoStart) {
      return indicator.down({
        message: 'The queue worker is not running',
        redisLatencyMs,
        workerRunning,
        activeJobs,
        circuit,
      });
    }

    try {
      const counts = await withDeadline(this.queue.getJobCounts(), deadline, 'Job counts', timeout);
      return indicator.up({
        redisLatencyMs,
        workerRunning,
        activeJobs,
        circuit,
        waiting: counts.waiting,
        failures: counts.failures,
        systemErrors: counts.system_errors,
      });
    } catch (error) {
      return indicator.down({
        message: errorMessage(error),
        redisLatencyMs,
        workerRunning,
        activeJobs,
        circuit,
      });
    }
  }
}

/** A check timed out: Redis (or the offline queue in front of it) did not answer in time. */
class HealthCheckTimeoutError extends Error {
  override readonly name = 'HealthCheckTimeoutError';
}

/**
 * ioredis holds commands in its offline queue while Redis is unreachable, so only a timer
 * can bound the wait. The timer is cleared (and unref'd) so that neither it nor the pending
 * command keeps the process alive; the race's own handler absorbs the command's late outcome.
 */
function withDeadline<T>(
  work: Promise<T>,
  deadline: number,
  what: string,
  budget: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HealthCheckTimeoutError(`${what} did not answer within ${budget} ms`)),
      Math.max(deadline - Date.now(), 0),
    );
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
