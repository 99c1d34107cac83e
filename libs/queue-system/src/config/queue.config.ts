import { EVENTS_SECTION, QueueEventsConfig } from './queue-events.config.js';
import { LOGGING_SECTION, QueueLoggingConfig } from './queue-logging.config.js';
import { QueueRedisConfig, REDIS_SECTION } from './queue-redis.config.js';
import {
  MODULE_RETRY_TIMEOUT,
  QueueRetryConfig,
  RETRY_SECTION,
  type QueueRetryOptions,
} from './queue-retry.config.js';
import { QueueWorkerConfig, WORKER_SECTION } from './queue-worker.config.js';
import {
  QueueTracingConfig,
  TRACING_SECTION,
  type QueueTracingOptions,
} from './queue-tracing.config.js';
import type { OptionDeclarations } from './config-section.js';
import { rejectUnknownKeys } from './validate.js';

/** One section of `QueueOptions`: its declaration, its config class and how it is built. */
interface Slot<C, O> {
  readonly section: { readonly name: string; readonly options: OptionDeclarations };
  readonly configClass: abstract new (...args: never[]) => C;
  /** The config of the given options, `undefined` when the section was left out. */
  build(given: O | undefined): C;
}

function slot<C, O>(
  section: Slot<C, O>['section'],
  configClass: new (options?: O) => C,
): Slot<C, O> {
  return { section, configClass, build: (given) => new configClass(given) };
}

/** A section whose omitted or shorthand form is built its own way. */
function customSlot<C, O>(
  section: Slot<C, O>['section'],
  configClass: abstract new (...args: never[]) => C,
  build: (given: O | undefined) => C,
): Slot<C, O> {
  return { section, configClass, build };
}

/**
 * Every section, in the order of the README's configuration table. Each is given either as a
 * config instance (kept as is) or as its plain options.
 */
const SLOTS = {
  redis: slot(REDIS_SECTION, QueueRedisConfig),
  worker: slot(WORKER_SECTION, QueueWorkerConfig),
  // Omitted: exponential backoff, 5 attempts within one hour.
  retry: customSlot(RETRY_SECTION, QueueRetryConfig, (given?: QueueRetryOptions) =>
    given === undefined
      ? QueueRetryConfig.exponential({ maxAttempts: 5, timeout: MODULE_RETRY_TIMEOUT })
      : new QueueRetryConfig(given),
  ),
  logging: slot(LOGGING_SECTION, QueueLoggingConfig),
  // The cross-process event stream (see `QueueEvents.fromRedis`).
  events: slot(EVENTS_SECTION, QueueEventsConfig),
  // `true` is short for `{ enabled: true }`.
  tracing: customSlot(
    TRACING_SECTION,
    QueueTracingConfig,
    (given?: boolean | QueueTracingOptions) =>
      new QueueTracingConfig(typeof given === 'boolean' ? { enabled: given } : given),
  ),
};

type Slots = typeof SLOTS;
type ConfigOf<S> = S extends Slot<infer C, unknown> ? C : never;
type OptionsOf<S> = S extends { build(given: infer O): unknown } ? Exclude<O, undefined> : never;

/** Each section is either a config instance (kept as is) or its plain options. */
export type QueueOptions = { [K in keyof Slots]?: OptionsOf<Slots[K]> | ConfigOf<Slots[K]> };

export type QueueConfigJSON = {
  [K in keyof Slots]: ConfigOf<Slots[K]> extends { toJSON(): infer J } ? J : never;
};

type QueueConfigSections = { readonly [K in keyof Slots]: ConfigOf<Slots[K]> };

/** Every section's declarations, in the order of the README's configuration table. */
export const CONFIG_SECTIONS: readonly Slot<unknown, unknown>['section'][] = Object.values(
  SLOTS,
).map((entry) => entry.section);

const ENTRIES = Object.entries(SLOTS) as [string, Slot<{ toJSON(): unknown }, unknown>][];
const SECTIONS = new Set(ENTRIES.map(([key]) => key));

// The base class gives QueueConfig one readonly field per section, typed from SLOTS.
// oxlint-disable-next-line typescript/no-extraneous-class
const QueueConfigSectionsBase = class {
  constructor(options: QueueOptions = {}) {
    rejectUnknownKeys(options, { section: '', expected: 'an object', allowed: SECTIONS });
    const target = this as Record<string, unknown>;
    for (const [key, { configClass, build }] of ENTRIES) {
      const given = options[key];
      target[key] = given instanceof configClass ? given : build(given);
    }
  }
} as new (options?: QueueOptions) => QueueConfigSections;

export class QueueConfig extends QueueConfigSectionsBase {
  constructor(options: QueueOptions = {}) {
    super(options);
    Object.freeze(this);
  }

  /** Safe to log: the Redis password is masked and clients and loggers are only named. */
  toJSON(): QueueConfigJSON {
    const json: Record<string, unknown> = {};
    const sections = this as unknown as Record<string, { toJSON(): unknown }>;
    for (const [key] of ENTRIES) json[key] = sections[key]!.toJSON();
    return json as QueueConfigJSON;
  }
}
