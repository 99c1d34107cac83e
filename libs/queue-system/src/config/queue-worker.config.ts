import { QueueConfigError } from '../errors.js';
import {
  booleanOption,
  derived,
  integerAtLeast,
  ITEMS,
  listOf,
  nonNegativeDuration,
  positiveDuration,
} from './config-option.js';
import {
  configSection,
  defineSection,
  sectionJSON,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';

export const WORKER_SECTION = defineSection({
  name: 'worker',
  className: 'QueueWorkerConfig',
  options: {
    workerCount: integerAtLeast(1, {
      default: 5,
      description: 'Jobs this process runs at once, across all its queues.',
    }),
    minConcurrency: integerAtLeast(1, {
      defaultText: '1 with `maxConcurrency`',
      description: 'The fewest slots autoscaling shrinks to; needs `maxConcurrency`.',
    }),
    maxConcurrency: integerAtLeast(1, {
      defaultText: 'none: `workerCount` slots, fixed',
      description:
        'Turns autoscaling on: slots grow to this while jobs wait and the event loop keeps up; `workerCount` is where they start.',
    }),
    threadPoolSize: integerAtLeast(1, {
      default: 4,
      description: 'Worker threads for synchronous (CPU-bound) processors.',
    }),
    workTimeout: positiveDuration({
      default: 30_000,
      description: 'Per-attempt timeout of a job that sets none.',
    }),
    callbackTimeout: positiveDuration({
      default: 30_000,
      description:
        'How long an `onSuccess` / `onFailure` callback may run before it is given up and counted in `callback_errors`.',
    }),
    graceShutdownPeriod: nonNegativeDuration({
      default: 5000,
      description: 'How long shutdown waits for running jobs before it aborts them.',
    }),
    maxRequeueAttempts: integerAtLeast(0, {
      default: 3,
      description: 'Times a job is put back because the thread pool is full, before it fails.',
    }),
    autoStart: booleanOption({
      default: true,
      description:
        'Start consuming at application bootstrap; `false` leaves it to `QueueWorker.start()`.',
    }),
    queues: listOf(ITEMS.name, {
      defaultText: 'all',
      description: 'The queues this process serves; `[]` serves none.',
      show: (queues) => queues && [...queues],
    }),
    preferredTenants: listOf(ITEMS.name, {
      defaultText: 'none',
      description:
        "Tenants whose jobs this process takes first; it takes other tenants' jobs when these have none.",
      show: (tenants) => tenants && [...tenants],
    }),
    leaseDuration: positiveDuration({
      default: 30_000,
      description: "How long a fetched job's lease lasts before another worker may recover it.",
    }),
    idleBlockTimeout: positiveDuration({
      default: 5000,
      description: 'The longest an idle worker blocks waiting for work before it looks again.',
    }),
    heartbeatInterval: positiveDuration({
      default: derived(
        '`leaseDuration / 3`',
        (worker: { leaseDuration: number }) => worker.leaseDuration / 3,
      ),
      description: "How often running jobs' leases are extended (one call for all of them).",
    }),
    maxStalls: integerAtLeast(0, {
      default: 3,
      description:
        'Lease losses (worker died or froze) a job survives before it goes to `failures`.',
    }),
    blockWarningThreshold: positiveDuration({
      default: 200,
      description: 'A main-thread processor that blocks the event loop longer is reported.',
    }),
  },
  check(worker) {
    const { minConcurrency, maxConcurrency } = worker;
    if (minConcurrency !== undefined && maxConcurrency === undefined) {
      throw new QueueConfigError(
        'worker.minConcurrency',
        minConcurrency,
        'needs worker.maxConcurrency, which turns autoscaling on',
      );
    }
    if (maxConcurrency !== undefined && maxConcurrency < (minConcurrency ?? 1)) {
      throw new QueueConfigError(
        'worker.maxConcurrency',
        maxConcurrency,
        `must be at least worker.minConcurrency (${minConcurrency})`,
      );
    }
    if (worker.heartbeatInterval >= worker.leaseDuration) {
      throw new QueueConfigError(
        'worker.heartbeatInterval',
        worker.heartbeatInterval,
        `must be shorter than worker.leaseDuration (${worker.leaseDuration} ms), or leases expire between beats`,
      );
    }
  },
});

export type QueueWorkerOptions = SectionOptions<typeof WORKER_SECTION.options>;
export type QueueWorkerConfigJSON = SectionJSON<typeof WORKER_SECTION.options>;

export class QueueWorkerConfig extends configSection(WORKER_SECTION) {
  toJSON(): QueueWorkerConfigJSON {
    return sectionJSON(WORKER_SECTION, this);
  }
}
