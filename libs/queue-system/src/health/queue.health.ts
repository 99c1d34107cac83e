import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { QueueConfig } from '../config/index.js';
import { QueueManager } from '../manager/queue-manager.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { errorMessage } from '../utils/queue-logger.js';
import { QueueOrchestrator } from '../worker/queue.orchestrator.js';
import { EventLoopWatch } from './event-loop-watch.js';
import {
  checkNamespace,
  healthReport,
  worse,
  type HealthStatus,
  type HealthThresholds,
  type NamespaceHealth,
} from './namespace-health.js';

export type { NamespaceHealth } from './namespace-health.js';

export interface QueueHealthOptions {
  /** Longest the whole check may take, ms (default: `redis.connectionTimeout`). */
  timeout?: number;
  /** Degraded when a job has waited longer than this since it became ready, ms (default 60 s). */
  maxWaitingAge?: number;
  /** Degraded when more jobs than this wait in a namespace's ready lists (default 10,000). */
  maxBacklog?: number;
  /**
   * Degraded when a worker's fetch loop has had no answer from Redis for this long though a
   * slot was free, ms (default 30 s). An idle wait for work within its timeout is no stall.
   */
  maxFetchStall?: number;
  /** Degraded when the event loop stood still this long in the last 10 to 20 s, ms (default 1 s). */
  maxEventLoopStall?: number;
  /**
   * Report degraded as `down` (HTTP 503), for a readiness probe that must shed traffic. Without
   * it, terminus 12 reports `degraded` (HTTP 200) and terminus 11, which has no such status,
   * reports `up` with `degraded: true` in the data.
   */
  degradedIsDown?: boolean;
}

/**
 * Health of every queue namespace of the app for `@nestjs/terminus` 11 or 12: `down` when
 * Redis does not answer a PING within the timeout or a worker that should run does not;
 * `degraded` (terminus 12 keeps HTTP 200 and reports the check `degraded`; terminus 11, `up`
 * with `degraded: true`) when a job has waited too long, the backlog is too long, a fetch loop
 * or the event loop stood still; `up` otherwise. It never throws: every problem is a status
 * with a `message` naming the namespace.
 *
 * Usage: import `TerminusModule` and list `QueueHealthIndicator` in the providers of the
 * module that declares the health controller, then
 * `health.check([() => queueHealth.isHealthy('queue')])`.
 */
@Injectable()
export class QueueHealthIndicator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly eventLoop = new EventLoopWatch();

  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly queue: QueueManager,
    @Inject(QueueOrchestrator) private readonly orchestrator: QueueOrchestrator,
    @Inject(QUEUE_CONFIG) private readonly config: QueueConfig,
  ) {}

  /** Started once the app has booted: a slow boot is no stall of a running app. */
  onApplicationBootstrap(): void {
    this.eventLoop.start();
  }

  onModuleDestroy(): void {
    this.eventLoop.stop();
  }

  async isHealthy<const Key extends string = 'queue'>(
    key: Key = 'queue' as Key,
    options: QueueHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.healthIndicatorService.check(key);
    const timeout = options.timeout ?? this.config.redis.connectionTimeout;
    // One budget for the whole check, so a health endpoint answers within `timeout` at worst.
    const deadline = Date.now() + timeout;
    const read = <T>(work: Promise<T>, what: string) => withDeadline(work, deadline, what, timeout);
    const eventLoopStallMs = this.eventLoop.longestStall();
    const namespaces = this.orchestrator.namespaces();
    const circuit = this.queue.circuitState;

    let redisLatencyMs: number;
    try {
      redisLatencyMs = Math.round((await read(this.queue.ping(), 'Redis PING')) * 100) / 100;
    } catch (error) {
      const workerRunning = namespaces.every(({ worker }) => worker.isRunning());
      const activeJobs = sum(namespaces.map(({ worker }) => worker.activeCount));
      return indicator.down({ message: errorMessage(error), workerRunning, activeJobs, circuit });
    }

    const limits = this.thresholds(options);
    const results = await Promise.all(namespaces.map((ns) => checkNamespace(ns, limits, read)));
    const byName: Record<string, NamespaceHealth> = {};
    namespaces.forEach(({ name }, i) => (byName[name] = results[i]!));

    let status: HealthStatus = results.reduce<HealthStatus>((s, r) => worse(s, r.status), 'up');
    const messages = results.flatMap((result, i) =>
      result.message === undefined
        ? []
        : [namespaces.length > 1 ? `${namespaces[i]!.name}: ${result.message}` : result.message],
    );
    const maxEventLoopStall = options.maxEventLoopStall ?? 1_000;
    if (eventLoopStallMs > maxEventLoopStall) {
      status = worse(status, 'degraded');
      messages.push(
        `the event loop stood still for ${eventLoopStallMs} ms (maxEventLoopStall ${maxEventLoopStall} ms)`,
      );
    }
    const data = {
      ...(messages.length > 0 ? { message: messages.join('; ') } : {}),
      redisLatencyMs,
      circuit,
      workerRunning: results.every((result) => result.workerRunning),
      activeJobs: sum(results.map((result) => result.activeJobs)),
      waiting: sum(results.map((result) => result.waiting)),
      oldestWaitingMs: Math.max(0, ...results.map((result) => result.oldestWaitingMs)),
      failures: sum(results.map((result) => result.failures)),
      systemErrors: sum(results.map((result) => result.systemErrors)),
      eventLoopStallMs,
      namespaces: byName,
    };
    return answer(indicator, status, data, options.degradedIsDown) as HealthIndicatorResult<Key>;
  }

  private thresholds(options: QueueHealthOptions): HealthThresholds {
    return {
      maxWaitingAge: options.maxWaitingAge ?? 60_000,
      maxBacklog: options.maxBacklog ?? 10_000,
      maxFetchStall: options.maxFetchStall ?? 30_000,
    };
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
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

type HealthIndicatorSession = ReturnType<HealthIndicatorService['check']>;

/** The indicator's answer for `status`, as this version of terminus can give it. */
function answer(
  indicator: HealthIndicatorSession,
  status: HealthStatus,
  data: { message?: string; namespaces: Record<string, NamespaceHealth> },
  degradedIsDown: boolean | undefined,
): HealthIndicatorResult {
  const degraded = degradedOf(indicator);
  const report = healthReport(status, { degradedIsDown, terminusHasDegraded: !!degraded });
  if (report.status === 'down') return indicator.down(data);
  if (report.status === 'up') {
    return indicator.up({ ...data, ...(report.degradedFlag ? { degraded: true as const } : {}) });
  }
  return degraded!.call(indicator, data);
}

type DegradedMethod = (this: HealthIndicatorSession, data: object) => HealthIndicatorResult;

/** Terminus 12's `degraded`, absent from terminus 11's session. */
function degradedOf(indicator: HealthIndicatorSession): DegradedMethod | undefined {
  return (indicator as unknown as { degraded?: DegradedMethod }).degraded;
}
