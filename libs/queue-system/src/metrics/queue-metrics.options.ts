import { ConfigurableModuleBuilder } from '@nestjs/common';
import { register, type Registry } from 'prom-client';
import { QueueConfigError } from '../errors.js';
import {
  booleanOption,
  customOption,
  listOf,
  nonNegativeDuration,
  positiveDuration,
  stringOption,
} from '../config/config-option.js';
import {
  defineSection,
  parseSection,
  type SectionOptions,
  type SectionValues,
} from '../config/config-section.js';
import { checkNumber, isObject } from '../config/validate.js';

/** Wait and run times from a quick job to a long batch. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
]);

export const METRICS_SECTION = defineSection({
  name: 'metrics',
  options: {
    registry: customOption(
      { accepts: 'prom-client `Registry`', check: checkRegistry },
      {
        default: register,
        defaultText: "prom-client's global `register`",
        description: 'Where the metrics are registered; they are removed from it at shutdown.',
      },
    ),
    prefix: stringOption({
      default: 'nest_queue_',
      // Prometheus refuses any other character in a metric name.
      forbidden: {
        pattern: /[^\w:]|^\d/,
        description: 'a character outside [A-Za-z0-9_:] or a leading digit',
      },
      description: 'Put before every metric name.',
    }),
    tenantLabel: booleanOption({
      default: false,
      description:
        'Adds `tenant` to the job counters and histograms; only with few tenants (one series each).',
    }),
    buckets: listOf(
      {
        accepts: 'seconds > 0, increasing',
        check: (field, value) => checkNumber(field, value, { min: 0, minExclusive: true }),
      },
      {
        default: DEFAULT_BUCKETS,
        defaultText: '5 ms to 15 min (15 buckets)',
        description: "The histograms' buckets, seconds.",
      },
    ),
    stateCacheMs: nonNegativeDuration({
      default: 1000,
      description: "How long one read of the queues' state serves scrapes.",
    }),
    stateTimeout: positiveDuration({
      default: 2000,
      description:
        'Longest a scrape waits for that read; after it the gauges keep their last values (`state_up 0`).',
    }),
  },
  check({ buckets }) {
    // A bucket counts the runs up to its bound: the bounds must grow for the counts to add up.
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) {
        throw new QueueConfigError(
          `metrics.buckets[${i}]`,
          buckets[i],
          'must be greater than the bucket before it',
        );
      }
    }
  },
});

export type QueueMetricsOptions = SectionOptions<typeof METRICS_SECTION.options>;
export type QueueMetricsSettings = SectionValues<typeof METRICS_SECTION.options>;

/** Checks the module's options: a typo or a bad value fails the app's start, naming it. */
export function checkMetricsOptions(options: unknown): QueueMetricsSettings {
  return parseSection(METRICS_SECTION, options ?? {});
}

function checkRegistry(field: string, value: unknown): Registry {
  if (!isObject(value) || typeof value.registerMetric !== 'function') {
    throw new QueueConfigError(field, typeof value, 'must be a prom-client Registry');
  }
  return value as unknown as Registry;
}

export const {
  ConfigurableModuleClass: ConfigurableQueueMetricsModule,
  MODULE_OPTIONS_TOKEN: QUEUE_METRICS_OPTIONS,
  OPTIONS_TYPE: QUEUE_METRICS_FOR_ROOT_OPTIONS,
  ASYNC_OPTIONS_TYPE: QUEUE_METRICS_FOR_ROOT_ASYNC_OPTIONS,
} = new ConfigurableModuleBuilder<QueueMetricsOptions>({ moduleName: 'QueueMetrics' })
  .setClassMethodName('forRoot')
  .build();
